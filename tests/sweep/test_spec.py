"""Sweep files: validation errors name the field path; too-large sweeps are refused."""

from __future__ import annotations

import pytest
from sweep_helpers import tiny

from qnetai.errors import InputError
from qnetai.sweep import SweepPlan, check_sweep, load_sweep, set_path, sweep_from_dict


def _error(data) -> str:
    with pytest.raises(InputError) as exc:
        check_sweep(sweep_from_dict(data))
    return str(exc.value)


@pytest.mark.parametrize(
    ("over", "expected"),
    [
        (
            {"params": [{"path": "links[0].length_km", "low": 5, "high": 1}]},
            "params[0]: low must be < high",
        ),
        ({"params": [{"path": "links..x", "values": [1]}]}, "params[0]: path must be dotted"),
        ({"params": [{"path": "duration_s"}]}, "params[0]: give values, or low and high"),
        ({"seeds": 0}, "seeds: Input should be greater than or equal to 1"),
        (
            {"search": {"mode": "optuna", "samples": 3}},
            "search: an optuna search needs an objective",
        ),
        ({"search": {"mode": "random"}}, "search: a random search needs samples"),
        ({"stop": {"min_seeds": 5}}, "stop.min_seeds must be <= seeds"),
        ({"bogus": 1}, "bogus: unknown field"),
        ({"run": "fast"}, "run: Input should be 'full' or 'simulate'"),
    ],
)
def test_spec_errors_name_the_field(over, expected):
    assert expected in _error(tiny(**over))


def test_point_errors_name_the_scenario_field():
    msg = _error(tiny(params=[{"path": "links[*].length_km", "values": [10, -3]}]))
    assert "sweep point 1" in msg and "links[0].length_km" in msg and "-3" in msg
    msg = _error(tiny(params=[{"path": "links[7].length_km", "values": [1]}]))
    assert "no element [7]" in msg and "has 2" in msg
    msg = _error(tiny(params=[{"path": "nodes[0].no_such_field", "values": [1]}]))
    assert "nodes[0].no_such_field: unknown field" in msg


def test_too_large_sweeps_are_refused_before_anything_runs():
    big = [
        {"path": "nodes[0].memory_qubits", "values": list(range(1, 201))},
        {"path": "duration_s", "low": 0.01, "high": 1, "num": 100},
    ]
    with pytest.raises(InputError, match="sweep too large: 20,000 points"):
        SweepPlan(sweep_from_dict(tiny(params=big)))
    with pytest.raises(InputError, match="runs > 200,000"):
        SweepPlan(
            sweep_from_dict(
                tiny(seeds=10_000, params=[*big[:1], {"path": "duration_s", "values": [0.01]}])
            )
        )


def test_set_path_star_and_index():
    data = {"links": [{"a": 1}, {"a": 2}], "x": {"y": 0}}
    assert set_path(data, "links[1].a", 9)["links"] == [{"a": 1}, {"a": 9}]
    assert set_path(data, "links[*].a", 3)["links"] == [{"a": 3}, {"a": 3}]
    assert set_path(data, "x.y", 4)["x"] == {"y": 4}
    with pytest.raises(InputError, match="is not a mapping"):
        set_path(data, "links.a", 1)


def test_grid_values_and_random_points_are_reproducible():
    spec = sweep_from_dict(
        tiny(
            params=[
                {"path": "duration_s", "low": 0.01, "high": 0.04, "num": 4},
                {
                    "path": "nodes[0].memory_qubits",
                    "low": 2,
                    "high": 1000,
                    "num": 4,
                    "log": True,
                    "integer": True,
                },
            ]
        )
    )
    plan = SweepPlan(spec)
    values = {tuple(p.params.values()) for p in plan.points()}
    assert sorted({v[0] for v in values}) == pytest.approx([0.01, 0.02, 0.03, 0.04])
    assert {v[1] for v in values} == {2, 16, 126, 1000}  # geomspace, rounded
    rnd = sweep_from_dict(
        tiny(
            search={"mode": "random", "samples": 5},
            params=[{"path": "duration_s", "low": 0.01, "high": 0.02}],
        )
    )
    a, b = SweepPlan(rnd).points(), SweepPlan(rnd).points()
    assert [p.params for p in a] == [p.params for p in b]
    assert all(0.01 <= p.params["duration_s"] <= 0.02 for p in a)


def test_load_sweep_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("base: sequence-chain-3\nparams:\n  - {path: duration_s, values: [0.01]}\n")
    assert load_sweep(path).base == "sequence-chain-3"
    path.write_text("base: [unclosed\n")
    with pytest.raises(InputError, match="syntax error"):
        load_sweep(path)
    with pytest.raises(InputError, match="no such sweep file"):
        load_sweep(tmp_path / "missing.yaml")


def test_full_checks_cover_every_value_of_every_parameter(monkeypatch):
    import qnetai.facade

    checked = []
    real = qnetai.facade.check_runnable

    def counting(sc, **kw):
        checked.append((sc.duration_s, sc.links[0].length_km))
        return real(sc, **kw)

    monkeypatch.setattr(qnetai.facade, "check_runnable", counting)
    spec = sweep_from_dict(
        tiny(
            params=[
                {"path": "duration_s", "values": [0.01, 0.02, 0.03]},
                {"path": "links[*].length_km", "values": [10, 20, 30]},
            ]
        )
    )
    plan = SweepPlan(spec)
    assert len(plan.check_points(plan.points())) == 9
    assert {c[0] for c in checked} == {0.01, 0.02, 0.03}
    assert {c[1] for c in checked} == {10, 20, 30}
    assert len(checked) == 6  # first, last, and one point per new value
