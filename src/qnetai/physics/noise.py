"""Memory decoherence of stored Bell pairs: depolarising decay and T1/T2 noise.

Conventions
-----------
* Depolarising memory with coherence time ``t_coh_s``: after ``dt_s`` the pair is
  ``e rho + (1 - e) I/4`` with ``e = exp(-dt_s / t_coh_s)``; the Werner parameter
  ``w = (4F - 1)/3`` decays as ``w exp(-dt_s / t_coh_s)``. This is the rate for
  the *pair* (both halves together), as used in repeater-chain analyses.
* T1/T2 (per qubit): amplitude damping ``|1> -> |0>`` with probability
  ``gamma = 1 - exp(-dt/T1)`` and coherences ``rho_01`` multiplied by
  ``exp(-dt/T2)`` in total. ``T2`` is the *total* dephasing time and includes
  the T1 contribution, so the extra pure-dephasing rate is ``1/T2 - 1/(2 T1)``
  and physics requires ``T2 <= 2 T1``. Only ``t1_s``: ``T2 = 2 T1``. Only
  ``t2_s``: pure dephasing, no energy relaxation.
* The T1/T2 channel is applied exactly to the density matrix and the result is
  twirled back to Bell-diagonal form. In correlation form (see
  :func:`~qnetai.physics.bell.bell_to_correlations`), with per-qubit coherence
  factors ``c_a, c_b`` and damping ``gamma_a, gamma_b``:
  ``<XX>, <YY> -> c_a c_b <XX>, c_a c_b <YY>`` and
  ``<ZZ> -> (1-gamma_a)(1-gamma_b) <ZZ> + gamma_a gamma_b``
  (the last term: both halves relaxed to ``|00>``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics._checks import non_negative, positive
from qnetai.physics.bell import bell_to_correlations, correlations_to_bell, validate_bell

Qubits = Literal["a", "b", "both"]


def _positive_or_none(name: str, value: ArrayLike | None) -> NDArray[np.float64] | None:
    return None if value is None else positive(name, value)


def decay_werner_parameter(
    w: ArrayLike, dt_s: ArrayLike, t_coh_s: ArrayLike | None
) -> NDArray[np.float64]:
    """Werner parameter after ``dt_s`` seconds in a depolarising memory: ``w exp(-dt/t_coh)``.

    ``t_coh_s=None`` (or ``inf``) means no decay.

    Example:
        >>> round(float(decay_werner_parameter(0.9, 1.0, 1.0)), 4)
        0.3311
    """
    w_arr = np.asarray(w, dtype=np.float64)
    dt = non_negative("dt_s", dt_s)
    t_coh = _positive_or_none("t_coh_s", t_coh_s)
    if t_coh is None:
        return w_arr * np.ones_like(dt)
    return w_arr * np.exp(-dt / t_coh)


def depolarise(p: ArrayLike, dt_s: ArrayLike, t_coh_s: ArrayLike | None) -> NDArray[np.float64]:
    """Bell-diagonal state after ``dt_s`` s of depolarising memory noise: ``e p + (1-e)/4``.

    ``e = exp(-dt_s / t_coh_s)``; ``t_coh_s=None`` (or ``inf``) means no decay.
    Arguments broadcast against the batch axes of ``p``.

    Example:
        >>> depolarise([1, 0, 0, 0], 1e-3, None).tolist()
        [1.0, 0.0, 0.0, 0.0]
    """
    arr = validate_bell(p)
    dt = non_negative("dt_s", dt_s)
    t_coh = _positive_or_none("t_coh_s", t_coh_s)
    if t_coh is None:
        return arr * np.ones_like(dt)[..., None]
    with np.errstate(over="ignore"):  # dt / t_coh overflowing to inf decays fully: e = 0
        e = np.exp(-dt / t_coh)[..., None]
    return e * arr + (1.0 - e) / 4.0


def t1_t2_factors(
    dt_s: ArrayLike, *, t1_s: ArrayLike | None = None, t2_s: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-qubit ``(gamma, coherence)`` after ``dt_s`` seconds of T1/T2 noise.

    ``gamma = 1 - exp(-dt/T1)`` is the amplitude-damping probability and
    ``coherence = exp(-dt/T2)`` the factor on ``rho_01`` (T2 total, including the
    T1 part; ``T2 = 2 T1`` if only ``t1_s`` is given). Raises :class:`InputError`
    if ``t2_s > 2 t1_s``.

    Example:
        >>> g, c = t1_t2_factors(1.0, t1_s=1.0)
        >>> round(float(g), 4), round(float(c), 4)
        (0.6321, 0.6065)
    """
    dt = non_negative("dt_s", dt_s)
    t1 = _positive_or_none("t1_s", t1_s)
    t2 = _positive_or_none("t2_s", t2_s)
    if t1 is not None and t2 is not None and np.any(t2 > 2.0 * t1 * (1 + 1e-12)):
        raise InputError(f"t2_s must be <= 2 * t1_s (got t2_s={t2_s!r}, t1_s={t1_s!r})")
    gamma = np.zeros_like(dt) if t1 is None else 1.0 - np.exp(-dt / t1)
    if t2 is not None:
        coherence = np.exp(-dt / t2)
    elif t1 is not None:
        coherence = np.exp(-dt / (2.0 * t1))
    else:
        coherence = np.ones_like(dt)
    gamma, coherence = np.broadcast_arrays(gamma, coherence)
    return gamma.astype(np.float64), coherence.astype(np.float64)


def t1_t2_noise(
    p: ArrayLike,
    dt_s: ArrayLike,
    *,
    t1_s: ArrayLike | None = None,
    t2_s: ArrayLike | None = None,
    qubits: Qubits = "both",
) -> NDArray[np.float64]:
    """Bell-diagonal state after ``dt_s`` s of T1/T2 noise on one or both halves of the pair.

    Exact on the density matrix, then twirled back to Bell-diagonal form (see the
    module docstring for the convention). ``qubits``: ``"a"``, ``"b"`` or ``"both"``.

    Example:
        >>> t1_t2_noise([1, 0, 0, 0], 1.0, t2_s=1.0, qubits="a").round(4).tolist()
        [0.6839, 0.0, 0.0, 0.3161]
    """
    if qubits not in ("a", "b", "both"):
        raise InputError(f"qubits must be 'a', 'b' or 'both' (got {qubits!r})")
    arr = validate_bell(p)
    gamma, coh = t1_t2_factors(dt_s, t1_s=t1_s, t2_s=t2_s)
    if qubits == "both":
        c_xy = coh * coh
        c_zz = (1.0 - gamma) ** 2
        offset = gamma * gamma
    else:
        c_xy, c_zz, offset = coh, 1.0 - gamma, np.zeros_like(gamma)
    corr = bell_to_correlations(arr)
    factors = np.stack([c_xy, c_xy, c_zz], axis=-1)
    new = corr * factors
    new[..., 2] += offset
    return correlations_to_bell(new)
