import numpy as np
import pytest

from qnetai.control.metaheuristics import LocalSearchPolicy, _Packing
from qnetai.control.milp import brute_force_optimum, candidate_set, solve_milp
from qnetai.control.slotted import (
    Allocation,
    SlottedNetwork,
    expected_pairs,
    is_feasible,
    sample_requests,
    usage,
    waxman_network,
)
from qnetai.control.slotted_bench import run_benchmark
from qnetai.plugins import available_slot_policies, slot_policy


def get_slot_policy(name, **options):
    return slot_policy(name, options=options)


def _random_instance(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(12, 35))
    net = waxman_network(
        n, seed=seed, capacity=(3, 9), channels=(1, 5), avg_degree=float(rng.uniform(3, 6))
    )
    return net, sample_requests(net, int(rng.integers(2, 10)), rng)


def _ext(net, alloc) -> float:
    return float(expected_pairs(net, alloc).sum())


def test_registered():
    assert "ls" in available_slot_policies()
    assert isinstance(get_slot_policy("ls"), LocalSearchPolicy)


@pytest.mark.parametrize("seed", range(6))
def test_never_violates_capacity_and_serves_only_its_requests(seed):
    net, reqs = _random_instance(seed)
    alloc = get_slot_policy("ls", max_moves=300).allocate(
        net, reqs, rng=np.random.default_rng(seed)
    )
    assert is_feasible(net, alloc)
    edge_used, node_used = usage(net, alloc)
    assert np.all(edge_used <= net.channels) and np.all(node_used <= net.capacity)
    assert alloc.decision_time_s > 0
    for r, p in zip(alloc.request, alloc.paths, strict=True):
        assert (p[0], p[-1]) == tuple(reqs[r])


@pytest.mark.parametrize("seed", range(4))
def test_never_below_any_warm_start(seed):
    net, reqs = _random_instance(100 + seed)
    ls = get_slot_policy("ls", max_moves=200)
    got = _ext(net, ls.allocate(net, reqs, rng=np.random.default_rng(0)))
    warms = ls.warm_policies()
    assert [w.name for w in warms][:1] == ["q-cast"]
    for w in warms:
        assert got >= _ext(net, w.allocate(net, reqs)) - 1e-9, w.name


def test_deterministic_under_a_seed():
    net = waxman_network(40, seed=5)
    reqs = sample_requests(net, 8, np.random.default_rng(3))
    ls = get_slot_policy("ls", max_moves=400)
    a = ls.allocate(net, reqs, rng=np.random.default_rng(7))
    b = get_slot_policy("ls", max_moves=400).allocate(net, reqs, rng=np.random.default_rng(7))
    assert a.paths == b.paths
    assert np.array_equal(a.request, b.request) and np.array_equal(a.widths, b.widths)


def _tiny() -> SlottedNetwork:
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


@pytest.mark.parametrize("seed", range(5))
def test_reaches_brute_force_optimum_on_tiny_instance(seed):
    net = _tiny()
    reqs = sample_requests(net, 2 + seed % 2, np.random.default_rng(seed))
    ls = LocalSearchPolicy(k=2, warm=(), max_moves=500)
    got = _ext(net, ls.allocate(net, reqs, rng=np.random.default_rng(seed)))
    assert got == pytest.approx(brute_force_optimum(net, reqs, k=2), abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_reaches_milp_optimum_on_small_waxman(seed):
    net = waxman_network(15, seed=seed, capacity=(4, 8), channels=(1, 4))
    reqs = sample_requests(net, 4, np.random.default_rng(seed))
    ls = LocalSearchPolicy(k=3, warm=(), max_moves=1500)
    got = _ext(net, ls.allocate(net, reqs, rng=np.random.default_rng(seed)))
    assert got == pytest.approx(solve_milp(net, reqs, k=3).objective, abs=1e-7)


def test_packing_moves_keep_exact_residuals_and_value():
    net, reqs = _random_instance(7)
    cands = candidate_set(net, reqs, 3)
    pk = _Packing(net, cands)
    rng = np.random.default_rng(1)
    pk.fill(range(len(cands)), set())
    for _ in range(200):
        c = int(rng.integers(len(cands)))
        pk.journal.clear()
        before = (list(pk.w), pk.value)
        kept = pk.move([(c, int(rng.integers(len(pk.table[c]))))])
        if not kept:
            assert pk.w == before[0] and pk.value == pytest.approx(before[1], abs=1e-12)
        else:
            assert pk.value > before[1]
        items = [(r, p, w) for (r, p), w in zip(cands, pk.w, strict=True)]
        alloc = Allocation.from_list(items)
        assert is_feasible(net, alloc)
        assert pk.value == pytest.approx(_ext(net, alloc), abs=1e-9)
        edge_used, node_used = usage(net, alloc)
        free = np.concatenate([net.channels - edge_used, net.capacity - node_used])
        assert pk.free == free.tolist()


def test_bench_reports_gap_to_union_optimum():
    out = run_benchmark(nodes=20, requests=4, slots=2, seeds=[1], methods=["q-cast", "ls"])
    rows = {r["method"]: r for r in out["rows"]}
    for r in rows.values():
        assert r["gap_to_union_optimum"] >= -1e-6
        assert r["gap_to_union_optimum"] >= r["gap_to_milp"] - 1e-9
    assert rows["ls"]["expected_throughput"] >= rows["q-cast"]["expected_throughput"] - 1e-9


def test_ls_never_reads_a_learned_model(monkeypatch):
    """The classical baseline gives the same result whether or not model files exist."""
    from qnetai.control import model_files

    net, reqs = _random_instance(3)
    ls = get_slot_policy("ls", max_moves=200)
    assert [w.name for w in ls.warm_policies()] == ["q-cast"]
    a = ls.allocate(net, reqs, rng=np.random.default_rng(0))

    def no_models(*args, **kwargs):
        raise AssertionError("ls must not read model files")

    monkeypatch.setattr(model_files, "resolve_model", no_models)
    monkeypatch.setattr(model_files, "models_dir", lambda: "/nonexistent")
    b = get_slot_policy("ls", max_moves=200).allocate(net, reqs, rng=np.random.default_rng(0))
    assert a.paths == b.paths and np.array_equal(a.widths, b.widths)


def test_unknown_warm_start_is_an_error_not_skipped():
    from qnetai.errors import InputError

    with pytest.raises(InputError, match="rl:waxman-routing"):
        LocalSearchPolicy(warm=("rl:waxman-routing",)).warm_policies()


def test_learned_warm_started_variant_lives_in_ai():
    pytest.importorskip("gymnasium")
    from qnetai.ai.learned_slot import LearnedWarmLocalSearch

    pol = get_slot_policy("ls-rl", max_moves=100)
    assert isinstance(pol, LearnedWarmLocalSearch)
    assert [w.name for w in pol.warm_policies()] == ["q-cast", "rl:waxman-routing"]
    net, reqs = _random_instance(4)
    assert is_feasible(net, pol.allocate(net, reqs, rng=np.random.default_rng(0)))
