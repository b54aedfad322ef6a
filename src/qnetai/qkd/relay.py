r"""Trusted-node key relay: end-to-end keys from hop-by-hop QKD keys by XOR (one-time pad).

A path ``u_0 - u_1 - ... - u_h`` of QKD links has, on hop ``i``, a key ``k_i`` shared by
``u_i`` and ``u_{i+1}`` (taken from that link's pool, the same number of bits on every
hop). The end-to-end key is Alice's hop key ``K = k_0``. Each intermediate node ``u_j``
(``1 <= j < h``) announces ``a_j = k_{j-1} \oplus k_j`` publicly; Bob computes

.. math:: K_B = k_{h-1} \oplus a_1 \oplus \dots \oplus a_{h-1} = k_0 ,

the XOR chain. Every intermediate node also learns ``K = k_{j-1} \oplus a_1 \oplus \dots
\oplus a_{j-1}``: the relay is secure only if the nodes are trusted. An eavesdropper who
sees only the announcements learns nothing (each is one-time-padded by a fresh hop key).

:func:`xor_relay` does this on real bit (or packed byte) arrays; :func:`simulate_relay` runs
request flows against the link key pools over simulated time.

Example:
    >>> import numpy as np
    >>> keys = np.random.default_rng(0).integers(0, 2, (3, 8), dtype=np.uint8)
    >>> r = xor_relay(keys)
    >>> bool(np.array_equal(r.alice_key, r.bob_key)), r.node_keys.shape
    (True, (2, 8))
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.qkd.key_pool import KeyPools

__all__ = [
    "RelayFlow",
    "RelayOutcome",
    "RelayedKey",
    "request_arrivals",
    "simulate_relay",
    "xor_relay",
]

#: The XOR relay is carried out on at most this many bytes of every request's key.
MAX_MATERIALISED_BYTES = 1 << 20


@dataclass(frozen=True)
class RelayedKey:
    """Keys of one relayed request.

    ``alice_key`` and ``bob_key`` are the two ends' end-to-end keys, ``announcements``
    (``h - 1`` rows) the public XORs of the intermediate nodes and ``node_keys``
    (``h - 1`` rows) the end-to-end key each intermediate node can compute.
    """

    alice_key: NDArray[np.uint8]
    bob_key: NDArray[np.uint8]
    announcements: NDArray[np.uint8]
    node_keys: NDArray[np.uint8]


def xor_relay(hop_keys: ArrayLike) -> RelayedKey:
    """Relay an end-to-end key over ``h`` hops from their keys (array ``(h, n)`` of uint8).

    The entries may be bits (0/1) or packed bytes: XOR acts element-wise either way.
    """
    k = np.asarray(hop_keys)
    if k.ndim != 2 or k.shape[0] < 1:
        raise InputError(f"hop_keys must have shape (hops >= 1, bits) (got {k.shape})")
    if k.dtype != np.uint8:
        raise InputError(f"hop_keys must be uint8 (got {k.dtype})")
    ann = k[:-1] ^ k[1:]
    if ann.shape[0] == 0:
        return RelayedKey(k[0].copy(), k[0].copy(), ann, ann.copy())
    cum = np.bitwise_xor.accumulate(ann, axis=0)
    # node j (1..h-1) holds k_{j-1} and has heard a_1..a_{j-1}
    prefix = np.concatenate([np.zeros_like(ann[:1]), cum[:-1]], axis=0)
    node_keys = k[:-1] ^ prefix
    return RelayedKey(
        alice_key=k[0].copy(), bob_key=k[-1] ^ cum[-1], announcements=ann, node_keys=node_keys
    )


@dataclass(frozen=True)
class RelayFlow:
    """One request flow: its endpoints, key size, arrivals and route (pool indices)."""

    source: str
    destination: str
    key_bits: int
    arrivals_s: NDArray[np.float64]
    pools: tuple[int, ...]
    max_wait_s: float | None = None


@dataclass
class RelayOutcome:
    """Per-flow results of :func:`simulate_relay` and the recorded pool levels."""

    served: NDArray[np.int64]
    blocked: NDArray[np.int64]
    blocked_no_route: NDArray[np.int64]
    pending: NDArray[np.int64]
    keys_matched: NDArray[np.int64]
    waits_s: list[list[float]]
    record_times_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    record_levels: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    record_generated: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    record_consumed: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    record_overflow: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))


def request_arrivals(
    *,
    rate_hz: float,
    start_s: float,
    end_s: float,
    process: str,
    count: int | None,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Arrival times in ``[start_s, end_s)`` of a Poisson or periodic flow (at most ``count``)."""
    if end_s <= start_s:
        return np.zeros(0)
    if process == "periodic":
        n = int(np.ceil((end_s - start_s) * rate_hz - 1e-12))
        t = start_s + np.arange(n) / rate_hz
    elif process == "poisson":
        parts: list[np.ndarray] = []
        t0 = start_s
        # at most 2**20 draws at a time (a rate of 1e12 Hz must not ask for terabytes at once)
        chunk = int(min((end_s - start_s) * rate_hz * 1.2, 2**20)) + 16
        while t0 < end_s and (count is None or sum(p.size for p in parts) < count):
            times = t0 + np.cumsum(rng.exponential(1.0 / rate_hz, chunk))
            parts.append(times)
            t0 = float(times[-1])
        t = np.concatenate(parts) if parts else np.zeros(0)
    else:
        raise InputError(f"process must be 'poisson' or 'periodic' (got {process!r})")
    t = t[t < end_s]
    return t[:count] if count is not None else t


