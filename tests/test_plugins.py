"""User policies: per call, by import path from a scenario file or ``--methods``, entry points.

No global registry: resolving with custom policies leaves later calls unaffected; a broken
plug-in is an InputError naming it (exit code 2 on the command line), never a fallback.
"""

from __future__ import annotations

import itertools
import json
import sys
from importlib import metadata
from pathlib import Path

import pytest

import qnetai
from qnetai.cli.main import main
from qnetai.config import scenario_from_dict
from qnetai.errors import InputError
from qnetai.plugins import (
    ROUTING_ENTRY_POINT_GROUP,
    available_routing_policies,
    available_slot_policies,
    check_routing_policy,
    routing_policy,
    slot_policy,
)

_ids = itertools.count()

PLUGIN_SOURCE = '''
from qnetai.control.policy import ShortestPathPolicy
from qnetai.control.slotted_policies import ShortestPathSlotPolicy

CALLS = []


class LongestFirst:
    """Routes every request on the direct link if there is one, else declines."""

    name = "direct"

    def __init__(self, metric="hops"):
        self.metric = metric

    def choose_path(self, graph, source, destination, *, state):
        CALLS.append((source, destination))
        return [source, destination] if graph.has_edge(source, destination) else None


class MySlot(ShortestPathSlotPolicy):
    name = "my-slot"


def factory():
    return ShortestPathPolicy("length_km")


class Broken:
    name = "broken"

    def __init__(self):
        raise RuntimeError("no licence for the solver")


class NotAPolicy:
    name = "nap"
'''

