"""Loading, dumping and error messages of scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qnetai.config import (
    BUILTIN_SCENARIOS,
    Scenario,
    builtin_scenario,
    builtin_scenario_text,
    dump_scenario,
    load_scenario,
    scenario_from_dict,
    scenario_from_text,
    scenario_json_schema,
    scenario_to_yaml,
)
from qnetai.errors import InputError
from qnetai.topology import resolve

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "qnetai" / "data"

MINIMAL = {
    "name": "two",
    "nodes": [{"name": "A"}, {"name": "B"}],
    "links": [{"endpoints": ["A", "B"], "length_km": 20}],
    "traffic": {"requests": [{"source": "A", "destination": "B", "count": 5}]},
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return str(info.value)


# --- valid files -----------------------------------------------------------------------------


def test_yaml_and_json_give_the_same_scenario(tmp_path):
    from_yaml = load_scenario(write(tmp_path, "s.yaml", yaml.safe_dump(MINIMAL)))
    from_json = load_scenario(write(tmp_path, "s.json", json.dumps(MINIMAL)))
    assert from_yaml == from_json == Scenario.model_validate(MINIMAL)
    assert from_yaml.links[0].attenuation_db_per_km == 0.2


@pytest.mark.parametrize("name", list(BUILTIN_SCENARIOS))
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
@pytest.mark.parametrize("include_defaults", [False, True])
def test_round_trip_dump_load(tmp_path, name, suffix, include_defaults):
    original = builtin_scenario(name)
    path = tmp_path / f"out{suffix}"
    dump_scenario(original, path, include_defaults=include_defaults)
    assert load_scenario(path) == original


@pytest.mark.parametrize("name", list(BUILTIN_SCENARIOS))
def test_round_trip_of_resolved_scenarios(tmp_path, name):
    resolved = resolve(builtin_scenario(name))
    path = tmp_path / "resolved.yaml"
    dump_scenario(resolved, path)
    again = load_scenario(path)
    assert again == resolved
    assert resolve(again) == resolved


def test_scenario_to_yaml_leaves_defaults_out():
    text = scenario_to_yaml(scenario_from_dict(MINIMAL))
    assert "attenuation_db_per_km" not in text
    assert scenario_from_text(text) == scenario_from_dict(MINIMAL)


@pytest.mark.parametrize("name", list(BUILTIN_SCENARIOS))
def test_builtin_files_are_shipped_and_copied_to_scenarios_dir(name):
    text = builtin_scenario_text(name)
    assert text == (DATA / BUILTIN_SCENARIOS[name]).read_text()
    assert text == (REPO / "scenarios" / BUILTIN_SCENARIOS[name]).read_text()
    scenario = builtin_scenario(name)
    assert scenario.name == name
    assert scenario.description
    assert load_scenario(REPO / "scenarios" / BUILTIN_SCENARIOS[name]) == scenario


def test_load_scenario_falls_back_to_builtin_names():
    assert load_scenario("metro-6g") == builtin_scenario("metro-6g")


def test_unknown_builtin_lists_the_known_ones():
    with pytest.raises(InputError, match=r"unknown built-in scenario 'nope' .*metro-6g"):
        builtin_scenario("nope")


def test_topology_templates_may_omit_name_and_endpoints():
    s = scenario_from_dict(
        {
            "topology": {
                "builder": "ring",
                "nodes": 4,
                "node": {"memory_qubits": 7},
                "link": {"length_km": 3},
            }
        }
    )
    assert s.topology.node.memory_qubits == 7
    assert s.topology.link.length_km == 3


def test_json_schema_describes_the_scenario():
    schema = scenario_json_schema()
    json.dumps(schema)  # serialisable
    assert schema["title"] == "qnetai scenario"
    assert {"nodes", "links", "traffic", "topology", "seed"} <= set(schema["properties"])
    link = schema["$defs"]["LinkSpec"]["properties"]["length_km"]
    assert link["minimum"] == 0


# --- invalid files ---------------------------------------------------------------------------

BROKEN = """\
name: broken
nodes:
  - {name: A}
  - {name: B, kind: router}
links:
  - {endpoints: [A, B]}
  - {endpoints: [A, A]}
  - endpoints: [A, B]
    length_km: -3
    bogus: 1
