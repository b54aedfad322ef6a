"""State tomography: closed forms, independent calculations and stated intervals."""

import itertools
import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics.bell import werner
from qnetai.tomography import (
    TomographyData,
    bayesian_mean,
    bell_state,
    direct_fidelity,
    fidelity,
    ghz_state,
    graph_state,
    linear_inversion,
    log_likelihood,
    maximum_likelihood,
    measure_state,
    network_pair,
    project_to_state,
)
from qnetai.tomography._pauli import (
    density_to_pauli,
    pauli_to_density,
    rotated_probabilities,
    setting_labels,
    setting_probabilities,
    weighted_effects,
)
from qnetai.tomography.estimators import stabilizer_settings


def _random_state(n, rng, rank=None):
    d = 2**n
    a = rng.standard_normal((d, rank or d)) + 1j * rng.standard_normal((d, rank or d))
    m = a @ a.conj().T
    return m / np.trace(m).real


def test_probabilities_match_explicit_rotations_and_effects_are_adjoint():
    rng = np.random.default_rng(0)
    rho = _random_state(3, rng)
    p = setting_probabilities(rho, 3)
    assert np.allclose(p, rotated_probabilities(rho, 3))
    assert np.allclose(p.sum(axis=1), 1.0)
    # <w, p(rho)> = tr(rho R(w)) for any weights: the effects map is the adjoint
    w = rng.random(p.shape)
    assert np.isclose(np.sum(w * p), np.trace(rho @ weighted_effects(w, 3)).real)
    assert np.allclose(pauli_to_density(density_to_pauli(rho, 3), 3), rho)
    assert setting_labels(2)[5] == "YZ"


def test_counts_statistics_with_readout_error():
    e = 0.05
    data = measure_state(bell_state(), shots=20000, rng=np.random.default_rng(1), readout_error=e)
    zz = data.counts[8]
    odd = (zz[1] + zz[2]) / zz.sum()
    expected = 2 * e * (1 - e)
    assert abs(odd - expected) < 4 * math.sqrt(expected * (1 - expected) / 20000)


def test_bad_inputs_are_refused():
    with pytest.raises(InputError, match="n_qubits"):
        TomographyData(7, np.zeros((3**7, 2**7), dtype=int))
    with pytest.raises(InputError, match="shape"):
        TomographyData(2, np.ones((9, 3), dtype=int))
    with pytest.raises(InputError, match="readout_error"):
        measure_state(bell_state(), shots=10, rng=np.random.default_rng(0), readout_error=0.5)
    with pytest.raises(InputError, match="shots"):
        measure_state(bell_state(), shots=0, rng=np.random.default_rng(0))


def test_projection_closed_form_and_optimality():
    # Smolin-Gambetta-Smith worked example: eigenvalues (3/5, 1/2, 7/20, 1/10, -11/20)
    mu = np.array([3 / 5, 1 / 2, 7 / 20, 1 / 10, -11 / 20])
    out = np.sort(np.linalg.eigvalsh(project_to_state(np.diag(mu).astype(complex))))[::-1]
    assert np.allclose(out, [9 / 20, 7 / 20, 1 / 5, 0, 0])
    rng = np.random.default_rng(2)
    rho = _random_state(2, rng)
    assert np.allclose(project_to_state(rho), rho)
    m = rho + 0.3 * np.diag([1.0, -1.0, 0.5, -0.5])
    proj = project_to_state(m)
    best = np.linalg.norm(proj - m)
    for _ in range(200):  # no random state is closer
        assert np.linalg.norm(_random_state(2, rng, rank=2) - m) >= best - 1e-12


def test_linear_inversion_infidelity_scales_as_one_over_shots():
    rho = network_pair(werner(0.9))  # full rank: infidelity ~ 1/shots
    rng = np.random.default_rng(3)

    def mean_infidelity(shots):
        vals = [
            1 - fidelity(rho, linear_inversion(measure_state(rho, shots=shots, rng=rng)).rho)
            for _ in range(60)
        ]
        return float(np.mean(vals))

    ratio = mean_infidelity(300) / mean_infidelity(3000)
    assert 6.0 < ratio < 16.0  # 10 expected


