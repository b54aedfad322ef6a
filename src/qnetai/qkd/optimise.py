"""Deterministic numerical optimisation of decoy intensities (and probabilities).

* :func:`optimise_mu`: bounded scalar search (``scipy.optimize.minimize_scalar``) of the
  signal intensity for infinite decoys, or for vacuum + weak with a fixed ``nu``,
  started from the best point of a coarse grid so that it never loses to the grid.
* :func:`optimise_mu_nu`: vacuum + weak with both intensities free: multi-start bounded
  L-BFGS-B from a fixed grid of starts (deterministic). As MQZL05 note, without statistical
  fluctuations the optimum ``nu`` is its lower limit ``nu_min``.
* :func:`optimise_finite_key`: Lim14 rate over ``(mu1, mu2, p1, p2, q_x)`` (``mu3`` fixed) by
  ``scipy.optimize.differential_evolution`` with a fixed seed (vectorised evaluations).
* :func:`cutoff_distance_km`: the largest distance with a positive (optimised) rate.

The optimisers maximise the *unclipped* rate so that they have a slope to follow beyond
the cut-off; results report the clipped rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from qnetai.errors import InputError
from qnetai.physics.bounds import plob_bound, tgw_bound
from qnetai.qkd.bbm92 import Statistics, bbm92_rate
from qnetai.qkd.channel import GYS, GYS_F_EC, ChannelModel
from qnetai.qkd.decoy import check_intensity
from qnetai.qkd.finite_key import _check_eps, _check_protocol, finite_key_rate
from qnetai.qkd.rates import (
    Decoys,
    bb84_decoy_rate,
    check_f_ec,
    infinite_decoy_key_rate,
    sifting_factor,
    vacuum_weak_key_rate,
)

__all__ = [
    "FiniteKeyOptimum",
    "IntensityOptimum",
    "cutoff_distance_km",
    "optimise_finite_key",
    "optimise_mu",
    "optimise_mu_nu",
    "rate_summary",
]

MU_MAX = 1.5
#: Largest finite-key block (pulses sent) accepted by :func:`rate_summary`.
MAX_BLOCK_SIZE = 1e20


@dataclass(frozen=True)
class IntensityOptimum:
    """Optimal intensities and the (clipped) key rate per pulse there."""

    mu: float
    nu: float | None
    key_rate_per_pulse: float


@dataclass(frozen=True)
class FiniteKeyOptimum:
    """Optimal Lim14 protocol parameters and the key rate per pulse there."""

    intensities: tuple[float, float, float]
    probabilities: tuple[float, float, float]
    q_x: float
    key_rate_per_pulse: float


def _scalar_max(f: Callable[[float], float], lo: float, hi: float) -> tuple[float, float]:
    grid = np.linspace(lo, hi, 41)
    vals = np.array([f(x) for x in grid])
    i = int(np.argmax(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    from scipy import optimize  # imported on first use (about 0.2 s)

    res = optimize.minimize_scalar(
        lambda x: -f(x), bounds=(a, b), method="bounded", options={"xatol": 1e-7}
    )
    if -res.fun >= vals[i]:
        return float(res.x), float(-res.fun)
    return float(grid[i]), float(vals[i])


def optimise_mu(
    distance_km: float,
    *,
    decoys: Decoys = "infinite",
    nu: float | None = None,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
) -> IntensityOptimum:
    """Signal intensity maximising the asymptotic rate (``nu`` fixed for vacuum-weak).

    Example:
        >>> opt = optimise_mu(0.0)
        >>> 0.4 < opt.mu < 0.7
        True

    """
    if decoys == "infinite":

        def f(m: float) -> float:
            return float(
                infinite_decoy_key_rate(distance_km, mu=m, channel=channel, f_ec=f_ec, q=q)
            )

        lo = 1e-3
    elif decoys == "vacuum-weak":
        if nu is None:
            raise InputError("decoys='vacuum-weak' needs nu here (or use optimise_mu_nu)")
        nu_f = float(nu)

        def f(m: float) -> float:
            return float(
                vacuum_weak_key_rate(distance_km, mu=m, nu=nu_f, channel=channel, f_ec=f_ec, q=q)
            )

        lo = nu_f * 1.001 + 1e-6
        if lo >= MU_MAX:
            raise InputError(f"nu must be < {MU_MAX} (got {nu})")
    else:
        raise InputError(f"decoys must be 'infinite' or 'vacuum-weak' (got {decoys!r})")
    mu, rate = _scalar_max(f, lo, MU_MAX)
    return IntensityOptimum(
        mu=mu, nu=nu if decoys == "vacuum-weak" else None, key_rate_per_pulse=max(rate, 0.0)
    )


def optimise_mu_nu(
    distance_km: float,
    *,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    q: float = 0.5,
    nu_min: float = 1e-3,
) -> IntensityOptimum:
    """Both intensities of the vacuum + weak method (``nu_min <= nu < mu``)."""
    if not (0 < nu_min < 0.5):
        raise InputError(f"nu_min must be in (0, 0.5) (got {nu_min})")

    def rate(x: np.ndarray) -> float:
        mu, t = float(x[0]), float(x[1])
        nu = nu_min + t * (mu - nu_min)
        return float(
            vacuum_weak_key_rate(distance_km, mu=mu, nu=nu, channel=channel, f_ec=f_ec, q=q)
        )

    from scipy import optimize  # imported on first use (about 0.2 s)

    lo_mu = nu_min * 1.01 + 1e-6
    best_x, best = None, -np.inf
    for mu0 in (0.2, 0.45, 0.7):
        for t0 in (0.0, 0.1, 0.4):
            res = optimize.minimize(
                lambda x: -rate(x) * 1e6,
                x0=np.array([mu0, t0]),
                method="L-BFGS-B",
                bounds=[(lo_mu, MU_MAX), (0.0, 0.95)],
            )
            val = -res.fun / 1e6
            if val > best:
                best_x, best = res.x, val
    assert best_x is not None
    mu = float(best_x[0])
    nu = nu_min + float(best_x[1]) * (mu - nu_min)
    return IntensityOptimum(mu=mu, nu=nu, key_rate_per_pulse=max(best, 0.0))


def _unpack(x: np.ndarray, mu3: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map rows (mu1, t, p1, s, q_x) of x to intensities, probabilities and q_x."""
    mu1, t, p1, s, qx = x
    mu2 = mu3 + t * (mu1 - 2 * mu3)
    mus = np.stack([mu1, mu2, np.full_like(mu1, mu3)], axis=-1)
    p2 = (1 - p1) * s
    ps = np.stack([p1, p2, 1 - p1 - p2], axis=-1)
    return mus, ps, qx