duration_s: .inf
traffic:
  requests:
    - {source: A}
"""


def test_every_problem_is_listed_with_path_allowed_values_and_line(tmp_path):
    message = error_of(write(tmp_path, "broken.yaml", BROKEN))
    lines = message.splitlines()
    assert "broken.yaml" in lines[0] and "6 problems" in lines[0]
    assert (
        "  links[2].length_km: Input should be greater than or equal to 0 (got -3) "
        "(line 9, column 16)" in lines
    )
    assert any(
        line.startswith("  nodes[1].kind: Input should be 'end_user', 'repeater'")
        and "(got 'router')" in line
        and "line 4" in line
        for line in lines
    )
    assert any(
        line.startswith("  links[2].bogus: unknown field (allowed: endpoints, name, kind,")
        for line in lines
    )
    assert "  links[1]: endpoints must differ (got 'A' twice) (line 7, column 5)" in lines
    assert any(line.startswith("  duration_s: Input should be a finite number") for line in lines)
    assert any(
        line.startswith("  traffic.requests[0].destination: field required") for line in lines
    )


def test_json_file_errors_name_the_path(tmp_path):
    bad = json.loads(json.dumps(MINIMAL))
    bad["links"][0]["detector_efficiency"] = 1.5
    message = error_of(write(tmp_path, "bad.json", json.dumps(bad)))
    assert message == (
        f"invalid scenario {tmp_path / 'bad.json'}: links[0].detector_efficiency: "
        "Input should be less than or equal to 1 (got 1.5)"
    )


def test_memory_model_validator_message(tmp_path):
    bad = {"nodes": [{"name": "A", "memory": {"t1_s": 1.0, "t2_s": 3.0}}]}
    message = error_of(write(tmp_path, "m.yaml", yaml.safe_dump(bad)))
    assert "nodes[0].memory: t2_s=3.0 > 2*t1_s=2.0 is unphysical" in message


def test_many_problems_are_capped(tmp_path):
    bad = {"nodes": [{"name": f"n{i}", "memory_qubits": -1} for i in range(40)]}
    message = error_of(write(tmp_path, "many.yaml", yaml.safe_dump(bad)))
    assert "40 problems" in message
    assert "... and 15 more" in message


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    path = write(tmp_path, "syntax.yaml", "name: x\nnodes: [\n  {name: A\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4:1: YAML syntax error:")


def test_json_syntax_error_has_line_and_column(tmp_path):
    path = write(tmp_path, "syntax.json", '{"name": "x",\n "nodes": [}')
    assert error_of(path) == f"{path}:2:12: JSON syntax error: Expecting value"


def test_duplicate_yaml_keys_are_refused(tmp_path):
    path = write(tmp_path, "dup.yaml", "name: x\nseed: 1\nname: y\n")
    assert "line 3, column 1: duplicate key 'name' (first at line 1)" in error_of(path)


def test_yaml_merge_keys_still_work(tmp_path):
    text = (
        "nodes: [{name: A}, {name: B}, {name: C}]\n"
        "links:\n"
        "  - &l {endpoints: [A, B], length_km: 7, multiplexing: 3}\n"
        "  - {<<: *l, endpoints: [B, C]}\n"
    )
    s = load_scenario(write(tmp_path, "merge.yaml", text))
    assert s.links[1].multiplexing == 3 and s.links[1].endpoints == ("B", "C")


def test_missing_file_and_directory(tmp_path):
    assert "no such file" in error_of(tmp_path / "nope.yaml")
    assert "is a directory" in error_of(tmp_path)


def test_top_level_must_be_a_mapping(tmp_path):
    message = error_of(write(tmp_path, "list.yaml", "- a\n- b\n"))
    assert "a scenario must be a mapping" in message and "(got list)" in message


@pytest.mark.parametrize("text", ["", "# only a comment\n\n# and another\n", "---\n"])
def test_empty_file_is_refused(tmp_path, text):
    message = error_of(write(tmp_path, "empty.yaml", text))
    assert "the scenario is empty" in message and "empty.yaml" in message


def test_scenario_from_dict_raises_input_error_without_file():
    with pytest.raises(InputError, match=r"^invalid scenario: seed: Input should be greater"):
        scenario_from_dict({"seed": -1})