def test_ml_recovers_known_states_and_maximises_likelihood():
    rng = np.random.default_rng(4)
    for rho in (network_pair(werner(0.95), damping=(0.05, 0.0)), ghz_state(3)):
        data = measure_state(rho, shots=4000, rng=rng, readout_error=0.02)
        ml = maximum_likelihood(data)
        assert ml.info["converged"]
        assert 1 - fidelity(rho, ml.rho) < 0.01
        li = linear_inversion(data).rho
        assert log_likelihood(ml.rho, data) >= log_likelihood(li, data) - 1e-6
        assert log_likelihood(ml.rho, data) >= log_likelihood(rho, data) - 1e-6
        assert np.linalg.eigvalsh(ml.rho).min() > -1e-10
        assert np.isclose(np.trace(ml.rho).real, 1.0)


def test_ml_against_qiskit_experiments_on_the_same_counts():
    pytest.importorskip("qiskit_experiments")
    from qnetai.tomography import qiskit_linear_inversion

    rng = np.random.default_rng(5)
    for rho, e in (
        (network_pair([0.85, 0.1, 0.03, 0.02], rotation_rad=(0.3, 0)), 0.0),
        (graph_state(3), 0.03),
    ):
        data = measure_state(rho, shots=3000, rng=rng, readout_error=e)
        ref = qiskit_linear_inversion(data)
        # our projected linear inversion is qiskit's to rounding
        assert np.allclose(linear_inversion(data).rho, ref, atol=1e-9)
        ml = maximum_likelihood(data).rho
        trace_distance = 0.5 * np.abs(np.linalg.eigvalsh(ml - ref)).sum()
        assert trace_distance < 0.05
        assert log_likelihood(ml, data) >= log_likelihood(ref, data) - 1e-6


def test_bayesian_mean_is_a_good_state():
    rho = network_pair(werner(0.9))
    data = measure_state(rho, shots=300, rng=np.random.default_rng(6))
    est = bayesian_mean(data, np.random.default_rng(7), samples=600, burn_in=300)
    assert np.linalg.eigvalsh(est.rho).min() > -1e-10
    assert np.isclose(np.trace(est.rho).real, 1.0)
    assert 0.05 < est.info["acceptance"] < 0.7
    assert 1 - fidelity(rho, est.rho) < 0.05


def test_direct_fidelity_unbiased_and_covers():
    rho = network_pair([0.8, 0.1, 0.05, 0.05])
    rng = np.random.default_rng(8)
    ests = [
        direct_fidelity(rho, bell_state(), shots=200, rng=rng, readout_error=0.02)
        for _ in range(400)
    ]
    f = np.array([e.fidelity for e in ests])
    se = f.std(ddof=1) / math.sqrt(f.size)
    assert abs(f.mean() - 0.8) < 4 * se
    cover = np.mean([e.low <= 0.8 <= e.high for e in ests])
    assert 0.9 < cover < 0.99
    assert ests[0].settings == ("XX", "YY", "ZZ")


def test_direct_fidelity_sampled_stabilizers_ghz():
    stab = stabilizer_settings(ghz_state(3), 3)
    assert len(stab) == 7 and stab["XXX"] == 1 and stab["ZZI"] == 1
    noisy = 0.9 * ghz_state(3) + 0.1 * np.eye(8) / 8
    truth = fidelity(ghz_state(3), noisy)
    est = direct_fidelity(
        noisy, ghz_state(3), shots=2000, rng=np.random.default_rng(9), settings=20
    )
    assert est.low < truth < est.high
    with pytest.raises(InputError, match="stabilizer"):
        direct_fidelity(noisy, noisy, shots=10, rng=np.random.default_rng(0))


def test_graph_state_stabilizers():
    rho = graph_state(3)
    c = density_to_pauli(rho, 3)
    # K_1 = Z X Z on the path 0-1-2
    idx = int("".join(str("IXYZ".index(ch)) for ch in "ZXZ"), 4)
    assert np.isclose(c[idx], 1.0)
    assert all(np.isclose(fidelity(rho, rho), 1.0) for _ in itertools.repeat(None, 1))
