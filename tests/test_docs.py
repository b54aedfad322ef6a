"""The documentation builds in strict mode, and the formulas it states hold."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    for page in ("index.html", "scenarios/index.html", "routing/index.html", "api/index.html"):
        assert (site / page).is_file(), page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    assert "run_scenario" in api and "routing_policy" in api
    assert not (ROOT / "docs" / "_hooks" / "nav.py").with_suffix(".html").exists()


def test_nav_hook_drops_missing_pages_and_adds_unlisted(tmp_path):
    sys.path.insert(0, str(ROOT / "docs" / "_hooks"))
    try:
        import nav
    finally:
        sys.path.pop(0)
    (tmp_path / "index.md").write_text("# Home\n")
    (tmp_path / "protocols.md").write_text("# Protocols of the engine\n")
    config = {
        "docs_dir": str(tmp_path),
        "nav": [{"Home": "index.md"}, {"Sweeps": "sweeps.md"}, {"Group": [{"X": "missing.md"}]}],
    }
    out = nav.on_config(config)["nav"]
    assert out == [{"Home": "index.md"}, {"More": [{"Protocols of the engine": "protocols.md"}]}]


@pytest.mark.parametrize(("t1_s", "t2_s"), [(1.0, None), (None, 0.5), (2.0, 1.0), (3.0, 6.0)])
def test_t1_t2_to_t_coh_mapping_stated_in_docs(t1_s, t2_s):
    """docs/scenarios.md: t_coh = 3 T1 T2 / (2 (2 T1 + T2)) matches the initial fidelity decay."""
    from qnetai import physics as ph

    inv_t1 = 0.0 if t1_s is None else 1.0 / t1_s
    t2 = t2_s if t2_s is not None else 2.0 * t1_s
    t_coh = 1.5 / (2.0 / t2 + inv_t1)
    p = ph.werner(0.95)
    dt = 1e-5
    w0 = (4.0 * float(ph.fidelity(p)) - 1.0) / 3.0
    w1 = (4.0 * float(ph.fidelity(ph.t1_t2_noise(p, dt, t1_s=t1_s, t2_s=t2_s))) - 1.0) / 3.0
    w_depol = float(ph.decay_werner_parameter(w0, dt, t_coh))
    # first order in dt: the difference is O(dt^2) relative to the decay O(dt)
    assert abs(w1 - w_depol) < 1e-3 * abs(w0 - w_depol) + 1e-12
    assert np.isclose(-dt / np.log(w1 / w0), t_coh, rtol=1e-3)


def test_sequence_coherence_time_mapping_stated_in_docs():
    """docs/scenarios.md: SeQUeNCe's per-memory depolarising factor exp(-4t/(3T)) -> 3T/8."""
    from qnetai import physics as ph

    big_t, t = 2.0, 0.3
    per_memory = np.exp(-4.0 * t / (3.0 * big_t))
    assert np.isclose(per_memory**2, float(ph.decay_werner_parameter(1.0, t, 3.0 * big_t / 8.0)))
