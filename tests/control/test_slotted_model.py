import numpy as np
import pytest

from qnetai.control.slotted import (
    Allocation,
    ext,
    ext_reference,
    jain_index,
    sample_requests,
    simulate_slot,
    waxman_network,
)
from qnetai.errors import InputError


@pytest.mark.parametrize(
    ("p", "w", "q"),
    [([0.5], [3], 0.9), ([0.6, 0.4, 0.8], [3, 5, 4], 0.9), ([0.3, 0.9], [7, 2], 0.75)],
)
def test_ext_recursion_equals_survival_form(p, w, q):
    assert ext_reference(p, w, q) == pytest.approx(
        float(ext(np.array(p), np.array(w), q)), rel=1e-12
    )


def test_ext_single_hop_is_binomial_mean():
    # one hop, no swap: E[Bin(W, p)]
    assert ext_reference([0.37], [5], 0.5) == pytest.approx(5 * 0.37)


def test_ext_width_one_is_product():
    p = [0.7, 0.5, 0.9, 0.6]
    assert ext_reference(p, [1] * 4, 0.8) == pytest.approx(np.prod(p) * 0.8**3)


def test_ext_matches_monte_carlo_of_the_slot():
    net = waxman_network(40, seed=5)
    rng = np.random.default_rng(0)
    s, d = sample_requests(net, 1, rng)[0]
    path = net.candidate_paths(int(s), int(d), 3)[-1]
    w = min(3, int(net.channels[net.path_edges(path)].min()))
    alloc = Allocation.from_list([(0, path, w)])
    n = 200_000
    pairs = simulate_slot(net, alloc, np.random.default_rng(1), samples=n)[:, 0]
    exact = net.path_ext(path)[w]
    assert exact == pytest.approx(
        ext_reference(net.p_link[net.path_edges(path)].tolist(), [w] * (len(path) - 1), net.q_swap)
    )
    sem = pairs.std() / np.sqrt(n)
    assert abs(pairs.mean() - exact) < 4 * sem


def test_independent_channel_level_monte_carlo():
    # channel-by-channel simulation: success matrix per hop, chains = min, each swap separately
    rng = np.random.default_rng(3)
    p = np.array([0.6, 0.45, 0.8])
    w, q, n = 4, 0.85, 100_000
    ok = rng.random((n, 3, w)) < p[None, :, None]
    chains = ok.sum(-1).min(-1)
    swaps = rng.random((n, w, 2)) < q
    delivered = (swaps.all(-1) & (np.arange(w)[None, :] < chains[:, None])).sum(-1)
    exact = ext_reference(p.tolist(), [w] * 3, q)
    assert abs(delivered.mean() - exact) < 4 * delivered.std() / np.sqrt(n)


def test_waxman_instance_is_seeded_and_qcast_like():
    a, b = waxman_network(50, seed=9), waxman_network(50, seed=9)
    assert np.array_equal(a.edges, b.edges) and np.array_equal(a.capacity, b.capacity)
    assert 4.5 < 2 * a.n_edges / a.n_nodes < 7.5
    assert a.p_link.mean() == pytest.approx(0.6, abs=1e-6)
    assert a.channels.min() >= 3 and a.channels.max() <= 7
    assert a.capacity.min() >= 10 and a.capacity.max() <= 14
    with pytest.raises(InputError, match="nodes"):
        waxman_network(2)


def test_requests_distinct_endpoints_and_jain():
    net = waxman_network(30, seed=1)
    r = sample_requests(net, 500, np.random.default_rng(0))
    assert np.all(r[:, 0] != r[:, 1]) and r.max() < 30
    assert jain_index(np.array([1.0, 1.0, 1.0])) == pytest.approx(1.0)
    assert jain_index(np.array([1.0, 0.0, 0.0, 0.0])) == pytest.approx(0.25)
