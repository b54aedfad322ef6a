"""minimize_bounded returns scipy's minimize_scalar(method="bounded") result bit for bit."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from qnetai.qkd._bounded_min import minimize_bounded
from qnetai.qkd.channel import GYS
from qnetai.qkd.rates import infinite_decoy_key_rate, vacuum_weak_key_rate


def _scipy(f, a, b, xatol, maxiter=500):
    res = minimize_scalar(
        f, bounds=(a, b), method="bounded", options={"xatol": xatol, "maxiter": maxiter}
    )
    return float(res.x), float(res.fun)


FUNCS = [
    lambda x: (x - 0.3) ** 2,
    lambda x: math.cos(3 * x) + 0.1 * x,
    lambda x: abs(x - 0.7) ** 0.5,
    lambda x: -math.exp(-((x - 1.1) ** 2) / 0.01),
    lambda x: 5.0,  # flat
    lambda x: x,  # minimum at the lower bound
    lambda x: -x,  # minimum at the upper bound
    lambda x: math.floor(4 * x) * 0.25 - x,  # steps
]


@pytest.mark.parametrize("k", range(len(FUNCS)))
@pytest.mark.parametrize("xatol", [1e-5, 1e-7, 1e-12])
def test_equal_to_scipy_on_test_functions(k: int, xatol: float) -> None:
    rng = np.random.default_rng(k)
    for _ in range(25):
        a, b = np.sort(rng.uniform(-2.0, 2.0, 2))
        assert minimize_bounded(FUNCS[k], a, b, xatol=xatol) == _scipy(FUNCS[k], a, b, xatol)
    assert minimize_bounded(FUNCS[k], 0.5, 0.5) == _scipy(FUNCS[k], 0.5, 0.5, 1e-5)


def test_equal_to_scipy_with_few_iterations() -> None:
    f = FUNCS[1]
    for maxiter in (1, 2, 3, 7):
        got = minimize_bounded(f, -1.0, 2.0, xatol=1e-9, maxiter=maxiter)
        assert got == _scipy(f, -1.0, 2.0, 1e-9, maxiter)


@pytest.mark.parametrize("distance_km", [0.0, 25.0, 80.0, 140.0, 210.0])
def test_equal_to_scipy_on_the_key_rates_optimised(distance_km: float) -> None:
    """The functions optimise_mu maximises (the brackets its grid search picks)."""

    def vw(m: float) -> float:
        return -float(vacuum_weak_key_rate(distance_km, mu=m, nu=0.05, channel=GYS, f_ec=1.16))

    def inf(m: float) -> float:
        return -float(infinite_decoy_key_rate(distance_km, mu=m, channel=GYS, f_ec=1.16))

    for f, lo in ((vw, 0.05 * 1.001 + 1e-6), (inf, 1e-3)):
        grid = np.linspace(lo, 1.5, 41)
        for i in range(1, 40, 3):
            a, b = grid[i - 1], grid[i + 1]
            assert minimize_bounded(f, a, b, xatol=1e-7) == _scipy(f, a, b, 1e-7)


def test_bad_bounds() -> None:
    with pytest.raises(ValueError, match="lower bound exceeds"):
        minimize_bounded(abs, 1.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        minimize_bounded(abs, 0.0, math.inf)


def test_optimise_mu_does_not_import_scipy_optimize() -> None:
    code = (
        "import sys; from qnetai.qkd.optimise import optimise_mu; "
        "optimise_mu(50.0, decoys='vacuum-weak', nu=0.05); "
        "print('scipy.optimize' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