def optimise_finite_key(
    distance_km: float,
    *,
    block_size: float | None = None,
    n_x_block: float | None = None,
    mu3: float = 0.0,
    intensities: tuple[float, float, float] | None = None,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
    seed: int = 1,
    maxiter: int = 60,
) -> FiniteKeyOptimum:
    """Lim14 rate maximised over ``mu1, mu2, p_mu1, p_mu2, q_x`` (``mu3`` fixed).

    The block is ``block_size`` pulses sent or ``n_x_block`` X detections (see
    :func:`qnetai.qkd.finite_key.finite_key_rate`); neither: the asymptotic limit.

    ``mu2 = mu3 + t (mu1 - 2 mu3)`` with ``t`` in (0.01, 0.99) keeps ``mu1 > mu2 + mu3``;
    ``p2 = (1 - p1) s``. Differential evolution with ``seed`` (deterministic), polished by
    L-BFGS-B. With ``intensities`` given only ``p1, p2, q_x`` are optimised.
    """
    if not (0 <= mu3 < 0.2):
        raise InputError(f"mu3 must be in [0, 0.2) (got {mu3})")
    _check_eps("eps_sec", eps_sec)
    _check_eps("eps_cor", eps_cor)
    for name, size in (("block_size", block_size), ("n_x_block", n_x_block)):
        if size is not None and not size >= 1:
            raise InputError(f"{name} must be >= 1 (got {size})")
    lo1 = max(2 * mu3 + 0.02, 0.05)
    bounds = [(lo1, 1.2), (0.01, 0.99), (0.01, 0.99), (0.01, 0.99), (0.1, 0.995)]
    fixed = None
    if intensities is not None:
        fixed = np.asarray(intensities, dtype=float)
        _check_protocol(fixed, np.full(3, 1 / 3))
        bounds = bounds[2:]

    def params(x2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if fixed is None:
            return _unpack(x2, mu3)
        mu1 = np.full_like(x2[0], fixed[0])
        t = np.full_like(x2[0], (fixed[1] - fixed[2]) / max(fixed[0] - 2 * fixed[2], 1e-300))
        mus, ps, qx = _unpack(np.vstack([mu1, t, x2]), float(fixed[2]))
        return np.broadcast_to(fixed, mus.shape), ps, qx

    def neg_rate(x: np.ndarray) -> np.ndarray | float:
        x2 = np.atleast_2d(np.asarray(x, dtype=float).T).T if x.ndim == 1 else x
        mus, ps, qx = params(x2)
        r = finite_key_rate(
            distance_km,
            block_size=block_size,
            n_x_block=n_x_block,
            intensities=mus,
            probabilities=ps,
            q_x=qx,
            channel=channel,
            f_ec=f_ec,
            eps_sec=eps_sec,
            eps_cor=eps_cor,
        )
        n = 1.0 if r.block_size is None else r.block_size
        # unclipped, per pulse: a slope to follow where no key is produced
        val = -np.asarray(r.key_length, dtype=float) / n
        return val if x.ndim > 1 else float(val.reshape(-1)[0])

    from scipy import optimize  # imported on first use (about 0.2 s)

    res = optimize.differential_evolution(
        neg_rate,
        bounds,
        seed=seed,
        maxiter=maxiter,
        popsize=12,
        tol=1e-8,
        vectorized=True,
        updating="deferred",
        polish=False,
    )
    x = res.x
    pol = optimize.minimize(neg_rate, x, method="L-BFGS-B", bounds=bounds)
    if pol.fun < res.fun:
        x = pol.x
    mus, ps, qx = params(np.asarray(x)[:, None])
    best = float(-neg_rate(np.asarray(x)))
    return FiniteKeyOptimum(
        intensities=(float(mus[0][0]), float(mus[0][1]), float(mus[0][2])),
        probabilities=(float(ps[0][0]), float(ps[0][1]), float(ps[0][2])),
        q_x=float(qx[0]),
        key_rate_per_pulse=max(best, 0.0),
    )


def cutoff_distance_km(
    rate_at: Callable[[float], float],
    *,
    lo_km: float = 0.0,
    hi_km: float = 400.0,
    xtol_km: float = 1e-3,
) -> float:
    """Largest distance where ``rate_at(distance) > 0`` (bisection; rate decreasing).

    Returns ``lo_km`` if there is no key at ``lo_km`` and ``hi_km`` if still positive there.
    """
    if rate_at(lo_km) <= 0:
        return lo_km
    if rate_at(hi_km) > 0:
        return hi_km
    a, b = lo_km, hi_km
    while b - a > xtol_km:
        m = 0.5 * (a + b)
        if rate_at(m) > 0:
            a = m
        else:
            b = m
    return 0.5 * (a + b)


def rate_summary(
    distance_km: float,
    *,
    protocol: Literal["bb84", "bbm92"] = "bb84",
    decoys: Decoys = "vacuum-weak",
    mu: float | None = None,
    nu: float | None = None,
    channel: ChannelModel = GYS,
    f_ec: float = GYS_F_EC,
    efficient: bool = False,
    p_z: float | None = None,
    finite_key: bool = False,
    block_size: float = 1e10,
    eps_sec: float = 1e-10,
    eps_cor: float = 1e-15,
    nu_min: float = 1e-3,
    statistics: Statistics = "thermal",
) -> dict[str, Any]:
    """One key-rate evaluation as a flat dict (what ``qnetai qkd rate --json`` prints).

    Intensities not given are optimised. ``bb84`` asymptotic: ``decoys`` selects infinite
    decoys or vacuum + weak (MQZL05); with ``finite_key`` the Lim14 protocol with
    ``mu1 = mu``, ``mu2 = nu``, ``mu3 = 0`` (vacuum) and optimised probabilities and
    ``q_x`` (``q_x = p_z`` when ``efficient``). ``bbm92``: source in the middle
    (``L_A = L_B = L/2``), ``mu`` the mean pair number. Keys always present:
    ``key_rate_per_pulse, mu, nu, plob_bound, tgw_bound, eta, eta_channel, distance_km,
    y1_lower, e1_upper, q_mu, e_mu`` (null where they do not apply).
    """
    d = float(distance_km)
    if not np.isfinite(d) or d < 0:
        raise InputError(f"distance_km must be >= 0 (got {distance_km})")
    for name, v in (("mu", mu), ("nu", nu)):
        if v is not None:
            check_intensity(name, v)
    # every parameter is checked before any optimiser runs, so an error names its cause
    check_f_ec(f_ec)
    if finite_key:
        _check_eps("eps_sec", eps_sec)
        _check_eps("eps_cor", eps_cor)
        if not (np.isfinite(block_size) and 1 <= block_size <= MAX_BLOCK_SIZE):
            raise InputError(
                f"block_size must be a number of pulses in [1, {MAX_BLOCK_SIZE:g}] "
                f"(got {block_size})"
            )
    q = sifting_factor(efficient=efficient, p_z=p_z)
    eta = float(channel.transmittance(d))
    eta_ch = float(channel.channel_transmittance(d))
    out: dict[str, Any] = {
        "protocol": protocol,
        "distance_km": d,
        "eta": eta,
        "eta_channel": eta_ch,
        # + 0.0 turns the bound's -0.0 at zero transmittance into 0.0
        "plob_bound": float(plob_bound(eta_ch)) + 0.0,
        "tgw_bound": float(tgw_bound(eta_ch)),
        "f_ec": f_ec,
        "q": q,
        "nu": None,
        "y1_lower": None,
        "e1_upper": None,
        "finite_key": finite_key,
    }
    if protocol == "bbm92":

        def f(m: float) -> float:
            return float(
                bbm92_rate(
                    d / 2, d / 2, mu=m, channel=channel, f_ec=f_ec, q=q, statistics=statistics
                ).key_rate_per_pulse
            )

        m_opt = mu if mu is not None else _scalar_max(f, 1e-4, 1.0)[0]
        rb = bbm92_rate(
            d / 2, d / 2, mu=m_opt, channel=channel, f_ec=f_ec, q=q, statistics=statistics
        )
        out.update(
            decoys=None,
            mu=float(m_opt),
            key_rate_per_pulse=float(rb.key_rate_per_pulse),
            eta=float(rb.eta),
            q_mu=float(rb.gain),
            e_mu=float(rb.qber),
            statistics=statistics,
        )
        return out
    if protocol != "bb84":
        raise InputError(f"protocol must be 'bb84' or 'bbm92' (got {protocol!r})")
    if finite_key:
        if (mu is None) != (nu is None):
            raise InputError("with finite_key give both mu and nu, or neither (optimised)")
        if mu is not None and nu is not None and not mu > nu:
            raise InputError(f"nu must be < mu (got mu={mu}, nu={nu})")
        opt = optimise_finite_key(
            d,
            block_size=block_size,
            channel=channel,
            f_ec=f_ec,
            eps_sec=eps_sec,
            eps_cor=eps_cor,
            intensities=None if mu is None or nu is None else (mu, nu, 0.0),
        )
        qx = opt.q_x if not efficient else (0.9 if p_z is None else p_z)
        fk = finite_key_rate(
            d,
            block_size=block_size,
            intensities=opt.intensities,
            probabilities=opt.probabilities,
            q_x=qx,
            channel=channel,
            f_ec=f_ec,
            eps_sec=eps_sec,
            eps_cor=eps_cor,
        )
        m1 = opt.intensities[0]
        tau1 = float(
            np.sum(
                np.asarray(opt.probabilities)
                * np.exp(-np.asarray(opt.intensities))
                * np.asarray(opt.intensities)
            )
        )
        out.update(
            decoys="vacuum-weak",
            mu=m1,
            nu=opt.intensities[1],
            mu3=opt.intensities[2],
            probabilities=list(opt.probabilities),
            q_x=qx,
            q=qx**2,
            block_size=block_size,
            eps_sec=eps_sec,
            eps_cor=eps_cor,
            key_rate_per_pulse=float(fk.key_rate_per_pulse),
            key_length=float(fk.key_length),
            q_mu=float(channel.gain(m1, d)),
            e_mu=float(channel.qber(m1, d)),
            y1_lower=float(fk.s_x1) / (block_size * qx**2 * tau1),
            e1_upper=float(fk.phi_x),
            s_x0=float(fk.s_x0),
            s_x1=float(fk.s_x1),
            phi_x=float(fk.phi_x),
        )
        return out
    if decoys == "infinite":
        m_opt = (
            mu
            if mu is not None
            else optimise_mu(d, decoys="infinite", channel=channel, f_ec=f_ec, q=q).mu
        )
        n_opt = None
    elif decoys == "vacuum-weak":
        if mu is not None and nu is not None:
            m_opt, n_opt = mu, nu
        elif nu is not None:
            m_opt, n_opt = (
                optimise_mu(d, decoys="vacuum-weak", nu=nu, channel=channel, f_ec=f_ec, q=q).mu,
                nu,
            )
        else:
            o = optimise_mu_nu(d, channel=channel, f_ec=f_ec, q=q, nu_min=nu_min)
            m_opt, n_opt = (o.mu, o.nu) if mu is None else (mu, min(nu_min, mu / 2))
    else:
        raise InputError(f"decoys must be 'infinite' or 'vacuum-weak' (got {decoys!r})")
    r = bb84_decoy_rate(d, mu=m_opt, nu=n_opt, decoys=decoys, channel=channel, f_ec=f_ec, q=q)
    out.update(
        decoys=decoys,
        mu=float(m_opt),
        nu=None if n_opt is None else float(n_opt),
        key_rate_per_pulse=float(r.key_rate_per_pulse),
        q_mu=float(r.q_mu),
        e_mu=float(r.e_mu),
        y1_lower=float(r.y1_lower),
        e1_upper=float(r.e1_upper),
        q1_lower=float(r.q1_lower),
    )
    return out
