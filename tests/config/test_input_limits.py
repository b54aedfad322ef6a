"""Bounded scenario input: file size and type, nesting depth, YAML aliases, error echoes."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qnetai.cli.main import main
from qnetai.config import load_scenario, scenario_from_text
from qnetai.config.limits import (
    MAX_ALIAS_NODES,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_INPUT_BYTES,
    read_scenario_bytes,
    short_repr,
)
from qnetai.errors import InputError


def billion_laughs(levels: int = 9, width: int = 9, field: str = "duration_s") -> str:
    """A YAML alias bomb (``width ** levels`` leaves) whose last alias sits in ``field``."""
    names = [chr(ord("a") + i) for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['1'] * width)}]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * width)}]")
    lines.append(f"{field}: *{names[-1]}")
    return "\n".join(lines) + "\n"


def exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# -- size and file type -----------------------------------------------------------------------


def test_file_over_the_size_limit_is_refused_with_the_limit(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (MAX_INPUT_BYTES // 10 + 1))
    with pytest.raises(InputError, match=r"larger than the limit of 16 MiB \(16,777,216 bytes\)"):
        load_scenario(path)


def test_read_reads_at_most_one_byte_over_the_limit(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"x" * 101)
    assert read_scenario_bytes(path, max_bytes=101) == b"x" * 101
    with pytest.raises(InputError, match="larger than the limit"):
        read_scenario_bytes(path, max_bytes=100)


def test_text_over_the_size_limit_is_refused():
    with pytest.raises(InputError, match="larger than the limit"):
        scenario_from_text("#" * (MAX_INPUT_BYTES + 1))


@pytest.mark.timeout(60)  # reading /dev/zero would never end: a hang guard, not a speed limit
def test_dev_zero_is_refused_without_reading(capsys):
    err = exit_2(["scenario", "validate", "/dev/zero"], capsys)
    assert "character device" in err and "regular file" in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):
        load_scenario(fifo)  # opening it would block for ever: it must not be opened


def test_directory_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        load_scenario(tmp_path)


# -- nesting depth ----------------------------------------------------------------------------


def test_deep_json_is_refused_without_traceback(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    err = exit_2(["scenario", "validate", str(path)], capsys)
    assert "deep.json" in err and "nested too deeply" in err


def test_json_nested_past_the_limit_is_refused():
    depth = MAX_DEPTH + 1
    text = '{"description": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(InputError, match=f"nested deeper than the limit of {MAX_DEPTH} levels"):
        scenario_from_text(text, fmt="json")


@pytest.mark.parametrize(
    "text",
    [
        "description: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "".join("  " * i + "- \n" for i in range(MAX_DEPTH + 2)),
        "description: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    ],
    ids=["flow-100k", "block", "flow-limit"],
)
def test_deep_yaml_is_refused(text):
    with pytest.raises(InputError, match=r"nested|YAML syntax error"):
        scenario_from_text(text, source="deep.yaml")


def test_nesting_at_the_limit_reaches_validation():
    text = "description: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    with pytest.raises(InputError, match=r"description: Input should be a valid string"):
        scenario_from_text(text)


# -- YAML aliases -----------------------------------------------------------------------------


def test_alias_bomb_in_a_numeric_field_is_refused_with_bounded_memory(tmp_path):
    """The issue's case: a few hundred bytes that expand to 9**9 leaves under duration_s."""
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())
    assert path.stat().st_size < 500
    code = (
        "import sys\n"
        "from qnetai.cli.main import main\n"
        "try:\n"
        f"    main(['scenario', 'validate', {str(path)!r}])\n"
        "except SystemExit as e:\n"
        "    code = e.code\n"
        # VmHWM: this process's peak RSS (ru_maxrss would include the parent's at fork)
        "rss_mb = next(int(ln.split()[1]) for ln in open('/proc/self/status')\n"
        "              if ln.startswith('VmHWM:')) / 1024\n"
        "print(code, rss_mb)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    code_, rss_mb = out.stdout.split()
    assert code_ == "2", out.stderr
    assert "YAML aliases expand to more than" in out.stderr and "Traceback" not in out.stderr
    assert float(rss_mb) < 300, f"peak RSS {rss_mb} MB"


def test_small_alias_bomb_under_the_node_limit_echoes_a_short_value():
    """An expansion below the limit reaches validation; the error echo stays short."""
    text = billion_laughs(levels=4, width=9)  # 9**4 = 6,561 leaves
    with pytest.raises(InputError) as info:
        scenario_from_text(text)
    lines = [ln for ln in str(info.value).splitlines() if "duration_s:" in ln]
    assert lines and "Input should be a valid number (got [[[[" in lines[0]
    assert len(lines[0]) < 150


def test_too_many_aliases_are_refused():
    text = "x: &x 1\ndescription: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(InputError, match=f"more than {MAX_ALIASES:,} YAML aliases"):
        scenario_from_text(text)


def test_merge_keys_count_towards_the_expansion():
    width = 400
    base = "b: &b {" + ", ".join(f"k{i}: {i}" for i in range(width)) + "}\n"
    merges = "".join(f"m{i}: {{<<: *b}}\n" for i in range(MAX_ALIAS_NODES // (2 * width) + 2))
    with pytest.raises(InputError, match="YAML aliases expand to more than"):
        scenario_from_text(base + merges)


def test_ordinary_anchors_still_work():
    text = (
        "nodes:\n"
        "  - {name: A, memory: &mem {t_coh_s: 2.0}}\n"
        "  - {name: B, memory: *mem}\n"
        "links:\n"
        "  - &l {endpoints: [A, B], length_km: 5}\n"
    )
    scenario = scenario_from_text(text)
    assert scenario.nodes[1].memory.t_coh_s == 2.0


# -- values echoed in errors ------------------------------------------------------------------


@pytest.mark.timeout(60)  # a full walk of 2**60 leaves would never end: a hang guard
def test_short_repr_looks_at_a_bounded_sample():
    shared: list = [0]
    for _ in range(60):  # 2**60 leaves if expanded
        shared = [shared, shared]
    text = short_repr(shared)
    assert len(text) <= 60 and "[...]" in text  # the deeper levels are elided, not walked


def test_huge_integer_in_a_float_field_is_echoed_briefly():
    with pytest.raises(InputError) as info:
        scenario_from_text(json.dumps({"duration_s": 10**4000}), fmt="json")
    assert len(str(info.value)) < 300


def test_integer_over_python_digit_limit_is_an_input_error():
    with pytest.raises(InputError, match=r"value error|integer"):
        scenario_from_text("seed: " + "9" * 5000 + "\n")


# -- seeds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["seed", "topology.seed"])
def test_seed_must_fit_in_a_signed_64_bit_integer(field):
    seed = 2**80
    data = {"seed": seed} if field == "seed" else {"topology": {"builder": "line", "seed": seed}}
    with pytest.raises(
        InputError, match=rf"{field}: Input should be less than 9223372036854775808"
    ):
        scenario_from_text(json.dumps(data), fmt="json")
    ok = {"seed": 2**63 - 1}
    assert scenario_from_text(json.dumps(ok), fmt="json").seed == 2**63 - 1


def test_empty_and_comment_only_files_exit_2(tmp_path: Path, capsys):
    for name, text in (("empty.yaml", ""), ("comments.yaml", "# nothing\n"), ("e.json", "null")):
        path = tmp_path / name
        path.write_text(text)
        assert "the scenario is empty" in exit_2(["scenario", "validate", str(path)], capsys)
