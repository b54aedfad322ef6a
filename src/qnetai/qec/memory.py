"""Error-corrected (logical) memories for the network engine.

A node whose ``memory.logical`` is set stores each qubit as a logical qubit of a rotated
surface code. Before the run its noise is *measured*: a stim memory experiment
(``rounds = distance``, circuit-level noise ``physical_error_rate``) in the Z basis and in the
X basis, decoded by the chosen decoder (:func:`qnetai.qec.bench_qec` on ``shots`` shots), gives
the logical error rates per round ``r_z`` (the Z observable flips: an ``X_L`` or ``Y_L``
error) and ``r_x`` (the X observable flips: ``Z_L`` or ``Y_L``), each with its 95 % Wilson
interval. The engine then sees an ordinary depolarising memory:

* **Logical channel per round** (assumption: the residual X- and Z-type logical errors are
  independent, as the two bases are decoded separately): a Pauli channel with
  ``p_X = r_z (1 - r_x)``, ``p_Z = r_x (1 - r_z)``, ``p_Y = r_x r_z``, entanglement fidelity
  ``F1 = (1 - r_x)(1 - r_z)``.
* **Engine noise**: the depolarising channel with the same ``F1`` per round, factor
  ``e = (4 F1 - 1) / 3`` on the correlators, continuous in time (exact at whole rounds). The
  engine's memory keeps ``exp(-dt / (2 t_coh_s))`` per half, so
  ``t_coh_s = -cycle_time_s / (2 ln e)`` (``None``, noiseless, when no error was seen and
  ``estimate = "point"``). After ``n`` rounds on both halves of a pair the engine's fidelity
  ``(1 + 3 e^(2n)) / 4`` equals the Pauli model's ``(1 + c_x^(2n) + c_y^(2n) + c_z^(2n)) / 4``
  (``c_x = 1 - 2 r_x``, ``c_z = 1 - 2 r_z``, ``c_y = c_x c_z``) to first order in ``n r`` and is
  never above it (the power mean inequality): the conversion is conservative.
* **Physical comparison**: a bare qubit on the same hardware, depolarised with probability
  ``p`` per cycle (stim's ``DEPOLARIZE1(p)``), has ``e = 1 - 4p/3``:
  :func:`physical_t_coh_s`.
* **Logical operations**: encoding a heralded pair into the code, the logical Bell
  measurement of a swap and the readout are ideal at the logical level; the scenario's
  ``operations`` noise (gate fidelity, measurement error) still applies unchanged.
* The learned decoder ships Z-basis models only: with ``decoder = "neural"``, ``r_x`` is taken
  equal to the measured ``r_z`` (the summary says so).

The measurement is cached in memory by (code, distance, decoder, p, noise, shots, seed), and
refused up front above :data:`MAX_LOGICAL_MEMORY_CPU_S` estimated CPU seconds.

Example:
    >>> round(t_coh_from_rates(1e-4, 1e-4, cycle_time_s=1e-6), 6)
    0.001875
    >>> round(physical_t_coh_s(0.001, cycle_time_s=1e-6), 6)
    0.000375
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import asdict, dataclass
from typing import Any

from qnetai.config.models import LogicalMemorySpec, MemorySpec, NodeSpec, Scenario
from qnetai.errors import InputError

#: Largest estimated CPU seconds for measuring one logical memory's rates (both bases).
MAX_LOGICAL_MEMORY_CPU_S = 120.0
#: The lookup decoder's table is trained on this many shots per measured shot (capped).
LOOKUP_TRAIN_SHOTS_PER_SHOT = 10
LOOKUP_TRAIN_SHOTS_MAX = 2_000_000
#: Estimated CPU microseconds per detector and shot (measured on this machine; x2-x4 margin):
#: sampling, then each decoder's decoding; the lookup decoder's training per training shot.
#: ``neural`` (torch, 1 thread, model loading included), measured 2026-11-30 at load 5: 0.16
#: (d = 3, p = 0.5 %) to 1.97 (d = 5, p = 0.5 %: nearly every syndrome distinct) µs; x2.
_US_PER_DETECTOR_SHOT = {
    "sample": 0.02,
    "matching": 0.02,
    "matching-correlated": 0.08,
    "lookup": 0.02,
    "neural": 4.0,
}
_US_PER_LOOKUP_TRAIN_SHOT = 2.0


def depolarising_factor_per_round(r_x: float, r_z: float) -> float:
    """Depolarising factor ``e = (4 F1 - 1) / 3``, ``F1 = (1 - r_x)(1 - r_z)``, per round.

    Example:
        >>> depolarising_factor_per_round(0.0, 0.0)
        1.0
        >>> round(depolarising_factor_per_round(0.01, 0.0), 6)
        0.986667
    """
    for name, r in (("r_x", r_x), ("r_z", r_z)):
        if not 0.0 <= r <= 0.5:
            raise InputError(f"{name}={r} is not a probability in [0, 0.5]")
    f1 = (1.0 - r_x) * (1.0 - r_z)
    return (4.0 * f1 - 1.0) / 3.0


def t_coh_from_rates(r_x: float, r_z: float, *, cycle_time_s: float) -> float | None:
    """The engine's depolarising ``t_coh_s`` of a memory with logical rates per round.

    ``t_coh_s = -cycle_time_s / (2 ln e)`` with ``e`` from :func:`depolarising_factor_per_round`;
    ``None`` (noiseless) when ``r_x = r_z = 0``. Raises :class:`InputError` when ``e <= 0``
    (the code does not store a qubit at all).

    Example:
        >>> t_coh_from_rates(0.0, 0.0, cycle_time_s=1e-6) is None
        True
    """
    if not cycle_time_s > 0.0:
        raise InputError(f"cycle_time_s={cycle_time_s} <= 0")
    e = depolarising_factor_per_round(r_x, r_z)
    if e >= 1.0:
        return None
    if e <= 0.0:
        raise InputError(
            f"logical error rates per round r_x={r_x:.3g}, r_z={r_z:.3g} leave no coherence "
            "(the physical error rate is far above the code's threshold)"
        )
    return -cycle_time_s / (2.0 * math.log(e))


def physical_t_coh_s(p: float, *, cycle_time_s: float) -> float:
    """``t_coh_s`` of a bare qubit depolarised with probability ``p`` per cycle (``e = 1 - 4p/3``).

    Example:
        >>> round(physical_t_coh_s(0.003, cycle_time_s=1e-6) * 1e6, 2)
        124.75
    """
    if not 0.0 < p < 0.75:
        raise InputError(f"p={p} is not in (0, 0.75)")
    if not cycle_time_s > 0.0:
        raise InputError(f"cycle_time_s={cycle_time_s} <= 0")
    return -cycle_time_s / (2.0 * math.log1p(-4.0 * p / 3.0))


@dataclass(frozen=True)
class LogicalRates:
    """Measured logical error rates per round of one logical memory (both bases), its t_coh_s."""

    code: str
    distance: int
    decoder: str
    physical_error_rate: float
    noise: str
    cycle_time_s: float
    shots: int
    seed: int
    rounds: int
    estimate: str
    r_z: float
    r_z_ci: tuple[float, float]
    errors_z: int
    r_x: float
    r_x_ci: tuple[float, float]
    errors_x: int
    x_basis: str
    t_coh_s: float | None
    physical_t_coh_s: float
    measure_cpu_s: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (intervals as lists)."""
        d = asdict(self)
        d["r_z_ci"], d["r_x_ci"] = list(self.r_z_ci), list(self.r_x_ci)
        return d


