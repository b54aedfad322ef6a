"""Every script in examples/ runs (in a subprocess, writing only into its own tmp folder)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("[0-9]*.py"))


def test_there_are_examples():
    names = [p.stem for p in EXAMPLES]
    assert len(names) >= 5, names


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    out = tmp_path / "out"
    work = tmp_path / "cwd"
    work.mkdir()
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, str(script), str(out)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "Traceback" not in proc.stderr
    assert list(work.iterdir()) == []  # nothing written in the working directory
    assert out.is_dir() and any(out.iterdir())  # its results are in the folder it was given
