"""``qnetai run`` in real processes: SIGKILL / SIGINT at chosen points, four runs at once.

Each child runs the CLI with the engine replaced by the synthetic stand-in; a stall point
(``write_bytes:<file>`` or ``record_run``) makes it print READY and sleep there, so the
test sends its signal at a known point of the write.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from qnetai.results import clean_stale_runs, is_complete_run, list_runs, rescan_catalogue

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = textwrap.dedent("""
    import dataclasses, sys, time
    import qnetai.sim
    import qnetai.results.writer as writer
    from qnetai.results.synthetic import synthetic_result

    def simulate(scenario, *, seed=None, policy=None, progress=None, allocator=None):
        r = synthetic_result(nodes=3, deliveries=12, seed=seed or 0,
                             duration_s=scenario.duration_s)
        return dataclasses.replace(r, scenario=scenario)

    qnetai.sim.simulate = simulate
    stall = sys.argv[1]
    if stall != "none":
        name, _, point = stall.partition(":")
        real = getattr(writer, name)

        def stalled(*args, **kwargs):
            if name == "record_run" or args[0].name == point:
                print("READY", flush=True)
                time.sleep(30)
            return real(*args, **kwargs)

        setattr(writer, name, stalled)
    from qnetai.cli.main import main
    main(sys.argv[2:])
""")

TINY = """\
name: tiny
seed: 4
duration_s: 0.5
nodes:
  - {name: n0, kind: end_user, position_km: [0, 0]}
  - {name: n1, position_km: [10, 0]}
  - {name: n2, kind: end_user, position_km: [20, 0]}
links:
  - {endpoints: [n0, n1], length_km: 10}
  - {endpoints: [n1, n2], length_km: 10}
traffic:
  requests: [{source: n0, destination: n2, count: 20}]
"""


@pytest.fixture
def work(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    return tmp_path


def _start(work, stall, *args):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, stall, "run", "tiny.yaml", "--json", "--no-report", *args],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop_at_ready(proc, sig):
    try:
        line = proc.stdout.readline()
        assert line.strip() == "READY", line
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


def _run_folders(root):
    return [p for p in root.iterdir() if p.is_dir()]


def test_sigkill_mid_write_leaves_staging_that_the_next_run_removes(work):
    proc = _start(work, "write_bytes:scenario.yaml")
    code, _, _ = _stop_at_ready(proc, signal.SIGKILL)
    assert code == -signal.SIGKILL
    (folder,) = _run_folders(work / "runs")
    assert not is_complete_run(folder)
    assert [p.name.startswith(".qnetai-tmp-") for p in folder.iterdir()] == [True]
    assert list_runs(work / "runs") == []  # an incomplete folder is no run
    done = subprocess.run(
        [sys.executable, "-c", CHILD, "none", "run", "tiny.yaml", "--json", "--no-report"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (folder,) = _run_folders(work / "runs")  # the killed run's folder is gone
    assert folder == work / "runs" / os.path.basename(json.loads(done.stdout)["out_dir"])
    assert [r["catalogued"] for r in list_runs(work / "runs")] == [True]


def test_sigkill_after_rename_is_listed_and_rescanned(work):
    proc = _start(work, "record_run")
    code, _, _ = _stop_at_ready(proc, signal.SIGKILL)
    assert code == -signal.SIGKILL
    (folder,) = _run_folders(work / "runs")
    assert is_complete_run(folder)
    assert not [
        p for p in folder.iterdir() if p.name.startswith(".qnetai-") and p.name != ".qnetai-run"
    ]
    assert [r["catalogued"] for r in list_runs(work / "runs")] == [False]
    assert len(rescan_catalogue(work / "runs").added) == 1
    assert [r["catalogued"] for r in list_runs(work / "runs")] == [True]


def test_sigint_before_catalogue_tells_the_truth(work):
    proc = _start(work, "record_run")
    code, _, err = _stop_at_ready(proc, signal.SIGINT)
    assert code == 130
    assert "written completely" in err and "no run folder written" not in err
    assert "Traceback" not in err
    (folder,) = _run_folders(work / "runs")
    assert is_complete_run(folder)


def test_sigint_mid_write_leaves_nothing(work):
    proc = _start(work, "write_bytes:scenario.yaml", "--out", "out")
    code, _, err = _stop_at_ready(proc, signal.SIGINT)
    assert code == 130 and "no run folder written" in err
    assert sorted(p.name for p in work.iterdir()) == ["tiny.yaml"]


def test_four_runs_in_the_same_second(work):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, "none", "run", "tiny.yaml", "--json", "--no-report"],
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    docs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        docs.append(json.loads(out))
    paths = {d["out_dir"] for d in docs}
    assert len(paths) == 4
    rows = list_runs(work / "runs")
    assert {r["path"] for r in rows} == paths and all(r["catalogued"] for r in rows)
    assert clean_stale_runs(work / "runs") == []
