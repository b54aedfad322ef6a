"""Memory noise against direct density-matrix simulation with Kraus operators."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import (
    bell_to_density,
    decay_werner_parameter,
    density_to_bell,
    depolarise,
    fidelity,
    fidelity_from_werner_parameter,
    t1_t2_factors,
    t1_t2_noise,
    werner,
    werner_parameter,
)
from qnetai.physics.density import (
    amplitude_damping_kraus,
    apply_kraus,
    depolarise_qubits,
    phase_damping_kraus,
)


def reference_t1_t2(p, dt, t1, t2, qubits):
    """Amplitude damping (T1) then pure dephasing at rate 1/T2 - 1/(2 T1), per qubit."""
    rho = bell_to_density(p)
    gamma = 0.0 if t1 is None else 1 - np.exp(-dt / t1)
    if t2 is None:
        rate_phi = 0.0
    else:
        rate_phi = 1 / t2 - (0.0 if t1 is None else 1 / (2 * t1))
    lam = np.exp(-dt * rate_phi)
    for q in {"a": [0], "b": [1], "both": [0, 1]}[qubits]:
        rho = apply_kraus(rho, amplitude_damping_kraus(gamma), [q], 2)
        rho = apply_kraus(rho, phase_damping_kraus(lam), [q], 2)
    return density_to_bell(rho)


@pytest.mark.parametrize("qubits", ["a", "b", "both"])
@pytest.mark.parametrize(
    ("t1", "t2"), [(1.0, None), (None, 0.7), (2.0, 1.5), (0.5, 1.0), (3.0, 0.2)]
)
def test_t1_t2_noise_matches_kraus_simulation(qubits, t1, t2):
    rng = np.random.default_rng(7)
    for _ in range(4):
        p = rng.dirichlet(np.ones(4))
        dt = rng.uniform(0, 2)
        got = t1_t2_noise(p, dt, t1_s=t1, t2_s=t2, qubits=qubits)
        assert np.allclose(got, reference_t1_t2(p, dt, t1, t2, qubits), atol=1e-12)


def test_t2_is_total_coherence_decay_of_a_single_qubit():
    # |+><+|: off-diagonal 1/2 must decay exactly as exp(-t/T2) with T1 present.
    gamma, coh = t1_t2_factors(0.3, t1_s=1.0, t2_s=0.8)
    plus = np.full((2, 2), 0.5, complex)
    rho = apply_kraus(plus[None, None], amplitude_damping_kraus(float(gamma)), [0], 1)
    rho = apply_kraus(rho, phase_damping_kraus(np.exp(-0.3 * (1 / 0.8 - 1 / 2.0))), [0], 1)
    assert np.isclose(2 * rho[0, 0, 0, 1].real, np.exp(-0.3 / 0.8))
    assert np.isclose(coh, np.exp(-0.3 / 0.8))
    assert np.isclose(gamma, 1 - np.exp(-0.3))


def test_t1_only_equals_t2_twice_t1_and_vectorises():
    p = werner(np.array([0.9, 0.8, 0.99]))
    dt = np.array([0.1, 0.5, 1.0])
    a = t1_t2_noise(p, dt, t1_s=1.0)
    b = t1_t2_noise(p, dt, t1_s=1.0, t2_s=2.0)
    assert a.shape == (3, 4)
    assert np.allclose(a, b)
    for i in range(3):
        assert np.allclose(a[i], t1_t2_noise(p[i], dt[i], t1_s=1.0))
    assert np.allclose(t1_t2_noise(p, 0.0, t1_s=1.0, t2_s=0.5), p)
    assert np.allclose(t1_t2_noise(p, 1.0), p)  # no T1, no T2: nothing happens


def test_t2_longer_than_twice_t1_is_rejected():
    with pytest.raises(InputError, match="t2_s must be <= 2"):
        t1_t2_noise([1, 0, 0, 0], 1.0, t1_s=1.0, t2_s=2.5)
    with pytest.raises(InputError, match="qubits"):
        t1_t2_noise([1, 0, 0, 0], 1.0, t1_s=1.0, qubits="c")  # type: ignore[arg-type]


def test_long_time_limit_relaxes_to_ground_state():
    # both halves relax to |00> = (Phi+ + Phi-)/2
    out = t1_t2_noise([0.1, 0.2, 0.3, 0.4], 100.0, t1_s=1.0)
    assert np.allclose(out, [0.5, 0, 0, 0.5], atol=1e-12)


def test_depolarise_matches_density_channel_and_werner_decay():
    rng = np.random.default_rng(5)
    p = rng.dirichlet(np.ones(4), size=6)
    dt = rng.uniform(0, 3, size=6)
    e = np.exp(-dt / 1.5)
    rho = bell_to_density(p)
    ref = density_to_bell(depolarise_qubits(rho, e[:, None, None], [0, 1], 2))
    assert np.allclose(depolarise(p, dt, 1.5), ref)
    f = np.array([0.95, 0.8, 0.6])
    w = decay_werner_parameter(werner_parameter(f), 0.4, 2.0)
    assert np.allclose(w, werner_parameter(f) * np.exp(-0.2))
    assert np.allclose(fidelity(depolarise(werner(f), 0.4, 2.0)), fidelity_from_werner_parameter(w))
    assert np.allclose(depolarise(p, dt, None), p)
    assert np.allclose(depolarise(p, dt, np.inf), p)
    with pytest.raises(InputError, match="dt_s must be >= 0"):
        depolarise(p, -1.0, 1.0)
    with pytest.raises(InputError, match="t_coh_s must be > 0"):
        depolarise(p, 1.0, 0.0)
