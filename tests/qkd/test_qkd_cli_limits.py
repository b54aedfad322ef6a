"""``qnetai qkd simulate`` and ``qkd rate`` under load and abuse.

Bounded memory (block-wise pulses, a capped raw key refused up front), progress when piped,
Ctrl-C, and hostile values that must give a message and exit 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from qnetai.cli.main import main
from qnetai.errors import InputError
from qnetai.qkd.pipeline import MAX_KEY_BITS, expected_key_bits, run_bb84
from qnetai.qkd.pulses import BB84Setup

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


def _same(x: dict, y: dict) -> bool:
    """Equal results, timing aside (NaN equals NaN)."""
    dump = lambda d: json.dumps(d | {"timing_s": 0}, sort_keys=True)  # noqa: E731
    return dump(x) == dump(y)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def _cli(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


def test_expected_key_bits_matches_a_run():
    r = run_bb84(distance_km=25.0, pulses=2_000_000, rng=np.random.default_rng(2))
    est = expected_key_bits(BB84Setup.from_distance(25.0), 2_000_000)
    assert abs(est - r.key_bits) < 0.05 * r.key_bits


def test_too_large_a_raw_key_is_refused_up_front_with_the_figures(capsys):
    code, out, err = _cli(["qkd", "simulate", "--pulses", "1e12", "--json"], capsys)
    assert code == 2 and out == ""
    assert "sifted key bits" in err and f"{MAX_KEY_BITS:,}" in err
    assert "x the limit" in err and "use at most" in err and "Traceback" not in err
    with pytest.raises(InputError, match="x the limit"):
        run_bb84(distance_km=0.0, pulses=10**10, rng=np.random.default_rng(0))


def test_progress_does_not_change_the_result():
    calls = []
    kw = {"distance_km": 25.0, "pulses": 2_500_000, "block_pulses": 1 << 20}
    a = run_bb84(rng=np.random.default_rng(9), **kw)
    b = run_bb84(rng=np.random.default_rng(9), progress=lambda *c: calls.append(c), **kw)
    # compared as JSON: NaN figures (no sifted vacuum events on the GYS link) are equal there
    assert _same(a.to_dict(), b.to_dict())
    assert calls[0] == ("pulses", 0, 2_500_000)
    assert ("pulses", 2_500_000, 2_500_000) in calls
    assert calls[-1] == ("key bits", a.key_bits, a.key_bits)


def _peak_kb(pulses: str) -> int:
    # the link this test was sized on (120 km of it still yields a key from 3e7 pulses)
    link = "--attenuation-db-per-km 0.2 --eta-bob 0.1 --y0 4e-6 --e-detector 0.01"
    link += " --afterpulse-probability 0.005"
    argv = ["qkd", "simulate", "--distance-km", "120", *link.split(), "--pulses", pulses, "--json"]
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, " ".join([*argv[:-2], "3e7", "--json"]), *argv],
        capture_output=True,
        text=True,
        check=True,
        env=_env(),
        timeout=120,
    )
    lines = out.stdout.strip().splitlines()
    result = json.loads("\n".join(lines[:-1]))
    assert result["pulses"] == int(float(pulses)) and result["status"] == "ok"
    return int(lines[-1])


def test_peak_memory_does_not_grow_with_pulses():
    # both sizes post-process a key (the warm-up run compiles and imports what that needs)
    small, large = _peak_kb("3e7"), _peak_kb("3e8")
    assert large - small < 40_000, (small, large)


def test_progress_lines_when_piped():
    proc = subprocess.run(
        [sys.executable, "-m", "qnetai.cli.main", "qkd", "simulate", "--pulses", "3e6", "--json"],
        capture_output=True,
        text=True,
        env=_env(QNETAI_PROGRESS_INTERVAL_S="0"),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert any("of 3,000,000 pulses" in ln for ln in lines), proc.stderr
    assert any("key bits" in ln for ln in lines), proc.stderr
    assert json.loads(proc.stdout)["pulses"] == 3_000_000


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery")
def test_ctrl_c_stops_cleanly_with_exit_130():
    argv = ["qkd", "simulate", "--distance-km", "200", "--pulses", "1e12"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "qnetai.cli.main", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(QNETAI_PROGRESS_INTERVAL_S="0"),
    )
    try:
        first = proc.stderr.readline()
        assert first.startswith("qkd simulate: "), first
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "pulses done" in err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["simulate", "--pulses", "1e5", "--seed", "-1"], "--seed"),
        (["simulate", "--pulses", "1e5", "--mu", "1e6"], "mu must be in (0, 10]"),
        (["simulate", "--pulses", "[red]:100:"], "'[red]:100:'"),
        (["simulate", "--pulses", "1e5", "--attack", "[b]:100:"], "'[b]:100:'"),
        (["rate", "--mu", "1e6"], "mu must be in (0, 10]"),
        (["rate", "--protocol", "bbm92", "--mu", "1e6"], "mu must be in (0, 10]"),
        (["rate", "--f-ec", "inf"], "f_ec"),
        (["rate", "--f-ec", "inf", "--finite-key"], "f_ec"),
        (["rate", "--sweep-km", "0:100:0"], "'0:100:0'"),
        (["rate", "--sweep-km", "0:inf:1"], "three finite numbers"),
        (["rate", "--sweep-km", "0:10:1e-300"], "at most 2000"),
        (["rate", "--finite-key", "--block-size", "inf"], "block_size"),
        (["rate", "--sweep-km", "0:10:5", "--plot", "/no/such/folder/x.html"], "does not exist"),
    ],
)
def test_hostile_values_exit_2_with_a_verbatim_message(argv, needle, capsys):
    code, out, err = _cli(["qkd", *argv], capsys)
    assert code == 2, (argv, out, err)
    assert needle in err, err
    assert "Traceback" not in err and "💯" not in err


def test_f_ec_error_does_not_blame_mu(capsys):
    _, _, err = _cli(["qkd", "rate", "--f-ec", "inf"], capsys)
    assert "f_ec" in err and "mu must" not in err and "intensity" not in err


def test_plot_into_a_folder_path_is_refused(tmp_path, capsys):
    code, _, err = _cli(["qkd", "rate", "--sweep-km", "0:10:5", "--plot", str(tmp_path)], capsys)
    assert code == 2 and "not a folder" in err
    assert list(tmp_path.iterdir()) == []