def _experiment(spec: LogicalMemorySpec, basis: str) -> Any:
    from qnetai.qec._codes import MemoryExperiment

    return MemoryExperiment(
        code=spec.code,
        distance=spec.distance,
        rounds=spec.distance,
        p=spec.physical_error_rate,
        noise=spec.noise,
        basis=basis,  # type: ignore[arg-type]  # checked by MemoryExperiment
    )


def _num_detectors(spec: LogicalMemorySpec) -> int:
    """Detectors of the rotated surface code memory experiment (``rounds = d``): closed form."""
    d = spec.distance
    return (d * d - 1) * d  # (d^2-1)/2 in the first round and at readout, d^2-1 in between


def estimate_cpu_s(spec: LogicalMemorySpec) -> float:
    """Estimated CPU seconds to measure ``spec``'s rates (both bases; neural decodes one).

    Example:
        >>> from qnetai.config.models import LogicalMemorySpec
        >>> estimate_cpu_s(LogicalMemorySpec(distance=3, shots=20_000)) < 1.0
        True
    """
    work = spec.shots * _num_detectors(spec) * 1e-6
    bases = 1 if spec.decoder == "neural" else 2
    cpu = (
        2 * work * _US_PER_DETECTOR_SHOT["sample"]
        + bases * work * _US_PER_DETECTOR_SHOT[spec.decoder]
    )
    if spec.decoder == "lookup":
        cpu += bases * _lookup_train_shots(spec) * _US_PER_LOOKUP_TRAIN_SHOT * 1e-6
    return cpu


