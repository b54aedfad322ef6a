"""Fault forecasting: telemetry against closed forms, no look-ahead, scoring, the benchmark."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from qnetai.ai.security.faults import (
    TELEMETRY,
    Alarm,
    FaultEpisode,
    FaultOptions,
    bench_faults,
    evaluate,
    simulate_episode,
    window_features,
)
from qnetai.cli._common import to_json
from qnetai.cli.main import app
from qnetai.errors import InputError
from qnetai.qkd.channel import GYS

OPTS = FaultOptions(episode_blocks=120)
STILL = FaultOptions(episode_blocks=120, drift=0.0)  # no honest drift: exact closed forms


def col(ep, name):
    return ep.telemetry[:, TELEMETRY.index(name)]


def test_honest_telemetry_matches_the_closed_forms():
    ep = simulate_episode(FaultEpisode(), rng=np.random.default_rng(1), options=OPTS)
    eta = GYS.transmittance(ep.length_km)
    # signal gain: 1e9 x 0.8 pulses per block, Poisson: mean within 4 standard errors
    g = col(ep, "gain_mu")
    assert abs(g.mean() / GYS.gain_at(0.48, eta) - 1) < 0.01  # drift walk is <= ~1 %
    f_true = ep.fidelity  # drifts a little with the coherence time
    f_est = col(ep, "pair_fidelity")
    e = (1 - f_true.mean()) * 2 / 3
    se = 1.5 * np.sqrt(e * (1 - e) / 5000) / np.sqrt(120)
    assert abs(f_est.mean() - f_true.mean()) < 4 * se
    assert ep.violation_block == OPTS.episode_blocks  # honest drift stays within service


def test_faults_move_the_right_figures_by_their_severity():
    rng = np.random.default_rng(2)
    fibre = simulate_episode(FaultEpisode("fibre-loss", 1.0, 30, 30), rng=rng, options=OPTS)
    drop_db = col(fibre, "sync_dbm")[:20].mean() - col(fibre, "sync_dbm")[-20:].mean()
    assert drop_db == pytest.approx(1.0, abs=0.15)
    ratio = col(fibre, "gain_mu")[-20:].mean() / col(fibre, "gain_mu")[:20].mean()
    assert ratio == pytest.approx(10**-0.1, rel=0.02)
    det = simulate_episode(FaultEpisode("detector-decay", 0.1, 30, 30), rng=rng, options=OPTS)
    assert col(det, "gain_mu")[-20:].mean() / col(det, "gain_mu")[:20].mean() == pytest.approx(
        0.9, rel=0.02
    )
    assert abs(col(det, "sync_dbm")[:20].mean() - col(det, "sync_dbm")[-20:].mean()) < 0.15
    mem = simulate_episode(FaultEpisode("memory-coherence", 2.0, 30, 30), rng=rng, options=STILL)
    w0 = (4 * 0.97 - 1) / 3
    halved = (3 * w0 * np.exp(-2 * 0.01 / 0.1) + 1) / 4  # Werner decay with t_coh / 2
    assert mem.fidelity[-1] == pytest.approx(halved, abs=1e-12)
    assert 30 <= mem.violation_block < OPTS.episode_blocks
    assert col(mem, "gain_mu")[-20:].mean() / col(mem, "gain_mu")[:20].mean() == pytest.approx(
        1.0, abs=0.02
    )


def test_features_never_look_ahead():
    ep = simulate_episode(FaultEpisode(), rng=np.random.default_rng(3), options=OPTS)
    f = window_features(ep.telemetry)
    tampered = ep.telemetry.copy()
    tampered[60:] *= 1.5
    g = window_features(tampered)
    np.testing.assert_array_equal(f[:60], g[:60])
    assert not np.allclose(f[60:], g[60:])


def test_scoring_counts_only_right_and_timely_alarms():
    eps = [
        simulate_episode(
            FaultEpisode("fibre-loss", 2.0, 40, 20), rng=np.random.default_rng(i), options=OPTS
        )
        for i in range(3)
    ] + [simulate_episode(FaultEpisode(), rng=np.random.default_rng(9), options=OPTS)]
    v = eps[0].violation_block
    alarms = [
        Alarm(v - 2, "fibre-loss"),  # right and timely: counts, lead 20 s
        Alarm(v - 2, "detector-decay"),  # wrong part
        Alarm(10, "fibre-loss"),  # before the onset
        Alarm(50, "fibre-loss"),  # false alarm on an honest link
    ]
    m = evaluate(alarms, eps)
    assert m["fibre-loss"]["precision"] == pytest.approx(1 / 3)
    assert m["fibre-loss"]["recall"] == pytest.approx(1 / 3)
    lo, hi = m["fibre-loss"]["recall_ci95"]
    assert lo < 1 / 3 < hi  # Wilson interval of 1 in 3
    assert m["fibre-loss"]["median_lead_s"] == 20.0
    assert m["detector-decay"]["precision"] == 0.0


def test_bench_is_reproducible_and_reports_both_methods():
    kw = dict(seed=4, train_episodes=12, test_episodes=12, options=FaultOptions(episode_blocks=60))
    a, b = bench_faults(**kw), bench_faults(**kw)
    assert to_json(a) == to_json(b)  # NaN lead times compare unequal as floats
    methods = {r["method"] for r in a["rows"]}
    assert len(methods) == 2 and any("static" in m for m in methods)
    assert all(0 <= r["precision"] <= 1 and 0 <= r["recall"] <= 1 for r in a["rows"])


def test_cli_bench_faults_json_and_bad_input():
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "bench",
            "faults",
            "--train-episodes",
            "8",
            "--test-episodes",
            "8",
            "--episode-blocks",
            "60",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    assert {r["fault"] for r in json.loads(res.stdout)["rows"]} == {
        "detector-decay",
        "fibre-loss",
        "memory-coherence",
        "weather-fade",
        "link-cut",
    }
    bad = runner.invoke(app, ["bench", "faults", "--test-episodes", "3"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    with pytest.raises(InputError, match="test_pairs"):
        FaultOptions(test_pairs=50_000)
