"""``bench all``: the winner is marked honestly; entries are per call; failures are kept."""

from __future__ import annotations

import json

import pytest

from qnetai.errors import InputError
from qnetai.sweep.suite import (
    BUILTIN_ENTRIES,
    DEMO_ENTRY,
    BenchEntry,
    default_entries,
    format_leaderboard,
    judge,
    run_suite,
)


def _cmp(a, b, *, higher=True):
    return {"higher_is_better": higher, "ai": a, "baseline": b}


_HI = {"value": 2, "ci": [1.9, 2.1]}
_LO = {"value": 1, "ci": [0.9, 1.1]}


@pytest.mark.parametrize(
    ("a", "b", "higher", "expected"),
    [
        (_HI, _LO, True, ("ai", "intervals separate")),
        (_HI, _LO, False, ("baseline", "intervals separate")),
        ({"value": 2, "ci": [1.0, 3.0]}, _LO, True, ("tie", "intervals overlap")),
        ({"value": 2, "ci": None}, _LO, True, ("ai", "point estimates (no interval)")),
        ({"value": 1, "ci": None}, {"value": 1, "ci": None}, True, ("tie", "equal values")),
    ],
)
def test_judge(a, b, higher, expected):
    assert judge(_cmp(a, b, higher=higher)) == expected


def _boom(quick, methods):
    raise RuntimeError("broken benchmark")


def _echo(quick, methods):
    return [
        {
            "instance": f"quick={quick}",
            "metric": "m",
            "higher_is_better": True,
            "ai": {
                "method": ",".join(methods) or "none",
                "value": 3.0,
                "ci": [2.9, 3.1],
                "time_ms": None,
            },
            "baseline": {"method": "b", "value": 1.0, "ci": [0.9, 1.1], "time_ms": 1.0},
        }
    ]


def test_suite_writes_json_and_html_and_keeps_failures(tmp_path):
    extra = [BenchEntry("boom", _boom), BenchEntry("echo", _echo, "echo", "2")]
    board = run_suite(
        entries=[DEMO_ENTRY],
        extra=extra,
        quick=True,
        out=tmp_path,
        engine="inline",
        methods={"echo": ["mine"]},
    )
    on_disk = json.loads((tmp_path / "leaderboard.json").read_text())
    assert on_disk["rows"] == board["rows"] and board["profile"] == "quick"
    by = {r["benchmark"]: r for r in board["rows"]}
    assert by["echo"]["winner"] == "ai" and by["echo"]["ai"]["method"] == "mine"
    assert by["demo"]["winner"] == "tie"
    errors = {b["name"]: b["error"] for b in board["benchmarks"]}
    assert "broken benchmark" in errors["boom"] and errors["echo"] is None
    page = (tmp_path / "leaderboard.html").read_text()
    assert "<script" not in page and "mine" in page and "FAILED" in page
    assert "| echo | quick=True | m | mine |" in format_leaderboard(board)


def test_entries_are_per_call_and_names_checked():
    names = [e.name for e in default_entries()]
    assert names[: len(BUILTIN_ENTRIES)] == ["routing", "chain", "security", "qkd-params", "qec"]
    assert "demo" not in names  # extra entries of one call leave later calls unaffected
    with pytest.raises(InputError, match="unknown benchmarks"):
        run_suite(entries=[DEMO_ENTRY], only=["nope"], engine="inline")
    with pytest.raises(InputError, match="unique"):
        run_suite(entries=[DEMO_ENTRY, DEMO_ENTRY], engine="inline")
    with pytest.raises(InputError, match="methods for unknown"):
        run_suite(entries=[DEMO_ENTRY], methods={"x": ["y"]}, engine="inline")


def test_suite_creates_its_out_folder(tmp_path):
    run_suite(entries=[DEMO_ENTRY], out=tmp_path / "new" / "board", engine="inline")
    assert (tmp_path / "new" / "board" / "leaderboard.html").is_file()
