"""Weather fade and link cut: telemetry against closed forms, scoring of cuts, alarm rules."""

import math

import numpy as np
import pytest
from typer.testing import CliRunner

from qnetai.ai.security import faults
from qnetai.ai.security.faults import (
    FAULTS,
    TELEMETRY,
    Alarm,
    FaultEpisode,
    FaultOptions,
    StaticThresholdBaseline,
    evaluate,
    paired_comparison,
    simulate_episode,
    window_features,
)
from qnetai.cli.main import app
from qnetai.errors import InputError
from qnetai.qkd.channel import GYS
from qnetai.qkd.decoy import E0
from qnetai.qkd.rates import bb84_decoy_rate


def col(ep, name):
    return ep.telemetry[:, TELEMETRY.index(name)]


def test_faults_are_tied_to_their_kind_of_link():
    with pytest.raises(InputError, match="free-space links only"):
        FaultEpisode("weather-fade", 2.0, 30, link="fibre")
    with pytest.raises(InputError, match="fibre links only"):
        FaultEpisode("fibre-loss", 1.0, 30, link="free-space")
    with pytest.raises(InputError, match="link="):
        FaultEpisode(link="satellite")
    with pytest.raises(InputError, match="scintillation_sigma"):
        FaultOptions(scintillation_sigma=2.0)


def test_weather_fade_matches_the_closed_forms():
    still = FaultOptions(episode_blocks=120, drift=0.0, scintillation_sigma=0.0)
    ep = simulate_episode(
        FaultEpisode("weather-fade", 2.0, 30, 30, link="free-space"),
        rng=np.random.default_rng(5),
        options=still,
    )
    sync = col(ep, "sync_dbm")
    assert sync[:20].mean() == pytest.approx(-ep.loss_db, abs=0.03)  # meter noise 0.03 / sqrt 20
    assert sync[:20].mean() - sync[-20:].mean() == pytest.approx(2.0, abs=0.03)
    eta = GYS.eta_bob * 10 ** (-ep.loss_db / 10)
    ratio = GYS.gain_at(0.48, eta * 10**-0.2) / GYS.gain_at(0.48, eta)
    g = col(ep, "gain_mu")
    assert g[-20:].mean() / g[:20].mean() == pytest.approx(ratio, rel=0.01)
    # the service level, from the decoy-state rate of the equivalent fibre length
    extra = 2.0 * np.clip((np.arange(120) - 30 + 1) / 30, 0, 1)
    key = bb84_decoy_rate((ep.loss_db + extra) / 0.21, mu=0.48, nu=0.1).key_rate_per_pulse
    assert ep.violation_block == int(np.flatnonzero(key < 0.93 * key[0])[0])
    assert 30 < ep.violation_block < 60  # a fade crosses the service level early in its ramp


def test_scintillation_is_lognormal_and_cancels_in_the_efficiency_statistic():
    sigma = 0.1
    o = FaultOptions(episode_blocks=2000, drift=0.0, scintillation_sigma=sigma)
    ep = simulate_episode(FaultEpisode(link="free-space"), rng=np.random.default_rng(6), options=o)
    sync = col(ep, "sync_dbm")
    expected = math.hypot(10 / math.log(10) * sigma, 0.03)  # log-normal in dB + meter noise
    assert sync.std(ddof=1) == pytest.approx(expected, rel=0.06)  # n = 2000: SE ~ 1.6 %
    # mean transmittance is unbiased: E[10^(sync/10)] = 10^(-loss/10)
    lin = 10 ** (sync / 10) / 10 ** (-ep.loss_db / 10)
    assert lin.mean() == pytest.approx(1.0, abs=4 * 0.1 / math.sqrt(2000) + 0.01)
    eff_db = 10 * np.log10(col(ep, "gain_mu")) - sync
    assert eff_db.std(ddof=1) < 0.06  # the common scintillation cancels: meter noise remains
    assert ep.violation_block == o.episode_blocks  # scintillation alone is no service loss


def test_honest_weather_is_a_stationary_ornstein_uhlenbeck_process():
    w = faults._weather_db(np.random.default_rng(7), 40_000, 0.05, 30.0)
    assert w.std() == pytest.approx(0.05, rel=0.12)  # ~650 independent stretches
    lag1 = np.corrcoef(w[:-1], w[1:])[0, 1]
    assert lag1 == pytest.approx(math.exp(-1 / 30), abs=0.01)


def test_link_cut_goes_dark_within_one_block():
    o = FaultOptions(episode_blocks=120)
    ep = simulate_episode(
        FaultEpisode("link-cut", 1.0, 40), rng=np.random.default_rng(8), options=o
    )
    before = ep.fault_s / o.block_s - 40  # fraction of the onset block before the cut
    assert 0 <= before < 1
    g = col(ep, "gain_mu")
    dark = GYS.gain_at(0.48, 0.0)
    assert g[41:].mean() == pytest.approx(dark, rel=0.02)  # ~1360 dark clicks per block
    lit = g[:40].mean()
    assert g[40] == pytest.approx(before * lit + (1 - before) * dark, rel=0.03, abs=3 * dark)
    assert col(ep, "qber_mu")[41:].mean() == pytest.approx(E0, abs=0.03)
    assert col(ep, "sync_dbm")[41:].mean() == pytest.approx(-70.0, abs=0.5)  # meter floor
    assert ep.violation_block == (40 if before < 0.93 else 41)
    assert np.all(ep.key_rate[41:] == 0.0)


