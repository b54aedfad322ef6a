"""Brent's bounded scalar minimiser, the arithmetic of ``scipy.optimize.minimize_scalar``.

``qnetai run`` optimises the signal intensity of every QKD link with one bounded scalar
search; importing ``scipy.optimize`` for it costs about 0.2 s of CPU (its ``__init__``
pulls in linprog, shgo, sparse linear algebra). :func:`minimize_bounded` performs the same
floating-point operations in the same order as scipy 1.17's ``_minimize_scalar_bounded``
(``method="bounded"``, BSD-3-Clause, itself Brent's ``fmin`` / ``fminbound``), so it returns
the same ``x`` and ``fun`` bit for bit (tested against scipy on many functions and
brackets). The other optimisers of :mod:`qnetai.qkd.optimise` still use scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["minimize_bounded"]

_SQRT_EPS = math.sqrt(2.2e-16)
_GOLDEN_MEAN = 0.5 * (3.0 - math.sqrt(5.0))


def _sign(v: float) -> float:
    """``np.sign(v) + (v == 0)``: 1.0 for v >= 0, -1.0 below (NaN stays NaN)."""
    if v != v:
        return v
    return -1.0 if v < 0 else 1.0


def minimize_bounded(
    func: Callable[[float], float],
    lower: float,
    upper: float,
    *,
    xatol: float = 1e-5,
    maxiter: int = 500,
) -> tuple[float, float]:
    """``(x, func(x))`` at a local minimum of ``func`` on ``[lower, upper]``.

    Same result as ``minimize_scalar(func, bounds=(lower, upper), method="bounded",
    options={"xatol": xatol, "maxiter": maxiter})`` (its ``res.x``, ``res.fun``).

    Example:
        >>> x, fx = minimize_bounded(lambda v: (v - 0.3) ** 2, 0.0, 1.0, xatol=1e-9)
        >>> round(x, 6), fx < 1e-12
        (0.3, True)
    """
    a, b = float(lower), float(upper)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError("Optimization bounds must be finite scalars.")
    if a > b:
        raise ValueError("The lower bound exceeds the upper bound.")
    fulc = a + _GOLDEN_MEAN * (b - a)
    nfc = xf = fulc
    rat = e = 0.0
    x = xf
    fx = func(x)
    num = 1
    ffulc = fnfc = fx
    xm = 0.5 * (a + b)
    tol1 = _SQRT_EPS * abs(xf) + xatol / 3.0
    tol2 = 2.0 * tol1
    while abs(xf - xm) > (tol2 - 0.5 * (b - a)):
        golden = True
        if abs(e) > tol1:  # parabolic fit
            golden = False
            r = (xf - nfc) * (fx - ffulc)
            q = (xf - fulc) * (fx - fnfc)
            p = (xf - fulc) * q - (xf - nfc) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            r = e
            e = rat
            if abs(p) < abs(0.5 * q * r) and p > q * (a - xf) and p < q * (b - xf):
                rat = (p + 0.0) / q
                x = xf + rat
                if (x - a) < tol2 or (b - x) < tol2:
                    rat = tol1 * _sign(xm - xf)
            else:
                golden = True
        if golden:
            e = (a - xf) if xf >= xm else (b - xf)
            rat = _GOLDEN_MEAN * e
        ar = abs(rat)  # np.maximum(|rat|, tol1): NaN if either is NaN
        step = math.nan if (ar != ar or tol1 != tol1) else max(ar, tol1)
        x = xf + _sign(rat) * step
        fu = func(x)
        num += 1
        if fu <= fx:
            if x >= xf:
                a = xf
            else:
                b = xf
            fulc, ffulc = nfc, fnfc
            nfc, fnfc = xf, fx
            xf, fx = x, fu
        else:
            if x < xf:
                a = x
            else:
                b = x
            if (fu <= fnfc) or (nfc == xf):
                fulc, ffulc = nfc, fnfc
                nfc, fnfc = x, fu
            elif (fu <= ffulc) or (fulc == xf) or (fulc == nfc):
                fulc, ffulc = x, fu
        xm = 0.5 * (a + b)
        tol1 = _SQRT_EPS * abs(xf) + xatol / 3.0
        tol2 = 2.0 * tol1
        if num >= maxiter:
            break
    return xf, fx
