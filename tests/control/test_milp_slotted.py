import numpy as np
import pytest

from qnetai.control.milp import brute_force_optimum, solve_milp
from qnetai.control.slotted import SlottedNetwork, expected_pairs, sample_requests, waxman_network
from qnetai.plugins import slot_policy


def get_slot_policy(name, **options):
    return slot_policy(name, options=options)


def test_milp_at_least_every_heuristic_on_a_candidate_set_holding_their_paths():
    net = waxman_network(40, seed=11)
    reqs = sample_requests(net, 8, np.random.default_rng(4))
    allocs = {
        m: get_slot_policy(m, **({"budget": 30} if m in ("sa", "de") else {})).allocate(
            net, reqs, rng=np.random.default_rng(0)
        )
        for m in ("shortest-path", "widest-path", "q-cast", "sa", "de")
    }
    extra = sorted(
        {(int(r), p) for a in allocs.values() for r, p in zip(a.request, a.paths, strict=True)}
    )
    opt = solve_milp(net, reqs, k=3, extra=extra)
    assert opt.optimal
    assert expected_pairs(net, opt.allocation).sum() == pytest.approx(opt.objective, rel=1e-9)
    for name, a in allocs.items():
        assert opt.objective >= expected_pairs(net, a).sum() - 1e-7, name


def test_milp_policy_not_below_qcast():
    net = waxman_network(50, seed=0)
    reqs = sample_requests(net, 10, np.random.default_rng(1))
    qc = expected_pairs(net, get_slot_policy("q-cast").allocate(net, reqs)).sum()
    assert expected_pairs(net, get_slot_policy("milp").allocate(net, reqs)).sum() >= qc - 1e-7


def _tiny() -> SlottedNetwork:
    # a 5-node network with a bottleneck node 2 (3 qubits)
    edges = np.array([[0, 1], [0, 2], [1, 3], [2, 3], [2, 4], [3, 4]])
    return SlottedNetwork(
        positions_km=np.zeros((5, 2)),
        edges=edges,
        length_km=np.ones(6),
        p_link=np.array([0.6, 0.8, 0.5, 0.7, 0.9, 0.4]),
        channels=np.array([2, 2, 1, 2, 2, 1]),
        capacity=np.array([3, 2, 3, 4, 3]),
        q_swap=0.9,
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_milp_equals_brute_force_on_tiny_instance(seed):
    net = _tiny()
    reqs = sample_requests(net, 2, np.random.default_rng(seed))
    assert solve_milp(net, reqs, k=2).objective == pytest.approx(
        brute_force_optimum(net, reqs, k=2), abs=1e-7
    )