def _cut_episodes():
    o = FaultOptions(episode_blocks=80)
    cut = simulate_episode(
        FaultEpisode("link-cut", 1.0, 40), rng=np.random.default_rng(9), options=o
    )
    honest = simulate_episode(FaultEpisode(), rng=np.random.default_rng(10), options=o)
    return cut, honest


def test_a_cut_is_scored_by_time_to_detect_and_attribution():
    cut, honest = _cut_episodes()
    m = evaluate([Alarm(41, "link-cut"), None], [cut, honest])["link-cut"]
    assert m["precision"] == 1.0 and m["recall"] == 1.0
    assert math.isnan(m["median_lead_s"])  # no lead time for a cut
    assert m["median_detect_s"] == pytest.approx(42 * 10.0 - cut.fault_s)
    wrong = evaluate([Alarm(41, "fibre-loss"), Alarm(50, "link-cut")], [cut, honest])
    assert wrong["link-cut"]["recall"] == 0.0 and wrong["link-cut"]["precision"] == 0.0
    early = evaluate([Alarm(39, "link-cut"), None], [cut, honest])["link-cut"]
    assert early["recall"] == 0.0  # before the cut: a false alarm


def test_trigger_blocks_need_consecutive_blocks():
    above = np.array([[0, 1, 1, 0, 1, 1, 1], [1, 0, 0, 0, 0, 0, 0]], dtype=bool)
    assert faults._trigger_blocks(above, 1).tolist() == [1, 0]
    assert faults._trigger_blocks(above, 2).tolist() == [2, 7]
    assert faults._trigger_blocks(above, 3).tolist() == [6, 7]
    assert faults._trigger_blocks(above, 9).tolist() == [7, 7]


def test_paired_comparison_counts_discordant_episodes():
    o = FaultOptions(episode_blocks=120)
    eps = [
        simulate_episode(
            FaultEpisode("fibre-loss", 2.0, 40, 20), rng=np.random.default_rng(i), options=o
        )
        for i in (11, 12)
    ] + [simulate_episode(FaultEpisode(), rng=np.random.default_rng(13), options=o)]
    v0, v1 = eps[0].violation_block, eps[1].violation_block
    a = [Alarm(v0 - 3, "fibre-loss"), Alarm(v1 - 1, "fibre-loss"), None]
    b = [Alarm(v0 - 1, "fibre-loss"), None, Alarm(60, "fibre-loss")]
    p = paired_comparison(a, b, eps)["fibre-loss"]
    assert (p["recall_only_a"], p["recall_only_b"]) == (1, 0)
    assert (p["false_alarms_only_a"], p["false_alarms_only_b"]) == (0, 1)
    assert p["both_caught"] == 1 and p["lead_diff_s"] == 20.0
    assert p["recall_p"] == 1.0  # one discordant pair proves nothing


def test_baseline_rules_attribute_cut_fade_and_detector():
    o = FaultOptions(episode_blocks=120)
    base = StaticThresholdBaseline()
    cut, _ = _cut_episodes()
    a = base.alarm(cut)
    assert a is not None and a.label == "link-cut" and 40 <= a.block <= 42
    fade = simulate_episode(
        FaultEpisode("weather-fade", 3.0, 40, 30, link="free-space"),
        rng=np.random.default_rng(14),
        options=o,
    )
    assert base.alarm(fade).label == "weather-fade"
    det = simulate_episode(
        FaultEpisode("detector-decay", 0.3, 40, 30, link="free-space"),
        rng=np.random.default_rng(15),
        options=o,
    )
    assert base.alarm(det).label == "detector-decay"


def test_features_hold_the_threshold_statistics():
    ep, _ = _cut_episodes()
    f = window_features(ep.telemetry)
    st = faults._threshold_stats(ep.telemetry)
    base = ep.telemetry[:20, TELEMETRY.index("gain_mu")].mean()
    assert st[60, 0] == pytest.approx(ep.telemetry[60, 0] / base - 1)
    assert f.shape == (80, 40)
    np.testing.assert_allclose(f[:, 24:28], st)  # the last block's statistics, verbatim


def test_cli_table_shows_every_class_and_the_paired_test(monkeypatch):
    def fake(**kw):
        rows = [
            {
                "method": m,
                "fault": k,
                "severity": s,
                "precision": 0.9,
                "precision_ci95": [0.8, 0.95],
                "recall": 0.9,
                "recall_ci95": [0.8, 0.95],
                "f1": 0.9,
                "median_lead_s": float("nan") if k == "link-cut" else 120.0,
                "median_detect_s": 15.0,
            }
            for k, s in FAULTS.items()
            for m in ("learned (gradient boosting)", "static thresholds (tuned)")
        ]
        paired = {
            k: {
                "recall_only_a": 1,
                "recall_only_b": 0,
                "recall_p": 1.0,
                "false_alarms_only_a": 0,
                "false_alarms_only_b": 2,
                "false_alarms_p": 0.5,
                "both_caught": 90,
                "lead_diff_s": 60.0,
            }
            for k in FAULTS
        }
        settings = {
            "test_episodes": 12,
            "seed": 0,
            "sla_key_fraction": 0.93,
            "sla_fidelity_drop": 0.02,
        }
        return {"rows": rows, "paired": paired, "settings": settings}

    monkeypatch.setattr(faults, "bench_faults", fake)
    res = CliRunner().invoke(app, ["bench", "faults", "--quick"])
    assert res.exit_code == 0, res.output
    for word in ("weather-fade", "link-cut", "+2 dB fog/rain", "Paired", "0.90 [0.80, 0.95]"):
        assert word in res.stdout