def _lookup_train_shots(spec: LogicalMemorySpec) -> int:
    return min(LOOKUP_TRAIN_SHOTS_MAX, LOOKUP_TRAIN_SHOTS_PER_SHOT * spec.shots)


def check_logical_memory(spec: LogicalMemorySpec, *, where: str = "memory.logical") -> None:
    """Refuse, before any sampling, what cannot or should not run; ``where`` names the field.

    Raises :class:`InputError` for a decoder that does not apply (lookup above
    ``LOOKUP_MAX_DETECTORS`` detectors, no shipped learned decoder), an estimated cost above
    :data:`MAX_LOGICAL_MEMORY_CPU_S`, or missing stim/pymatching/sinter (naming the ``[qec]``
    extra).

    Example:
        >>> from qnetai.config.models import LogicalMemorySpec
        >>> check_logical_memory(LogicalMemorySpec(distance=5, decoder="lookup"))
        ... # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: memory.logical.decoder: 'lookup' needs at most 32 detectors; ...
    """
    from qnetai._optional import MissingExtraError, require

    try:
        require("stim", extra="qec")
        require("pymatching", extra="qec")
        require("sinter", extra="qec")
    except MissingExtraError as exc:
        raise InputError(f"{where}: {exc}") from exc
    from qnetai.qec._bench import LOOKUP_MAX_DETECTORS

    n_det = _num_detectors(spec)
    if spec.decoder == "lookup" and n_det > LOOKUP_MAX_DETECTORS:
        raise InputError(
            f"{where}.decoder: 'lookup' needs at most {LOOKUP_MAX_DETECTORS} detectors; "
            f"{spec.code} d={spec.distance} has {n_det} (use d=3 or another decoder)"
        )
    if spec.decoder == "neural":
        from qnetai.qec._bench import _default_model

        if _default_model(_experiment(spec, "z")) is None:
            raise InputError(
                f"{where}.decoder: no shipped learned decoder for {spec.code} d={spec.distance} "
                f"({spec.noise} noise); use a classical decoder"
            )
    cpu = estimate_cpu_s(spec)
    if cpu > MAX_LOGICAL_MEMORY_CPU_S:
        raise InputError(
            f"{where}.shots: measuring the logical rates would take about {cpu:.0f} CPU s "
            f"(> {MAX_LOGICAL_MEMORY_CPU_S:.0f}); lower shots={spec.shots}"
        )


@functools.lru_cache(maxsize=64)
def _measure(
    code: str, distance: int, decoder: str, p: float, noise: str, shots: int, seed: int
) -> tuple[tuple[float, float, float, int], tuple[float, float, float, int] | None, float]:
    """``(rate, lo, hi, errors)`` per round for the Z basis and the X basis (None: neural)."""
    from qnetai.qec._bench import bench_qec

    spec = LogicalMemorySpec(
        code=code,
        distance=distance,
        decoder=decoder,
        physical_error_rate=p,
        noise=noise,
        shots=shots,
        seed=seed,
    )
    t = time.process_time()
    out: list[tuple[float, float, float, int] | None] = []
    for basis in ("z", "x"):
        if basis == "x" and decoder == "neural":
            out.append(None)
            continue
        res = bench_qec(
            _experiment(spec, basis),
            shots=shots,
            seed=seed,
            decoders=[decoder],
            lookup_train_shots=_lookup_train_shots(spec),
        )
        row = res["rows"][0]
        lo, hi = row["ler_per_round_ci"]
        out.append((float(row["ler_per_round"]), float(lo), float(hi), int(row["errors"])))
    z = out[0]
    assert z is not None
    return z, out[1], time.process_time() - t


