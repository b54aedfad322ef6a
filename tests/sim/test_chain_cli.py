"""``qnetai chain``: JSON output, the table, and clean errors."""

from __future__ import annotations

import json

import pytest

from qnetai.cli.main import main
from qnetai.sim.chain import exact_mean_waiting_time_s

ARGS = [
    "chain",
    "--segments",
    "3",
    "--p-gen",
    "0.4",
    "--attempt-s",
    "1e-3",
    "--fidelity",
    "0.95",
    "--t-coh-s",
    "0.05",
    "--samples",
    "20000",
    "--seed",
    "7",
]


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_json_keys_and_values(capsys):
    code, out, err = _run([*ARGS, "--json"], capsys)
    assert code in (0, None), err
    d = json.loads(out)
    for key in (
        "mean_waiting_time_s",
        "std_waiting_time_s",
        "sem_waiting_time_s",
        "mean_fidelity",
        "sem_fidelity",
        "samples",
        "exact_mean_waiting_time_s",
        "waiting_time_p50_s",
        "waiting_time_p90_s",
        "waiting_time_p99_s",
        "wall_time_s",
        "samples_per_s",
    ):
        assert key in d, key
    assert d["samples"] == 20000
    exact = exact_mean_waiting_time_s(3, 0.4, 1e-3)
    assert d["exact_mean_waiting_time_s"] == pytest.approx(exact)
    assert abs(d["mean_waiting_time_s"] - exact) < 4 * d["sem_waiting_time_s"]
    assert 0.25 <= d["mean_fidelity"] <= 0.95
    # same seed, same figures
    _, out2, _ = _run([*ARGS, "--json"], capsys)
    d2 = json.loads(out2)
    assert d2["mean_waiting_time_s"] == d["mean_waiting_time_s"]
    assert d2["mean_fidelity"] == d["mean_fidelity"]


def test_json_with_swap_and_cutoff_has_no_exact_mean(capsys):
    code, out, _ = _run([*ARGS, "--p-swap", "0.8", "--cutoff-s", "0.004", "--json"], capsys)
    assert code in (0, None)
    d = json.loads(out)
    assert d["exact_mean_waiting_time_s"] is None
    assert d["p_swap"] == 0.8 and d["cutoff_s"] == 0.004


def test_table_output(capsys):
    code, out, _ = _run(ARGS, capsys)
    assert code in (0, None)
    assert "mean waiting time" in out and "mean fidelity" in out


@pytest.mark.parametrize(
    ("flag", "value", "word"),
    [
        ("--p-gen", "1.5", "p_gen"),
        ("--fidelity", "0.1", "fidelity"),
        ("--segments", "0", "segments"),
        ("--cutoff-s", "-1", "cutoff_s"),
        ("--p-swap", "0", "p_swap"),
    ],
)
def test_bad_parameter_exits_2_without_traceback(capsys, flag, value, word):
    argv = list(ARGS)
    if flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
    code, out, err = _run(argv, capsys)
    assert code == 2
    assert "Traceback" not in err + out
    assert "error" in err and word in err