def _relay_one(hops: int, key_bits: int, rng: np.random.Generator) -> bool:
    """Draw the hop keys (packed bytes) from the pools, relay, check both ends and nodes."""
    nbytes = min((key_bits + 7) // 8, MAX_MATERIALISED_BYTES)
    keys = rng.integers(0, 256, size=(hops, nbytes), dtype=np.uint8)
    spare = nbytes * 8 - key_bits
    if spare > 0:
        keys[:, -1] &= np.uint8((0xFF << spare) & 0xFF)
    out = xor_relay(keys)
    return bool(
        np.array_equal(out.alice_key, out.bob_key) and np.all(out.node_keys == out.alice_key)
    )


def simulate_relay(
    flows: Sequence[RelayFlow],
    pools: KeyPools,
    cumulative_bits: Callable[[float], NDArray[np.int64]],
    *,
    duration_s: float,
    time_step_s: float,
    record_interval_s: float,
    rng: np.random.Generator,
) -> RelayOutcome:
    """Serve the request flows from the pools over ``[0, duration_s]`` in steps.

    Each step first takes the arrivals of the step, served at once (waiting 0) when every
    hop's pool holds ``key_bits`` and no earlier request of the flow waits; otherwise they
    queue. Then the key generated during the step is added (``cumulative_bits(t)``: bits
    made by each link up to ``t``, pool-independent), and the queues are served first-fit
    in order of their oldest request, each flow first-in first-out, at the step's end.
    A request waiting longer than its flow's ``max_wait_s`` is blocked; a flow without a
    route (no pools) blocks all its requests. Waiting times have the step's resolution.
    ``pools`` is updated in place; pool levels are recorded every ``record_interval_s``.
    """
    if not time_step_s > 0 or not record_interval_s >= time_step_s:
        raise InputError("need time_step_s > 0 and record_interval_s >= time_step_s")
    nf = len(flows)
    served = np.zeros(nf, np.int64)
    blocked = np.zeros(nf, np.int64)
    no_route = np.zeros(nf, np.int64)
    matched = np.zeros(nf, np.int64)
    waits: list[list[float]] = [[] for _ in flows]
    t_all = np.concatenate([f.arrivals_s for f in flows]) if flows else np.zeros(0)
    f_all = (
        np.concatenate([np.full(f.arrivals_s.size, i) for i, f in enumerate(flows)])
        if flows
        else np.zeros(0, int)
    )
    order = np.argsort(t_all, kind="stable")
    t_all, f_all = t_all[order], f_all[order]
    queues: list[deque[float]] = [deque() for _ in flows]
    idx = [np.asarray(f.pools, dtype=np.intp) for f in flows]
    for f, ix in zip(flows, idx, strict=True):
        if np.unique(ix).size != ix.size or (ix.size and (ix.min() < 0 or ix.max() >= len(pools))):
            raise InputError(
                f"flow {f.source}->{f.destination}: pools must be distinct indices "
                f"in [0, {len(pools)}) (got {list(f.pools)})"
            )

    def serve(i: int) -> bool:
        if pools.try_consume(idx[i], flows[i].key_bits):
            served[i] += 1
            matched[i] += _relay_one(len(idx[i]), flows[i].key_bits, rng)
            return True
        return False

    n_steps = max(int(np.ceil(duration_s / time_step_s - 1e-9)), 1)
    rec_every = max(round(record_interval_s / time_step_s), 1)
    times, lv, gen, con, ovf = (
        [0.0],
        [pools.levels.copy()],
        [pools.generated.copy()],
        [pools.consumed.copy()],
        [pools.overflow.copy()],
    )
    ptr, prev_cum = 0, np.asarray(cumulative_bits(0.0), dtype=np.int64)
    if prev_cum.size:
        pools.add(prev_cum)
    for k in range(1, n_steps + 1):
        t = min(k * time_step_s, duration_s)
        while ptr < t_all.size and t_all[ptr] <= t:
            i, ta = int(f_all[ptr]), float(t_all[ptr])
            ptr += 1
            if idx[i].size == 0:
                no_route[i] += 1
            elif not queues[i] and serve(i):
                waits[i].append(0.0)
            else:
                queues[i].append(ta)
        cum = np.asarray(cumulative_bits(t), dtype=np.int64)
        if cum.size:
            pools.add(cum - prev_cum)
        prev_cum = cum
        for i in sorted((j for j in range(nf) if queues[j]), key=lambda j: queues[j][0]):
            q, mw = queues[i], flows[i].max_wait_s
            while q:
                if mw is not None and t - q[0] > mw:
                    q.popleft()
                    blocked[i] += 1
                elif serve(i):
                    waits[i].append(t - q.popleft())
                else:
                    break
        if k % rec_every == 0 or k == n_steps:
            times.append(t)
            lv.append(pools.levels.copy())
            gen.append(pools.generated.copy())
            con.append(pools.consumed.copy())
            ovf.append(pools.overflow.copy())
    pending = np.array([len(q) for q in queues], dtype=np.int64)
    return RelayOutcome(
        served=served,
        blocked=blocked + no_route,
        blocked_no_route=no_route,
        pending=pending,
        keys_matched=matched,
        waits_s=waits,
        record_times_s=np.array(times),
        record_levels=np.array(lv),
        record_generated=np.array(gen),
        record_consumed=np.array(con),
        record_overflow=np.array(ovf),
    )
