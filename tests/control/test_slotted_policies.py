import numpy as np
import pytest

from qnetai.control.slotted import (
    expected_pairs,
    is_feasible,
    sample_requests,
    usage,
    waxman_network,
)
from qnetai.errors import InputError
from qnetai.plugins import available_slot_policies, slot_policy


def get_slot_policy(name, **options):
    return slot_policy(name, options=options)


FAST = {
    "shortest-path": {},
    "widest-path": {},
    "q-cast": {},
    "milp": {"k": 3},
    "sa": {"budget": 40},
    "de": {"budget": 30},
    "cma": {"budget": 20},
}


@pytest.mark.parametrize("seed", range(4))
def test_no_policy_violates_capacity(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(15, 40))
    net = waxman_network(
        n, seed=seed, capacity=(4, 9), channels=(1, 5), avg_degree=float(rng.uniform(3, 6))
    )
    reqs = sample_requests(net, int(rng.integers(3, 9)), rng)
    for name, opts in FAST.items():
        alloc = get_slot_policy(name, **opts).allocate(net, reqs, rng=np.random.default_rng(0))
        assert is_feasible(net, alloc), name
        edge_used, node_used = usage(net, alloc)
        assert np.all(edge_used <= net.channels) and np.all(node_used <= net.capacity)
        assert alloc.decision_time_s > 0
        for r, p in zip(alloc.request, alloc.paths, strict=True):
            assert (p[0], p[-1]) == tuple(reqs[r])


def test_warm_started_metaheuristics_never_below_qcast():
    net = waxman_network(40, seed=3)
    reqs = sample_requests(net, 8, np.random.default_rng(2))
    qc = expected_pairs(net, get_slot_policy("q-cast").allocate(net, reqs)).sum()
    for name in ("sa", "de"):
        got = get_slot_policy(name, budget=30).allocate(net, reqs, rng=np.random.default_rng(1))
        assert expected_pairs(net, got).sum() >= qc - 1e-9


def test_registry_names_and_errors():
    names = available_slot_policies()
    for n in ("shortest-path", "widest-path", "q-cast", "milp", "ga", "pso", "de", "sa", "cma"):
        assert n in names
    with pytest.raises(InputError, match=r"method must be one of.*unknown policy 'nope'"):
        get_slot_policy("nope")
    with pytest.raises(InputError, match="model"):
        get_slot_policy("rl:/no/such/model.zip")
