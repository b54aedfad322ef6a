"""Learned change-point detector, per-link evaluation and the bench CLI (small data, ~20 s)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from qnetai.ai.security.benchmark import _Links, run_security_benchmark
from qnetai.ai.security.changepoint import ChangePointDetector, stream_statistics
from qnetai.ai.security.detectors import SupervisedDetector


@pytest.fixture(autouse=True)
def _one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def _streams(n_streams: int, t: int, shift: float, rng: np.random.Generator):
    """Streams of 3 noisy features; odd streams shift feature 0 by ``shift`` from t // 2."""
    x = rng.normal(size=(n_streams * t, 3)) + np.repeat(rng.normal(size=(n_streams, 3)), t, 0)
    stream = np.repeat(np.arange(n_streams), t)
    block = np.tile(np.arange(t), n_streams)
    onset = np.where(np.arange(n_streams) % 2 == 1, t // 2, t)
    y = (block >= onset[stream]).astype(int)
    x[y == 1, 0] += shift
    return x, y, stream, block, onset


def test_stream_statistics_cusum_closed_form_and_causal():
    x = np.array([[0.0], [0.0], [1.0], [3.0], [-2.0]])
    s = stream_statistics(x, reference_blocks=2, window=2, drifts=(0.5,))
    z = np.array([0.0, 0.0, 1.0, 3.0, -2.0])
    s_plus = [0.0, 0.0, 0.5, 3.0, 0.5]  # max(0, S + z - 0.5)
    s_minus = [0.0, 0.0, 0.0, 0.0, 1.5]  # max(0, S - z - 0.5)
    np.testing.assert_allclose(s[:, 0], z)
    np.testing.assert_allclose(s[:, 1], [0.0, 0.0, 0.5, 2.0, 0.5])  # window mean of 2
    np.testing.assert_allclose(s[:, 2], [0, 0, 1, 4 / np.sqrt(2), 2 / np.sqrt(3)])
    np.testing.assert_allclose(s[:, 3], s_plus)
    np.testing.assert_allclose(s[:, 4], s_minus)
    np.testing.assert_allclose(s[:, 5], z**2)
    np.testing.assert_allclose(s[:, 6], np.maximum(s_plus, s_minus))
    # two interleaved streams give each stream's own statistics; the future never leaks
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(8, 2)), rng.normal(size=(8, 2))
    both = stream_statistics(
        np.vstack([a, b]), stream=np.r_[np.zeros(8), np.ones(8)], block=np.r_[0:8, 0:8]
    )
    np.testing.assert_allclose(both[:8], stream_statistics(a))
    a2 = a.copy()
    a2[6:] += 50.0
    np.testing.assert_allclose(stream_statistics(a2)[:6], stream_statistics(a)[:6])


def test_learned_change_point_beats_per_block_learner_on_a_small_shift():
    """A 0.6-sigma shift on links with their own N(0, 1) offsets: one block, offset
    unknown, cannot beat AUC Phi(0.6 / 2) = 0.62; the change from the link's own past,
    pooled over the blocks since the onset, can (~0.8 for 4-8 blocks against 8 before)."""
    rng_tr, rng_te = np.random.default_rng(7).spawn(2)
    x, y, st, blk, _ = _streams(200, 16, 0.6, rng_tr)
    xt, yt, stt, blkt, onset = _streams(200, 16, 0.6, rng_te)
    cpd = ChangePointDetector(max_iter=60, random_state=0).fit(x, y, stream=st, block=blk)
    p = cpd.predict_proba(xt, stream=stt, block=blkt)[:, 1]
    late = (yt == 0) | (blkt >= onset[stt] + 4)  # honest blocks vs blocks >= 4 after onset
    auc_cpd = roc_auc_score(yt[late], p[late])
    gbm = SupervisedDetector(max_iter=60, random_state=0).fit(x, y)
    auc_gbm = roc_auc_score(yt[late], gbm.decision_function(xt)[late])
    assert auc_gbm < 0.65, auc_gbm
    assert auc_cpd > 0.78, auc_cpd
    assert set(np.unique(cpd.predict(xt, stream=stt, block=blkt))) <= {0, 1}
    assert 0.0 <= cpd.score(xt[:16], yt[:16]) <= 1.0


