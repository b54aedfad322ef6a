"""Target states and the family of states a network delivers, and fidelity.

* :func:`bell_state`, :func:`ghz_state`, :func:`graph_state`: pure targets (density matrices);
* :func:`network_pair`: a delivered pair: Bell-diagonal weights (Werner as the special case)
  followed by local amplitude damping, dephasing and a small frame misalignment per qubit;
* :func:`sample_network_pairs`: random draws of that family (the neural estimator's training
  distribution and the benchmark's test states);
* :func:`fidelity`: Uhlmann fidelity ``(tr sqrt(sqrt(rho) sigma sqrt(rho)))**2``.

Example:
    >>> round(fidelity(ghz_state(3), ghz_state(3)), 6)
    1.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from qnetai.errors import InputError
from qnetai.physics.bell import bell_to_density, validate_bell
from qnetai.physics.density import (
    amplitude_damping_kraus,
    apply_kraus,
    apply_unitary,
    phase_damping_kraus,
)
from qnetai.tomography._pauli import check_qubits

_Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)


def _pure(psi: NDArray[np.complex128]) -> NDArray[np.complex128]:
    return np.outer(psi, psi.conj())


def bell_state() -> NDArray[np.complex128]:
    """``|Phi+><Phi+|``, ``(4, 4)``."""
    return ghz_state(2)


def ghz_state(n: int) -> NDArray[np.complex128]:
    """``(|0...0> + |1...1>)/sqrt 2`` on ``n`` qubits as a density matrix.

    Example:
        >>> round(float(ghz_state(2)[0, 3].real), 6)
        0.5
    """
    check_qubits(n)
    psi = np.zeros(2**n, dtype=np.complex128)
    psi[0] = psi[-1] = 1.0 / np.sqrt(2.0)
    return _pure(psi)


def graph_state(n: int, edges: Sequence[tuple[int, int]] | None = None) -> NDArray[np.complex128]:
    """Graph state ``prod_{(a,b)} CZ_ab |+>^n`` (default: the path ``0-1-...-n-1``).

    Example:
        >>> rho = graph_state(2)            # CZ |++>: equivalent to a Bell pair
        >>> round(float(np.trace(rho @ rho).real), 6)
        1.0
    """
    check_qubits(n)
    if edges is None:
        edges = [(i, i + 1) for i in range(n - 1)]
    psi = np.full(2**n, 2 ** (-n / 2), dtype=np.complex128)
    bits = (np.arange(2**n)[:, None] >> np.arange(n - 1, -1, -1)[None, :]) & 1
    for a, b in edges:
        if not (0 <= a < n and 0 <= b < n) or a == b:
            raise InputError(f"graph edge ({a}, {b}) must join two distinct qubits of {n}")
        psi = psi * np.where(bits[:, a] & bits[:, b], -1.0, 1.0)
    return _pure(psi)


def target_state(name: str, n: int) -> NDArray[np.complex128]:
    """A named target: ``bell`` (n = 2), ``ghz`` or ``graph`` (path graph)."""
    if name == "bell":
        if n != 2:
            raise InputError(f"state 'bell' has 2 qubits (got n_qubits={n})")
        return bell_state()
    if name == "ghz":
        return ghz_state(n)
    if name == "graph":
        return graph_state(n)
    raise InputError(f"state must be one of bell, ghz, graph (got {name!r})")


def _rz(theta: float) -> NDArray[np.complex128]:
    return np.diag([np.exp(-0.5j * theta), np.exp(0.5j * theta)])


def network_pair(
    bell_weights: ArrayLike,
    *,
    damping: tuple[float, float] = (0.0, 0.0),
    dephasing: tuple[float, float] = (0.0, 0.0),
    rotation_rad: tuple[float, float] = (0.0, 0.0),
) -> NDArray[np.complex128]:
    """A delivered pair: Bell-diagonal ``bell_weights`` then local noise on each qubit.

    ``damping`` (decay probability) and ``dephasing`` (lost fraction of the off-diagonal
    terms) are per qubit 0 and 1; ``rotation_rad`` a Z-rotation per qubit (frame misalignment).

    Example:
        >>> from qnetai.physics.bell import werner
        >>> rho = network_pair(werner(0.9))
        >>> round(fidelity(bell_state(), rho), 6)
        0.9
    """
    rho = bell_to_density(validate_bell(bell_weights))
    for q in range(2):
        if damping[q]:
            rho = apply_kraus(rho, amplitude_damping_kraus(damping[q]), [q], 2)
        if dephasing[q]:
            rho = apply_kraus(rho, phase_damping_kraus(1.0 - dephasing[q]), [q], 2)
        if rotation_rad[q]:
            rho = apply_unitary(rho, _rz(rotation_rad[q]), [q], 2)
    return np.asarray(rho, dtype=np.complex128)


def sample_network_pairs(
    count: int,
    rng: np.random.Generator,
    *,
    fidelity_range: tuple[float, float] = (0.5, 1.0),
    max_damping: float = 0.1,
    max_dephasing: float = 0.1,
    max_rotation_rad: float = 0.2,
) -> NDArray[np.complex128]:
    """``count`` random delivered pairs ``(count, 4, 4)``.

    Half are Werner states, half Bell-diagonal with the non-``Phi+`` weight split by a flat
    Dirichlet; the ``Phi+`` weight is uniform in ``fidelity_range``; each qubit then gets
    uniform amplitude damping, dephasing and a Z rotation up to the given maxima.
    """
    lo, hi = fidelity_range
    if not 0.0 <= lo <= hi <= 1.0:
        raise InputError(f"fidelity_range must satisfy 0 <= lo <= hi <= 1 (got {fidelity_range})")
    f = rng.uniform(lo, hi, size=count)
    split = rng.dirichlet(np.ones(3), size=count)
    werner_split = rng.random(count) < 0.5
    split[werner_split] = 1.0 / 3.0
    weights = np.concatenate([f[:, None], (1.0 - f)[:, None] * split], axis=1)
    out = np.empty((count, 4, 4), dtype=np.complex128)
    for i in range(count):
        g = rng.uniform(0.0, max_damping, 2)
        z = rng.uniform(0.0, max_dephasing, 2)
        r = rng.uniform(-max_rotation_rad, max_rotation_rad, 2)
        out[i] = network_pair(
            weights[i],
            damping=(float(g[0]), float(g[1])),
            dephasing=(float(z[0]), float(z[1])),
            rotation_rad=(float(r[0]), float(r[1])),
        )
    return out


def _psd_sqrt(rho: NDArray[np.complex128]) -> NDArray[np.complex128]:
    w, v = np.linalg.eigh(rho)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.conj().T


def fidelity(rho: ArrayLike, sigma: ArrayLike) -> float:
    """Uhlmann fidelity ``(tr sqrt(sqrt(rho) sigma sqrt(rho)))**2`` of two density matrices.

    Example:
        >>> round(fidelity(np.eye(4) / 4, bell_state()), 6)
        0.25
    """
    a = np.asarray(rho, dtype=np.complex128)
    b = np.asarray(sigma, dtype=np.complex128)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"fidelity needs two square matrices of one shape ({a.shape}, {b.shape})")
    s = _psd_sqrt(a)
    m = s @ b @ s
    w = np.linalg.eigvalsh((m + m.conj().T) / 2)
    return float(min(1.0, np.sum(np.sqrt(np.clip(w, 0.0, None))) ** 2))
