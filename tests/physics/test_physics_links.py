"""Fibre and free-space transmittance, heralding round trip."""

from __future__ import annotations

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.physics import (
    fibre_transmittance,
    free_space_transmittance,
    heralding_round_trip_s,
)


def test_fibre_transmittance():
    assert np.isclose(fibre_transmittance(100.0), 0.01)
    assert np.isclose(fibre_transmittance(0.0), 1.0)
    lengths = np.array([[10.0, 25.0], [50.0, 75.0]])
    t = fibre_transmittance(lengths, 0.16)
    assert t.shape == (2, 2)
    assert np.allclose(-10 * np.log10(t), 0.16 * lengths)
    with pytest.raises(InputError, match="length_km must be >= 0"):
        fibre_transmittance(-1.0)


def gaussian_capture_numeric(distance_m, tx_m, rx_m, wavelength_m):
    """Integrate the Gaussian intensity 2/(pi w^2) exp(-2 r^2/w^2) over the receiver disk."""
    w0 = tx_m / 2
    zr = np.pi * w0**2 / wavelength_m
    w = w0 * np.sqrt(1 + (distance_m / zr) ** 2)
    r = np.linspace(0, rx_m / 2, 20001)
    f = 2 / (np.pi * w**2) * np.exp(-2 * r**2 / w**2) * 2 * np.pi * r
    return float(np.sum((f[1:] + f[:-1]) / 2 * np.diff(r)))


@pytest.mark.parametrize(
    ("km", "tx", "rx", "nm"),
    [
        (1.0, 0.05, 0.1, 1550.0),
        (500.0, 0.3, 1.0, 800.0),
        (1000.0, 0.1, 0.5, 850.0),
        (0.01, 0.1, 0.3, 1550.0),
    ],
)
def test_free_space_geometric_part(km, tx, rx, nm):
    got = free_space_transmittance(km, tx_aperture_m=tx, rx_aperture_m=rx, wavelength_nm=nm)
    assert np.isclose(got, gaussian_capture_numeric(km * 1e3, tx, rx, nm * 1e-9), rtol=1e-6)
    assert 0 < got <= 1


def test_free_space_far_field_limit():
    # far field, small receiver: 2 r^2 / w(L)^2 = (pi^2/8) (D_tx D_rx / (lambda L))^2
    km, tx, rx, lam = 2000.0, 0.2, 0.5, 1550e-9
    got = free_space_transmittance(km, tx_aperture_m=tx, rx_aperture_m=rx, wavelength_nm=1550)
    far = np.pi**2 / 8 * (tx * rx / (lam * km * 1e3)) ** 2
    assert np.isclose(got, far, rtol=1e-3)


def test_free_space_losses_in_db():
    base = free_space_transmittance(30.0, tx_aperture_m=0.1, rx_aperture_m=0.3, wavelength_nm=1550)
    lossy = free_space_transmittance(
        30.0,
        tx_aperture_m=0.1,
        rx_aperture_m=0.3,
        wavelength_nm=1550,
        atmospheric_attenuation_db_per_km=0.1,
        pointing_loss_db=1.0,
        extra_loss_db=2.0,
    )
    assert np.isclose(10 * np.log10(base / lossy), 0.1 * 30 + 3.0)
    # satellite: only the in-atmosphere part of the path is attenuated
    sat = free_space_transmittance(
        np.array([500.0, 5.0]),
        tx_aperture_m=0.3,
        rx_aperture_m=1.0,
        wavelength_nm=800,
        atmospheric_attenuation_db_per_km=0.5,
        atmosphere_thickness_km=10.0,
    )
    geo = free_space_transmittance(
        np.array([500.0, 5.0]), tx_aperture_m=0.3, rx_aperture_m=1.0, wavelength_nm=800
    )
    assert np.allclose(10 * np.log10(geo / sat), [5.0, 2.5])
    with pytest.raises(InputError, match="tx_aperture_m"):
        free_space_transmittance(1.0, tx_aperture_m=0.0, rx_aperture_m=0.3, wavelength_nm=1550)


def test_round_trip():
    assert np.isclose(heralding_round_trip_s(100.0), 5e-4)
    assert np.allclose(heralding_round_trip_s(np.array([0.0, 200.0]), 1e5), [0.0, 2e-3])
