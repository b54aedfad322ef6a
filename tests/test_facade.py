"""The facade gives a library user what ``qnetai run`` produces; one source of link figures."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest

import qnetai
from qnetai.cli.main import main
from qnetai.config import builtin_scenario, dump_scenario
from qnetai.errors import InputError
from qnetai.results.writer import jsonable


def _short(name: str = "metro-6g", duration_s: float = 0.05):
    return builtin_scenario(name).model_copy(update={"duration_s": duration_s})


def test_run_scenario_matches_qnetai_run(tmp_path, capsys):
    sc = _short()
    f = tmp_path / "m.yaml"
    dump_scenario(sc, f)
    with pytest.raises(SystemExit) as info:
        main(["run", str(f), "--seed", "5", "--out", str(tmp_path / "r"), "--json", "--no-report"])
    assert info.value.code in (0, None)
    cli = json.loads(capsys.readouterr().out)

    run = qnetai.run_scenario(str(f), seed=5)
    lib = json.loads(json.dumps(jsonable(run.to_dict())))
    for doc in (lib, cli):  # wall-clock figures differ between any two runs
        doc["summary"].pop("wall_time_s")
        doc["qkd"]["summary"].pop("wall_time_s", None)
    for key in ("scenario", "seed", "links", "qkd", "summary"):
        assert lib[key] == cli[key], key
    for name, table in run.tables.items():
        written = pq.read_table(tmp_path / "r" / f"{name}.parquet")
        assert written.num_rows == table.num_rows, name
        assert written.column_names == table.column_names, name
        assert jsonable(written.to_pylist()) == jsonable(table.to_pylist()), name  # NaN-safe


def test_simulate_accepts_a_name_a_path_and_a_scenario(tmp_path):
    sc = _short()
    f = tmp_path / "m.yaml"
    dump_scenario(sc, f)
    by_path = qnetai.simulate(f, seed=2)
    by_obj = qnetai.simulate(sc, seed=2)
    assert by_path.deliveries.equals(by_obj.deliveries)
    assert qnetai.simulate("metro-6g", seed=2).summary["requests_total"] > 0
    with pytest.raises(InputError, match="seed"):
        qnetai.simulate(sc, seed=-1)


def test_run_result_feeds_the_report_and_the_writer(tmp_path):
    from qnetai.report import render_html
    from qnetai.results import read_run, write_run

    run = qnetai.run_scenario(_short(), seed=1)
    html = render_html(run)
    assert "QKD" in html or "qkd" in html
    out = write_run(run, tmp_path / "r", catalogue=False, report_html=html)
    view = read_run(out)
    assert view.qkd_summary == json.loads(json.dumps(jsonable(run.qkd_summary)))
    assert set(view.extra_tables) == set(run.extra_tables)


# -- section 5: one source of truth for link figures ---------------------------------------


def _odd_links_scenario():
    """Non-default classical speed and memory efficiency (the figures used to disagree)."""
    from qnetai.config import scenario_from_dict

    return scenario_from_dict(
        {
            "name": "odd",
            "duration_s": 0.05,
            "classical": {"speed_km_per_s": 5.0e4, "processing_delay_s": 1e-5},
            "nodes": [
                {"name": "A", "memory_qubits": 4, "memory": {"efficiency": 0.9}},
                {"name": "B", "memory_qubits": 4, "memory": {"efficiency": 0.8}},
                {"name": "C", "memory_qubits": 4},
            ],
            "links": [
                {"endpoints": ["A", "B"], "length_km": 25, "multiplexing": 3},
                {"endpoints": ["B", "C"], "length_km": 10},
                {"endpoints": ["A", "C"], "length_km": 60, "multiplexing": 2},
            ],
            "controller": {"routing": "q-cast"},
            "traffic": {"requests": [{"source": "A", "destination": "C", "count": 4}]},
        }
    )


def test_policy_scenario_show_and_engine_agree_on_link_figures():
    from qnetai.control.engine_policies import ExtPolicy, link_table
    from qnetai.sim import Simulation

    sc = _odd_links_scenario()
    policy = qnetai.routing_policy("q-cast")
    sim = Simulation(sc, seed=1, policy=policy)
    engine = {(lm.a, lm.b): lm for lm in sim.links}
    assert engine[("A", "B")].attempt_s == pytest.approx(25 / 5.0e4)  # not 25 / 2e5 (default)

    # the policy, inside the engine and outside it (from the scenario alone)
    inside = ExtPolicy().link_figures(sim.graph, sim)
    outside = link_table(sim.graph, SimpleNamespace(scenario=sc))
    # what `qnetai scenario show --json` prints
    shown = qnetai.describe_scenario(sc)["links_derived"]
    by_name = {row["link"]: row for row in shown}
    for (a, b), lm in engine.items():
        for figs in (inside, outside):
            f = figs[(a, b)]
            assert (f.p_success, f.multiplexing, f.attempt_s) == (
                lm.p_success,
                lm.multiplexing,
                lm.attempt_s,
            )
        row = by_name[lm.name]
        assert row["p_attempt"] == lm.p_success
        assert row["p_success_per_round"] == pytest.approx(lm.round_success, rel=1e-15)
        assert "p_success" not in row  # one meaning per name: p_success is per attempt
        assert row["attempt_s"] == lm.attempt_s
    # the engine's own table of link figures (links.parquet) agrees too
    for row in sim.result().links.to_pylist():
        assert by_name[row["link"]]["attempt_s"] == pytest.approx(row["attempt_s"])


def test_scenario_show_cli_reports_memory_efficiency(tmp_path, capsys):
    sc = _odd_links_scenario()
    f = tmp_path / "odd.yaml"
    dump_scenario(sc, f)
    with pytest.raises(SystemExit) as info:
        main(["scenario", "show", str(f), "--json"])
    assert info.value.code in (0, None)
    rows = {r["link"]: r for r in json.loads(capsys.readouterr().out)["links_derived"]}
    from qnetai.control.engine_policies import engine_link_models

    models = engine_link_models(sc)
    ab = models[("A", "B")]
    assert rows["A-B"]["p_attempt"] == pytest.approx(ab.p_success, rel=1e-12)
    assert rows["A-B"]["attempt_rate_hz"] == pytest.approx(1.0 / ab.attempt_s)