TINY = {
    "name": "plug",
    "duration_s": 0.5,
    "seed": 4,
    "nodes": [{"name": n, "memory_qubits": 4} for n in "ABC"],
    "links": [
        {"endpoints": ["A", "B"], "length_km": 5},
        {"endpoints": ["B", "C"], "length_km": 5},
    ],
    "traffic": {
        "requests": [
            {"source": "A", "destination": "B", "count": 5, "arrival": {"process": "at_once"}},
            {"source": "A", "destination": "C", "count": 5, "arrival": {"process": "at_once"}},
        ]
    },
}


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A fresh module (unique name) on sys.path holding the test policies."""
    name = f"qnetai_test_plugin_{next(_ids)}"
    (tmp_path / f"{name}.py").write_text(PLUGIN_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def _write(tmp_path: Path, routing: str) -> Path:
    import yaml

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({**TINY, "controller": {"routing": routing}}))
    return path


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_import_path_policy_runs_from_a_scenario_file(tmp_path, plugin, capsys):
    path = _write(tmp_path, f"{plugin}:LongestFirst")
    code, out, err = _run(["scenario", "validate", str(path), "--allow-plugins"], capsys)
    assert code in (0, None), err
    argv = ["run", str(path), "--out", str(tmp_path / "r"), "--json", "--allow-plugins"]
    code, out, err = _run(argv, capsys)
    assert code in (0, None), err
    doc = json.loads(out)
    assert doc["summary"]["requests_total"] == 10
    served = doc["summary"]["requests_served"]
    assert 0 < served <= 5  # only A-B has a direct link; A-C is declined by the plug-in
    assert sys.modules[plugin].CALLS  # the user's code made the decisions


def test_import_path_slot_policy_in_bench_routing(tmp_path, plugin, capsys):
    argv = ["bench", "routing", "--nodes", "15", "--requests", "3", "--slots", "2"]
    argv += ["--seeds", "0", "--no-milp", "--methods", f"q-cast,{plugin}:MySlot", "--json"]
    code, out, err = _run(argv, capsys)
    assert code in (0, None), err
    rows = {r["method"]: r for r in json.loads(out)["rows"]}
    assert rows[f"{plugin}:MySlot"]["samples"] == 2
    ref = slot_policy("shortest-path")
    assert ref.name == "shortest-path"


def test_a_scenario_file_cannot_import_code_without_consent(tmp_path, capsys, monkeypatch):
    """A scenario is data: naming a module must not run it unless the user says so."""
    marker = tmp_path / "imported"
    (tmp_path / "qnetai_test_side_effect.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nclass Policy:\n    name = 'p'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _write(tmp_path, "qnetai_test_side_effect:Policy")
    for argv in (
        ["scenario", "validate", str(path)],
        ["run", str(path), "--out", str(tmp_path / "r"), "--json"],
    ):
        code, _, err = _run(argv, capsys)
        assert code == 2 and "--allow-plugins" in err and "Traceback" not in err, err
        assert not marker.exists() and not (tmp_path / "r").exists()
    with pytest.raises(InputError, match="allow_plugins=True"):
        qnetai.run_scenario(str(path))
    assert not marker.exists()


@pytest.mark.parametrize(
    ("attr", "needle"),
    [
        ("Missing", "has no attribute 'Missing'"),
        ("Broken", "could not be built (RuntimeError: no licence for the solver)"),
        ("NotAPolicy", "without a choose_path(...) method"),
    ],
)
def test_broken_plugin_exits_2_naming_it(tmp_path, plugin, capsys, attr, needle):
    path = _write(tmp_path, f"{plugin}:{attr}")
    argv = ["run", str(path), "--out", str(tmp_path / "r"), "--json", "--allow-plugins"]
    code, _, err = _run(argv, capsys)
    assert code == 2 and f"{plugin}:{attr}" in err and needle in err, err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_unimportable_plugin_module_exits_2(tmp_path, capsys, monkeypatch):
    (tmp_path / "qnetai_test_raises.py").write_text("raise ImportError('needs gurobipy')\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # undone (and import caches invalidated) after
    path = _write(tmp_path, "qnetai_test_raises:Policy")
    code, _, err = _run(["scenario", "validate", str(path), "--allow-plugins"], capsys)
    assert code == 2 and "qnetai_test_raises:Policy" in err and "needs gurobipy" in err
    argv = ["bench", "routing", "--nodes", "15", "--slots", "1", "--no-milp"]
    code, _, err = _run([*argv, "--methods", "qnetai_test_raises:Policy", "--json"], capsys)
    assert code == 2 and "needs gurobipy" in err and "Traceback" not in err
    assert "qnetai_test_raises" not in sys.modules  # a failed import leaves nothing behind


def test_custom_policies_per_call_leave_later_calls_unaffected(plugin):
    mod = __import__(plugin)
    before_routing = available_routing_policies()
    before_slot = available_slot_policies()
    pol = routing_policy("mine", options={"metric": "hops"}, custom={"mine": mod.LongestFirst})
    assert pol.name == "direct" and pol.metric == "hops"
    # a custom name may shadow a built-in for that call only
    shadow = routing_policy("q-cast", custom={"q-cast": mod.factory})
    assert shadow.name == "shortest-path"
    assert slot_policy("mine", custom={"mine": mod.MySlot}).name == "my-slot"
    assert available_routing_policies() == before_routing
    assert available_slot_policies() == before_slot
    assert routing_policy("q-cast").name == "q-cast"
    with pytest.raises(InputError, match="unknown policy 'mine'"):
        routing_policy("mine")
    with pytest.raises(InputError, match="unknown policy 'mine'"):
        slot_policy("mine")


def test_instances_are_used_as_given_and_options_follow_the_signature(plugin):
    mod = __import__(plugin)
    obj = mod.LongestFirst("length_km")
    assert routing_policy("x", custom={"x": obj}) is obj
    # factory() takes no metric: it is built without it (not an error, not swallowed)
    assert routing_policy(f"{plugin}:factory", options={"metric": "hops"}).metric == "length_km"


def test_builtin_option_errors_are_reported_not_swallowed():
    with pytest.raises(InputError, match=r"policy 'shortest-path' cannot take options"):
        routing_policy("shortest-path", options={"metric": "hops", "k": 3})


def test_facade_runs_custom_policies_per_call(plugin):
    import qnetai

    mod = __import__(plugin)
    sc = scenario_from_dict({**TINY, "controller": {"routing": "mine"}})
    with pytest.raises(InputError, match="unknown policy 'mine'"):
        qnetai.check_runnable(sc)
    run = qnetai.run_scenario(sc, policies={"mine": mod.LongestFirst})
    assert 0 < run.summary["requests_served"] <= 5
    with pytest.raises(InputError, match="unknown policy 'mine'"):
        qnetai.run_scenario(sc)


def test_entry_point_group(plugin, monkeypatch):
    ep = metadata.EntryPoint(
        name="ep-direct", value=f"{plugin}:LongestFirst", group=ROUTING_ENTRY_POINT_GROUP
    )
    real = metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == ROUTING_ENTRY_POINT_GROUP:
            return metadata.EntryPoints([ep])
        return real(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    assert "ep-direct" in available_routing_policies()
    check_routing_policy("ep-direct")
    assert routing_policy("ep-direct").name == "direct"
    bad = metadata.EntryPoint(
        name="ep-bad", value=f"{plugin}:Nope", group=ROUTING_ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(
        metadata,
        "entry_points",
        lambda **kw: metadata.EntryPoints([bad]) if kw.get("group") else real(**kw),
    )
    with pytest.raises(InputError, match=r"plug-in 'ep-bad' \(entry point"):
        routing_policy("ep-bad")