def test_check_estimator_change_point():
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(ChangePointDetector(max_iter=5, random_state=0))


def test_per_link_threshold_matches_the_max_of_k_gaussians():
    """i.i.d. N(0,1) scores: the 1 % per-window threshold is Phi^-1(0.99^(1/K))."""
    rng = np.random.default_rng(3)
    n, t, k = 4000, 8, 2
    d = {
        "episode": np.repeat(np.arange(n), t),
        "block": np.tile(np.arange(t), n),
        "onset_block": np.full(n * t, -1),
    }
    links = _Links(d, k, t)
    w = links.honest_window_max(rng.normal(size=n * t))
    assert w.size == n * (min(6, t - k) - 2 + 1)  # starts t // 4 .. min(3t // 4, t - k)
    expected = norm.ppf(0.99 ** (1 / k))
    assert abs(np.quantile(w, 0.99) - expected) < 0.12
    # an attacked link: the alarm at the second block of its window gives delay 1
    d2 = {"episode": np.zeros(t, int), "block": np.arange(t), "onset_block": np.full(t, 3)}
    s = np.zeros(t)
    s[4] = 5.0
    assert _Links(d2, k, t).attacked(s, 1.0, np.array([0])) == (1.0, 1.0)
    assert _Links(d2, k, t).attacked(s, 9.0, np.array([0])) == (0.0, float(k))


def test_benchmark_reports_both_definitions_and_rejects_bad_windows():
    from qnetai.errors import InputError

    out = run_security_benchmark(
        seed=1,
        train_episodes=10,
        calib_episodes=6,
        test_episodes=10,
        episode_blocks=8,
        block_pulses=50_000,
        reference_blocks=2,
        mlp_iter=5,
        gbm_iter=5,
        cost_pulses=1_000_000,
    )
    assert out["config"]["link_window_blocks"] == 2  # 8 - 3 * 8 // 4: clipped from 5
    m = out["methods"]["changepoint"]
    assert {"false_alarm_rate", "link_false_alarm_rate", "link_key_kept"} <= set(m)
    for c in out["cells"]:
        for name in ("changepoint", "qber", "gbm-lofo"):
            assert 0.0 <= c[name]["link_detected"] <= 1.0
            assert 0.0 <= c[name]["link_delay_blocks"] <= 2.0
    assert "link_delay_ratio" in out["summary"]["changepoint"]
    with pytest.raises(InputError, match="link_window_blocks"):
        run_security_benchmark(episode_blocks=8, reference_blocks=2, link_window_blocks=3)


def test_cli_bench_security_tables_json_and_bad_block_size(monkeypatch):
    from typer.testing import CliRunner

    import qnetai.cli.security_cmd as cmd
    from qnetai.cli.main import app

    tiny = dict(cmd.QUICK_PROFILE, train_episodes=10, calib_episodes=6, test_episodes=10)
    tiny.update(episode_blocks=8, reference_blocks=2, block_pulses=50_000, gbm_iter=5)
    monkeypatch.setattr(cmd, "QUICK_PROFILE", tiny)
    runner = CliRunner()
    res = runner.invoke(app, ["bench", "security", "--quick", "--json", "--seed", "2"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output[res.output.index("{") :])
    assert "changepoint" in out["summary"]
    md = cmd.format_security_table(out)
    assert "Per link: detected among the attack's first 2 blocks" in md
    res = runner.invoke(app, ["bench", "security", "--quick", "--seed", "2"])
    assert res.exit_code == 0 and "Operating points" in res.output, res.output
    bad = runner.invoke(app, ["bench", "security", "--block-pulses", "1e12"])
    assert bad.exit_code == 2
    assert "block_pulses" in bad.output and "Traceback" not in bad.output
