"""Purification circuits on ``n`` registers of Bell pairs: representation and exact simulation.

A :class:`Circuit` acts on ``registers`` memory slots, each holding one Bell pair shared by
Alice and Bob (qevo's representation, Krastanov, Albert and Jiang, Quantum 3, 123, 2019):

* :class:`Gate`: a bilateral CNOT (``control -> target``, both at Alice and at Bob),
  preceded by one of the six local Bell permutations :data:`PERMUTATIONS` on each pair
  (bilateral local Cliffords that keep ``Phi+`` and permute ``Psi+, Psi-, Phi-``);
* :class:`Measure`: a coincidence measurement of both halves of a pair in the X, Y or Z
  basis; the run is kept only if the outcomes agree with ``Phi+``; the register is then
  empty;
* :class:`Twirl`: a random bilateral rotation that makes the pair a Werner state (BBPSSW).

Registers are loaded with a fresh raw pair when first used (register 0 at the start) and
again after each measurement if used later; ``Circuit.raw_pairs`` counts the loads. The
output is register 0 after the last operation, post-selected on every measurement passing.

Noise follows :mod:`qnetai.physics.operations`: every bilateral CNOT is followed, at each
side, by two-qubit depolarising noise of parameter ``gate_fidelity`` (Dür-Briegel);
each single-qubit measurement reports the wrong bit with probability
``1 - measurement_fidelity``; single-qubit gates are perfect. Memory noise acts on a
stored pair between its operations: operations are placed in layers as soon as their
registers are free (``Circuit.depth`` layers of ``step_s`` seconds) and a pair decays
like :func:`qnetai.physics.noise.depolarise` (``t_coh_s``) or per qubit with T1/T2.

Two exact backends: ``"bell"`` keeps the joint Bell-diagonal distribution over the
``4**n`` Pauli frames (every operation above maps it to itself, as do depolarising and
pure-dephasing memories); ``"density"`` evolves the ``2n``-qubit density matrix (any raw
two-qubit state, amplitude damping). ``backend="auto"`` picks ``"bell"`` when it is exact.

Example:
    >>> c = dejmps_pumping(2)
    >>> r = simulate(c, 0.9)
    >>> round(float(r.fidelity), 4), round(float(r.success_probability), 4)
    (0.9264, 0.8756)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics import density as dm
from qnetai.physics.bell import PAULI_BITS, bell_kets, density_to_bell, validate_bell, werner
from qnetai.physics.bounds import binary_entropy

Basis = Literal["X", "Y", "Z"]
Backend = Literal["auto", "bell", "density"]
BASES: tuple[str, str, str] = ("X", "Y", "Z")
#: Largest register count each backend accepts (4**8 and 4**5 squared entries per state).
MAX_REGISTERS = {"bell": 8, "density": 5}
#: Largest number of operations in one circuit.
MAX_OPS = 200


def _perm_generators() -> list[tuple[tuple[int, ...], NDArray, NDArray]]:
    """Bilateral H (swaps Psi+ and Phi-) and Rx(pi/2) x Rx(-pi/2) (swaps Psi- and Phi-)."""
    return [
        ((0, 3, 2, 1), dm.H, dm.H),
        ((0, 1, 3, 2), dm.rx(np.pi / 2), dm.rx(-np.pi / 2)),
    ]


def _all_permutations() -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[NDArray, NDArray], ...]]:
    """The six Bell permutations fixing Phi+ (identity first) and local unitaries for each."""
    found: dict[tuple[int, ...], tuple[NDArray, NDArray]] = {(0, 1, 2, 3): (dm.I2, dm.I2)}
    frontier: list[tuple[int, ...]] = [(0, 1, 2, 3)]
    while frontier:
        nxt: list[tuple[int, ...]] = []
        for p in frontier:
            ua, ub = found[p]
            for g, ga, gb in _perm_generators():
                q = tuple(g[p[k]] for k in range(4))  # first p, then g
                if q not in found:
                    found[q] = (ga @ ua, gb @ ub)
                    nxt.append(q)
        frontier = nxt
    order = sorted(found)
    return tuple(order), tuple(found[p] for p in order)


#: The six Bell-index permutations ``k -> perm[k]`` that fix Phi+, identity first.
PERMUTATIONS, _PERM_UNITARIES = _all_permutations()
#: Index of the DEJMPS rotation (swaps Psi- and Phi-) in :data:`PERMUTATIONS`.
DEJMPS_PERM = PERMUTATIONS.index((0, 1, 3, 2))
_INV_PERMS = tuple(tuple(int(i) for i in np.argsort(p)) for p in PERMUTATIONS)
# Pass weights of a coincidence measurement: Z checks x, X checks z, Y checks x ^ z.
_PASS = {
    "Z": np.array([x == 0 for x, _ in PAULI_BITS]),
    "X": np.array([z == 0 for _, z in PAULI_BITS]),
    "Y": np.array([(x ^ z) == 0 for x, z in PAULI_BITS]),
}


def _cnot_source() -> NDArray[np.intp]:
    """``src[16 * 0 + k']``: the joint input index (4 i + j) that the bilateral CNOT sends to k'."""
    src = np.zeros(16, dtype=np.intp)
    for i, (x1, z1) in enumerate(PAULI_BITS):
        for j, (x2, z2) in enumerate(PAULI_BITS):
            a = PAULI_BITS.index((x1, z1 ^ z2))
            b = PAULI_BITS.index((x1 ^ x2, z2))
            src[4 * a + b] = 4 * i + j
    return src


_CNOT_SRC = _cnot_source()


@dataclass(frozen=True)
class Gate:
    """Bilateral CNOT ``control -> target`` after Bell permutations on both pairs.

    ``perm_control`` / ``perm_target`` index :data:`PERMUTATIONS` (0: none).
    """

    control: int
    target: int
    perm_control: int = 0
    perm_target: int = 0

    @property
    def registers(self) -> tuple[int, ...]:
        """Registers the operation touches."""
        return (self.control, self.target)


@dataclass(frozen=True)
class Measure:
    """Coincidence measurement of register ``register`` in ``basis``; empties the register."""

    register: int
    basis: str = "Z"

    @property
    def registers(self) -> tuple[int, ...]:
        """Registers the operation touches."""
        return (self.register,)


@dataclass(frozen=True)
class Twirl:
    """Random bilateral rotation making the pair of ``register`` a Werner state (BBPSSW)."""

    register: int

    @property
    def registers(self) -> tuple[int, ...]:
        """Registers the operation touches."""
        return (self.register,)


Op = Gate | Measure | Twirl


@dataclass(frozen=True)
class Circuit:
    """A purification circuit on ``registers`` pair slots; output: register 0.

    Example:
        >>> c = Circuit(2, (Gate(0, 1), Measure(1, "Z")))
        >>> c.raw_pairs, c.depth
        (2, 2)
    """

    registers: int
    ops: tuple[Op, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        _check_circuit(self, "circuit")

    @property
    def raw_pairs(self) -> int:
        """Raw pairs consumed: register 0 at the start plus every (re)load of a register."""
        loaded = [False] * self.registers
        loaded[0] = True
        n = 1
        for op in self.ops:
            for r in op.registers:
                if not loaded[r]:
                    loaded[r] = True
                    n += 1
            if isinstance(op, Measure):
                loaded[op.register] = False
        return n

    @property
    def depth(self) -> int:
        """Layers when each operation runs as soon as its registers are free."""
        return int(max(_layers(self), default=0))

    @property
    def n_gates(self) -> int:
        """Number of bilateral CNOTs."""
        return sum(isinstance(op, Gate) for op in self.ops)

    def to_dict(self) -> dict[str, Any]:
        """Inert, JSON-ready description (no code): ``{"registers", "ops": [...]}``."""
        ops: list[dict[str, Any]] = []
        for op in self.ops:
            if isinstance(op, Gate):
                ops.append(
                    {
                        "op": "cnot",
                        "control": op.control,
                        "target": op.target,
                        "perm_control": op.perm_control,
                        "perm_target": op.perm_target,
                    }
                )
            elif isinstance(op, Measure):
                ops.append({"op": "measure", "register": op.register, "basis": op.basis})
            else:
                ops.append({"op": "twirl", "register": op.register})
        return {"format": "qnetai-purification-circuit/1", "registers": self.registers, "ops": ops}

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "circuit") -> Circuit:
        """Build a circuit from :meth:`to_dict` output; errors name the field path.

        Example:
            >>> Circuit.from_dict(dejmps_pumping(3).to_dict()) == dejmps_pumping(3)
            True
        """
        if not isinstance(data, dict):
            raise InputError(f"{where}: must be an object (got {type(data).__name__})")
        unknown = set(data) - {"format", "registers", "ops", "meta"}
        if unknown:
            raise InputError(f"{where}: unknown field(s) {sorted(unknown)}")
        regs = _int_field(data, "registers", where)
        raw_ops = data.get("ops", [])
        if not isinstance(raw_ops, list) or len(raw_ops) > MAX_OPS:
            raise InputError(f"{where}.ops: must be a list of at most {MAX_OPS} operations")
        ops: list[Op] = []
        for i, o in enumerate(raw_ops):
            w = f"{where}.ops[{i}]"
            if not isinstance(o, dict):
                raise InputError(f"{w}: must be an object")
            kind = o.get("op")
            allowed = {
                "cnot": {"op", "control", "target", "perm_control", "perm_target"},
                "measure": {"op", "register", "basis"},
                "twirl": {"op", "register"},
            }
            if kind not in allowed:
                raise InputError(f"{w}.op: must be 'cnot', 'measure' or 'twirl' (got {kind!r})")
            extra = set(o) - allowed[kind]
            if extra:
                raise InputError(f"{w}: unknown field(s) {sorted(extra)}")
            if kind == "cnot":
                ops.append(
                    Gate(
                        _int_field(o, "control", w),
                        _int_field(o, "target", w),
                        _int_field(o, "perm_control", w, 0),
                        _int_field(o, "perm_target", w, 0),
                    )
                )
            elif kind == "measure":
                basis = o.get("basis", "Z")
                ops.append(Measure(_int_field(o, "register", w), basis))
            else:
                ops.append(Twirl(_int_field(o, "register", w)))
        try:
            return cls(regs, tuple(ops))
        except InputError as exc:
            raise InputError(str(exc).replace("circuit", where, 1)) from None

    def describe(self) -> str:
        """One line per operation, e.g. ``cnot 0->1 [perm 0,3]``."""
        lines = []
        for op in self.ops:
            if isinstance(op, Gate):
                lines.append(
                    f"cnot {op.control}->{op.target} [perm {op.perm_control},{op.perm_target}]"
                )
            elif isinstance(op, Measure):
                lines.append(f"measure {op.register} {op.basis}")
            else:
                lines.append(f"twirl {op.register}")
        return "; ".join(lines) if lines else "(no operation)"


def _int_field(d: dict, key: str, where: str, default: int | None = None) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{where}.{key}: must be an integer (got {value!r})")
    return value


def _check_circuit(c: Circuit, where: str) -> None:
    if isinstance(c.registers, bool) or not isinstance(c.registers, int):
        raise InputError(f"{where}.registers: must be an integer (got {c.registers!r})")
    if not 1 <= c.registers <= MAX_REGISTERS["bell"]:
        raise InputError(
            f"{where}.registers: must be in [1, {MAX_REGISTERS['bell']}] (got {c.registers})"
        )
    if len(c.ops) > MAX_OPS:
        raise InputError(f"{where}.ops: at most {MAX_OPS} operations (got {len(c.ops)})")
    for i, op in enumerate(c.ops):
        w = f"{where}.ops[{i}]"
        if not isinstance(op, Gate | Measure | Twirl):
            raise InputError(f"{w}: must be a Gate, Measure or Twirl (got {op!r})")
        for r in op.registers:
            if isinstance(r, bool) or not isinstance(r, int) or not 0 <= r < c.registers:
                raise InputError(f"{w}: register {r!r} is not in [0, {c.registers - 1}]")
        if isinstance(op, Gate):
            if op.control == op.target:
                raise InputError(f"{w}: control and target must differ (got {op.control})")
            for name in ("perm_control", "perm_target"):
                v = getattr(op, name)
                if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 6:
                    raise InputError(f"{w}.{name}: must be in [0, 5] (got {v!r})")
        if isinstance(op, Measure) and op.basis not in BASES:
            raise InputError(f"{w}.basis: must be 'X', 'Y' or 'Z' (got {op.basis!r})")


def _first_use(c: Circuit, r: int) -> float:
    """Layer of the first operation on register ``r`` (the circuit's depth if none)."""
    for op, layer in zip(c.ops, _layers(c), strict=True):
        if r in op.registers:
            return float(layer)
    return float(c.depth)


def _layers(c: Circuit) -> list[int]:
    """Layer (1-based) of each operation under as-soon-as-possible scheduling."""
    free = [0] * c.registers
    out = []
    for op in c.ops:
        layer = max(free[r] for r in op.registers) + 1
        for r in op.registers:
            free[r] = layer
        out.append(layer)
    return out


@dataclass(frozen=True)
class NoiseModel:
    """Gate, measurement and memory noise of a purification circuit.

    ``gate_fidelity``: depolarising parameter of each side's CNOT; ``measurement_fidelity``:
    probability a single-qubit measurement reports the right bit; memory: ``t_coh_s``
    (depolarising pair, as :func:`qnetai.physics.noise.depolarise`) or per-qubit ``t1_s`` /
    ``t2_s`` (T2 total, as :func:`qnetai.physics.noise.t1_t2_noise`) over ``step_s`` per layer.

    Example:
        >>> NoiseModel(gate_fidelity=0.99, measurement_fidelity=0.99).measurement_error
        0.010000000000000009
    """

    gate_fidelity: float = 1.0
    measurement_fidelity: float = 1.0
    step_s: float = 0.0
    t_coh_s: float | None = None
    t1_s: float | None = None
    t2_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("gate_fidelity", "measurement_fidelity"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and 0.0 <= v <= 1.0):
                raise InputError(f"noise.{name}: must be in [0, 1] (got {v!r})")
        if not (isinstance(self.step_s, int | float) and 0.0 <= self.step_s < float("inf")):
            raise InputError(f"noise.step_s: must be finite and >= 0 (got {self.step_s!r})")
        for name in ("t_coh_s", "t1_s", "t2_s"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, int | float) and v > 0):
                raise InputError(f"noise.{name}: must be > 0 or None (got {v!r})")
        if self.t1_s is not None and self.t2_s is not None and self.t2_s > 2 * self.t1_s:
            raise InputError(f"noise.t2_s: must be <= 2 * t1_s (got {self.t2_s} > {2 * self.t1_s})")

    @property
    def measurement_error(self) -> float:
        """Bit-flip probability of one measurement, ``1 - measurement_fidelity``."""
        return 1.0 - self.measurement_fidelity

    @property
    def bell_diagonal(self) -> bool:
        """Whether the memory noise keeps the state Bell-diagonal (no amplitude damping)."""
        return self.t1_s is None

    def memory_factors(self, dt_steps: float) -> tuple[float, float, float]:
        """``(e, gamma, coherence)`` of memory noise over ``dt_steps`` layers.

        ``e``: pair depolarising factor; ``gamma``, ``coherence``: per-qubit T1/T2 damping
        and coherence factor (``(e, 0, 1)`` without T1/T2).
        """
        dt = dt_steps * self.step_s
        if self.t1_s is None and self.t2_s is None:
            e = 1.0 if self.t_coh_s is None else float(np.exp(-dt / self.t_coh_s))
            return e, 0.0, 1.0
        gamma = 0.0 if self.t1_s is None else float(1.0 - np.exp(-dt / self.t1_s))
        t2 = self.t2_s if self.t2_s is not None else 2.0 * float(self.t1_s)  # type: ignore[arg-type]
        return 1.0, gamma, float(np.exp(-dt / t2))


@dataclass(frozen=True)
class CircuitResult:
    """Outcome of a circuit, batched like the raw state.

    ``bell``: Bell-basis diagonal of the output pair ``(..., 4)``; ``density``: its density
    matrix ``(..., 4, 4)`` (density backend only, else ``None``).
    """

    fidelity: NDArray[np.float64]
    success_probability: NDArray[np.float64]
    bell: NDArray[np.float64]
    raw_pairs: int
    depth: int
    backend: str
    density: NDArray[np.complex128] | None = None

    @property
    def yield_per_pair(self) -> NDArray[np.float64]:
        """Success probability per raw pair consumed."""
        return self.success_probability / self.raw_pairs

    @property
    def key_rate(self) -> NDArray[np.float64]:
        """Asymptotic BB84 secret key per raw pair: ``yield * max(0, 1 - h(e_x) - h(e_z))``."""
        return self.yield_per_pair * key_fraction(self.bell)


def key_fraction(bell: ArrayLike) -> NDArray[np.float64]:
    """Asymptotic secret fraction ``max(0, 1 - h(e_z) - h(e_x))`` of a Bell-diagonal pair.

    ``e_z`` = weight of ``Psi+, Psi-`` (bit flip), ``e_x`` = weight of ``Psi-, Phi-``.

    Example:
        >>> float(key_fraction([1.0, 0.0, 0.0, 0.0]))
        1.0
    """
    p = validate_bell(bell, atol=1e-7)
    e_z = np.clip(p[..., 1] + p[..., 2], 0.0, 1.0)
    e_x = np.clip(p[..., 2] + p[..., 3], 0.0, 1.0)
    return np.maximum(0.0, 1.0 - binary_entropy(e_z) - binary_entropy(e_x))


# -- textbook protocols in the same representation --------------------------------------------


def dejmps_pumping(pairs: int) -> Circuit:
    """DEJMPS entanglement pumping on 2 registers: ``pairs - 1`` rounds into register 0.

    Example:
        >>> dejmps_pumping(3).raw_pairs
        3
    """
    _check_pairs(pairs)
    ops: list[Op] = []
    for _ in range(pairs - 1):
        ops += [Gate(0, 1, DEJMPS_PERM, DEJMPS_PERM), Measure(1, "Z")]
    return Circuit(2 if pairs > 1 else 1, tuple(ops))


def bbpssw_pumping(pairs: int) -> Circuit:
    """BBPSSW pumping: twirl both pairs, bilateral CNOT, measure; ``pairs - 1`` rounds."""
    _check_pairs(pairs)
    ops: list[Op] = []
    for _ in range(pairs - 1):
        ops += [Twirl(0), Twirl(1), Gate(0, 1), Measure(1, "Z")]
    return Circuit(2 if pairs > 1 else 1, tuple(ops))


def _recurrence(pairs: int, twirl: bool) -> Circuit:
    levels = round(np.log2(pairs))
    if 2**levels != pairs:
        raise InputError(f"recurrence needs a power of 2 pairs (got {pairs})")
    ops: list[Op] = []
    step = 1
    for _ in range(levels):
        for a in range(0, pairs, 2 * step):
            b = a + step
            if twirl:
                ops += [Twirl(a), Twirl(b), Gate(a, b), Measure(b, "Z")]
            else:
                ops += [Gate(a, b, DEJMPS_PERM, DEJMPS_PERM), Measure(b, "Z")]
        step *= 2
    return Circuit(pairs, tuple(ops))


def dejmps_recurrence(pairs: int) -> Circuit:
    """Symmetric DEJMPS recurrence (Deutsch et al.): ``log2(pairs)`` nested levels."""
    return _recurrence(pairs, twirl=False)


def bbpssw_recurrence(pairs: int) -> Circuit:
    """Symmetric BBPSSW recurrence: ``log2(pairs)`` nested levels."""
    return _recurrence(pairs, twirl=True)


def _check_pairs(pairs: int) -> None:
    if isinstance(pairs, bool) or not isinstance(pairs, int) or not 1 <= pairs <= MAX_OPS:
        raise InputError(f"pairs must be an integer in [1, {MAX_OPS}] (got {pairs!r})")


def baseline_circuits(pairs: int) -> dict[str, Circuit]:
    """Textbook schemes using exactly ``pairs`` raw pairs (recurrence for powers of 2).

    Example:
        >>> sorted(baseline_circuits(4))
        ['bbpssw-pumping', 'bbpssw-recurrence', 'dejmps-pumping', 'dejmps-recurrence']
    """
    _check_pairs(pairs)
    out = {"bbpssw-pumping": bbpssw_pumping(pairs), "dejmps-pumping": dejmps_pumping(pairs)}
    if pairs >= 4 and pairs & (pairs - 1) == 0 and pairs <= MAX_REGISTERS["bell"]:
        out["bbpssw-recurrence"] = bbpssw_recurrence(pairs)
        out["dejmps-recurrence"] = dejmps_recurrence(pairs)
    return out


# -- simulation --------------------------------------------------------------------------------


def simulate(
    circuit: Circuit,
    raw: ArrayLike,
    noise: NoiseModel | None = None,
    *,
    backend: Backend = "auto",
) -> CircuitResult:
    """Exact output of ``circuit`` on raw pairs ``raw``: fidelity, success probability, state.

    ``raw``: a fidelity (Werner pairs), a Bell-diagonal state ``(..., 4)`` or, for the density
    backend, a two-qubit density matrix ``(..., 4, 4)``; leading axes are a batch.

    Example:
        >>> r = simulate(dejmps_pumping(3), 0.9, NoiseModel(0.99, 0.99))
        >>> round(float(r.fidelity), 4)
        0.9419
    """
    noise = noise or NoiseModel()
    arr = np.asarray(raw)
    is_density = arr.ndim >= 2 and arr.shape[-2:] == (4, 4)
    if backend == "auto":
        backend = "bell" if noise.bell_diagonal and not is_density else "density"
    if backend not in ("bell", "density"):
        raise InputError(f"backend must be 'auto', 'bell' or 'density' (got {backend!r})")
    if circuit.registers > MAX_REGISTERS[backend]:
        raise InputError(
            f"circuit.registers: the {backend} backend takes at most "
            f"{MAX_REGISTERS[backend]} registers (got {circuit.registers})"
        )
    if backend == "bell":
        if is_density:
            raise InputError("raw: the bell backend needs a Bell-diagonal state (use 'density')")
        if not noise.bell_diagonal:
            raise InputError("noise: T1 amplitude damping is not Bell-diagonal (use 'density')")
        bell = werner(arr) if arr.ndim == 0 or arr.shape[-1] != 4 else validate_bell(arr)
        return _simulate_bell(circuit, bell, noise)
    if is_density:
        rho = arr.astype(np.complex128)
    else:
        bell = werner(arr) if arr.ndim == 0 or arr.shape[-1] != 4 else validate_bell(arr)
        kets = bell_kets()
        rho = np.einsum("...k,ki,kj->...ij", bell.astype(np.complex128), kets, kets.conj())
    return _simulate_density(circuit, rho, noise)


def _axis(nreg: int, r: int) -> int:
    return -nreg + r


def _bell_replace(p: NDArray, r: int, nreg: int, vec: NDArray) -> NDArray:
    """Marginalise register ``r`` and put ``vec`` (shape batch + (4,)) there."""
    ax = _axis(nreg, r)
    m = p.sum(axis=ax, keepdims=True)
    shape = list(vec.shape[:-1]) + [1] * nreg
    shape[len(vec.shape) - 1 + r] = 4
    return m * vec.reshape(shape)


def simulate_loads(
    circuit: Circuit, states: list[ArrayLike], noise: NoiseModel | None = None
) -> CircuitResult:
    """Like :func:`simulate` (Bell backend) with its own Bell-diagonal state for each load.

    ``states[i]`` is the pair loaded ``i``-th (register 0 first, then in the order the
    circuit loads registers): pairs of different ages, as in the event engine.

    Example:
        >>> a = simulate_loads(dejmps_pumping(2), [werner(0.9), werner(0.9)])
        >>> bool(np.isclose(a.fidelity, simulate(dejmps_pumping(2), 0.9).fidelity))
        True
    """
    noise = noise or NoiseModel()
    if len(states) != circuit.raw_pairs:
        raise InputError(
            f"states: the circuit loads {circuit.raw_pairs} pairs (got {len(states)} states)"
        )
    if not noise.bell_diagonal:
        raise InputError("noise: T1 amplitude damping is not Bell-diagonal")
    bells = [validate_bell(st) for st in states]
    return _simulate_bell(circuit, bells[0], noise, loads=bells)


def _simulate_bell(
    c: Circuit,
    raw: NDArray[np.float64],
    noise: NoiseModel,
    loads: list[NDArray[np.float64]] | None = None,
) -> CircuitResult:
    n = c.registers
    batch = raw.shape[:-1]
    queue = iter(loads[1:]) if loads is not None else None

    def fresh() -> NDArray[np.float64]:
        return raw if queue is None else next(queue)

    empty = np.zeros(4)
    empty[0] = 1.0
    p = np.ones(batch + (1,) * n)
    for r in range(n):
        p = _bell_replace(p, r, n, raw if r == 0 else np.broadcast_to(empty, (*batch, 4)))
    g2 = noise.gate_fidelity**2
    e = noise.measurement_error
    q = (1.0 - e) ** 2 + e**2
    loaded = [False] * n
    loaded[0] = True
    t_ref = [0.0] * n
    t_ref[0] = _first_use(c, 0)
    memory = noise.step_s > 0 and (noise.t_coh_s is not None or noise.t2_s is not None)
    uniform = np.full(16, 1.0 / 16.0)
    flip = np.array([3, 2, 1, 0])  # z flip: Phi+ <-> Phi-, Psi+ <-> Psi-
    for op, layer in zip(c.ops, _layers(c), strict=True):
        for r in op.registers:
            if not loaded[r]:
                p = _bell_replace(p, r, n, fresh())
                loaded[r] = True
                t_ref[r] = layer
            elif memory and layer > t_ref[r]:
                p = _bell_memory(p, r, n, noise, layer - t_ref[r], flip)
            t_ref[r] = layer
        if isinstance(op, Gate):
            a, b = _axis(n, op.control), _axis(n, op.target)
            if op.perm_control:
                p = np.take(p, _INV_PERMS[op.perm_control], axis=a)
            if op.perm_target:
                p = np.take(p, _INV_PERMS[op.perm_target], axis=b)
            moved = np.moveaxis(p, (a, b), (-2, -1))
            flat = moved.reshape((*moved.shape[:-2], 16))
            flat = flat[..., _CNOT_SRC]
            if g2 < 1.0:
                flat = g2 * flat + (1.0 - g2) * flat.sum(axis=-1, keepdims=True) * uniform
            p = np.moveaxis(flat.reshape(moved.shape), (-2, -1), (a, b))
        elif isinstance(op, Measure):
            w = np.where(_PASS[op.basis], q, 1.0 - q)
            ax = _axis(n, op.register)
            shape = [1] * p.ndim
            shape[ax] = 4
            p = p * w.reshape(shape)
            p = _bell_replace(p, op.register, n, np.broadcast_to(empty, (*batch, 4)))
            loaded[op.register] = False
        else:
            ax = _axis(n, op.register)
            rest = np.take(p, [1, 2, 3], axis=ax).mean(axis=ax, keepdims=True)
            p = np.concatenate([np.take(p, [0], axis=ax), rest, rest, rest], axis=ax)
    depth = c.depth
    if not loaded[0]:
        p = _bell_replace(p, 0, n, fresh())
    elif memory and depth > t_ref[0]:
        p = _bell_memory(p, 0, n, noise, depth - t_ref[0], flip)
    out = p.reshape((*batch, 4, -1)).sum(axis=-1) if n > 1 else p.reshape((*batch, 4))
    ps = out.sum(axis=-1)
    ok = ps > 0
    state = np.where(ok[..., None], out / np.where(ok, ps, 1.0)[..., None], 0.25)
    return CircuitResult(state[..., 0], ps, state, c.raw_pairs, depth, "bell")


def _bell_memory(
    p: NDArray, r: int, n: int, noise: NoiseModel, dt_steps: float, flip: NDArray
) -> NDArray:
    e, _, coh = noise.memory_factors(dt_steps)
    ax = _axis(n, r)
    if e < 1.0:
        p = e * p + (1.0 - e) * p.sum(axis=ax, keepdims=True) / 4.0
    if coh < 1.0:  # pure dephasing on both halves: the z bit flips with prob (1 - coh^2)/2
        c2 = coh * coh
        p = 0.5 * (1.0 + c2) * p + 0.5 * (1.0 - c2) * np.take(p, flip, axis=ax)
    return p


# -- density-matrix backend --------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _replace_qubits(rho: NDArray, qubits: list[int], sigma: NDArray, nq: int) -> NDArray:
    """``Tr_qubits(rho)`` with ``sigma`` (``2^k x 2^k``) put on ``qubits`` (in that order)."""
    batch = rho.shape[:-2]
    k = len(qubits)
    t = rho.reshape(batch + (2,) * (2 * nq))
    rows = [_LETTERS[i] for i in range(nq)]
    cols = [_LETTERS[nq + i] if i not in qubits else _LETTERS[i] for i in range(nq)]
    new_r = [_LETTERS[2 * nq + j] for j in range(k)]
    new_c = [_LETTERS[2 * nq + k + j] for j in range(k)]
    out_rows = list(rows)
    out_cols = [_LETTERS[nq + i] for i in range(nq)]
    for j, qb in enumerate(qubits):
        out_rows[qb] = new_r[j]
        out_cols[qb] = new_c[j]
    s_batch = sigma.shape[:-2]
    s = sigma.reshape(s_batch + (2,) * (2 * k))
    spec = (
        f"...{''.join(rows)}{''.join(cols)},...{''.join(new_r)}{''.join(new_c)}"
        f"->...{''.join(out_rows)}{''.join(out_cols)}"
    )
    out = np.einsum(spec, t, s)
    return out.reshape((*out.shape[: out.ndim - 2 * nq], 2**nq, 2**nq))


_SDG = np.array([[1, 0], [0, -1j]], dtype=np.complex128)
# Rotations taking each basis to Z before a Z measurement, and the Phi+ coincidence parity.
_TO_Z = {"Z": (dm.I2, 0), "X": (dm.H, 0), "Y": (dm.H @ _SDG, 1)}
_BILATERAL_PAULIS = (dm.I2, dm.X, dm.Y, dm.Z)


def _simulate_density(c: Circuit, raw: NDArray[np.complex128], noise: NoiseModel) -> CircuitResult:
    n = c.registers
    nq = 2 * n
    batch = raw.shape[:-2]
    zero = np.zeros((4, 4), dtype=np.complex128)
    zero[0, 0] = 1.0
    rho = np.ones((*batch, 1, 1), dtype=np.complex128)
    for r in range(n):
        rho = dm.kron_states(rho, raw if r == 0 else np.broadcast_to(zero, (*batch, 4, 4)))
    g = noise.gate_fidelity
    e = noise.measurement_error
    quarter = np.eye(4, dtype=np.complex128) / 4.0
    loaded = [False] * n
    loaded[0] = True
    t_ref = [0.0] * n
    t_ref[0] = _first_use(c, 0)
    memory = noise.step_s > 0 and (
        noise.t_coh_s is not None or noise.t1_s is not None or noise.t2_s is not None
    )
    for op, layer in zip(c.ops, _layers(c), strict=True):
        for r in op.registers:
            if not loaded[r]:
                rho = _replace_qubits(rho, [2 * r, 2 * r + 1], raw, nq)
                loaded[r] = True
            elif memory and layer > t_ref[r]:
                rho = _density_memory(rho, r, nq, noise, layer - t_ref[r], quarter)
            t_ref[r] = layer
        if isinstance(op, Gate):
            for reg, perm in ((op.control, op.perm_control), (op.target, op.perm_target)):
                if perm:
                    ua, ub = _PERM_UNITARIES[perm]
                    rho = dm.apply_unitary(rho, ua, [2 * reg], nq)
                    rho = dm.apply_unitary(rho, ub, [2 * reg + 1], nq)
            for side in (0, 1):
                qs = [2 * op.control + side, 2 * op.target + side]
                rho = dm.apply_unitary(rho, dm.CNOT, qs, nq)
                if g < 1.0:
                    rho = g * rho + (1.0 - g) * _replace_qubits(rho, qs, quarter, nq)
        elif isinstance(op, Measure):
            rot, parity = _TO_Z[op.basis]
            qa, qb = 2 * op.register, 2 * op.register + 1
            rho = dm.apply_unitary(rho, rot, [qa], nq)
            rho = dm.apply_unitary(rho, rot, [qb], nq)
            kept = np.zeros_like(rho)
            for a, b in itertools.product((0, 1), repeat=2):
                true_pass = (a ^ b) == parity
                # reported bits pass: both right or both wrong when truly passing, else one wrong
                w = ((1 - e) ** 2 + e**2) if true_pass else 2 * e * (1 - e)
                if w:
                    kept = kept + w * dm.project(dm.project(rho, qa, a, nq), qb, b, nq)
            rho = _replace_qubits(kept, [qa, qb], zero, nq)
            loaded[op.register] = False
        else:
            qa, qb = 2 * op.register, 2 * op.register + 1
            diag = np.zeros_like(rho)
            for s in _BILATERAL_PAULIS:
                diag += dm.apply_unitary(dm.apply_unitary(rho, s, [qa], nq), s.conj(), [qb], nq)
            rho = np.zeros_like(rho)
            for ua, ub in _PERM_UNITARIES:
                rho += dm.apply_unitary(dm.apply_unitary(diag, ua, [qa], nq), ub, [qb], nq)
            rho /= 24.0
    depth = c.depth
    if not loaded[0]:
        rho = _replace_qubits(rho, [0, 1], raw, nq)
    elif memory and depth > t_ref[0]:
        rho = _density_memory(rho, 0, nq, noise, depth - t_ref[0], quarter)
    out = dm.partial_trace(rho, [0, 1], nq)
    ps = dm.trace(out)
    ok = ps > 0
    out = np.where(ok[..., None, None], out / np.where(ok, ps, 1.0)[..., None, None], quarter)
    bell = density_to_bell(out, atol=1e-7)
    return CircuitResult(bell[..., 0], ps, bell, c.raw_pairs, depth, "density", density=out)


def _density_memory(
    rho: NDArray, r: int, nq: int, noise: NoiseModel, dt_steps: float, quarter: NDArray
) -> NDArray:
    e, gamma, coh = noise.memory_factors(dt_steps)
    qs = [2 * r, 2 * r + 1]
    if e < 1.0:
        rho = e * rho + (1.0 - e) * _replace_qubits(rho, qs, quarter, nq)
    if gamma > 0.0 or coh < 1.0:
        extra = coh / np.sqrt(1.0 - gamma) if gamma < 1.0 else 0.0
        for qb in qs:
            if gamma > 0.0:
                rho = dm.apply_kraus(rho, dm.amplitude_damping_kraus(gamma), [qb], nq)
            if extra < 1.0:
                rho = dm.apply_kraus(rho, dm.phase_damping_kraus(extra), [qb], nq)
    return rho
