"""Born machine, its classical counterpart, and the task generators."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pytest.importorskip("pennylane")

from qnetai.qml.born import (
    BornMachine,
    bars_and_stripes,
    bits_to_index,
    empirical_distribution,
    kl_divergence,
    rbm_probabilities,
    total_variation,
)
from qnetai.qml.datasets import TASKS, make_task


def test_bars_and_stripes_count_and_shape() -> None:
    for r, c in ((2, 2), (2, 3), (3, 3)):
        X = bars_and_stripes(r, c)
        assert len(X) == 2**r + 2**c - 2 and X.shape[1] == r * c
        assert len(np.unique(bits_to_index(X))) == len(X)


def test_born_machine_distribution_reproducible_and_product_without_entanglement() -> None:
    X = bars_and_stripes(2, 2)
    a = BornMachine(n_layers=2, max_steps=10, random_state=0).fit(X)
    b = BornMachine(n_layers=2, max_steps=10, random_state=0).fit(X)
    assert np.array_equal(a.probabilities(), b.probabilities())
    assert a.probabilities().sum() == pytest.approx(1.0)
    assert a.loss_curve_[-1] < a.loss_curve_[0]
    p = BornMachine(n_layers=3, max_steps=5, entangling=False, random_state=0).fit(X)
    q = p.probabilities().reshape(2, 2, 2, 2)
    marginals = [q.sum(axis=tuple(j for j in range(4) if j != i)) for i in range(4)]
    product = np.einsum("a,b,c,d->abcd", *marginals)
    assert np.allclose(q, product, atol=1e-12)
    s = a.sample(50, rng=np.random.default_rng(0))
    assert s.shape == (50, 4) and a.score(X) < 0


def test_rbm_probabilities_match_brute_force_energy() -> None:
    from sklearn.neural_network import BernoulliRBM

    X = bars_and_stripes(2, 2)
    rbm = BernoulliRBM(n_components=3, n_iter=5, random_state=0).fit(X)
    p = rbm_probabilities(rbm)
    W, b, c = rbm.components_, rbm.intercept_visible_, rbm.intercept_hidden_
    # sum over hidden units explicitly, an independent calculation
    unnorm = []
    for v in itertools.product((0, 1), repeat=4):
        v = np.array(v)
        unnorm.append(
            sum(
                np.exp(v @ b + np.array(h) @ c + np.array(h) @ W @ v)
                for h in itertools.product((0, 1), repeat=3)
            )
        )
    assert np.allclose(p, np.array(unnorm) / sum(unnorm), atol=1e-12)


def test_boltzmann_baseline_learns_bars_and_stripes() -> None:
    from qnetai.qml.born import boltzmann_probabilities

    X = bars_and_stripes(2, 2)
    p, n_params = boltzmann_probabilities(X, steps=150)
    target = empirical_distribution(X)
    assert n_params == 10 and p.sum() == pytest.approx(1.0)
    assert total_variation(target, p) < total_variation(target, np.full(16, 1 / 16)) / 2


def test_distances() -> None:
    p = empirical_distribution(bars_and_stripes(2, 2))
    assert total_variation(p, p) == 0.0 and kl_divergence(p, p) == pytest.approx(0.0)
    assert kl_divergence(p, np.full(16, 1 / 16)) == pytest.approx(np.log(16 / 6))


@pytest.mark.parametrize("name", sorted(set(TASKS) - {"qkd-eavesdropper"}))
def test_tasks_reproducible_binary(name: str) -> None:
    a = make_task(name, 40, n_features=4, rng=np.random.default_rng(5))
    b = make_task(name, 40, n_features=4, rng=np.random.default_rng(5))
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert set(a.y.tolist()) == {0, 1} and np.isfinite(a.X).all()


def test_entanglement_labels_follow_the_ppt_rule_with_many_shots() -> None:
    """With many shots, |c_xx| + |c_yy| + |c_zz| > 1 iff entangled (Horodecki 1996)."""
    from qnetai.qml.datasets import entanglement

    t = entanglement(400, rng=np.random.default_rng(0), shots=1_000_000)
    margin = np.abs(t.X).sum(axis=1) - 1
    clear = np.abs(margin) > 0.01
    assert np.array_equal((margin[clear] > 0).astype(int), t.y[clear])


def test_link_noise_amplitude_damping_shows_in_local_z() -> None:
    """Amplitude damping gamma on qubit B of Phi+ gives <IZ> = gamma and <ZI> = 0."""
    from qnetai.qml.datasets import link_noise

    t = link_noise(300, rng=np.random.default_rng(1), shots=1_000_000)
    assert np.abs(t.X[t.y == 0, 4]).max() < 0.01  # depolarising: no local bias
    assert t.X[t.y == 1, 4].mean() == pytest.approx(0.3, abs=0.05)  # gamma ~ U(0, 0.6)
    assert np.abs(t.X[:, 3]).max() < 0.01


def test_bad_task_is_an_input_error() -> None:
    from qnetai.errors import InputError

    with pytest.raises(InputError, match="task must be one of"):
        make_task("nope", 10, rng=np.random.default_rng(0))


def test_hyperplanes_label_is_parity_of_sides_and_classes_balance() -> None:
    """Label 1 iff an even number of ``w.z + b > 0`` hold (a per-point, per-plane loop)."""
    from qnetai.qml.datasets import hyperplanes_latent

    task, lat = hyperplanes_latent(
        201, 6, rng=np.random.default_rng(3), n_hyperplanes=3, dim_hyperplanes=3
    )
    z, w, b = lat["z"], lat["weights"], lat["biases"]
    expect = []
    for point in z:
        sides = sum(1 for wk, bk in zip(w, b, strict=True) if float(wk @ point) + bk > 0)
        expect.append(1 if sides % 2 == 0 else 0)
    assert task.y.tolist() == expect
    assert abs(int(task.y.sum()) - 100) <= 1  # balanced by rejection
    # X is a standardised linear image of z: z is recovered by least squares on [X, 1]
    A = np.hstack([task.X, np.ones((201, 1))])
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    assert np.allclose(A @ coef, z, atol=1e-8)
    assert np.allclose(task.X.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(task.X.std(axis=0), 1)
    assert np.linalg.matrix_rank(task.X - task.X.mean(axis=0)) == 3
