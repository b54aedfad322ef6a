"""Engine routing adapters: valid paths, exact choices, registry errors, engine and CLI runs."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import networkx as nx
import pytest

from qnetai.config import builtin_scenario
from qnetai.config.models import Scenario
from qnetai.control import path_is_valid
from qnetai.control.engine_policies import ExtPolicy, LinkFigures, WidestPathPolicy
from qnetai.control.slotted import ext_reference
from qnetai.errors import InputError
from qnetai.facade import routing_policy_of, simulate
from qnetai.plugins import available_routing_policies, routing_policy, slot_policy
from qnetai.sim import Simulation


def get_policy(name, **options):
    return routing_policy(name, options=options)


ENGINE_NAMES = ["shortest-path", "widest-path", "q-cast", "milp", "ga", "pso", "de", "sa", "cma"]


@pytest.fixture(scope="module")
def metro():
    sc = builtin_scenario("metro-6g")
    return Simulation(sc, seed=1, policy=routing_policy_of(sc))


@pytest.fixture(scope="module")
def waxman():
    sc = builtin_scenario("waxman-100").model_copy(update={"duration_s": 0.01})
    return Simulation(sc, seed=1, policy=routing_policy_of(sc))


def _pairs(sim, n=12):
    names = sim.node_names
    return [
        (names[i], names[(i * 7 + 3) % len(names)])
        for i in range(n)
        if names[i] != names[(i * 7 + 3) % len(names)]
    ]


def tiny_scenario(routing: str = "shortest-path") -> Scenario:
    """A diamond A-B-D / A-C-D plus a long direct A-D link, with a little traffic."""
    nodes = [{"name": n, "memory_qubits": 6} for n in "ABCD"]
    links = [
        {"endpoints": ["A", "B"], "length_km": 5, "multiplexing": 4},
        {"endpoints": ["B", "D"], "length_km": 5, "multiplexing": 4},
        {"endpoints": ["A", "C"], "length_km": 4, "multiplexing": 1},
        {"endpoints": ["C", "D"], "length_km": 4, "multiplexing": 1},
        {"endpoints": ["A", "D"], "length_km": 30, "multiplexing": 2},
    ]
    return Scenario.model_validate(
        {
            "name": "tiny",
            "seed": 3,
            "duration_s": 0.2,
            "nodes": nodes,
            "links": links,
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "D",
                        "count": 20,
                        "pairs_per_request": 1,
                        "arrival": {"process": "poisson", "rate_hz": 400.0},
                        "min_fidelity": 0.5,
                        "timeout_s": 0.02,
                    },
                    {
                        "source": "B",
                        "destination": "C",
                        "count": 10,
                        "arrival": {"process": "poisson", "rate_hz": 200.0},
                        "timeout_s": 0.02,
                    },
                ]
            },
            "controller": {"routing": routing},
        }
    )


def test_table_lists_every_name_and_slot_table_is_separate():
    names = available_routing_policies()
    for n in ENGINE_NAMES:
        assert n in names
    assert slot_policy("q-cast").name == "q-cast"  # the slotted model's table
    assert get_policy("milp").name == "milp"
    assert get_policy("widest-path", metric="length_km").name == "widest-path"


@pytest.mark.parametrize("name", ["shortest-path", "widest-path", "q-cast", "milp", "sa"])
def test_adapters_return_valid_paths(metro, waxman, name):
    for sim in (metro, waxman):
        pol = get_policy(name, metric="length_km")
        for s, d in _pairs(sim):
            path = pol.choose_path(sim.graph, s, d, state=sim)
            assert path_is_valid(sim.graph, path, s, d), (name, s, d, path)


def test_qcast_picks_the_max_ext_candidate_of_an_independent_computation(metro):
    """EXT by the paper's recursion on the engine's own link models (not the adapter's table)."""
    sim = metro
    pol = get_policy("q-cast", metric="hops", k=5)
    q = sim.scenario.operations.swap_success_probability
    by_edge = {(lm.a, lm.b): lm for lm in sim.links}
    by_edge.update({(lm.b, lm.a): lm for lm in sim.links})
    for s, d in _pairs(sim):
        cands = [list(p) for p in itertools.islice(nx.shortest_simple_paths(sim.graph, s, d), 5)]
        exts = []
        for p in cands:
            lms = [by_edge[e] for e in itertools.pairwise(p)]
            exts.append(
                ext_reference([lm.p_success for lm in lms], [lm.multiplexing for lm in lms], q)
            )
        best = max(exts)
        got = pol.choose_path(sim.graph, s, d, state=sim)
        assert got in cands
        assert math.isclose(exts[cands.index(got)], best, rel_tol=1e-9)
        assert len(got) == min(
            len(p) for p, e in zip(cands, exts, strict=True) if math.isclose(e, best, rel_tol=1e-9)
        )


def test_qcast_prefers_candidates_with_free_memory():
    g = nx.Graph()
    g.add_edge("A", "B", p_success=0.5, multiplexing=4, length_km=1.0)
    g.add_edge("B", "D", p_success=0.5, multiplexing=4, length_km=1.0)
    g.add_edge("A", "C", p_success=0.2, multiplexing=1, length_km=1.0)
    g.add_edge("C", "D", p_success=0.2, multiplexing=1, length_km=1.0)
    free = {"A": 5, "B": 5, "C": 5, "D": 5}
    state = SimpleNamespace(free_memory=free.__getitem__, queued_requests=0, now=0.0)
    pol = ExtPolicy()
    assert pol.choose_path(g, "A", "D", state=state) == ["A", "B", "D"]
    free["B"] = 1  # B cannot take a request's two qubits now
    assert pol.choose_path(g, "A", "D", state=state) == ["A", "C", "D"]


def _random_graph(seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    g = nx.gnm_random_graph(9, 16, seed=seed)
    g = nx.relabel_nodes(g, {i: f"n{i}" for i in g.nodes})
    for a, b in g.edges:
        g.edges[a, b].update(
            p_success=float(rng.choice([0.1, 0.3, 0.6])),
            multiplexing=int(rng.integers(1, 4)),
            length_km=float(rng.integers(1, 5)),
        )
    free = {v: int(rng.integers(0, 8)) for v in g.nodes}
    return g, free


@pytest.mark.parametrize("seed", range(6))
def test_widest_path_is_the_max_bottleneck_path_by_brute_force(seed):
    g, free = _random_graph(seed)
    state = SimpleNamespace(free_memory=free.__getitem__, queued_requests=0, now=0.0)
    pol = WidestPathPolicy("length_km")
    for s, d in [("n0", "n5"), ("n1", "n8"), ("n2", "n7"), ("n3", "n4")]:
        if not nx.has_path(g, s, d):
            assert pol.choose_path(g, s, d, state=state) is None
            continue

        def key(p, s=s, d=d):
            mem = min(free[v] // (1 if v in (s, d) else 2) for v in p)
            link = min(
                LinkFigures(
                    g.edges[a, b]["p_success"], g.edges[a, b]["multiplexing"], 1.0
                ).round_success
                for a, b in itertools.pairwise(p)
            )
            return mem, link

        paths = list(nx.all_simple_paths(g, s, d))
        best = max(key(p) for p in paths)
        shortest = min(nx.path_weight(g, p, "length_km") for p in paths if key(p) == best)
        got = pol.choose_path(g, s, d, state=state)
        assert path_is_valid(g, got, s, d)
        assert key(got) == best
        assert nx.path_weight(g, got, "length_km") == shortest


def test_unknown_names_raise_input_error_listing_the_available():
    with pytest.raises(InputError, match=r"controller\.routing.*q-cast.*widest-path.*'nope'"):
        get_policy("nope")
    with pytest.raises(
        InputError,
        match=r"controller\.routing: unknown learned policy "
        r"rl:nope \(available: .*rl:waxman-routing",
    ):
        get_policy("rl:nope")
    with pytest.raises(InputError, match="not a routing scorer"):
        get_policy("rl:chain-n3-short")
    with pytest.raises(InputError, match="k"):
        get_policy("q-cast", k=0)


@pytest.mark.parametrize("name", ENGINE_NAMES)
def test_engine_runs_with_every_policy(name):
    res = simulate(tiny_scenario(name), seed=2)
    s = res.summary
    assert s["requests_total"] == 30
    assert s["requests_served"] > 0
    for row in res.requests.to_pylist():
        if row["path"]:
            path = row["path"].split(">")
            assert path[0] == row["source"] and path[-1] == row["destination"]


def test_learned_policy_on_metro_waxman_and_in_the_engine(metro, waxman):
    pol = get_policy("rl:waxman-routing", metric="length_km")
    for sim in (metro, waxman):
        for s, d in _pairs(sim, 6):
            assert path_is_valid(sim.graph, pol.choose_path(sim.graph, s, d, state=sim), s, d)
    res = simulate(tiny_scenario("rl:waxman-routing"), seed=2)
    assert res.summary["requests_served"] > 0


def test_cli_run_with_unknown_policy_exits_2(tmp_path, capsys):
    from qnetai.cli.main import main
    from qnetai.config import dump_scenario

    f = tmp_path / "bad.yaml"
    dump_scenario(tiny_scenario("no-such-policy"), f)
    with pytest.raises(SystemExit) as exc:
        main(["run", str(f), "--out", str(tmp_path / "run"), "--json"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "controller.routing" in err and "no-such-policy" in err and "q-cast" in err
    assert not (tmp_path / "run" / "summary.json").exists()


def test_scenario_validate_rejects_an_unknown_routing_policy(tmp_path, capsys):
    import pytest

    from qnetai.cli.main import main
    from qnetai.config import builtin_scenario_text

    text = builtin_scenario_text("metro-6g")
    assert "routing: rl:waxman-routing" in text
    for bad, needle in (
        ("no-such-policy", "unknown policy 'no-such-policy'"),
        ("rl:no-such-model", "unknown learned policy rl:no-such-model"),
    ):
        path = tmp_path / f"{bad.replace(':', '_')}.yaml"
        path.write_text(text.replace("routing: rl:waxman-routing", f"routing: {bad}"))
        with pytest.raises(SystemExit) as exc:
            main(["scenario", "validate", str(path)])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert needle in err and "Traceback" not in err
    ok = tmp_path / "ok.yaml"
    ok.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["scenario", "validate", str(ok)])
    assert exc.value.code in (0, None)
