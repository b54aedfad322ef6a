"""Heralded generation against a Fock-space density-matrix model of the midpoint station.

Independent reference: memory spins and photonic modes as a joint density matrix,
loss as amplitude damping of each mode, a 50:50 beam splitter into two output
modes (up to two photons each), and threshold detectors with dark counts as a
POVM diagonal in the photon-number basis. Click patterns are enumerated, the
Pauli correction of each pattern applied, and the result twirled.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import density_to_bell, double_click_herald, single_click_herald, werner
from qnetai.physics.density import X, Z, amplitude_damping_kraus, apply_kraus, apply_operator

R = 1 / np.sqrt(2)
# 50:50 beam splitter a -> (c + d)/sqrt2, b -> (c - d)/sqrt2, from |n_a n_b> (n <= 1)
# to |n_c n_d> (n <= 2, index 3 n_c + n_d).
BS = np.zeros((9, 4))
BS[0, 0] = 1
BS[3, 2], BS[1, 2] = R, R  # a -> c, d
BS[3, 1], BS[1, 1] = R, -R  # b -> c, -d
BS[6, 3], BS[2, 3] = R, -R  # ab -> (c^2 - d^2)/2 |0> = (|20> - |02>)/sqrt2
CORRECT_PSI_PLUS = np.kron(np.eye(2), X)
CORRECT_PSI_MINUS = np.kron(np.eye(2), Z @ X)


def window_weight(n_c, n_d, clicked, d):
    """POVM weight for 'only detector `clicked` (0=c, 1=d) fires' given photon numbers."""
    fire = [1.0 if n > 0 else d for n in (n_c, n_d)]
    return fire[clicked] * (1 - fire[1 - clicked])


def station(psi, n_windows, ta, tb, d, psi_minus):
    """psi: spins (2 qubits) then modes [a_w0, b_w0, a_w1, b_w1, ...] as qubits.

    ``psi_minus(pattern)``: whether the click pattern heralds Psi- (else Psi+).
    """
    n = 2 + 2 * n_windows
    rho = np.outer(psi, psi.conj())
    for w in range(n_windows):
        rho = apply_kraus(rho, amplitude_damping_kraus(1 - ta), [2 + 2 * w], n)
        rho = apply_kraus(rho, amplitude_damping_kraus(1 - tb), [3 + 2 * w], n)
    v = np.eye(4)
    for _ in range(n_windows):
        v = np.kron(v, BS)
    rho = v @ rho @ v.T
    dim_ph = 9**n_windows
    rho = rho.reshape(4, dim_ph, 4, dim_ph)
    diag = np.einsum("iPjP->Pij", rho)  # spin state per photon-number configuration
    total = np.zeros((4, 4), complex)
    for pattern in itertools.product((0, 1), repeat=n_windows):
        weights = np.ones(dim_ph)
        for idx in range(dim_ph):
            digits = np.unravel_index(idx, (9,) * n_windows)
            for w, clicked in enumerate(pattern):
                weights[idx] *= window_weight(digits[w] // 3, digits[w] % 3, clicked, d)
        spin = np.einsum("P,Pij->ij", weights, diag)
        corr = CORRECT_PSI_MINUS if psi_minus(pattern) else CORRECT_PSI_PLUS
        total += apply_operator(spin, corr, [0, 1], 2)
    p = np.trace(total).real
    return p, density_to_bell(total / p)


def double_click_reference(ta, tb, d):
    psi = np.zeros(2**6)
    for sa, sb in itertools.product((0, 1), repeat=2):
        # photon of node x in the early window if its spin is 0, late if 1
        bits = (sa, sb, 1 - sa, 1 - sb, sa, sb)
        psi[int("".join(map(str, bits)), 2)] = 0.5
    # same detector in both windows -> Psi+, different -> Psi-
    return station(psi, 2, ta, tb, d, lambda pattern: pattern[0] != pattern[1])


def single_click_reference(ta, tb, alpha, d):
    psi = np.zeros(2**4)
    for sa, sb in itertools.product((0, 1), repeat=2):
        amp = np.sqrt(alpha if sa else 1 - alpha) * np.sqrt(alpha if sb else 1 - alpha)
        psi[int("".join(map(str, (sa, sb, sa, sb))), 2)] = amp
    # detector c -> Psi+, detector d -> Psi-
    return station(psi, 1, ta, tb, d, lambda pattern: pattern[0] == 1)


CASES = [(0.3, 0.3, 0.0), (0.5, 0.2, 0.0), (0.4, 0.1, 0.05), (0.05, 0.75, 0.2), (0.0, 0.5, 0.1)]


@pytest.mark.parametrize(("ta", "tb", "d"), CASES)
def test_double_click_matches_fock_model(ta, tb, d):
    ref_p, ref_state = double_click_reference(ta, tb, d)
    out = double_click_herald(ta / 0.8, tb / 0.8, detector_efficiency=0.8, dark_count_probability=d)
    assert np.isclose(out.p_success, ref_p, rtol=1e-10, atol=1e-15)
    assert np.allclose(out.state, ref_state, atol=1e-10)


@pytest.mark.parametrize(("ta", "tb", "d"), CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.3])
def test_single_click_matches_fock_model(ta, tb, d, alpha):
    ref_p, ref_state = single_click_reference(ta, tb, alpha, d)
    out = single_click_herald(ta, tb, bright_state_parameter=alpha, dark_count_probability=d)
    assert np.isclose(out.p_success, ref_p, rtol=1e-10, atol=1e-15)
    assert np.allclose(out.state, ref_state, atol=1e-10)


def test_ideal_closed_forms():
    eta = np.array([0.01, 0.1, 0.5])
    dc = double_click_herald(eta, eta, detector_efficiency=0.9)
    assert np.allclose(dc.p_success, eta**2 * 0.81 / 2)
    assert np.allclose(dc.state, [1, 0, 0, 0])
    alpha = 0.02
    sc = single_click_herald(eta, eta, bright_state_parameter=alpha, detector_efficiency=0.9)
    t = eta * 0.9
    assert np.allclose(sc.p_success, 2 * alpha * t - alpha**2 * t**2)
    assert np.allclose(sc.state[:, 0], 2 * (1 - alpha) / (2 - alpha * t))
    # small alpha, high loss: p ~ 2 alpha eta eta_d and F ~ 1 - alpha
    assert np.isclose(sc.p_success[0] / (2 * alpha * t[0]), 1, atol=1e-3)
    assert np.isclose(sc.state[0, 0], 1 - alpha, atol=1e-3)


def test_raw_fidelity_acts_on_the_genuine_pair_only():
    out = double_click_herald(0.2, 0.3, raw_fidelity=0.9)
    assert np.allclose(out.state, werner(0.9))
    d = 0.01
    perfect = double_click_herald(0.2, 0.3, dark_count_probability=d)
    noisy = double_click_herald(0.2, 0.3, dark_count_probability=d, raw_fidelity=0.9)
    genuine = 0.2 * 0.3 * (1 - d) ** 2 / 2
    diff = noisy.p_success * noisy.state - perfect.p_success * perfect.state
    assert np.isclose(noisy.p_success, perfect.p_success)
    assert np.allclose(diff, genuine * (werner(0.9) - np.array([1, 0, 0, 0])))


def test_vectorised_and_validated():
    eta = np.linspace(0, 1, 12).reshape(3, 4)
    out = single_click_herald(eta, 0.5, bright_state_parameter=0.1, dark_count_probability=1e-3)
    assert out.p_success.shape == (3, 4)
    assert out.state.shape == (3, 4, 4)
    assert np.allclose(out.state.sum(-1), 1)
    nothing = double_click_herald(0.0, 0.0)
    assert nothing.p_success == 0
    assert np.allclose(nothing.state, 0.25)  # undefined state reported as maximally mixed
    with pytest.raises(InputError, match="eta_a must be in"):
        double_click_herald(1.5, 0.1)
    with pytest.raises(InputError, match="raw_fidelity"):
        double_click_herald(0.5, 0.1, raw_fidelity=0.1)
