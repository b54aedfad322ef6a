import numpy as np
import pytest

from qnetai import physics as ph
from qnetai.physics import scalar as bf


def _states(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(4), size=n)


@pytest.mark.parametrize("g,e", [(1.0, 0.0), (0.97, 0.0), (1.0, 0.03), (0.95, 0.02)])
def test_swap_matches_physics(g, e):
    a, b = _states(20, 1), _states(20, 2)
    ref = ph.swap(a, b, gate_fidelity=g, measurement_error=e)
    got = np.array([bf.swap(tuple(x), tuple(y), g, e) for x, y in zip(a, b, strict=True)])
    np.testing.assert_allclose(got, ref, atol=1e-13)


@pytest.mark.parametrize("name", ["bbpssw", "dejmps"])
@pytest.mark.parametrize("g,e", [(1.0, 0.0), (0.96, 0.02)])
def test_purification_matches_physics(name, g, e):
    a, b = _states(20, 3), _states(20, 4)
    ref_state, ref_p = getattr(ph, name)(a, b, gate_fidelity=g, measurement_error=e)
    fn = getattr(bf, name)
    got = [fn(tuple(x), tuple(y), g, e) for x, y in zip(a, b, strict=True)]
    np.testing.assert_allclose(np.array([s for s, _ in got]), ref_state, atol=1e-13)
    np.testing.assert_allclose(np.array([p for _, p in got]), ref_p, atol=1e-13)


def test_depolarise_matches_physics():
    a = _states(10, 5)
    ref = ph.depolarise(a, 0.3, 1.7)
    got = np.array([bf.depolarise(tuple(x), np.exp(-0.3 / 1.7)) for x in a])
    np.testing.assert_allclose(got, ref, atol=1e-14)


@pytest.mark.parametrize("t1,t2", [(1.0, None), (None, 0.5), (2.0, 1.5)])
@pytest.mark.parametrize("side", ["a", "b"])
def test_t1_t2_one_half_matches_physics(t1, t2, side):
    a = _states(10, 6)
    ref = ph.t1_t2_noise(a, 0.4, t1_s=t1, t2_s=t2, qubits=side)
    gamma, coh = bf.t1_t2_factors(0.4, t1, t2)
    got = np.array([bf.t1_t2_one(tuple(x), gamma, coh) for x in a])
    np.testing.assert_allclose(got, ref, atol=1e-13)


def test_memory_noise_equal_t1_t2_matches_physics_both():
    a = _states(10, 7)
    ref = ph.t1_t2_noise(a, 0.4, t1_s=1.0, t2_s=0.8, qubits="both")
    gamma, coh = bf.t1_t2_factors(0.4, 1.0, 0.8)
    end = (coh, 1.0 - gamma, gamma)
    got = np.array([bf.memory_noise(tuple(x), end, end) for x in a])
    np.testing.assert_allclose(got, ref, atol=1e-13)


def test_memory_noise_mixed_ends_matches_density_matrix():
    from qnetai.physics import density as dm

    gamma, e = 0.3, 0.7  # amplitude damping (T1 only) on qubit 0, depolarising on qubit 1
    for x in _states(5, 8):
        rho = ph.bell_to_density(x)
        rho = dm.apply_kraus(rho, dm.amplitude_damping_kraus(gamma), [0], 2)
        rho = dm.depolarise_qubits(rho, e, [1], 2)
        ref = ph.density_to_bell(rho)
        got = bf.memory_noise(tuple(x), (np.sqrt(1 - gamma), 1 - gamma, gamma), (e, e, 0.0))
        np.testing.assert_allclose(got, ref, atol=1e-12)
    # two depolarising ends are one depolarising factor e_a * e_b
    x = tuple(_states(1, 9)[0])
    np.testing.assert_allclose(
        bf.memory_noise(x, (0.8, 0.8, 0.0), (0.5, 0.5, 0.0)), bf.depolarise(x, 0.4), atol=1e-15
    )
