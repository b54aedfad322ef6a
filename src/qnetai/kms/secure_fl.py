"""QKD-secured federated learning: federated averaging with pairwise one-time-pad masks.

Clients (say hospitals, one per SAE) each hold a shard of a data set and train a logistic
regression locally; every round the server needs only the *sum* of their updates. Secure
aggregation with pairwise masks: clients ``i < j`` share a pad ``m_ij`` (key material drawn
through the ETSI GS QKD 014 API: ``i`` calls ``enc_keys`` with ``j`` as slave, ``j`` calls
``dec_keys`` with the key_IDs), client ``i`` uploads ``x_i + sum_{j>i} m_ij - sum_{j<i} m_ji
mod 2^k``. The pads cancel in the sum exactly because the updates are fixed-point integers
modulo ``2^k`` (:func:`encode` / :func:`decode`), and a single upload is uniform on
``[0, 2^k)`` whatever ``x_i`` is (a one-time pad), so the server learns the sum only.

The upload of client ``i`` is ``(n_i w_i, n_i)`` (its sample count times its weights, and
the count), so the server forms the sample-weighted average ``sum n_i w_i / sum n_i``.

Key accounting: a pair needs ``P k`` bits per round (``P`` parameters, ``k`` bits each);
the report compares it with the pair's simulated key rate. Keys run out when a pool is
empty (503 from ``enc_keys``): ``on_missing_key="proceed"`` drops clients until every
remaining pair has key (the round runs without them); ``"wait"`` waits up to
``max_wait_s`` of simulated time for the pools to refill, then drops. An eavesdropper on a
QKD link raises its QBER; the QBER monitor (:class:`~qnetai.kms.live.LiveNetwork`) aborts
the link, the pairs routed over it stop receiving key and, once their pools are drained,
their clients drop out.

With ``kms_url`` and ``pki_dir`` the pads come instead from a served KMS (``qnetai kms
serve``, the clients' names being its SAE IDs) over HTTPS with mutual TLS
(:class:`~qnetai.kms.client.HTTPSClient`); waiting for key then sleeps ``round_s`` of wall
time per try, and the eavesdropper option is refused (the served KMS has its own network).

Example:
    >>> k = 32
    >>> x = [encode(np.array([1.5, -2.25]), frac_bits=16, ring_bits=k) for _ in range(3)]
    >>> rng = np.random.default_rng(0)
    >>> pads = {(i, j): rng.integers(0, 2**k, size=2, dtype=np.uint64)
    ...         for i in range(3) for j in range(i + 1, 3)}
    >>> masked = [mask(x[i], i, pads, ring_bits=k) for i in range(3)]
    >>> decode(aggregate(masked, ring_bits=k), frac_bits=16, ring_bits=k).tolist()
    [4.5, -6.75]
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SecureFLConfig",
    "SecureFLResult",
    "aggregate",
    "decode",
    "encode",
    "mask",
    "pad_from_key",
    "run_secure_fl",
]

U64 = NDArray[np.uint64]


def _ring(ring_bits: int) -> np.uint64:
    if ring_bits not in (32, 64):
        raise ValueError(f"ring_bits must be 32 or 64 (got {ring_bits})")
    return np.uint64((1 << ring_bits) - 1)


def encode(x: NDArray[np.float64], *, frac_bits: int, ring_bits: int) -> U64:
    """Fixed point: ``round(x 2^frac_bits) mod 2^ring_bits`` (two's complement)."""
    m = _ring(ring_bits)
    q = np.rint(np.asarray(x, dtype=np.float64) * 2.0**frac_bits)
    limit = 2.0 ** (ring_bits - 1)
    if not np.all(np.abs(q) < limit):
        raise ValueError(f"a value exceeds the fixed-point range +-2^{ring_bits - 1 - frac_bits}")
    return q.astype(np.int64).astype(np.uint64) & m


def decode(v: U64, *, frac_bits: int, ring_bits: int) -> NDArray[np.float64]:
    """Inverse of :func:`encode` (values in ``[2^(k-1), 2^k)`` are negative)."""
    v = np.asarray(v, dtype=np.uint64) & _ring(ring_bits)
    signed = v.astype(np.int64)  # for 64 bits the cast is two's complement already
    if ring_bits == 32:
        signed = np.where(signed >= 2**31, signed - 2**32, signed)
    return signed.astype(np.float64) / 2.0**frac_bits


def pad_from_key(material: bytes, n: int, *, ring_bits: int) -> U64:
    """``n`` pad words of ``ring_bits`` from key bytes (little-endian)."""
    need = n * ring_bits // 8
    if len(material) < need:
        raise ValueError(f"need {need} key bytes for {n} words (got {len(material)})")
    dtype = "<u4" if ring_bits == 32 else "<u8"
    return np.frombuffer(material[:need], dtype=dtype).astype(np.uint64)


def mask(x: U64, i: int, pads: Mapping[tuple[int, int], U64], *, ring_bits: int) -> U64:
    """Client ``i``'s upload: ``x + sum_{j>i} pad_ij - sum_{j<i} pad_ji mod 2^k``."""
    m = _ring(ring_bits)
    out = np.asarray(x, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        for (a, b), pad in pads.items():
            if a == i:
                out = (out + pad) & m
            elif b == i:
                out = (out - pad) & m
    return out


def aggregate(uploads: Sequence[U64], *, ring_bits: int) -> U64:
    """The server's sum of the uploads modulo ``2^k``."""
    m = _ring(ring_bits)
    total = np.zeros_like(np.asarray(uploads[0], dtype=np.uint64))
    with np.errstate(over="ignore"):
        for u in uploads:
            total = (total + np.asarray(u, dtype=np.uint64)) & m
    return total


@dataclass(frozen=True)
class SecureFLConfig:
    """Settings of :func:`run_secure_fl` (validated on creation).

    ``round_s``: simulated seconds per round (key generated meanwhile at the pair rates);
    ``eve_link`` / ``eve_rounds`` / ``eve_fraction``: intercept-resend on that QKD link
    during rounds ``[start, stop)``; ``pool_capacity_bits`` / ``initial_pool_bits``: the
    pools (default: the scenario's); ``kms_url`` / ``pki_dir``: draw the pads from a served
    KMS over mutual TLS (the key accounting's rates are still the local model's of
    ``scenario``).
    """

    scenario: str = "metro-6g"
    clients: Mapping[str, str] = field(
        default_factory=lambda: {
            "hospital-east": "metro-east",
            "hospital-west": "metro-west",
            "hospital-harbour": "bs-harbour",
            "hospital-oldtown": "bs-oldtown",
        }
    )
    rounds: int = 10
    local_epochs: int = 20
    learning_rate: float = 0.5
    frac_bits: int = 16
    ring_bits: int = 32
    on_missing_key: Literal["proceed", "wait"] = "proceed"
    max_wait_s: float = 5.0
    round_s: float = 1.0
    eve_link: str | None = None
    eve_rounds: tuple[int, int] = (0, 10**9)
    eve_fraction: float = 0.8
    pool_capacity_bits: int | None = None
    initial_pool_bits: int | None = None
    seed: int = 0
    kms_url: str | None = None
    pki_dir: str | None = None

    def __post_init__(self) -> None:
        if len(self.clients) < 2:
            raise ValueError(f"clients: need at least 2 (got {len(self.clients)})")
        if self.rounds < 1 or self.local_epochs < 1:
            raise ValueError("rounds and local_epochs must be >= 1")
        _ring(self.ring_bits)
        if not 0 <= self.frac_bits <= self.ring_bits - 8:
            raise ValueError(f"frac_bits must be in [0, ring_bits - 8] (got {self.frac_bits})")
        if self.on_missing_key not in ("proceed", "wait"):
            raise ValueError(f"on_missing_key must be proceed or wait ({self.on_missing_key!r})")
        if not (self.round_s > 0 and self.max_wait_s >= 0 and self.learning_rate > 0):
            raise ValueError("round_s and learning_rate must be > 0, max_wait_s >= 0")
        if not 0.0 <= self.eve_fraction <= 1.0:
            raise ValueError(f"eve_fraction must be in [0, 1] (got {self.eve_fraction})")
        if (self.kms_url is None) != (self.pki_dir is None):
            raise ValueError("kms_url and pki_dir go together (a served KMS over mutual TLS)")
        if self.kms_url is not None and self.eve_link is not None:
            raise ValueError("eve_link: not with kms_url (the served KMS has its own network)")


@dataclass(frozen=True)
class SecureFLResult:
    """Per-round records, final accuracies and the key accounting (plain data)."""

    config: dict[str, Any]
    rounds: list[dict[str, Any]]
    accuracy_secure: float
    accuracy_plain_fedavg: float
    accuracy_centralised: float
    key_accounting: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


class _SimClock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _data(seed: int, n_clients: int) -> tuple[list[tuple[Any, Any]], Any, Any, Any, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_breast_cancer(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    x_tr, x_te = scaler.transform(x_tr), scaler.transform(x_te)
    order = np.random.default_rng(seed).permutation(len(y_tr))
    shards = [(x_tr[s], y_tr[s]) for s in np.array_split(order, n_clients)]
    return shards, x_tr, y_tr, x_te, y_te


def _local_train(
    w: NDArray[np.float64], x: Any, y: Any, epochs: int, lr: float
) -> NDArray[np.float64]:
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = w.copy()
    for _ in range(epochs):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        w -= lr * xb.T @ (p - y) / len(y)
    return w


def _accuracy(w: NDArray[np.float64], x: Any, y: Any) -> float:
    return float(np.mean(((np.hstack([x, np.ones((len(x), 1))]) @ w) > 0) == y))


def run_secure_fl(
    config: SecureFLConfig | None = None, *, key_network: Any = None
) -> SecureFLResult:
    """Federated averaging with QKD one-time-pad masks drawn through the ETSI 014 API.

    The KMS runs in process (:func:`qnetai.kms.app.create_app` over an in-memory store on a
    simulated clock); every client is an SAE at its node of the scenario, with pools filled
    at the key network's pair rates. Returns per-round records (participants, dropped
    clients and why, key bits drawn, the aggregate's error against the plain sum) and the
    accuracies of the secure run, of plain federated averaging on the same rounds and of a
    centralised logistic regression (the classical baseline on the pooled data).
    ``key_network``: the scenario's key network result, if already computed (same seed).
    """
    from sklearn.linear_model import LogisticRegression

    from qnetai.kms.app import KMSConfig, create_app
    from qnetai.kms.client import HTTPSClient, InProcessClient
    from qnetai.kms.live import LiveNetwork
    from qnetai.kms.store import KeyStore

    cfg = config if config is not None else SecureFLConfig()
    names = list(cfg.clients)
    n = len(names)
    clock = _SimClock(0.0)
    store = KeyStore(":memory:", clock=clock)
    live = LiveNetwork.build(
        cfg.scenario,
        cfg.clients,
        store,
        time_scale=1.0,
        seed=cfg.seed,
        engine=False,
        pool_capacity_bits=cfg.pool_capacity_bits,
        initial_pool_bits=cfg.initial_pool_bits,
        key_network=key_network,
        calibrate=cfg.kms_url is None,  # a served KMS: no local monitor (no eavesdropper)
    )
    if cfg.eve_link is not None and cfg.eve_link not in live.links:
        raise ValueError(f"eve_link: no QKD link {cfg.eve_link!r} ({', '.join(live.links)})")
    kms_cfg = KMSConfig(sae_kme=dict(cfg.clients), pool_capacity_bits=live.capacity_bits)
    app = create_app(store, kms_cfg)
    sae: dict[str, Any]
    if cfg.kms_url is not None and cfg.pki_dir is not None:
        sae = {name: HTTPSClient(cfg.kms_url, name, cfg.pki_dir) for name in names}
    else:
        sae = {name: InProcessClient(app, name) for name in names}

    shards, x_tr, y_tr, x_te, y_te = _data(cfg.seed, n)
    d = x_tr.shape[1] + 1
    n_params = d + 1  # n_i w_i and n_i
    bits_per_pair = n_params * cfg.ring_bits
    number = math.ceil(bits_per_pair / kms_cfg.max_key_size)
    size = math.ceil(bits_per_pair / number / 8) * 8

    def draw(i: int, j: int) -> U64 | None:
        """Pad of pair (i, j) through ETSI 014: master i enc_keys, slave j dec_keys."""
        code, body = sae[names[i]].enc_keys(names[j], number=number, size=size)
        if code == 503:
            return None
        if code != 200:
            raise RuntimeError(f"enc_keys {names[i]}->{names[j]}: {code} {body}")
        ids = [k["key_ID"] for k in body["keys"]]
        code2, body2 = sae[names[j]].dec_keys(names[i], ids)
        if code2 != 200 or body2["keys"] != body["keys"]:
            raise RuntimeError(f"dec_keys {names[j]}<-{names[i]}: {code2}")
        import base64

        material = b"".join(base64.b64decode(k["key"]) for k in body["keys"])
        return pad_from_key(material, n_params, ring_bits=cfg.ring_bits)

    max_waits = math.floor(cfg.max_wait_s / cfg.round_s * (1 + 1e-9))
    w = np.zeros(d)
    w_plain = np.zeros(d)
    records: list[dict[str, Any]] = []
    drawn_bits = 0
    for r in range(cfg.rounds):
        clock.t = (r + 1) * cfg.round_s
        eve_on = cfg.eve_link is not None and cfg.eve_rounds[0] <= r < cfg.eve_rounds[1]
        if cfg.eve_link is not None:
            live.set_eavesdropper(cfg.eve_link, cfg.eve_fraction if eve_on else 0.0)
        alerts = [] if cfg.kms_url is not None else [a["message"] for a in live.monitor_step()]
        active = list(range(n))
        pads: dict[tuple[int, int], U64] = {}
        dropped: dict[str, str] = {}
        waited, waits = 0.0, 0
        while True:
            missing = []
            for i in active:
                for j in active:
                    if i < j and (i, j) not in pads:
                        pad = draw(i, j)
                        if pad is None:
                            missing.append((i, j))
                        else:
                            pads[(i, j)] = pad
                            drawn_bits += number * size
            if not missing:
                break
            if cfg.on_missing_key == "wait" and waits < max_waits:
                waits += 1  # wait one more round time for the pools to refill
                waited = waits * cfg.round_s
                clock.t += cfg.round_s
                if cfg.kms_url is not None:  # a served KMS fills its pools in wall time
                    time.sleep(cfg.round_s)
                continue
            counts = {c: sum(c in p for p in missing) for c in active}
            worst = max(active, key=lambda c: (counts[c], c))
            active.remove(worst)
            dropped[names[worst]] = "no key for " + ", ".join(
                names[b if a == worst else a] for a, b in missing if worst in (a, b)
            )
        pads = {p: v for p, v in pads.items() if p[0] in active and p[1] in active}
        locals_ = {
            i: _local_train(w, *shards[i], cfg.local_epochs, cfg.learning_rate) for i in active
        }
        plain = {i: np.append(len(shards[i][1]) * locals_[i], len(shards[i][1])) for i in active}
        enc = {
            i: encode(plain[i], frac_bits=cfg.frac_bits, ring_bits=cfg.ring_bits) for i in active
        }
        uploads = [mask(enc[i], i, pads, ring_bits=cfg.ring_bits) for i in active]
        record: dict[str, Any] = {
            "round": r,
            "participants": [names[i] for i in active],
            "dropped": dropped,
            "waited_s": waited,
            "alerts": alerts,
            "pads_used": len(pads),
            "key_bits_used": len(pads) * number * size,
        }
        if len(active) >= 2:
            summed = aggregate(uploads, ring_bits=cfg.ring_bits)
            # the pads cancel exactly: the masked sum is the sum of the encodings, bit for bit
            record["aggregate_equals_encoded_sum"] = bool(
                np.array_equal(summed, aggregate(list(enc.values()), ring_bits=cfg.ring_bits))
            )
            total = decode(summed, frac_bits=cfg.frac_bits, ring_bits=cfg.ring_bits)
            exact = sum(plain.values())
            # fixed-point rounding only: at most half a unit in the last place per client
            record["max_abs_error_vs_plain_sum"] = float(np.max(np.abs(total - exact)))
            record["rounding_bound"] = len(active) * 2.0 ** -(cfg.frac_bits + 1)
            w = total[:-1] / total[-1]
        else:
            record["skipped"] = "fewer than 2 clients with key: no secure aggregation"
        locals_plain = [
            _local_train(w_plain, x, y, cfg.local_epochs, cfg.learning_rate) for x, y in shards
        ]
        counts_all = np.array([len(y) for _, y in shards], dtype=float)
        w_plain = np.sum([c * lw for c, lw in zip(counts_all, locals_plain, strict=True)], axis=0)
        w_plain /= counts_all.sum()
        record["accuracy"] = _accuracy(w, x_te, y_te)
        records.append(record)
    central = LogisticRegression(max_iter=1000).fit(x_tr, y_tr)
    rates = {f"{a}-{b}": rate for (a, b), rate in live.plan.rates_bps.items()}
    nominal = min(rate for rate in rates.values()) if rates else 0.0
    accounting = {
        "parameters": n_params,
        "ring_bits": cfg.ring_bits,
        "bits_per_parameter_per_pair_per_round": cfg.ring_bits,
        "bits_per_pair_per_round": number * size,
        "bits_per_round_all_pairs": number * size * n * (n - 1) // 2,
        "key_bits_drawn": drawn_bits,
        "pair_rates_bps_now": rates,
        "slowest_pair_rate_bps_now": nominal,
        "rounds_per_s_sustainable_now": nominal / (number * size) if number * size else 0.0,
    }
    store.close()
    for client in sae.values():
        if isinstance(client, HTTPSClient):
            client.close()
    return SecureFLResult(
        config={**asdict(cfg), "clients": dict(cfg.clients)},
        rounds=records,
        accuracy_secure=records[-1]["accuracy"],
        accuracy_plain_fedavg=_accuracy(w_plain, x_te, y_te),
        accuracy_centralised=float(central.score(x_te, y_te)),
        key_accounting=accounting,
    )
