"""Memory experiments (repetition and rotated surface codes) as stim circuits, with noise.

Two noise models:

- ``"depolarizing"``: stim's uniform circuit-level noise, the same ``p`` after every Clifford
  gate, on data qubits before each round, as a flip before each measurement and after each
  reset.
- ``"si1000"``: the superconducting-inspired SI1000 strengths of Gidney, Newman and McEwen
  (Quantum 6, 813, 2022) applied moment by moment to stim's (CX-based) circuit: two-qubit
  gates ``p``, one-qubit gates ``p/10``, resets ``2p``, measurement flips ``5p``, idling
  ``p/10`` and ``2p`` for qubits idle during a moment with a measurement or reset. The
  gates are not recompiled to CZ, so the circuit is SI1000-like, not Google's exact one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from qnetai._optional import require
from qnetai.errors import InputError
from qnetai.qec._types import StimCircuit, StimDem

CODES: tuple[str, ...] = ("surface", "repetition")
NOISE_MODELS: tuple[str, ...] = ("depolarizing", "si1000")
#: Largest code distance and round count accepted (keeps circuits and DEMs small).
MAX_DISTANCE = 25
MAX_ROUNDS = 1000


def _stim() -> Any:
    return require("stim", extra="qec")


@dataclass(frozen=True)
class MemoryExperiment:
    """A memory experiment: ``rounds`` of stabiliser measurement on a code, then readout.

    Args:
        code: ``"surface"`` (rotated surface code) or ``"repetition"``.
        distance: code distance, odd or even, ``>= 2`` (``>= 3`` for the surface code).
        rounds: stabiliser measurement rounds, ``>= 1``.
        p: physical error rate (probability) of the noise model, in ``[0, 0.5)``.
        noise: ``"depolarizing"`` or ``"si1000"``.
        basis: ``"z"`` or ``"x"`` memory (the surface code only; the repetition code is ``z``).

    Example:
        >>> exp = MemoryExperiment(code="surface", distance=3, rounds=3, p=0.001)
        >>> exp.circuit().num_detectors, exp.circuit().num_observables
        (24, 1)
        >>> MemoryExperiment(code="surface", distance=1, rounds=3, p=0.001)
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: distance=1 < 3 for the surface code
    """

    code: Literal["surface", "repetition"] = "surface"
    distance: int = 3
    rounds: int = 3
    p: float = 0.001
    noise: Literal["depolarizing", "si1000"] = "depolarizing"
    basis: Literal["z", "x"] = "z"

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise InputError(f"code={self.code!r} is not one of {', '.join(CODES)}")
        if self.noise not in NOISE_MODELS:
            raise InputError(f"noise={self.noise!r} is not one of {', '.join(NOISE_MODELS)}")
        if self.basis not in ("z", "x"):
            raise InputError(f"basis={self.basis!r} is not 'z' or 'x'")
        if self.code == "repetition" and self.basis != "z":
            raise InputError("basis='x' is only defined for the surface code")
        lo = 3 if self.code == "surface" else 2
        if not isinstance(self.distance, int) or self.distance < lo:
            raise InputError(f"distance={self.distance} < {lo} for the {self.code} code")
        if self.distance > MAX_DISTANCE:
            raise InputError(f"distance={self.distance} > {MAX_DISTANCE}")
        if not isinstance(self.rounds, int) or not 1 <= self.rounds <= MAX_ROUNDS:
            raise InputError(f"rounds={self.rounds} is not in [1, {MAX_ROUNDS}]")
        if not 0.0 <= float(self.p) < 0.5:
            raise InputError(f"p={self.p} is not in [0, 0.5)")

    @property
    def task(self) -> str:
        """The stim generated-circuit task name."""
        if self.code == "repetition":
            return "repetition_code:memory"
        return f"surface_code:rotated_memory_{self.basis}"

    def circuit(self) -> StimCircuit:
        """The noisy stim circuit."""
        st = _stim()
        if self.noise == "depolarizing":
            p = float(self.p)
            return st.Circuit.generated(
                self.task,
                distance=self.distance,
                rounds=self.rounds,
                after_clifford_depolarization=p,
                before_round_data_depolarization=p,
                before_measure_flip_probability=p,
                after_reset_flip_probability=p,
            )
        clean = st.Circuit.generated(self.task, distance=self.distance, rounds=self.rounds)
        return si1000_noise(clean, p=float(self.p))

    def dem(self, *, decompose_errors: bool = True) -> StimDem:
        """The detector error model of :meth:`circuit` (graphlike parts for matching)."""
        return self.circuit().detector_error_model(decompose_errors=decompose_errors)

    def describe(self) -> dict[str, object]:
        """The settings as a JSON-ready dict."""
        return {
            "code": self.code,
            "distance": self.distance,
            "rounds": self.rounds,
            "p": float(self.p),
            "noise": self.noise,
            "basis": self.basis,
        }


def si1000_noise(circuit: StimCircuit, *, p: float) -> StimCircuit:
    """Add SI1000-strength noise to a noiseless circuit, moment by moment (see module doc).

    Example:
        >>> import stim
        >>> c = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2)
        >>> noisy = si1000_noise(c, p=0.001)
        >>> noisy.num_detectors == c.num_detectors
        True
    """
    st = _stim()
    if not 0.0 <= p < 0.5:
        raise InputError(f"p={p} is not in [0, 0.5)")
    flat = circuit.flattened()
    all_qubits = sorted(
        {
            t.value
            for inst in flat
            if isinstance(inst, st.CircuitInstruction) and inst.name != "QUBIT_COORDS"
            for t in inst.targets_copy()
            if t.is_qubit_target
        }
    )
    out = st.Circuit()
    moment: list[Any] = []

    def flush(tick: bool) -> None:
        touched: set[int] = set()
        slow = False
        for inst in moment:
            gd = st.gate_data(inst.name)
            qs = [t.value for t in inst.targets_copy() if t.is_qubit_target]
            if gd.is_unitary or gd.produces_measurements or gd.is_reset:
                touched.update(qs)
            if gd.produces_measurements or gd.is_reset:
                slow = True
            if gd.produces_measurements:  # the flip probability is the gate's argument
                out.append(st.CircuitInstruction(inst.name, inst.targets_copy(), [5 * p]))
            else:
                out.append(inst)
            if gd.is_reset and qs:
                basis_x = inst.name.endswith("X")
                out.append("Z_ERROR" if basis_x else "X_ERROR", qs, 2 * p)
            elif gd.is_unitary and gd.is_two_qubit_gate and qs:
                out.append("DEPOLARIZE2", qs, p)
            elif gd.is_unitary and qs and inst.name != "I":
                out.append("DEPOLARIZE1", qs, p / 10)
        idle = [q for q in all_qubits if q not in touched]
        if touched and idle:
            out.append("DEPOLARIZE1", idle, 2 * p if slow else p / 10)
        if tick:
            out.append("TICK")
        moment.clear()

    for inst in flat:
        if isinstance(inst, st.CircuitInstruction) and inst.name == "TICK":
            flush(True)
            continue
        assert isinstance(inst, st.CircuitInstruction)  # flattened: no REPEAT blocks
        moment.append(inst)
    flush(False)
    return out
