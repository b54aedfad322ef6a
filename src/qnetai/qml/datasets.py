"""Binary classification tasks: Bowles et al. style generators and quantum-network tasks.

Standard (ideas of XanaduAI/qml-benchmarks, re-implemented with a ``numpy.random.Generator``):
``linearly-separable``, ``hidden-manifold``, ``two-curves``, ``bars-and-stripes`` (noisy
images, bars vs stripes), ``hyperplanes`` (parity of the sides of random hyperplanes) and
scikit-learn's bundled ``breast-cancer``.
Network tasks, from this project's simulators:

* ``entanglement``: is a delivered two-qubit Bell-diagonal state entangled? Features are the
  finite-shot estimates of ``<XX>, <YY>, <ZZ>`` (``shots`` per basis). Exact rule:
  entangled iff the largest Bell weight exceeds 1/2.
* ``link-noise``: which channel acted on one half of ``Phi+``, depolarising or amplitude
  damping? Features: finite-shot ``<XX>, <YY>, <ZZ>, <ZI>, <IZ>``.
* ``qkd-eavesdropper``: is a QKD block attacked? Per-block telemetry of
  :mod:`qnetai.ai.security.datasets` (all attack families, stealthy strengths included);
  rows of one link share a ``group`` so cross-validation keeps links apart.

Every generator returns ``Task(X, y, groups)`` with ``y`` in ``{0, 1}``.

Example:
    >>> t = make_task("two-curves", 40, n_features=3, rng=np.random.default_rng(0))
    >>> t.X.shape, sorted(set(t.y.tolist()))
    ((40, 3), [0, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError

__all__ = [
    "NETWORK_TASKS",
    "STANDARD_TASKS",
    "TASKS",
    "Task",
    "hyperplane_parity",
    "hyperplanes",
    "hyperplanes_latent",
    "make_task",
]


@dataclass(frozen=True)
class Task:
    """A labelled data set; ``groups`` (or ``None``) keeps related rows in one fold."""

    X: NDArray[np.float64]
    y: NDArray[np.int64]
    groups: NDArray[np.int64] | None = None


def linearly_separable(
    n_samples: int, n_features: int, *, rng: np.random.Generator, margin: float = 0.02
) -> Task:
    """Uniform points in ``[-1, 1]^d`` labelled by a random hyperplane, a margin removed."""
    w = rng.normal(size=n_features)
    w /= np.linalg.norm(w)
    X = np.zeros((0, n_features))
    while len(X) < n_samples:
        cand = rng.uniform(-1, 1, (2 * n_samples, n_features))
        X = np.concatenate([X, cand[np.abs(cand @ w) > margin]])
    X = X[:n_samples]
    return Task(X, (X @ w > 0).astype(np.int64))


def hidden_manifold(
    n_samples: int, n_features: int, *, rng: np.random.Generator, manifold_dim: int = 2
) -> Task:
    """Goldt et al. 2020: ``x = tanh(F z / sqrt m)``, label from a random network of ``z``.

    The label threshold is the median score, so classes are balanced.
    """
    m = manifold_dim
    z = rng.normal(size=(n_samples, m))
    F = rng.normal(size=(m, n_features))
    X = np.tanh(z @ F / np.sqrt(m))
    W, v = rng.normal(size=(m, m)), rng.normal(size=m)
    score = np.tanh(z @ W / np.sqrt(m)) @ v
    return Task(X, (score > np.median(score)).astype(np.int64))


def two_curves(
    n_samples: int,
    n_features: int,
    *,
    rng: np.random.Generator,
    degree: int = 3,
    offset: float = 0.1,
    noise: float = 0.01,
) -> Task:
    """Two 1-D curves (random Fourier series of ``degree``) in ``d`` dims, ``offset`` apart."""
    t = rng.uniform(0, 1, n_samples)
    k = np.arange(1, degree + 1)
    a, b = rng.normal(size=(2, n_features, degree)) / k
    curve = (np.cos(2 * np.pi * t[:, None, None] * k) * a).sum(-1)
    curve += (np.sin(2 * np.pi * t[:, None, None] * k) * b).sum(-1)
    y = rng.integers(0, 2, n_samples)
    shift = rng.normal(size=n_features)
    shift *= offset / np.linalg.norm(shift)
    X = curve + y[:, None] * shift + rng.normal(0, noise, (n_samples, n_features))
    return Task(X, y.astype(np.int64))


def noisy_bars_and_stripes(
    n_samples: int, n_features: int, *, rng: np.random.Generator, noise: float = 0.5
) -> Task:
    """Images of ``n_features`` pixels (``s x s``): bars (1) or stripes (0).

    Pixels are +-1 plus Gaussian ``noise``.
    """
    s = round(float(np.sqrt(n_features)))
    if s * s != n_features:
        raise InputError(f"bars-and-stripes needs a square number of features (got {n_features})")
    y = rng.integers(0, 2, n_samples)
    X = np.empty((n_samples, s, s))
    for i in range(n_samples):
        line = rng.choice([-1.0, 1.0], size=s)
        X[i] = line[:, None] * np.ones(s) if y[i] else np.ones(s)[:, None] * line
    X = X.reshape(n_samples, -1) + rng.normal(0, noise, (n_samples, n_features))
    return Task(X, y.astype(np.int64))


def hyperplane_parity(
    z: NDArray[np.float64], weights: NDArray[np.float64], biases: NDArray[np.float64]
) -> NDArray[np.int64]:
    """1 where an even number of hyperplanes ``w.z + b > 0`` hold, else 0 (Bowles et al.)."""
    return ((z @ weights.T + biases > 0).sum(axis=1) % 2 == 0).astype(np.int64)


def hyperplanes_latent(
    n_samples: int,
    n_features: int,
    *,
    rng: np.random.Generator,
    n_hyperplanes: int = 2,
    dim_hyperplanes: int = 3,
) -> tuple[Task, dict[str, NDArray[np.float64]]]:
    """``hyperplanes`` with its hidden parts: latent points ``z``, ``weights``, ``biases``.

    ``dim_hyperplanes`` is capped at ``n_features``. Returns the task and a dict of the
    latent points, the hyperplanes and the embedding matrix.
    """
    k = min(dim_hyperplanes, n_features)
    if n_hyperplanes < 1:
        raise InputError(f"n_hyperplanes must be >= 1 (got {n_hyperplanes})")
    weights = rng.uniform(size=(n_hyperplanes, k))
    biases = rng.uniform(size=n_hyperplanes)
    half = n_samples // 2
    even, odd = np.zeros((0, k)), np.zeros((0, k))
    for _ in range(200):  # rejection sampling until both classes have half the rows
        z = rng.normal(size=(4 * n_samples, k))
        lab = hyperplane_parity(z, weights, biases)
        even, odd = np.concatenate([even, z[lab == 1]]), np.concatenate([odd, z[lab == 0]])
        if len(even) >= n_samples - half and len(odd) >= half:
            break
    else:
        raise InputError("hyperplanes: one parity class is too rare; change the seed")
    z = np.concatenate([odd[:half], even[: n_samples - half]])
    y = np.concatenate([np.zeros(half, np.int64), np.ones(n_samples - half, np.int64)])
    order = rng.permutation(n_samples)
    z, y = z[order], y[order]
    embed = rng.uniform(size=(k, n_features))
    X = z @ embed
    X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    latent = {"z": z, "weights": weights, "biases": biases, "embed": embed}
    return Task(X, y), latent


def hyperplanes(
    n_samples: int,
    n_features: int,
    *,
    rng: np.random.Generator,
    n_hyperplanes: int = 2,
    dim_hyperplanes: int = 3,
) -> Task:
    """Bowles et al.'s "hyperplanes and parity", re-implemented with a Generator.

    ``n_hyperplanes`` random hyperplanes (weights and biases uniform in [0, 1)) in a
    ``dim_hyperplanes``-dimensional space of Gaussian points; label 1 iff the point lies on
    the positive side of an even number of them; classes balanced by rejection; the points
    are embedded into ``n_features`` dimensions by a random uniform linear map and
    standardised.

    Example:
        >>> t = hyperplanes(10, 4, rng=np.random.default_rng(0))
        >>> t.X.shape, int(t.y.sum())
        ((10, 4), 5)
    """
    task, _ = hyperplanes_latent(
        n_samples,
        n_features,
        rng=rng,
        n_hyperplanes=n_hyperplanes,
        dim_hyperplanes=dim_hyperplanes,
    )
    return task


def breast_cancer(n_samples: int, n_features: int, *, rng: np.random.Generator) -> Task:
    """scikit-learn's bundled breast-cancer set, ``n_samples`` rows drawn without replacement.

    Its 30 columns are kept; the benchmark pipeline reduces them to ``n_features`` by PCA.
    """
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    idx = rng.choice(len(X), size=min(n_samples, len(X)), replace=False)
    return Task(np.asarray(X[idx], float), np.asarray(y[idx], np.int64))


def _estimate(expect: NDArray[np.float64], shots: int, rng: np.random.Generator) -> NDArray:
    """Mean of ``shots`` +-1 outcomes with mean ``expect`` (a measurement record)."""
    plus = rng.binomial(shots, np.clip((1 + expect) / 2, 0, 1))
    return np.asarray((2 * plus - shots) / shots, dtype=np.float64)


def entanglement(
    n_samples: int, n_features: int = 3, *, rng: np.random.Generator, shots: int = 100
) -> Task:
    """Bell-diagonal states (Dirichlet(1,1,1,1) weights): entangled iff max weight > 1/2."""
    from qnetai.physics.bell import bell_to_correlations

    p = rng.dirichlet(np.ones(4), size=n_samples)
    X = _estimate(bell_to_correlations(p), shots, rng)
    return Task(X, (p.max(axis=1) > 0.5).astype(np.int64))


def link_noise(
    n_samples: int, n_features: int = 5, *, rng: np.random.Generator, shots: int = 100
) -> Task:
    """Phi+ with one half through depolarising (0) or amplitude-damping (1) noise.

    Strengths: depolarising probability U(0, 0.4), damping gamma U(0, 0.6) (similar
    fidelity ranges). Features: ``<XX>, <YY>, <ZZ>, <ZI>, <IZ>`` from ``shots`` each.
    """
    from qnetai.physics.density import amplitude_damping_kraus, apply_kraus, depolarise_qubits

    paulis = {
        "X": np.array([[0, 1], [1, 0]], complex),
        "Y": np.array([[0, -1j], [1j, 0]]),
        "Z": np.diag([1.0 + 0j, -1.0]),
        "I": np.eye(2, dtype=complex),
    }
    observables = [np.kron(paulis[a], paulis[b]) for a, b in ("XX", "YY", "ZZ", "ZI", "IZ")]
    phi = np.zeros((4, 4), complex)
    phi[np.ix_([0, 3], [0, 3])] = 0.5
    y = rng.integers(0, 2, n_samples)
    exp = np.empty((n_samples, len(observables)))
    for i in range(n_samples):
        if y[i]:
            rho = apply_kraus(phi, amplitude_damping_kraus(float(rng.uniform(0, 0.6))), [1], 2)
        else:
            rho = depolarise_qubits(phi, 1.0 - float(rng.uniform(0, 0.4)), [1], 2)
        exp[i] = [np.trace(rho @ o).real for o in observables]
    return Task(_estimate(exp, shots, rng), y.astype(np.int64))


def qkd_eavesdropper(
    n_samples: int, n_features: int = 0, *, rng: np.random.Generator, block_pulses: int = 50_000
) -> Task:
    """Per-block QKD telemetry (all features); label: the block is attacked."""
    from qnetai.ai.security.datasets import DatasetOptions, make_dataset
    from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES

    blocks = 8
    opts = DatasetOptions(episode_blocks=blocks, block_pulses=block_pulses, attack_fraction=0.9)
    d = make_dataset(-(-n_samples // blocks), rng=rng, options=opts)
    X = np.stack([d[k] for k in TELEMETRY_FEATURE_NAMES], axis=1)[:n_samples]
    return Task(
        np.nan_to_num(X), d["attacked"][:n_samples].astype(np.int64), d["episode"][:n_samples]
    )


Generator = Callable[..., Task]
#: Standard tasks (Bowles et al. ideas and a bundled data set).
STANDARD_TASKS: dict[str, Generator] = {
    "linearly-separable": linearly_separable,
    "hidden-manifold": hidden_manifold,
    "two-curves": two_curves,
    "bars-and-stripes": noisy_bars_and_stripes,
    "hyperplanes": hyperplanes,
    "breast-cancer": breast_cancer,
}
#: Tasks from quantum networks (this project's simulators).
NETWORK_TASKS: dict[str, Generator] = {
    "entanglement": entanglement,
    "link-noise": link_noise,
    "qkd-eavesdropper": qkd_eavesdropper,
}
TASKS: dict[str, Generator] = {**STANDARD_TASKS, **NETWORK_TASKS}


def make_task(name: str, n_samples: int, *, n_features: int = 4, rng: np.random.Generator) -> Task:
    """Generate task ``name`` with ``n_samples`` rows.

    ``n_features`` applies where the task has a free dimension; network tasks have their own.
    """
    if name not in TASKS:
        raise InputError(f"task must be one of {sorted(TASKS)} (got {name!r})")
    if not 4 <= n_samples <= 100_000:
        raise InputError(f"n_samples must be in [4, 100000] (got {n_samples})")
    if not 1 <= n_features <= 64:
        raise InputError(f"n_features must be in [1, 64] (got {n_features})")
    return TASKS[name](n_samples, n_features, rng=rng)
