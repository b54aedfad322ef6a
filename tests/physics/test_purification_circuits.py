"""Purification circuits: closed forms (DEJMPS, BBPSSW, Dür-Briegel noise) and brute force.

The brute-force reference below is written independently of the simulator: every raw pair
consumed by the circuit gets its own two qubits from the start (no partial traces, no
reloading), gates are full ``2^N x 2^N`` Kronecker products, noise is the explicit Pauli sum
of :func:`qnetai.physics.density.depolarise_qubits`, measurements are explicit projector sums.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import bbpssw, dejmps, depolarise, t1_t2_noise, werner
from qnetai.physics import density as dm
from qnetai.physics.bell import bell_kets
from qnetai.physics.purification_circuits import (
    PERMUTATIONS,
    Circuit,
    Gate,
    Measure,
    NoiseModel,
    Twirl,
    baseline_circuits,
    bbpssw_pumping,
    bbpssw_recurrence,
    dejmps_pumping,
    dejmps_recurrence,
    key_fraction,
    simulate,
)

# -- closed forms -----------------------------------------------------------------------------


def dur_briegel_dejmps(a1, a2, p2, eta):
    """Dür and Briegel (Rep. Prog. Phys. 70, 1381 (2007), eq. 30ff.): DEJMPS with noise.

    Letters A, B, C, D = weights of Phi+, Psi-, Psi+, Phi-. Returns (A', B', C', D'), N.
    """
    A1, B1, C1, D1 = a1
    A2, B2, C2, D2 = a2
    same = eta**2 + (1 - eta) ** 2
    diff = 2 * eta * (1 - eta)
    mix = (1 - p2**2) / 8
    A = p2**2 * (same * (A1 * A2 + B1 * B2) + diff * (A1 * C2 + B1 * D2)) + mix
    B = p2**2 * (same * (C1 * D2 + D1 * C2) + diff * (C1 * B2 + D1 * A2)) + mix
    C = p2**2 * (same * (C1 * C2 + D1 * D2) + diff * (C1 * A2 + D1 * B2)) + mix
    D = p2**2 * (same * (A1 * B2 + B1 * A2) + diff * (A1 * D2 + B1 * C2)) + mix
    n = A + B + C + D
    return np.array([A, B, C, D]) / n, n


def to_letters(p):
    """(Phi+, Psi+, Psi-, Phi-) -> (A, B, C, D) = (Phi+, Psi-, Psi+, Phi-)."""
    return np.array([p[0], p[2], p[1], p[3]])


@pytest.mark.parametrize("noisy", [False, True])
def test_dejmps_circuit_matches_closed_form(noisy: bool) -> None:
    rng = np.random.default_rng(1)
    p2, eta = (0.97, 0.98) if noisy else (1.0, 1.0)
    for _ in range(5):
        raw = rng.dirichlet(np.ones(4) * 2)
        expect, n = dur_briegel_dejmps(to_letters(raw), to_letters(raw), p2, eta)
        for backend in ("bell", "density"):
            r = simulate(dejmps_pumping(2), raw, NoiseModel(p2, eta), backend=backend)
            np.testing.assert_allclose(to_letters(r.bell), expect, atol=1e-12)
            np.testing.assert_allclose(r.success_probability, n, atol=1e-12)


@pytest.mark.parametrize("noisy", [False, True])
def test_bbpssw_circuit_matches_closed_form(noisy: bool) -> None:
    f = np.linspace(0.55, 0.99, 7)
    p2, eta = (0.95, 0.97) if noisy else (1.0, 1.0)
    r = simulate(bbpssw_pumping(2), f, NoiseModel(p2, eta))
    if not noisy:  # Bennett et al. 1996
        n = f**2 + 2 * f * (1 - f) / 3 + 5 * (1 - f) ** 2 / 9
        np.testing.assert_allclose(r.fidelity, (f**2 + (1 - f) ** 2 / 9) / n, atol=1e-12)
        np.testing.assert_allclose(r.success_probability, n, atol=1e-12)
    w = np.stack([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3])
    expect, n = dur_briegel_dejmps(w, w, p2, eta)  # Werner inputs: rotation changes nothing
    np.testing.assert_allclose(r.fidelity, expect[0], atol=1e-12)
    np.testing.assert_allclose(r.success_probability, n, atol=1e-12)


def test_pumping_and_recurrence_match_iterated_physics_functions() -> None:
    noise = NoiseModel(0.98, 0.99)
    kw = {"gate_fidelity": 0.98, "measurement_error": 0.01}
    raw = werner(0.85)
    for proto, fn in ((dejmps_pumping, dejmps), (bbpssw_pumping, bbpssw)):
        state, p = raw, 1.0
        for n in range(2, 6):
            state, p_round = fn(state, raw, **kw)
            p *= p_round
            r = simulate(proto(n), raw, noise)
            np.testing.assert_allclose(r.bell, state, atol=1e-12)
            np.testing.assert_allclose(r.success_probability, p, atol=1e-12)
    for proto, fn in ((dejmps_recurrence, dejmps), (bbpssw_recurrence, bbpssw)):
        s1, q1 = fn(raw, raw, **kw)
        s2, q2 = fn(s1, s1, **kw)
        r = simulate(proto(4), raw, noise)
        np.testing.assert_allclose(r.bell, s2, atol=1e-12)
        np.testing.assert_allclose(r.success_probability, q1 * q1 * q2, atol=1e-12)


def test_baselines_use_the_pair_count() -> None:
    for n in (2, 3, 4, 8):
        for name, c in baseline_circuits(n).items():
            assert c.raw_pairs == n, name


# -- brute force ------------------------------------------------------------------------------


def _full(op: np.ndarray, qubits: list[int], nq: int) -> np.ndarray:
    """``op`` on ``qubits`` of ``nq`` as a dense matrix (via permuted Kronecker product)."""
    k = len(qubits)
    rest = [q for q in range(nq) if q not in qubits]
    big = np.kron(op, np.eye(2 ** len(rest)))
    order = qubits + rest  # qubit order of ``big``'s tensor factors
    t = big.reshape((2,) * (2 * nq))
    perm = [order.index(q) for q in range(nq)]
    t = t.transpose(perm + [nq + p for p in perm])
    assert k >= 1
    return t.reshape(2**nq, 2**nq)


def brute_force(circuit: Circuit, raw: np.ndarray, g: float, eta: float):
    """Dense simulation with one qubit pair per raw pair consumed; returns (bell, p)."""
    # map each register use to a slot (one per load)
    slot = [-1] * circuit.registers
    slot[0] = 0
    used = 1
    plan = []
    for op in circuit.ops:
        for r in op.registers:
            if slot[r] < 0:
                slot[r] = used
                used += 1
        plan.append((op, [slot[r] for r in op.registers]))
        if isinstance(op, Measure):
            slot[op.register] = -1
    out_slot = slot[0] if slot[0] >= 0 else None
    if out_slot is None:
        out_slot = used
        used += 1
    nq = 2 * used
    kets = bell_kets()
    pair = np.einsum("k,ki,kj->ij", raw.astype(complex), kets, kets.conj())
    rho = pair
    for _ in range(used - 1):
        rho = np.kron(rho, pair)
    e = 1 - eta
    for op, slots in plan:
        if isinstance(op, Gate):
            for s, perm in ((slots[0], op.perm_control), (slots[1], op.perm_target)):
                u = _perm_unitary(perm)
                big = _full(u, [2 * s, 2 * s + 1], nq)
                rho = big @ rho @ big.conj().T
            for side in (0, 1):
                qs = [2 * slots[0] + side, 2 * slots[1] + side]
                big = _full(dm.CNOT, qs, nq)
                rho = big @ rho @ big.conj().T
                rho = dm.depolarise_qubits(rho, g, qs, nq)
        elif isinstance(op, Measure):
            s = slots[0]
            obs = {"X": dm.X, "Y": dm.Y, "Z": dm.Z}[op.basis]
            vals, vecs = np.linalg.eigh(obs)
            phi_sign = 1 if op.basis != "Y" else -1  # <Phi+|PP|Phi+>
            new = np.zeros_like(rho)
            for (va, ka), (vb, kb) in itertools.product(zip(vals, vecs.T, strict=True), repeat=2):
                pa = np.outer(ka, ka.conj())
                pb = np.outer(kb, kb.conj())
                big = _full(np.kron(pa, pb), [2 * s, 2 * s + 1], nq)
                true_pass = np.isclose(va * vb, phi_sign)
                w = (1 - e) ** 2 + e**2 if true_pass else 2 * e * (1 - e)
                new = new + w * big @ rho @ big
            rho = new
        else:
            s = slots[0]
            new = np.zeros_like(rho)
            # Werner twirl: all 12 bilateral U (x) U* over Paulis and Bell permutations
            for p in (dm.I2, dm.X, dm.Y, dm.Z):
                for perm in range(6):
                    u = _perm_unitary(perm) @ np.kron(p, p.conj())
                    big = _full(u, [2 * s, 2 * s + 1], nq)
                    new = new + big @ rho @ big.conj().T
            rho = new / 24
    red = dm.partial_trace(rho, [2 * out_slot, 2 * out_slot + 1], nq)
    ps = float(np.trace(red).real)
    red = red / ps
    bell = np.array([float((k.conj() @ red @ k).real) for k in kets])
    return bell, ps


def _perm_unitary(perm: int) -> np.ndarray:
    """Two-qubit unitary realising Bell permutation ``perm``: search the generated group."""
    target = PERMUTATIONS[perm]
    gens = [np.kron(dm.H, dm.H), np.kron(dm.rx(np.pi / 2), dm.rx(-np.pi / 2))]
    kets = bell_kets()
    frontier = [np.eye(4, dtype=complex)]
    seen = []
    for _ in range(6):
        nxt = []
        for u in frontier:
            images = tuple(int(np.argmax(np.abs(kets.conj() @ (u @ k)))) for k in kets)
            if images == target:
                return u
            if images in seen:
                continue
            seen.append(images)
            nxt += [g @ u for g in gens]
        frontier = nxt
    raise AssertionError("permutation not generated")


def random_circuit(rng: np.random.Generator, registers: int, max_pairs: int, n_ops: int):
    ops = []
    while len(ops) < n_ops:
        kind = rng.integers(3)
        if kind == 0 and registers > 1:
            c, t = rng.choice(registers, 2, replace=False)
            ops.append(Gate(int(c), int(t), int(rng.integers(6)), int(rng.integers(6))))
        elif kind == 1:
            r = int(rng.integers(1, registers)) if registers > 1 else 0
            ops.append(Measure(r, str(rng.choice(["X", "Y", "Z"]))))
        else:
            ops.append(Twirl(int(rng.integers(registers))))
        if Circuit(registers, tuple(ops)).raw_pairs > max_pairs:
            ops.pop()
    return Circuit(registers, tuple(ops))


@pytest.mark.parametrize(("registers", "max_pairs"), [(2, 2), (3, 3), (2, 3)])
def test_random_circuits_match_brute_force(registers: int, max_pairs: int) -> None:
    rng = np.random.default_rng(7 + registers + max_pairs)
    for _ in range(4):
        c = random_circuit(rng, registers, max_pairs, int(rng.integers(2, 6)))
        raw = rng.dirichlet(np.ones(4)) * 0.5 + np.array([0.5, 0, 0, 0])
        g, eta = rng.uniform(0.9, 1.0), rng.uniform(0.9, 1.0)
        expect, ps = brute_force(c, raw, g, eta)
        for backend in ("bell", "density"):
            r = simulate(c, raw, NoiseModel(g, eta), backend=backend)
            np.testing.assert_allclose(r.bell, expect, atol=1e-10, err_msg=c.describe())
            np.testing.assert_allclose(r.success_probability, ps, atol=1e-10)


def test_memory_noise_matches_noise_module() -> None:
    c = Circuit(1, (Twirl(0), Twirl(0), Twirl(0)))  # the pair waits two layers
    f = 0.9
    r = simulate(c, f, NoiseModel(step_s=0.1, t_coh_s=1.0))
    np.testing.assert_allclose(r.bell, depolarise(werner(f), 0.2, 1.0), atol=1e-12)
    noise = NoiseModel(step_s=0.1, t1_s=1.0, t2_s=1.5)
    r = simulate(c, f, noise)
    assert r.backend == "density"
    once = t1_t2_noise(werner(f), 0.1, t1_s=1.0, t2_s=1.5)  # then the Werner twirl
    expect = t1_t2_noise(werner(once[0]), 0.1, t1_s=1.0, t2_s=1.5)
    assert r.fidelity == pytest.approx(expect[0], abs=1e-12)
    # dephasing alone keeps the state Bell-diagonal: both backends agree on a real circuit
    c2 = Circuit(3, (Gate(0, 1, 1, 1), Measure(1), Gate(2, 0, 3, 2), Measure(2, "X")))
    n2 = NoiseModel(0.97, 0.98, step_s=0.1, t2_s=0.7, t_coh_s=None)
    a = simulate(c2, 0.8, n2, backend="bell")
    b = simulate(c2, 0.8, n2, backend="density")
    np.testing.assert_allclose(a.bell, b.bell, atol=1e-12)
    n3 = NoiseModel(0.97, 0.98, step_s=0.1, t_coh_s=0.5)
    a = simulate(c2, 0.8, n3, backend="bell")
    b = simulate(c2, 0.8, n3, backend="density")
    np.testing.assert_allclose(a.bell, b.bell, atol=1e-12)
    assert a.fidelity < simulate(c2, 0.8, NoiseModel(0.97, 0.98)).fidelity


def test_batch_axis_and_key_rate() -> None:
    f = np.array([[0.8, 0.9], [0.95, 0.99]])
    r = simulate(dejmps_pumping(3), f, NoiseModel(0.99, 0.99))
    assert r.fidelity.shape == (2, 2)
    one = simulate(dejmps_pumping(3), 0.95, NoiseModel(0.99, 0.99))
    assert r.fidelity[1, 0] == pytest.approx(float(one.fidelity))
    assert float(key_fraction([0.25] * 4)) == 0.0
    assert np.all(r.key_rate <= r.yield_per_pair)
    assert r.yield_per_pair[0, 0] == pytest.approx(r.success_probability[0, 0] / 3)


def test_non_bell_diagonal_input_goes_to_density_backend() -> None:
    kets = bell_kets()
    psi = np.sqrt(0.9) * kets[0] + np.sqrt(0.1) * kets[1]  # coherent superposition
    rho = np.outer(psi, psi.conj())
    r = simulate(dejmps_pumping(2), rho)
    assert r.backend == "density" and r.density is not None
    with pytest.raises(InputError, match="bell backend"):
        simulate(dejmps_pumping(2), rho, backend="bell")


def test_json_round_trip_and_errors() -> None:
    c = Circuit(3, (Gate(0, 1, 2, 3), Measure(1, "Y"), Twirl(2), Gate(2, 0), Measure(2)))
    assert Circuit.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    assert c.raw_pairs == 3 and c.depth == 3 and c.n_gates == 2
    bad = c.to_dict()
    bad["ops"][0]["target"] = 0
    with pytest.raises(InputError, match=r"circuit\.ops\[0\]: control and target must differ"):
        Circuit.from_dict(bad)
    bad = c.to_dict()
    bad["ops"][1]["basis"] = "W"
    with pytest.raises(InputError, match=r"ops\[1\]\.basis"):
        Circuit.from_dict(bad)
    with pytest.raises(InputError, match=r"ops\[0\]\.op"):
        Circuit.from_dict({"registers": 2, "ops": [{"op": "import os"}]})
    with pytest.raises(InputError, match="registers"):
        Circuit.from_dict({"registers": 99, "ops": []})
    with pytest.raises(InputError, match="gate_fidelity"):
        NoiseModel(gate_fidelity=1.5)
    with pytest.raises(InputError, match="density backend takes at most"):
        simulate(Circuit(6), 0.9, backend="density")
