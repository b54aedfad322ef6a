"""Classical state estimators from local Pauli counts (:class:`TomographyData`).

* :func:`linear_inversion`: Pauli coefficients from parities (readout-corrected), then
  :func:`project_to_state` (Smolin, Gambetta, Smith, PRL 108, 070502, 2012), the closest
  density matrix in 2-norm;
* :func:`maximum_likelihood`: diluted ``R rho R`` iterations (Rehacek et al., PRA 75, 042108,
  2007) on the exact multinomial likelihood with the readout map folded into the effects; it
  stops when the duality gap ``N (lambda_max(R) - 1)`` (an upper bound on how far the
  log-likelihood is from its maximum) is below ``tol``;
* :func:`bayesian_mean`: Metropolis-Hastings over a Ginibre parametrisation
  ``rho = A A^dagger / tr(A A^dagger)`` (Hilbert-Schmidt prior), the posterior mean of
  ``rho`` over ``samples`` draws after ``burn_in``;
* :func:`direct_fidelity`: direct fidelity estimation (Flammia and Liu, PRL 106, 230501,
  2011) to a stabilizer target from its stabilizer settings (3 for a Bell pair), with a
  normal-approximation interval.

Example:
    >>> from qnetai.tomography.states import bell_state, fidelity
    >>> from qnetai.tomography.measure import measure_state
    >>> data = measure_state(bell_state(), shots=2000, rng=np.random.default_rng(3))
    >>> fidelity(bell_state(), maximum_likelihood(data).rho) > 0.99
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.tomography._pauli import (
    _parity_matrix,
    apply_readout,
    density_to_pauli,
    pauli_coefficients_from_counts,
    pauli_to_density,
    setting_index,
    setting_probabilities,
    weighted_effects,
)
from qnetai.tomography.measure import TomographyData, check_shots

Density = NDArray[np.complex128]


@dataclass(frozen=True)
class Estimate:
    """An estimated density matrix and what it cost (``info``: iterations, acceptance...)."""

    rho: Density
    info: dict[str, Any] = field(default_factory=dict)


def project_to_state(matrix: NDArray[np.complex128]) -> Density:
    """The density matrix closest in 2-norm to a Hermitian unit-trace ``matrix`` (SGS 2012).

    Example:
        >>> rho = project_to_state(np.diag([0.7, 0.4, -0.1]).astype(complex))
        >>> np.round(np.diag(rho).real, 6).tolist()
        [0.65, 0.35, 0.0]
    """
    m = np.asarray(matrix, dtype=np.complex128)
    m = (m + m.conj().T) / 2
    tr = float(np.trace(m).real)
    if not tr > 0:
        raise InputError(f"cannot project a matrix of trace {tr} to a state")
    w, v = np.linalg.eigh(m / tr)
    mu = w[::-1].copy()  # descending
    lam = np.zeros_like(mu)
    a = 0.0
    i = mu.size
    while i > 0 and mu[i - 1] + a / i < 0:
        a += mu[i - 1]
        i -= 1
    lam[:i] = mu[:i] + a / i
    vecs = v[:, ::-1]
    return (vecs * lam) @ vecs.conj().T


def linear_inversion(data: TomographyData, *, project: bool = True) -> Estimate:
    """Linear inversion (readout-corrected Pauli averages), projected to a state by default."""
    n = data.n_qubits
    c, _ = pauli_coefficients_from_counts(data.counts, n, data.readout_error)
    raw = pauli_to_density(c, n)
    rho = project_to_state(raw) if project else raw
    return Estimate(rho, {"projected": project})


def log_likelihood(rho: Density, data: TomographyData) -> float:
    """Multinomial log-likelihood ``sum n_sk log q_sk`` (readout included; constants dropped)."""
    q = setting_probabilities(rho, data.n_qubits, data.readout_error)
    c = np.asarray(data.counts, dtype=np.float64)
    mask = c > 0
    return float(np.sum(c[mask] * np.log(np.clip(q[mask], 1e-300, None))))


def _r_operator(rho: Density, data: TomographyData, total: float) -> tuple[Density, float]:
    n = data.n_qubits
    q = setting_probabilities(rho, n, data.readout_error)
    c = np.asarray(data.counts, dtype=np.float64)
    ratio = np.divide(c, q, out=np.zeros_like(c), where=c > 0)
    weights = apply_readout(ratio, n, data.readout_error)  # the readout map is self-adjoint
    mask = c > 0
    ll = float(np.sum(c[mask] * np.log(np.clip(q[mask], 1e-300, None))))
    r = weighted_effects(weights, n) / total
    return (r + r.conj().T) / 2, ll


def maximum_likelihood(
    data: TomographyData,
    *,
    max_iter: int = 5000,
    tol: float = 1e-2,
    dilution: float = 10.0,
    initial: Density | None = None,
) -> Estimate:
    """Maximum-likelihood state by diluted ``R rho R`` iterations.

    Stops when ``N_total * (lambda_max(R) - 1) < tol`` (nats: the log-likelihood is then within
    ``tol`` of its maximum) or after ``max_iter`` iterations (``info["converged"]`` says which).
    ``dilution`` is the starting step ``epsilon`` of ``(I + eps R)/(1 + eps)``; it is halved
    whenever a step would lower the likelihood.
    """
    if max_iter < 1 or not tol > 0 or not dilution > 0:
        raise InputError("max_iter must be >= 1, tol > 0 and dilution > 0")
    d = 2**data.n_qubits
    total = float(np.asarray(data.counts).sum())
    rho = np.eye(d, dtype=np.complex128) / d if initial is None else np.asarray(initial)
    eps = float(dilution)
    eye = np.eye(d)
    r, ll = _r_operator(rho, data, total)
    gap = math.inf
    it = 0
    while it < max_iter:
        it += 1
        gap = total * (float(np.linalg.eigvalsh(r)[-1]) - 1.0)
        if gap < tol:
            break
        while True:
            step = (eye + eps * r) / (1.0 + eps)
            new = step @ rho @ step
            new = new / np.trace(new).real
            r_new, ll_new = _r_operator(new, data, total)
            if ll_new >= ll - 1e-12 or eps < 1e-6:
                break
            eps /= 2.0
        rho, r, ll = new, r_new, ll_new
    return Estimate(
        np.asarray((rho + rho.conj().T) / 2, dtype=np.complex128),
        {"iterations": it, "gap_nats": gap, "converged": gap < tol, "log_likelihood": ll},
    )


def bayesian_mean(
    data: TomographyData,
    rng: np.random.Generator,
    *,
    samples: int = 3000,
    burn_in: int = 1000,
    target_acceptance: float = 0.25,
) -> Estimate:
    """Posterior-mean state, Metropolis-Hastings over ``rho = A A^dagger / tr(A A^dagger)``.

    ``A`` is ``d x d`` complex with i.i.d. standard normal entries under the prior (Ginibre,
    which induces the Hilbert-Schmidt measure on states). Proposals ``A + s G`` (``G``
    Ginibre); ``s`` adapts during ``burn_in`` towards ``target_acceptance`` and is then fixed.
    The chain starts at the projected linear-inversion estimate mixed with 10 % white noise.
    """
    if samples < 1 or burn_in < 0:
        raise InputError(f"samples must be >= 1 and burn_in >= 0 (got {samples}, {burn_in})")
    d = 2**data.n_qubits
    start = 0.9 * linear_inversion(data).rho + 0.1 * np.eye(d) / d
    w, v = np.linalg.eigh(start)
    a = (v * np.sqrt(np.clip(w, 0.0, None) * d * d)) @ v.conj().T

    def rho_of(a_: NDArray[np.complex128]) -> Density:
        m = a_ @ a_.conj().T
        return m / np.trace(m).real

    def log_post(a_: NDArray[np.complex128]) -> float:
        return log_likelihood(rho_of(a_), data) - float(np.sum(np.abs(a_) ** 2))

    lp = log_post(a)
    scale = 0.05
    accepted = 0
    mean = np.zeros((d, d), dtype=np.complex128)
    window_acc = 0
    for i in range(burn_in + samples):
        g = (rng.standard_normal((d, d)) + 1j * rng.standard_normal((d, d))) / np.sqrt(2.0)
        prop = a + scale * g
        lp_new = log_post(prop)
        if math.log(rng.random() + 1e-300) < lp_new - lp:
            a, lp = prop, lp_new
            if i >= burn_in:
                accepted += 1
            else:
                window_acc += 1
        if i < burn_in and (i + 1) % 50 == 0:
            rate = window_acc / 50
            scale *= math.exp(rate - target_acceptance) ** 2
            window_acc = 0
        if i >= burn_in:
            mean += rho_of(a)
    mean /= samples
    return Estimate(
        np.asarray((mean + mean.conj().T) / 2, dtype=np.complex128),
        {"samples": samples, "burn_in": burn_in, "acceptance": accepted / samples, "step": scale},
    )


@dataclass(frozen=True)
class FidelityEstimate:
    """A fidelity estimate, its standard error, a two-sided interval and the settings used."""

    fidelity: float
    std_error: float
    low: float
    high: float
    settings: tuple[str, ...]


def stabilizer_settings(target: Density, n: int) -> dict[str, float]:
    """Settings (labels with ``I`` kept) and signs of the non-identity stabilizers of ``target``.

    Raises ``InputError`` if ``target`` is not a pure stabilizer state.
    """
    c = density_to_pauli(target, n)
    nonzero = np.flatnonzero(np.abs(c) > 1e-9)
    if nonzero.size != 2**n or not np.allclose(np.abs(c[nonzero]), 1.0, atol=1e-9):
        raise InputError("direct fidelity estimation needs a pure stabilizer target state")
    out: dict[str, float] = {}
    for idx in nonzero:
        if idx == 0:
            continue
        digits = np.base_repr(int(idx), 4).zfill(n)
        out["".join("IXYZ"[int(ch)] for ch in digits)] = float(np.sign(c[idx]))
    return out


def direct_fidelity(
    rho: Density,
    target: Density,
    *,
    shots: int,
    rng: np.random.Generator,
    readout_error: float = 0.0,
    settings: int | None = None,
    z: float = 1.96,
) -> FidelityEstimate:
    """Direct fidelity estimation of ``rho`` to a stabilizer ``target`` from few settings.

    ``F = (1 + sum_{S != I} sign_S <S>) / 2**n``; each stabilizer ``S`` is measured with
    ``shots`` shots in the local setting that matches it (identity qubits read in Z and
    ignored). ``settings=None`` measures all ``2**n - 1`` stabilizers (3 for a Bell pair,
    exact expectation); an integer samples that many uniformly with replacement (Flammia-Liu),
    whose interval then includes the sampling spread. Readout flips are undone by dividing by
    ``(1 - 2e)**weight``, so the estimate is unbiased.

    Example:
        >>> from qnetai.tomography.states import bell_state, network_pair
        >>> est = direct_fidelity(network_pair([0.9, 0.1, 0, 0]), bell_state(), shots=4000,
        ...                       rng=np.random.default_rng(0))
        >>> bool(est.low < 0.9 < est.high)
        True
    """
    shots = check_shots(shots)
    n = round(math.log2(np.asarray(target).shape[0]))
    stab = stabilizer_settings(target, n)
    labels = list(stab)
    if settings is not None:
        if settings < 1:
            raise InputError(f"settings must be >= 1 (got {settings})")
        labels = [labels[i] for i in rng.integers(0, len(labels), size=settings)]
    probs = setting_probabilities(rho, n, readout_error)
    h = _parity_matrix(n)
    means = []
    variances = []
    for lab in labels:
        s = setting_index(lab.replace("I", "Z"))
        mask = int("".join("0" if ch == "I" else "1" for ch in lab), 2)
        weight = lab.count("I")
        shrink = (1.0 - 2.0 * readout_error) ** (n - weight)
        p = probs[s] / probs[s].sum()
        plus = float(np.dot(p, (1 + h[:, mask]) / 2))
        k = rng.binomial(shots, min(1.0, max(0.0, plus)))
        parity = (2.0 * k / shots - 1.0) / shrink
        means.append(stab[lab] * parity)
        p_hat = k / shots
        variances.append(4.0 * max(p_hat * (1 - p_hat), 1.0 / shots) / shots / shrink**2)
    vals = np.array(means)
    d = 2**n
    if settings is None:
        f = (1.0 + vals.sum()) / d
        se = math.sqrt(float(np.sum(variances))) / d
    else:
        # F = 1/d + (d - 1)/d * E_S[sign <S>]: sample mean over drawn stabilizers
        m = float(vals.mean())
        f = 1.0 / d + (d - 1) / d * m
        spread = float(vals.var(ddof=1)) if vals.size > 1 else 1.0
        se = (d - 1) / d * math.sqrt(spread / vals.size)
    f = float(f)
    return FidelityEstimate(f, se, f - z * se, f + z * se, tuple(labels))
