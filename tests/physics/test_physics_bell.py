"""Bell-diagonal states: basis, validation, Werner, twirl, Pauli-frame composition."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import (
    BELL_LABELS,
    PAULI_BITS,
    bell_kets,
    bell_to_correlations,
    bell_to_density,
    compose_bell,
    correlations_to_bell,
    density_to_bell,
    fidelity,
    fidelity_from_werner_parameter,
    validate_bell,
    werner,
    werner_parameter,
)
from qnetai.physics.density import I2, X, Y, Z, apply_operator

S = 1 / np.sqrt(2)
KET = {
    "Phi+": S * np.array([1, 0, 0, 1]),
    "Psi+": S * np.array([0, 1, 1, 0]),
    "Psi-": S * np.array([0, 1, -1, 0]),
    "Phi-": S * np.array([1, 0, 0, -1]),
}


def random_bell(rng, shape=()):
    return rng.dirichlet(np.ones(4) * 0.7, size=shape)


def random_density(rng, batch, dim=4):
    g = rng.normal(size=(batch, dim, dim)) + 1j * rng.normal(size=(batch, dim, dim))
    rho = g @ np.conj(np.swapaxes(g, -1, -2))
    return rho / np.trace(rho, axis1=-2, axis2=-1)[:, None, None]


def test_bell_kets_match_definitions_and_are_orthonormal():
    kets = bell_kets()
    for k, label in enumerate(BELL_LABELS):
        assert np.allclose(kets[k], KET[label])
    assert np.allclose(kets @ kets.conj().T, np.eye(4))


def test_pauli_frame_bits_generate_the_bell_basis():
    # |b_k> = (I x X^x Z^z)|Phi+> up to a global phase.
    phi = KET["Phi+"]
    for k, (x, z) in enumerate(PAULI_BITS):
        p = np.linalg.matrix_power(X, x) @ np.linalg.matrix_power(Z, z)
        v = np.kron(I2, p) @ phi
        assert abs(abs(np.vdot(bell_kets()[k], v)) - 1) < 1e-12


def test_density_roundtrip_and_fidelity_definition():
    rng = np.random.default_rng(1)
    p = random_bell(rng, (3, 5))
    rho = bell_to_density(p)
    assert rho.shape == (3, 5, 4, 4)
    assert np.allclose(np.trace(rho, axis1=-2, axis2=-1), 1)
    assert np.allclose(density_to_bell(rho), p)
    # fidelity = <Phi+|rho|Phi+>
    f = np.einsum("i,...ij,j->...", KET["Phi+"], rho, KET["Phi+"]).real
    assert np.allclose(fidelity(p), f)


def test_twirl_equals_average_over_bilateral_paulis():
    rng = np.random.default_rng(2)
    rho = random_density(rng, 6)
    twirled = sum(apply_operator(rho, np.kron(P, P), [0, 1], 2) for P in (I2, X, Y, Z)) / 4
    # the twirled matrix is Bell-diagonal with the Bell-basis diagonal of rho
    p = density_to_bell(rho)
    assert np.allclose(bell_to_density(p), twirled)


def test_correlations_roundtrip_and_meaning():
    rng = np.random.default_rng(3)
    p = random_bell(rng, 7)
    c = bell_to_correlations(p)
    rho = bell_to_density(p)
    for i, P in enumerate((X, Y, Z)):
        expect = np.trace(rho @ np.kron(P, P), axis1=-2, axis2=-1).real
        assert np.allclose(c[:, i], expect)
    assert np.allclose(correlations_to_bell(c), p)


def test_compose_matches_applying_a_random_pauli_frame():
    rng = np.random.default_rng(4)
    p1, p2 = random_bell(rng), random_bell(rng)
    rho = bell_to_density(p1)
    out = np.zeros((4, 4), complex)
    for j, (x, z) in enumerate(PAULI_BITS):
        op = np.kron(I2, np.linalg.matrix_power(X, x) @ np.linalg.matrix_power(Z, z))
        out += p2[j] * apply_operator(rho, op, [0, 1], 2)
    assert np.allclose(compose_bell(p1, p2), density_to_bell(out))
    assert np.allclose(compose_bell(p1, p2), compose_bell(p2, p1))


def test_werner_and_parameter():
    f = np.linspace(0, 1, 11)
    w = werner(f)
    assert w.shape == (11, 4)
    assert np.allclose(w.sum(-1), 1)
    assert np.allclose(fidelity(w), f)
    assert np.allclose(fidelity_from_werner_parameter(werner_parameter(f)), f)
    # w Phi+ + (1 - w) I/4
    wp = werner_parameter(0.8)
    assert np.allclose(werner(0.8), wp * np.array([1, 0, 0, 0]) + (1 - wp) / 4)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ([0.5, 0.5, 0.1, -0.1], ">= 0"),
        ([0.5, 0.5, 0.1, 0.1], "sum to 1"),
        ([0.5, 0.5, 0.0], "length 4"),
        ([np.nan, 0.5, 0.5, 0.0], "finite"),
    ],
)
def test_validate_rejects(bad, match):
    with pytest.raises(InputError, match=match):
        validate_bell(bad)
    with pytest.raises(ValueError):  # InputError is a ValueError
        validate_bell(bad)


def test_validate_clips_rounding_noise_and_werner_range():
    out = validate_bell([1 + 1e-12, -1e-12, 0, 0])
    assert out.min() >= 0
    with pytest.raises(InputError, match="fidelity must be in"):
        werner(1.3)
    with pytest.raises(InputError, match="werner parameter"):
        fidelity_from_werner_parameter(-0.5)
