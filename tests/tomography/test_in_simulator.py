"""Verification inside the simulator (issue 14 section 3): estimates beside the truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

import qnetai
from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.sim.result import TABLE_NAMES
from qnetai.tomography import verify_copies, verify_fidelities


def _diamond(**verification: object) -> Scenario:
    """A-D direct (poor link) or via B or C (good links); 120 requests A -> D."""
    good, poor = 0.99, 0.80
    links = [
        {"endpoints": ["A", "D"], "length_km": 5, "raw_fidelity": poor},
        {"endpoints": ["A", "B"], "length_km": 5, "raw_fidelity": good},
        {"endpoints": ["B", "D"], "length_km": 5, "raw_fidelity": good},
        {"endpoints": ["A", "C"], "length_km": 5, "raw_fidelity": 0.95},
        {"endpoints": ["C", "D"], "length_km": 5, "raw_fidelity": 0.95},
    ]
    data: dict[str, object] = {
        "name": "diamond",
        "duration_s": 0.3,
        "nodes": [{"name": n, "memory_qubits": 8} for n in "ABCD"],
        "links": links,
        "traffic": {
            "requests": [
                {
                    "source": "A",
                    "destination": "D",
                    "count": 120,
                    "pairs_per_request": 4,
                    "min_fidelity": 0.0,
                    "arrival": {"process": "at_once"},
                },
            ]
        },
        "controller": {"routing": "max-fidelity"},
        "qkd": {"enabled": False},
    }
    if verification:
        data["verification"] = verification
    return Scenario.model_validate(data)


def test_default_off_leaves_outputs_unchanged():
    off = qnetai.run_scenario(_diamond(), seed=3)
    on = qnetai.run_scenario(_diamond(fraction=0.3), seed=3)
    assert off.verification is None and "pairs_verified" not in off.summary
    assert not any(k.startswith("verification") for k in off.tables)
    for name in TABLE_NAMES:  # verification is measured after the run: engine unchanged
        a, b = getattr(off.simulation, name), getattr(on.simulation, name)
        assert a.to_pandas().equals(b.to_pandas()), name  # NaN-aware comparison
    assert {"verification_pairs", "verification_links"} <= set(on.tables)


def test_consumed_fraction_is_accounted_for():
    run = qnetai.run_scenario(_diamond(fraction=0.25), seed=5)
    s, rows = run.summary, run.verification.pairs.to_pylist()
    delivered = run.simulation.summary["pairs_delivered"]
    assert s["pairs_verified"] + s["pairs_to_application"] == delivered
    for r in rows:
        assert r["pairs_verified"] + r["pairs_to_application"] == r["pairs_delivered"]
    # verified ~ Binomial(delivered, 0.25): inside its central 99.9 % range
    lo, hi = binom.ppf([0.0005, 0.9995], delivered, 0.25)
    assert lo <= s["pairs_verified"] <= hi
    for r in run.verification.links.to_pylist():
        assert r["pairs_verified"] <= r["pairs_generated"]


def test_estimates_inside_intervals_in_a_run():
    run = qnetai.run_scenario(_diamond(fraction=0.5), seed=7)
    s = run.summary
    assert s["verified_fidelity_low"] <= s["verified_true_fidelity"] <= s["verified_fidelity_high"]
    for r in run.verification.links.to_pylist():
        if r["pairs_verified"] < 2:  # an unused link: no estimate (NaN), not an error
            assert np.isnan(r["estimated_fidelity"])
            continue
        assert 0.0 <= r["fidelity_low"] <= r["estimated_fidelity"] <= r["fidelity_high"] <= 1.0


def test_interval_coverage_at_stated_confidence():
    """Coverage of the 95 % Wilson intervals over 400 independent verifications.

    Misses ~ Binomial(400, 0.05) if coverage is exactly 95 % (conservative intervals miss
    less); 36 or more misses has probability < 1e-3 under that law.
    """
    rng = np.random.default_rng(11)
    f = rng.uniform(0.7, 1.0, size=600)  # heterogeneous pairs, as delivered
    outs = [verify_fidelities(f, fraction=0.3, rng=rng, readout_error=0.01) for _ in range(400)]
    misses = sum(not (o.low <= o.true_fidelity <= o.high) for o in outs)
    assert binom.sf(misses - 1, 400, 0.05) > 1e-3 or misses < 20
    err = np.array([o.fidelity - o.true_fidelity for o in outs])
    assert abs(err.mean()) < 4 * err.std(ddof=1) / np.sqrt(err.size)  # unbiased
    links = [verify_copies(0.97, 5000, fraction=0.05, rng=rng) for _ in range(400)]
    misses = sum(not (o.low <= 0.97 <= o.high) for o in links)
    assert binom.sf(misses - 1, 400, 0.05) > 1e-3 or misses < 20


def test_fidelity_only_matches_full_state_measurement():
    """verify_fidelities (fidelity only) and verify_pairs (Bell weights) agree in mean."""
    from qnetai.tomography import verify_pairs

    rng = np.random.default_rng(2)
    f = np.full(4000, 0.88)
    bell = np.stack([f, (1 - f) * 0.6, (1 - f) * 0.3, (1 - f) * 0.1], axis=1)
    a = np.array([verify_fidelities(f, fraction=0.5, rng=rng).fidelity for _ in range(200)])
    b = np.array([verify_pairs(bell, fraction=0.5, rng=rng).fidelity for _ in range(200)])
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) < 4 * se
    assert abs(a.mean() - 0.88) < 4 * a.std(ddof=1) / np.sqrt(a.size)


def test_deterministic_for_a_seed():
    a = qnetai.run_scenario(_diamond(fraction=0.2, feed_controllers=True), seed=9)
    b = qnetai.run_scenario(_diamond(fraction=0.2, feed_controllers=True), seed=9)
    assert a.verification.pairs.to_pandas().equals(b.verification.pairs.to_pandas())
    assert a.verification.links.to_pandas().equals(b.verification.links.to_pandas())
    assert a.simulation.requests.equals(b.simulation.requests)


def test_controllers_fed_estimates():
    truth = qnetai.run_scenario(_diamond(fraction=0.1), seed=4)
    precise = qnetai.run_scenario(
        _diamond(fraction=0.1, feed_controllers=True, calibration_pairs=1_000_000), seed=4
    )
    # precise estimates rank the paths as the truth does: the same run
    assert truth.simulation.requests.equals(precise.simulation.requests)
    assert set(truth.simulation.requests.column("path").to_pylist()) <= {"A>B>D", "A>C>D"}
    assert precise.summary["verification_feeds_controllers"] is True
    cal = precise.verification.links.column("calibration_fidelity").to_pylist()
    true = precise.verification.links.column("true_fidelity").to_pylist()
    assert np.allclose(cal, true, atol=0.01)
    # two pairs per link: estimates are coarse (0.25 steps), some choices differ from truth
    paths = set()
    for seed in range(6):
        crude = qnetai.run_scenario(
            _diamond(fraction=0.1, feed_controllers=True, calibration_pairs=2), seed=seed
        )
        paths |= set(crude.simulation.requests.column("path").to_pylist())
    assert paths - {"A>B>D"}


def test_written_run_holds_verification(tmp_path):
    from qnetai.results import read_run, write_run

    run = qnetai.run_scenario(_diamond(fraction=0.2), seed=1)
    path = write_run(run, tmp_path / "r", catalogue=False)
    view = read_run(path)
    got = view.extra_tables["verification_pairs"].to_pandas()
    assert got.equals(run.verification.pairs.to_pandas())
    assert view.summary["pairs_verified"] == run.summary["pairs_verified"]
    from qnetai.report.verification import verification_section

    html = verification_section(view)  # the report's section (in DEFAULT_SECTIONS)
    assert 'id="verification"' in html and "fidelity_low" in html
    off = qnetai.run_scenario(_diamond(), seed=1)
    assert verification_section(off) == ""


@pytest.mark.parametrize(
    ("block", "field"),
    [
        ({"fraction": 1.5}, "verification.fraction"),
        ({"fraction": 0.1, "calibration_pairs": 1}, "verification.calibration_pairs"),
        ({"fraction": 0.1, "shots": 3}, "verification.shots"),
    ],
)
def test_bad_config_names_the_field(tmp_path, capsys, block, field):
    import yaml

    from qnetai.config import load_scenario

    data = _diamond().model_dump(mode="json")
    data["verification"] = block
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        load_scenario(p)
    if field == "verification.fraction":  # the CLI: clear message, exit 2, no traceback
        from qnetai.cli.main import main

        with pytest.raises(SystemExit) as e:
            main(["run", str(p), "--out", str(tmp_path / "o")])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert "verification.fraction" in err and "Traceback" not in err


def test_max_fidelity_reads_estimates_when_fed():
    import networkx as nx

    from qnetai.control.fidelity_routing import MaxFidelityPolicy, path_fidelity
    from qnetai.tomography.in_simulator import EstimatedLinks

    g = nx.Graph()
    g.add_edge("A", "C", fidelity=0.80)
    g.add_edge("A", "B", fidelity=0.97)
    g.add_edge("B", "C", fidelity=0.97)
    assert MaxFidelityPolicy().choose_path(g, "A", "C", state=None) == ["A", "B", "C"]
    est = {("A", "C"): 0.99, ("C", "A"): 0.99, ("A", "B"): 0.9, ("B", "A"): 0.9}
    est |= {("B", "C"): 0.9, ("C", "B"): 0.9}
    fed = EstimatedLinks(MaxFidelityPolicy(), est)
    assert fed.name == "max-fidelity"
    assert fed.choose_path(g, "A", "C", state=None) == ["A", "C"]
    # Werner parameters multiply: closed form for two links of 0.9
    assert path_fidelity([0.9, 0.9]) == pytest.approx((1 + 3 * ((4 * 0.9 - 1) / 3) ** 2) / 4)
