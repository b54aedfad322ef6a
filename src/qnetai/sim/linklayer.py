"""Link layer: per-link success probability, attempt period, fresh-pair state, event skipping.

Conventions (all per elementary link):

* **Attempt period** ``attempt_s = max(1 / attempt_rate_hz, heralding round trip)``; without an
  attempt rate it is the round trip alone. An attempt occupies one period and its herald is
  processed at the end of it: a link that (re)starts at ``t0`` and succeeds on its ``K``-th
  attempt holds a pair from ``t0 + K * attempt_s`` (synchronised rounds, as in
  :mod:`qnetai.sim.chain`). The pair's qubits were loaded one round trip earlier, so the stored
  state starts decohering (and its cut-off age starts) at ``t0 + K * attempt_s - round_trip``.
* **Success probability per attempt and channel** ``p``: ``LinkSpec.success_probability`` when
  given (the abstract model: it replaces the whole physics), else the herald probability of
  :func:`qnetai.physics.double_click_herald` / :func:`qnetai.physics.single_click_herald` times
  the retrieval efficiencies of both memories. Fibre: ``eta_x = fibre_transmittance(L / 2)`` times
  source and coupling efficiency (midpoint station). Free space: the whole path's
  :func:`qnetai.physics.free_space_transmittance` is split evenly, ``eta_a = eta_b = sqrt(eta)``
  (times source and coupling efficiency), and the round trip uses the vacuum speed of light.
* **Multiplexing** ``m`` channels: a round succeeds with ``q = 1 - (1 - p)^m`` and the number of
  channels that herald in a successful round is ``Binomial(m, p)`` conditioned on ``>= 1``.
* **Time-varying loss** (``free_space.loss_variation``): extra loss
  ``amplitude_db * sin(2 pi t / period_s + phase_rad)`` dB, piecewise constant over ``update_s``;
  the probability of an attempt is the one of the interval in which it is emitted, and the
  geometric draw is made interval by interval (never attempt by attempt).
* **Fresh state**: the herald outcome's Bell-diagonal state (``raw_fidelity`` enters there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qnetai import physics as ph
from qnetai.config.models import LinkSpec, NodeSpec
from qnetai.errors import InputError
from qnetai.topology.channels import link_transmittance

#: Speed of light in vacuum (km/s), used for free-space heralding round trips.
C_VACUUM_KM_PER_S = 299_792.458
_BLOCK = 4096


class Uniforms:
    """Buffered uniform draws in [0, 1) from a numpy Generator (cheap scalar access)."""

    __slots__ = ("_buf", "_i", "_n", "_rng")

    def __init__(self, rng: np.random.Generator, block: int = 8192) -> None:
        self._rng = rng
        self._n = block
        self._buf: list[float] = []
        self._i = 0

    def __call__(self) -> float:
        """The next uniform in [0, 1)."""
        i = self._i
        if i >= len(self._buf):
            self._buf = self._rng.random(self._n).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]


def geometric(u: float, log1m_q: float) -> float:
    """Number of trials to the first success (>= 1) by inversion; ``inf`` if ``q == 0``.

    ``log1m_q = log(1 - q)`` (``-inf`` for ``q = 1``, ``0`` for ``q = 0``); ``u`` uniform in [0, 1).
    """
    if log1m_q == 0.0:
        return math.inf
    if log1m_q == -math.inf:
        return 1.0
    return math.floor(math.log1p(-u) / log1m_q) + 1.0


def successes_in_round(u: float, m: int, p: float, cap: int) -> int:
    """``min(S, cap)`` for ``S ~ Binomial(m, p)`` conditioned on ``S >= 1`` (inverse CDF).

    Walks at most ``cap`` terms of the pmf, so it costs O(cap) whatever ``m``.
    """
    if cap <= 1 or m == 1 or p <= 0.0:
        return 1
    if p >= 1.0:
        return min(m, cap)
    q = -math.expm1(m * math.log1p(-p))  # P(S >= 1)
    target = u * q
    pmf = m * p * math.exp((m - 1) * math.log1p(-p))  # P(S = 1)
    acc = pmf
    s = 1
    ratio = p / (1.0 - p)
    while acc < target and s < cap:
        pmf *= (m - s) / (s + 1) * ratio
        s += 1
        acc += pmf
    return s if acc >= target else cap


def _memory_efficiency(node: NodeSpec) -> float:
    return float(node.memory.efficiency)


@dataclass
class LinkModel:
    """Precomputed figures of one elementary link and its next-success sampler."""

    index: int
    name: str
    a: str
    b: str
    spec: LinkSpec
    attempt_s: float
    round_trip_s: float
    classical_delay_s: float
    multiplexing: int
    p_success: float  # per attempt and channel (at t = 0 for a time-varying link)
    state: tuple[float, float, float, float]  # fresh Bell-diagonal state (t = 0 if varying)
    varying: bool = False
    update_s: float = 0.0
    _log1m_q: float = 0.0
    _blocks: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    _eff: float = 1.0

    @property
    def round_success(self) -> float:
        """Probability that one round (all ``multiplexing`` channels) heralds at least once."""
        p = self.p_success
        if p >= 1.0:
            return 1.0
        return -math.expm1(self.multiplexing * math.log1p(-p)) if p > 0.0 else 0.0

    def round_success_at(self, t: float) -> float:
        """:attr:`round_success` of a round emitted at ``t`` (differs only on varying links)."""
        if not self.varying:
            return self.round_success
        _, log1m_q, _ = self._interval(int(t // self.update_s))
        return -math.expm1(log1m_q)

    def next_success(self, t0: float, u: Uniforms) -> tuple[float, float, tuple]:
        """``(t_ready, p, state)`` of the first successful round after a (re)start at ``t0``.

        ``t_ready = t0 + K * attempt_s``; ``p`` and ``state`` are those of the successful
        round (they differ from the constants only on time-varying links); ``t_ready`` is
        ``inf`` when no round can succeed.
        """
        if not self.varying:  # geometric(u(), log1m_q) inlined: the engine's hottest call
            x = u()  # drawn even when q is 0 or 1, as geometric() does (same stream)
            log1m_q = self._log1m_q
            if log1m_q == 0.0:
                return math.inf, self.p_success, self.state
            if log1m_q == -math.inf:
                return t0 + self.attempt_s, self.p_success, self.state
            k = math.floor(math.log1p(-x) / log1m_q) + 1.0
            return t0 + k * self.attempt_s, self.p_success, self.state
        return self._next_varying(t0, u)

    # -- time-varying links ------------------------------------------------------------
    def _interval(self, j: int) -> tuple[float, float, tuple]:
        blk, off = divmod(j, _BLOCK)
        data = self._blocks.get(blk)
        if data is None:
            if len(self._blocks) > 64:
                self._blocks.clear()
            data = self._compute_block(blk)
            self._blocks[blk] = data
        p, log1m_q, states = data
        return float(p[off]), float(log1m_q[off]), tuple(states[off].tolist())

    def _compute_block(self, blk: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        fs = self.spec.free_space
        lv = None if fs is None else fs.loss_variation
        assert lv is not None  # only time-varying links have blocks
        t = (blk * _BLOCK + np.arange(_BLOCK)) * self.update_s
        extra_db = lv.extra_loss_db(t)
        p, states = _herald(self.spec, extra_db=extra_db)
        p = p * self._eff
        with np.errstate(divide="ignore"):
            q = -np.expm1(self.multiplexing * np.log1p(-np.minimum(p, 1.0)))
            log1m_q = np.log1p(-q)
        return p, log1m_q, states

    def _next_varying(self, t0: float, u: Uniforms) -> tuple[float, float, tuple]:
        period, upd = self.attempt_s, self.update_s
        done = 0  # attempts already spent since t0
        for _ in range(10_000_000):
            t_emit = t0 + done * period
            j = int(t_emit // upd)
            p, log1m_q, state = self._interval(j)
            n_in = max(1, math.ceil(((j + 1) * upd - t_emit) / period - 1e-12))
            k = geometric(u(), log1m_q)
            if k <= n_in:
                return t0 + (done + k) * period, p, state
            done += n_in
        return math.inf, 0.0, self.state  # pragma: no cover - pathological


def _transmittance(spec: LinkSpec, extra_db: np.ndarray | float = 0.0) -> np.ndarray:
    """Transmittance of each arm (node to midpoint station), source and coupling included."""
    src = spec.source_efficiency * spec.coupling_efficiency
    return np.sqrt(link_transmittance(spec, extra_loss_db=extra_db)) * src


def _herald(spec: LinkSpec, extra_db: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    eta = _transmittance(spec, extra_db)
    common = {
        "detector_efficiency": spec.detector_efficiency,
        "dark_count_probability": spec.dark_count_probability,
        "raw_fidelity": spec.raw_fidelity,
    }
    if spec.scheme == "double_click":
        out = ph.double_click_herald(eta, eta, **common)
    else:
        out = ph.single_click_herald(
            eta, eta, bright_state_parameter=spec.bright_state_parameter, **common
        )
    p = np.asarray(out.p_success, dtype=np.float64)
    if spec.success_probability is not None:
        p = np.full_like(p, spec.success_probability)
    return p, np.asarray(out.state, dtype=np.float64)


Bell4 = tuple[float, float, float, float]


def _bell4(x: list[float]) -> Bell4:
    a, b, c, d = x
    return (a, b, c, d)


def herald_batch(specs: list[LinkSpec]) -> list[tuple[float, Bell4]]:
    """``(p, state)`` of each link's herald at zero extra loss, as ``_herald`` gives them.

    Fibre links of one heralding scheme go through the physics in one array call (a network
    of 20,000 links in milliseconds instead of seconds); the arithmetic is elementwise, so
    every value is the float of one call per link (tested). Other links: one call each.

    Example:
        >>> spec = LinkSpec(endpoints=("a", "b"), length_km=50.0)
        >>> herald_batch([spec])[0] == (float(_herald(spec)[0]), tuple(_herald(spec)[1].tolist()))
        True
    """
    out: list[tuple[float, Bell4] | None] = [None] * len(specs)
    groups: dict[str, list[int]] = {}
    for i, spec in enumerate(specs):
        if spec.kind == "fibre":
            groups.setdefault(spec.scheme, []).append(i)
        else:
            p, state = _herald(spec)
            out[i] = (float(p), _bell4(np.asarray(state, dtype=np.float64).tolist()))
    for scheme, idx in groups.items():
        group = [specs[i] for i in idx]

        def col(name: str, group: list[LinkSpec] = group) -> np.ndarray:
            return np.array([getattr(x, name) for x in group], dtype=np.float64)

        # link_transmittance's fibre branch and _transmittance, on arrays
        total = ph.fibre_transmittance(col("length_km"), col("attenuation_db_per_km"))
        extra = 10.0 ** (-np.asarray(0.0, dtype=float) / 10.0)
        src = np.array([x.source_efficiency * x.coupling_efficiency for x in group])
        eta = np.sqrt(np.clip(np.asarray(total, dtype=float) * extra, 0.0, 1.0)) * src
        common = {
            "detector_efficiency": col("detector_efficiency"),
            "dark_count_probability": col("dark_count_probability"),
            "raw_fidelity": col("raw_fidelity"),
        }
        if scheme == "double_click":
            res = ph.double_click_herald(eta, eta, **common)
        else:
            res = ph.single_click_herald(
                eta, eta, bright_state_parameter=col("bright_state_parameter"), **common
            )
        p_all = np.asarray(res.p_success, dtype=np.float64).tolist()
        states = np.asarray(res.state, dtype=np.float64).tolist()
        for k, i in enumerate(idx):
            sp = specs[i].success_probability
            out[i] = (float(sp) if sp is not None else p_all[k], _bell4(states[k]))
    return [x for x in out if x is not None]


def build_link_model(
    index: int,
    spec: LinkSpec,
    node_a: NodeSpec,
    node_b: NodeSpec,
    *,
    speed_km_per_s: float,
    processing_delay_s: float,
    herald: tuple[float, Bell4] | None = None,
) -> LinkModel:
    """Precompute one link (see the module docstring for the conventions).

    ``herald``: the link's ``(p, state)`` from :func:`herald_batch` (None: computed here).
    """
    a, b = spec.endpoints
    name = spec.name or f"{a}-{b}"
    speed = C_VACUUM_KM_PER_S if spec.kind == "free_space" else speed_km_per_s
    rtt = float(ph.heralding_round_trip_s(spec.length_km, speed))
    period = rtt
    if spec.attempt_rate_hz is not None:
        period = max(1.0 / spec.attempt_rate_hz, rtt)
    if not period > 0.0:
        raise InputError(
            f"links[{name}].attempt_rate_hz must be given for a link of length_km=0 "
            "(the attempt period would be zero)"
        )
    eff = 1.0
    if spec.success_probability is None:
        eff = _memory_efficiency(node_a) * _memory_efficiency(node_b)
    variation = spec.free_space.loss_variation if spec.free_space is not None else None
    varying = (
        spec.kind == "free_space" and variation is not None and spec.success_probability is None
    )
    if herald is None:
        p_arr, state_arr = _herald(spec)
        herald = (float(p_arr), _bell4(np.asarray(state_arr, dtype=np.float64).tolist()))
    p = herald[0] * eff
    model = LinkModel(
        index=index,
        name=name,
        a=a,
        b=b,
        spec=spec,
        attempt_s=period,
        round_trip_s=rtt,
        classical_delay_s=spec.length_km / speed_km_per_s + processing_delay_s,
        multiplexing=spec.multiplexing,
        p_success=p,
        state=herald[1],
        varying=varying,
        update_s=variation.update_s if varying and variation is not None else 0.0,
        _eff=eff,
    )
    q = model.round_success
    model._log1m_q = math.log1p(-q) if q < 1.0 else -math.inf
    if varying:
        p0, _, s0 = model._interval(0)
        model.p_success, model.state = p0, s0
    return model
