"""``qnetai chain`` under load and abuse: bounded memory, progress, Ctrl-C, clean errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from qnetai.cli.main import main

ARGS = ["chain", "--segments", "1", "--p-gen", "0.5", "--attempt-s", "1e-3"]
ARGS += ["--fidelity", "0.9", "--t-coh-s", "1"]

_PEAK = """
import contextlib, io, sys
from qnetai.cli.main import main


def run(argv):
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code in (0, None), exc.code


warm_up, argv = sys.argv[1].split(), sys.argv[2:]
with contextlib.redirect_stdout(io.StringIO()):
    run(warm_up)  # imports and compiled kernels cost the same at every size
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset this process's peak RSS to its current RSS
run(argv)
# VmHWM: this process's peak RSS in kB (ru_maxrss would include the parent's at fork)
print(next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:")))
"""


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env.pop("COLUMNS", None)
    return env


def _peak_kb(samples: str) -> int:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK,
            " ".join([*ARGS, "--samples", "1e4", "--json"]),
            *ARGS,
            "--samples",
            samples,
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
        timeout=120,
    )
    lines = out.stdout.strip().splitlines()
    assert json.loads("\n".join(lines[:-1]))["samples"] == int(float(samples))
    return int(lines[-1])


def test_peak_memory_does_not_grow_with_samples():
    # unchunked, 6e6 samples held 16 B each in two arrays plus sorting copies: > 250 MB more
    small = _peak_kb("5e5")
    large = _peak_kb("6e6")
    assert large - small < 40_000, (small, large)


def test_progress_lines_when_piped():
    proc = subprocess.run(
        [sys.executable, "-m", "qnetai.cli.main", *ARGS, "--samples", "8e5", "--json"],
        capture_output=True,
        text=True,
        env=_env(QNETAI_PROGRESS_INTERVAL_S="0"),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("chain: ")]
    assert lines, proc.stderr
    assert "of 800,000 samples" in lines[-1] and "%" in lines[-1]
    json.loads(proc.stdout)  # stdout stays one JSON document


def test_no_progress_lines_for_a_short_run_by_default():
    proc = subprocess.run(
        [sys.executable, "-m", "qnetai.cli.main", *ARGS, "--samples", "1000", "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_ctrl_c_stops_cleanly_with_exit_130():
    proc = subprocess.Popen(
        [sys.executable, "-m", "qnetai.cli.main", *ARGS, "--samples", "1e12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(QNETAI_PROGRESS_INTERVAL_S="0"),
    )
    try:
        first = proc.stderr.readline()  # the work has started
        assert first.startswith("chain: "), first
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "samples done" in err
    assert "Traceback" not in err and out == ""


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--seed", "-1"], "--seed"),
        (["--samples", "0"], "samples"),
        (["--samples", "nan"], "samples"),
        (["--samples", "1e99"], "samples"),
        (["--p-gen", "1e-300"], "p_gen"),
        (["--attempt-s", "inf"], "attempt_s"),
        (["--t-coh-s", "nan"], "t_coh_s"),
        (["--cutoff-s", "-1"], "cutoff_s"),
        (["--p-swap", "0"], "p_swap"),
        (["--fidelity", "2"], "fidelity"),
        (["--segments", "100000"], "segments"),
    ],
)
def test_hostile_values_exit_2_without_traceback(extra, needle, capsys):
    code, out, err = _run([*ARGS, "--samples", "100", *extra], capsys)
    assert code == 2, (extra, out, err)
    assert needle in err and "Traceback" not in err


def test_user_text_is_printed_verbatim(capsys):
    code, _, err = _run([*ARGS, "--samples", "[red]:100:"], capsys)
    assert code == 2
    assert "'[red]:100:'" in err and "💯" not in err
