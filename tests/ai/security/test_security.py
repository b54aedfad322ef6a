"""AI security: data set, detectors, baselines, CLI (small data; the whole file runs in ~30 s)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from qnetai.ai.security.baselines import DecoyConsistencyBaseline, QberThresholdBaseline
from qnetai.ai.security.datasets import DatasetOptions, make_dataset
from qnetai.ai.security.detectors import (
    CusumDetector,
    OneClassDetector,
    SupervisedDetector,
    derived_features,
    episode_deltas,
    window_means,
)
from qnetai.qkd.attacks import AttackSpec, build_pulse_model
from qnetai.qkd.estimation import DEFAULT_QBER_THRESHOLD
from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES, telemetry_features
from qnetai.qkd.pulses import BB84Setup, iter_blocks


@pytest.fixture(autouse=True)
def _one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # OpenMP threads on a shared machine only slow the learners
        yield


def _x(d):
    return np.column_stack([d[n] for n in TELEMETRY_FEATURE_NAMES])


def _features(d):
    return episode_deltas(derived_features(_x(d)), d["episode"], d["block"])


def test_same_seed_same_dataset_and_different_seed_differs():
    opts = DatasetOptions(episode_blocks=4, block_pulses=50_000)
    a = make_dataset(3, rng=np.random.default_rng(5), options=opts)
    b = make_dataset(3, rng=np.random.default_rng(5), options=opts)
    c = make_dataset(3, rng=np.random.default_rng(6), options=opts)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert not np.array_equal(_x(a), _x(c), equal_nan=True)


def test_attacks_leave_their_physical_signatures():
    setup = BB84Setup.from_distance(20.0)
    rng = np.random.default_rng(2)

    def feats(kind, strength=1.0):
        spec = AttackSpec(kind, strength) if kind else None
        blk = next(iter_blocks(setup, pulses=4_000_000, rng=rng, attack=spec, block_pulses=4 << 20))
        return telemetry_features(blk, mu=0.5, nu=0.1, rng=rng)

    h, ts, th = feats(None), feats("time-shift"), feats("trojan-horse")
    # time-shift keeps the gain and the QBER within a few %, but widens the timing histogram
    assert abs(ts["gain_signal"] / h["gain_signal"] - 1) < 0.05
    assert ts["qber_z_signal"] < DEFAULT_QBER_THRESHOLD
    assert ts["timing_std_ps"] > 2 * h["timing_std_ps"]
    # Trojan horse: monitor photodiode reads the probe, intensity up by ~5 %
    assert th["monitor_photodiode_nw"] > h["monitor_photodiode_nw"] + 0.2
    assert 1.02 < th["gain_signal"] / h["gain_signal"] < 1.09
    # time-shift is exact only for p_z = 1/2
    with pytest.raises(Exception, match="p_z"):
        build_pulse_model(BB84Setup.from_distance(5.0, p_z=0.7), AttackSpec("time-shift", 0.5))


def test_qber_threshold_cannot_see_blinding_at_stealthy_strengths():
    opts = DatasetOptions(
        episode_blocks=8,
        block_pulses=500_000,
        attack_fraction=1.0,
        families=("blinding",),
        strengths={"blinding": (0.3, 0.6)},
    )
    d = make_dataset(6, rng=np.random.default_rng(9), options=opts)
    att = d["attacked"]
    x = _x(d)
    qb = QberThresholdBaseline().fit(x)
    assert att.sum() >= 20
    assert qb.predict(x[att]).sum() == 0  # never aborts: blinding lowers the QBER
    dc = DecoyConsistencyBaseline().fit(x[~att])
    assert set(np.unique(dc.predict(x))) <= {0, 1}


@pytest.fixture(scope="module")
def split():
    opts = DatasetOptions(
        episode_blocks=12,
        block_pulses=1_000_000,
        attack_fraction=0.7,
        families=("time-shift", "blinding", "intercept-resend"),
        strengths={"time-shift": (0.4, 0.8), "blinding": (0.8,), "intercept-resend": (0.8,)},
    )
    rng_tr, rng_te = np.random.default_rng(11).spawn(2)
    return make_dataset(40, rng=rng_tr, options=opts), make_dataset(30, rng=rng_te, options=opts)


def test_supervised_detectors_separate_attacks_on_held_out_links(split):
    train, test = split
    xtr, xte = _features(train), _features(test)
    for method, bound in (("gbm", 0.95), ("mlp", 0.9)):
        det = SupervisedDetector(method, max_iter=60, random_state=0)
        det.fit(xtr, train["attacked"].astype(int))
        auc = roc_auc_score(test["attacked"], det.decision_function(xte))
        assert auc > bound, (method, auc)


def test_one_class_trained_on_honest_only_sees_time_shift_and_blinding(split):
    train, test = split
    xtr, xte = _features(train), _features(test)
    oc = OneClassDetector(context=(0,)).fit(xtr[~train["attacked"]])
    s = -oc.score_samples(xte)
    honest = ~test["attacked"]
    for fam in ("time-shift", "blinding"):
        pos = test["label"] == fam
        auc = roc_auc_score(
            np.r_[np.zeros(honest.sum()), np.ones(pos.sum())], np.r_[s[honest], s[pos]]
        )
        assert auc > 0.9, (fam, auc)
    assert set(np.unique(oc.predict(xte))) <= {-1, 1}


def test_cusum_alarms_after_a_shift_not_before():
    cs = CusumDetector(drift=0.5, threshold=5.0).fit(np.random.default_rng(0).normal(size=(500, 1)))
    stream = np.r_[np.zeros(30), np.full(10, 3.0)]
    alarm = cs.first_alarm(stream[:, None])
    assert alarm is not None and 30 <= alarm <= 33


@pytest.mark.parametrize(
    "estimator",
    [SupervisedDetector("gbm", max_iter=5, random_state=0), OneClassDetector()],
    ids=["gbm", "one-class"],
)
def test_check_estimator(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    check_estimator(estimator)


def test_cli_dataset_writes_parquet_atomically_and_refuses_bad_targets(tmp_path):
    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from qnetai.cli.main import app

    runner = CliRunner()
    out = tmp_path / "d.parquet"
    args = ["dataset", "qkd-monitoring", "--blocks", "30", "--seed", "4", "--out", str(out)]
    args += ["--block-pulses", "50000", "--episode-blocks", "10", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["blocks"] == 30
    assert pq.read_table(out).num_rows == 30
    assert sorted(os.listdir(tmp_path)) == ["d.parquet"]  # no temporary left behind
    assert runner.invoke(app, args).exit_code == 2  # exists, no --overwrite
    link = tmp_path / "l.parquet"
    link.symlink_to(tmp_path / "elsewhere.parquet")
    bad = args.copy()
    bad[bad.index(str(out))] = str(link)
    assert runner.invoke(app, bad).exit_code == 2
    assert not (tmp_path / "elsewhere.parquet").exists()
    bad[bad.index(str(link))] = str(tmp_path / "d.csv")
    assert runner.invoke(app, bad).exit_code == 2


def test_stream_features_are_causal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    ep, blk = np.zeros(12, int), np.arange(12)
    full = window_means(episode_deltas(x, ep, blk)[:, 3:], ep, blk, window=3)
    x2 = x.copy()
    x2[8:] += 100.0  # changing the future must not change the past
    part = window_means(episode_deltas(x2, ep, blk)[:, 3:], ep, blk, window=3)
    np.testing.assert_allclose(part[:8], full[:8])
    np.testing.assert_allclose(full[5], (x[3:6] - np.median(x[:4], axis=0)).mean(axis=0))
