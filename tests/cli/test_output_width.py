"""Terminal output never hides a number: 80 columns, piped output, units in --help."""

import json
import re

import pytest
import typer
from typer.testing import CliRunner

from qnetai.cli._common import count, fixed, percent, print_table, si
from qnetai.cli.main import app

NARROW = {"COLUMNS": "80", "TERM": "dumb"}


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (9.285e6, "bit/s", "9.29 Mbit/s"),
        (3.42e-6, "s", "3.42 µs"),
        (999.7e3, "Hz", "1.00 MHz"),
        (113.3, "bit/s", "113 bit/s"),
        (0.234, "bit/s", "0.234 bit/s"),  # no milli-bits: 'mbit' reads as Mbit
        (0.0, "bit", "0 bit"),
        (None, "s", "—"),
        (float("nan"), "s", "—"),
        (16.0e3, "m", "16.0 km"),
    ],
)
def test_si_prefixes(value, unit, text):
    assert si(value, unit) == text


def test_other_formats():
    assert count(13928000) == "13,928,000"
    assert fixed(0.86123) == "0.8612"
    assert percent(0.01247) == "1.25 %"


def test_print_table_never_truncates_numbers_at_80_columns():
    from rich.console import Console

    con = Console(width=80, record=True, force_terminal=False)
    numbers = [si(9.2851e6 * (k + 1), "bit/s") for k in range(9)]
    print_table(
        "wide",
        ["a rather long link name", *[f"figure number {k}" for k in range(9)]],
        [["metro-central-metro-northwest", *numbers]],
        out=con,
    )
    text = con.export_text()
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    for n in numbers:
        assert n in text  # every number in full on one line


def test_run_output_at_80_columns_shows_every_number(tmp_path):
    runner = CliRunner()
    args = ["run", "metro-6g", "--duration-s", "0.3", "--no-report", "--seed", "3"]
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "a")], env=NARROW)
    assert res.exit_code == 0, res.output
    assert "…" not in res.output
    doc = json.loads(
        runner.invoke(app, [*args, "-o", str(tmp_path / "b"), "--json"], env=NARROW).output
    )
    assert doc["qkd"]["links"]
    for link in doc["qkd"]["links"]:
        assert si(link["key_rate_bps"], "bit/s") in res.output
    assert si(doc["summary"]["pairs_per_s"], "pairs/s") in res.output


def test_qkd_rate_sweep_at_80_columns():
    res = CliRunner().invoke(app, ["qkd", "rate", "--sweep-km", "0:200:50"], env=NARROW)
    assert res.exit_code == 0, res.output
    assert "…" not in res.output
    assert "200 km" in res.output


def _commands(group, prefix: str = ""):
    for name, cmd in group.commands.items():
        yield f"{prefix}{name}", cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, f"{prefix}{name} ")


#: ``[word]`` that rich markup would swallow (``[s]``, ``[bold]``); ``[0, 1]`` is kept.
_MARKUP = re.compile(r"(?<!\\)\[[a-zA-Z/#@][^\]\[]*\]")


def test_help_has_no_swallowed_units_and_no_bool_noise():
    group = typer.main.get_command(app)
    assert hasattr(group, "commands")
    names = []
    for name, cmd in _commands(group):
        names.append(name)
        for param in cmd.params:
            help_text = getattr(param, "help", None) or ""
            assert not _MARKUP.search(help_text), f"qnetai {name} {param.name}: {help_text!r}"
    assert "run" in names
    runner = CliRunner()
    for name in ("run", "qkd rate", "chain", "scenario show"):
        if name.split()[0] not in names:
            continue
        res = runner.invoke(app, [*name.split(), "--help"], env=NARROW)
        assert res.exit_code == 0, res.output
        assert "<bool>" not in res.output


def test_root_help_points_to_the_docs():
    res = CliRunner().invoke(app, ["--help"], env=NARROW)
    assert res.exit_code == 0
    assert "docs/" in res.output and "mkdocs" in res.output


def test_bench_routing_table_explains_itself_and_never_shows_a_negative_interval(capsys):
    from qnetai.cli import bench_cmd

    row = {
        "method": "ls-rl",
        "throughput": 12.75,
        "throughput_ci_low": -19.2,
        "throughput_ci_high": 44.3,
        "expected_throughput": 12.0,
        "fairness": 0.5,
        "decision_time_ms": 3.0,
        "decision_time_ms_per_step": None,
        "gap_to_milp": -0.008,
        "gap_to_union_optimum": 0.001,
        "samples": 2,
    }
    assert bench_cmd._interval(12.75, -19.2, 44.3, 2) == "12.75 (n=2: too few for an interval)"
    assert bench_cmd._interval(1.0, -0.5, 2.5, 40) == "1.00 [0.00, 2.50]"
    out = {
        "config": {"topology": "waxman", "nodes": 50, "requests": 10, "slots": 1, "seeds": [0, 1]},
        "rows": [row],
    }
    bench_cmd._print(out)
    text = capsys.readouterr().out
    assert "-19.2" not in text and "too few for an interval" in text
    assert "-0.8%" in text and "own candidate paths" in text and "union optimum" in text
    assert "…" not in text


def test_bench_chain_names_its_chain_and_bounds_fractions_to_0_1():
    from scipy.stats import binomtest

    from qnetai.ai.chain_bench import bench_chain_config, describe_chain
    from qnetai.cli import bench_cmd

    text = describe_chain(bench_chain_config("n3-short")[0])
    assert "chain of 3 segments" in text and "target fidelity" in text
    row = {"episodes": 20, "truncated": 0, "fraction_valid": 20 / 29}
    ci = binomtest(20, 29).proportion_ci(method="wilson")
    assert bench_cmd._valid_fraction(row) == f"0.690 [{ci.low:.3f}, {ci.high:.3f}]"
    full = bench_cmd._valid_fraction({"episodes": 20, "truncated": 0, "fraction_valid": 1.0})
    assert full.startswith("1.000 [") and full.endswith(", 1.000]")
    assert bench_cmd._valid_fraction({"episodes": 5, "truncated": 5, "fraction_valid": 0.0}) == "—"