def measure_logical_rates(spec: LogicalMemorySpec) -> LogicalRates:
    """Measure (or recall from the in-memory cache) the logical rates of ``spec``.

    Example:
        >>> from qnetai.config.models import LogicalMemorySpec
        >>> r = measure_logical_rates(LogicalMemorySpec(distance=3, shots=2000))
        >>> r.rounds, r.t_coh_s > r.physical_t_coh_s
        (3, True)
    """
    check_logical_memory(spec)
    z, x, cpu = _measure(
        spec.code,
        spec.distance,
        spec.decoder,
        spec.physical_error_rate,
        spec.noise,
        spec.shots,
        spec.seed,
    )
    x_note = "measured"
    if x is None:
        x, x_note = z, "assumed equal to z (the learned decoder ships Z-basis models only)"
    pick = 2 if spec.estimate == "upper" else 0
    r_z, r_x = min(z[pick], 0.5), min(x[pick], 0.5)
    return LogicalRates(
        code=spec.code,
        distance=spec.distance,
        decoder=spec.decoder,
        physical_error_rate=spec.physical_error_rate,
        noise=spec.noise,
        cycle_time_s=spec.cycle_time_s,
        shots=spec.shots,
        seed=spec.seed,
        rounds=spec.distance,
        estimate=spec.estimate,
        r_z=r_z,
        r_z_ci=(z[1], z[2]),
        errors_z=z[3],
        r_x=r_x,
        r_x_ci=(x[1], x[2]),
        errors_x=x[3],
        x_basis=x_note,
        t_coh_s=t_coh_from_rates(r_x, r_z, cycle_time_s=spec.cycle_time_s),
        physical_t_coh_s=physical_t_coh_s(spec.physical_error_rate, cycle_time_s=spec.cycle_time_s),
        measure_cpu_s=cpu,
    )


def _memories(sc: Scenario) -> list[tuple[str, MemorySpec]]:
    """``(field path, memory)`` of every node and of the topology's node template."""
    out = [(f"nodes[{i}].memory", n.memory) for i, n in enumerate(sc.nodes)]
    if sc.topology is not None and sc.topology.node is not None:
        out.append(("topology.node.memory", sc.topology.node.memory))
    return out


def has_logical_memories(sc: Scenario) -> bool:
    """Whether any node (or the topology's node template) has a logical memory."""
    return any(m.logical is not None for _, m in _memories(sc))


def check_logical_memories(sc: Scenario) -> None:
    """:func:`check_logical_memory` on every logical memory of ``sc`` (field paths in errors)."""
    seen: set[LogicalMemorySpec] = set()
    for where, mem in _memories(sc):
        if mem.logical is not None and mem.logical not in seen:
            seen.add(mem.logical)
            check_logical_memory(mem.logical, where=f"{where}.logical")


def apply_logical_memories(sc: Scenario) -> tuple[Scenario, dict[str, Any] | None]:
    """``sc`` with each logical memory's ``t_coh_s`` set from its measured rates, and a summary.

    The summary (``None`` without logical memories) lists each distinct logical memory: its
    settings, measured rates with 95 % Wilson intervals, ``t_coh_s`` and the nodes using it.

    Example:
        >>> from qnetai.config.models import Scenario
        >>> sc = Scenario.model_validate({"nodes": [
        ...     {"name": "A", "memory": {"logical": {"distance": 3, "shots": 2000}}},
        ...     {"name": "B"}]})
        >>> new, summary = apply_logical_memories(sc)
        >>> new.nodes[0].memory.t_coh_s == summary["memories"][0]["t_coh_s"]
        True
    """
    if not has_logical_memories(sc):
        return sc, None
    check_logical_memories(sc)
    rates: dict[LogicalMemorySpec, LogicalRates] = {}
    users: dict[LogicalMemorySpec, list[str]] = {}

    def convert(node: NodeSpec, label: str) -> NodeSpec:
        spec = node.memory.logical
        if spec is None:
            return node
        if spec not in rates:
            rates[spec] = measure_logical_rates(spec)
        users.setdefault(spec, []).append(label)
        mem = node.memory.model_copy(update={"t_coh_s": rates[spec].t_coh_s})
        return node.model_copy(update={"memory": mem})

    nodes = [convert(n, n.name) for n in sc.nodes]
    update: dict[str, Any] = {"nodes": nodes}
    if sc.topology is not None and sc.topology.node is not None:
        template = convert(sc.topology.node, "topology.node")
        update["topology"] = sc.topology.model_copy(update={"node": template})
    summary = {
        "model": "depolarising with the per-round entanglement fidelity of independent "
        "X/Z logical errors; logical operations ideal",
        "memories": [{**rates[s].to_dict(), "nodes": users[s]} for s in rates],
    }
    return sc.model_copy(update=update), summary
