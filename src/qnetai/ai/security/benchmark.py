"""``qnetai bench security``: every detector beside the textbook baselines on equal data.

Three independent data sets from one seed (:func:`numpy.random.Generator.spawn`): a
training set (honest and attacked episodes), a calibration set (honest episodes only:
every method's alarm threshold is its score quantile at the target false-alarm rate there,
so all methods run at the same per-block false-alarm rate) and a test set. Per attack
family and strength, on test blocks (honest test blocks against the attacked blocks of that
cell):

* ``auc``: ROC AUC of the per-block score;
* ``tpr``: true-positive rate at the calibrated threshold (1 % false alarms per block);
* ``delay_blocks``: mean blocks from the onset to the first alarm in attacked episodes
  (alarms before the onset count as false alarms, not detections) and ``detected`` the
  share of attacked episodes with an alarm at or after the onset;
* ``cost`` (with ``estimated_loss`` and ``attacked_share``): what the attack costs the
  key at 25 km (:func:`attack_key_costs`), for the target "strengths that cost >= 10 %";
* ``key_kept``: share of the honest raw key (detections in honest test blocks) not
  discarded at the threshold (one figure per method, not per cell).

Methods: ``gbm`` and ``mlp`` (supervised, all families), ``gbm-window`` and
``one-class-window`` (the same with the causal mean of the last ``window_blocks`` blocks'
changes added: a learned detector over the block stream), ``gbm-lofo`` (gradient boosting
trained without the family under test), ``one-class`` (honest training blocks only),
``cusum-one-class`` (CUSUM over the one-class score), baselines ``qber`` (abort threshold
11 %, also shown at its own operating point as ``qber_abort_tpr``), ``cusum-qber`` (CUSUM
over the QBER) and ``decoy`` (decoy single-photon share). Nothing is saved: models are
retrained from the seed on every run.

Example:
    >>> out = run_security_benchmark(seed=0, train_episodes=12, calib_episodes=6,
    ...     test_episodes=12, episode_blocks=8, block_pulses=50_000, reference_blocks=2,
    ...     mlp_iter=5, gbm_iter=5, cost_pulses=1_000_000)
    >>> sorted(out["methods"])[:2]
    ['cusum-one-class', 'cusum-qber']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from qnetai.ai.security.baselines import DecoyConsistencyBaseline, QberThresholdBaseline
from qnetai.ai.security.datasets import DEFAULT_STRENGTHS, DatasetOptions, make_dataset
from qnetai.ai.security.detectors import (
    CusumDetector,
    OneClassDetector,
    SupervisedDetector,
    derived_features,
    episode_deltas,
    window_means,
)
from qnetai.errors import InputError
from qnetai.qkd.attacks import ATTACKS, AttackSpec
from qnetai.qkd.estimation import DEFAULT_QBER_THRESHOLD
from qnetai.qkd.monitoring import TELEMETRY_FEATURE_NAMES

__all__ = ["METHODS", "attack_key_costs", "run_security_benchmark"]

#: Methods in report order (baselines last).
METHODS: tuple[str, ...] = (
    "gbm",
    "gbm-window",
    "gbm-lofo",
    "mlp",
    "one-class",
    "one-class-window",
    "cusum-one-class",
    "qber",
    "cusum-qber",
    "decoy",
)
_SEQUENTIAL = {"cusum-one-class": "one-class", "cusum-qber": "qber"}


def _telemetry(d: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
    return np.column_stack([d[n] for n in TELEMETRY_FEATURE_NAMES])


def _auc(neg: NDArray[np.float64], pos: NDArray[np.float64]) -> float | None:
    if neg.size == 0 or pos.size == 0:
        return None
    y = np.r_[np.zeros(neg.size), np.ones(pos.size)]
    return float(roc_auc_score(y, np.r_[neg, pos]))


def _episode_streams(d: dict[str, NDArray[Any]], score: NDArray[np.float64]):
    """(episode onset or -1, scores in block order) per episode."""
    ep = d["episode"]
    for e in np.unique(ep):
        m = ep == e
        order = np.argsort(d["block"][m])
        yield int(d["onset_block"][m][0]), d["label"][m][order], score[m][order]


def _cusum_scores(cs: CusumDetector, d: dict[str, NDArray[Any]], s: NDArray[np.float64]):
    out = np.empty_like(s)
    ep = d["episode"]
    for e in np.unique(ep):
        idx = np.flatnonzero(ep == e)
        idx = idx[np.argsort(d["block"][idx])]
        out[idx] = cs.statistic(s[idx])
    return out


def attack_key_costs(
    strengths: dict[str, tuple[float, ...]],
    *,
    rng: np.random.Generator,
    distance_km: float = 25.0,
    pulses: int = 100_000_000,
) -> dict[tuple[str, float], dict[str, float]]:
    """What each attack costs the key at ``distance_km`` (default GYS link, one long block).

    ``estimated_loss``: ``1 - R_attack / R_honest`` of the protocol's own asymptotic
    decoy-state key estimate, what the protocol sees and discards (1 when it aborts or the
    rate is not positive; ``R_honest`` analytic, ``R_attack`` from ``pulses`` simulated
    pulses: about +-0.1 of statistical noise at the default 1e8); ``attacked_share``: share
    of the raw key (sifted Z detections) from attacked pulses (bits Eve holds information
    on that the estimate may not count: the whole share for blinding, part of it for
    Trojan-horse and time-shift);
    ``cost``: ``min(1, estimated_loss + attacked_share)``.
    """
    from qnetai.qkd.estimation import asymptotic_rate_from_statistics, expected_statistics
    from qnetai.qkd.pulses import BB84Setup, iter_blocks
    from qnetai.qkd.sifting import block_counts, sift_mask

    setup = BB84Setup.from_distance(distance_km)

    def run(spec: AttackSpec | None) -> tuple[float, float]:
        blk = next(iter_blocks(setup, pulses=pulses, rng=rng, attack=spec, block_pulses=pulses))
        c = block_counts(blk)
        gains = np.nan_to_num(c.gains, nan=0.0)
        qber = np.nan_to_num(c.qber, nan=0.5)
        rate = asymptotic_rate_from_statistics(gains, qber, setup)
        if qber[0, 0] > DEFAULT_QBER_THRESHOLD:
            rate = 0.0
        key = sift_mask(blk) & (blk.alice_basis == 0)
        share = float(blk.attacked[key].mean()) if key.any() else 0.0
        return rate, share

    honest = asymptotic_rate_from_statistics(*expected_statistics(setup), setup)
    out: dict[tuple[str, float], dict[str, float]] = {}
    for fam, grid in strengths.items():
        for st in grid:
            rate, share = run(AttackSpec(fam, float(st)))
            loss = 1.0 if rate <= 0 or honest <= 0 else max(0.0, 1.0 - rate / honest)
            out[(fam, float(st))] = {
                "estimated_loss": loss,
                "attacked_share": share,
                "cost": min(1.0, loss + share),
            }
    return out


#: The issue's targets: detection at 1 % false alarms where an attack costs this much key.
TARGET_COST = 0.10
TARGET_TPR = 0.95
TARGET_KEY_KEPT = 0.97


def _summary(cells: list[dict[str, Any]], methods: dict[str, Any]) -> dict[str, Any]:
    """Per method and family: worst TPR where costly, mean delay, share detected; targets.

    Worst TPR over strengths whose key cost is >= :data:`TARGET_COST`; mean delay over
    attacked links pooled over strengths (detected links only); whether the issue's
    targets (:data:`TARGET_TPR`, :data:`TARGET_KEY_KEPT`) are met.
    """
    out: dict[str, Any] = {}
    for m in METHODS:
        fams: dict[str, Any] = {}
        for fam in ATTACKS:
            cs = [c for c in cells if c["family"] == fam]
            costly = [c for c in cs if c.get("cost", 1.0) >= TARGET_COST]
            delays = [
                (c[m]["delay_blocks"], c[m]["detected"] * c["episodes"], c["episodes"]) for c in cs
            ]
            n_det = sum(d for _, d, _ in delays)
            n_ep = sum(e for _, _, e in delays)
            mean_delay = (
                sum(dl * d for dl, d, _ in delays if dl is not None) / n_det if n_det else None
            )
            fams[fam] = {
                "min_tpr_costly": min((c[m]["tpr"] for c in costly), default=None),
                "costly_strengths": [c["strength"] for c in costly],
                "mean_delay_blocks": mean_delay,
                "detected": n_det / n_ep if n_ep else None,
            }
        tprs = [f["min_tpr_costly"] for f in fams.values() if f["min_tpr_costly"] is not None]
        out[m] = {
            "families": fams,
            "tpr_target_met": bool(tprs) and min(tprs) >= TARGET_TPR,
            "key_kept_target_met": methods[m]["key_kept"] >= TARGET_KEY_KEPT,
        }
    return out


def run_security_benchmark(
    *,
    seed: int = 0,
    train_episodes: int = 120,
    calib_episodes: int = 60,
    test_episodes: int = 240,
    episode_blocks: int = 20,
    block_pulses: int = 2_000_000,
    reference_blocks: int = 4,
    window_blocks: int = 4,
    false_alarm_rate: float = 0.01,
    gbm_iter: int = 100,
    mlp_iter: int = 200,
    cost_pulses: int = 100_000_000,
    n_threads: int | None = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Train, calibrate and test every method; see the module doc for the figures.

    ``n_threads`` caps the OpenMP/BLAS threads of the learners (``None``: library
    default); one thread is much faster on a shared machine than oversubscribed ones.

    Returns a JSON-ready dict: ``config``, ``methods`` (per method: ``key_kept``,
    ``false_alarm_rate`` measured on test honest blocks, ``threshold``), ``cells`` (one per
    family and strength with every method's ``auc``, ``tpr``, ``delay_blocks``,
    ``detected``), ``qber_abort_tpr`` per cell and ``timing_s``.
    """
    if not 0 < reference_blocks <= episode_blocks // 4:
        raise InputError(
            f"reference_blocks must be in [1, episode_blocks // 4 = {episode_blocks // 4}] "
            f"(attacks start at block episode_blocks // 4 at the earliest; got {reference_blocks})"
        )
    from threadpoolctl import threadpool_limits

    with threadpool_limits(n_threads):
        return _run(
            seed=seed,
            train_episodes=train_episodes,
            calib_episodes=calib_episodes,
            test_episodes=test_episodes,
            episode_blocks=episode_blocks,
            block_pulses=block_pulses,
            reference_blocks=reference_blocks,
            window_blocks=window_blocks,
            false_alarm_rate=false_alarm_rate,
            gbm_iter=gbm_iter,
            mlp_iter=mlp_iter,
            cost_pulses=cost_pulses,
            n_threads=n_threads,
            progress=progress,
        )


def _run(
    *,
    seed: int,
    train_episodes: int,
    calib_episodes: int,
    test_episodes: int,
    episode_blocks: int,
    block_pulses: int,
    reference_blocks: int,
    window_blocks: int,
    false_alarm_rate: float,
    gbm_iter: int,
    mlp_iter: int,
    cost_pulses: int,
    n_threads: int | None,
    progress: Callable[[str, int, int], None] | None,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    rng_train, rng_cal, rng_test = np.random.default_rng(seed).spawn(3)
    opts = DatasetOptions(episode_blocks=episode_blocks, block_pulses=block_pulses)
    honest_opts = DatasetOptions(
        episode_blocks=episode_blocks, block_pulses=block_pulses, attack_fraction=0.0
    )
    stage = 0

    def step(name: str) -> None:
        nonlocal stage
        stage += 1
        if progress is not None:
            progress(name, stage, 6)

    train = make_dataset(train_episodes, rng=rng_train, options=opts)
    step("train data")
    calib = make_dataset(calib_episodes, rng=rng_cal, options=honest_opts)
    step("calibration data")
    test = make_dataset(test_episodes, rng=rng_test, options=opts)
    step("test data")
    t_data = time.perf_counter() - t0

    x_tr, x_ca, x_te = (
        episode_deltas(
            derived_features(_telemetry(d)),
            d["episode"],
            d["block"],
            reference_blocks=reference_blocks,
        )
        for d in (train, calib, test)
    )
    raw_tr, raw_ca, raw_te = (_telemetry(d) for d in (train, calib, test))
    n_feat = x_tr.shape[1] // 2

    def windowed(x: NDArray[np.float64], d: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        w = window_means(x[:, n_feat:], d["episode"], d["block"], window=window_blocks)
        return np.column_stack([x, w])

    w_tr, w_ca, w_te = windowed(x_tr, train), windowed(x_ca, calib), windowed(x_te, test)
    y_tr = train["attacked"].astype(int)
    scores: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

    def fit_gbm(mask: NDArray[np.bool_]) -> SupervisedDetector:
        det = SupervisedDetector("gbm", max_iter=gbm_iter, random_state=seed)
        return det.fit(x_tr[mask], y_tr[mask])

    gbm = fit_gbm(np.ones(y_tr.size, bool))
    scores["gbm"] = (gbm.decision_function(x_ca), gbm.decision_function(x_te))
    gbm_w = SupervisedDetector("gbm", max_iter=gbm_iter, random_state=seed).fit(w_tr, y_tr)
    scores["gbm-window"] = (gbm_w.decision_function(w_ca), gbm_w.decision_function(w_te))
    mlp = SupervisedDetector("mlp", max_iter=mlp_iter, random_state=seed).fit(x_tr, y_tr)
    scores["mlp"] = (mlp.decision_function(x_ca), mlp.decision_function(x_te))
    step("supervised models")
    honest_tr = ~train["attacked"]
    oc = OneClassDetector(context=(0,), contamination=false_alarm_rate).fit(x_tr[honest_tr])
    scores["one-class"] = (-oc.score_samples(x_ca), -oc.score_samples(x_te))
    oc_w = OneClassDetector(context=(0,), contamination=false_alarm_rate).fit(w_tr[honest_tr])
    scores["one-class-window"] = (-oc_w.score_samples(w_ca), -oc_w.score_samples(w_te))
    qb = QberThresholdBaseline().fit(raw_tr)
    scores["qber"] = (qb.decision_function(raw_ca), qb.decision_function(raw_te))
    dc = DecoyConsistencyBaseline(quantile=false_alarm_rate).fit(raw_tr[honest_tr])
    scores["decoy"] = (dc.decision_function(raw_ca), dc.decision_function(raw_te))
    for seq, base in _SEQUENTIAL.items():
        s_ca, s_te = scores[base]
        cs = CusumDetector(drift=0.5, threshold=np.inf).fit(s_ca[:, None])
        scores[seq] = (_cusum_scores(cs, calib, s_ca), _cusum_scores(cs, test, s_te))
    # leave-one-family-out gradient boosting: one model per family
    lofo_te = np.full(x_te.shape[0], np.nan)
    lofo_ca: dict[str, NDArray[np.float64]] = {}
    lofo_honest_by_family: dict[str, NDArray[np.float64]] = {}
    for fam in ATTACKS:
        det = fit_gbm(train["label"] != fam)
        lofo_ca[fam] = det.decision_function(x_ca)
        sel = test["label"] == fam
        if sel.any():
            lofo_te[sel] = det.decision_function(x_te[sel])
        lofo_honest_by_family[fam] = det.decision_function(x_te[~test["attacked"]])
    step("one-class, baselines, leave-one-family-out")

    honest_te = ~test["attacked"]
    key_w = test["gain_signal"] * test["n_pulses"]
    key_w = np.where(np.isfinite(key_w), key_w, 0.0)
    thresholds: dict[str, float] = {}
    methods: dict[str, dict[str, Any]] = {}
    for name, (s_ca, s_te) in scores.items():
        thr = float(np.quantile(s_ca, 1.0 - false_alarm_rate))
        thresholds[name] = thr
        flag = s_te[honest_te] > thr
        methods[name] = {
            "threshold": thr,
            "false_alarm_rate": float(flag.mean()),
            "key_kept": float(key_w[honest_te][~flag].sum() / key_w[honest_te].sum()),
        }
    lofo_thr = {f: float(np.quantile(lofo_ca[f], 1.0 - false_alarm_rate)) for f in ATTACKS}
    fa, kept = [], []
    for fam in ATTACKS:  # one model per left-out family: mean over the five
        flag = lofo_honest_by_family[fam] > lofo_thr[fam]
        fa.append(float(flag.mean()))
        kept.append(float(key_w[honest_te][~flag].sum() / key_w[honest_te].sum()))
    methods["gbm-lofo"] = {
        "threshold": None,
        "false_alarm_rate": float(np.mean(fa)),
        "key_kept": float(np.mean(kept)),
    }
    costs = attack_key_costs(
        {f: tuple(DEFAULT_STRENGTHS[f]) for f in ATTACKS},
        rng=np.random.default_rng(seed),
        pulses=cost_pulses,
    )
    qber_abort = raw_te[:, TELEMETRY_FEATURE_NAMES.index("qber_z_signal")] > DEFAULT_QBER_THRESHOLD

    cells = []
    for fam in ATTACKS:
        for strength in sorted(set(test["strength"][test["label"] == fam].tolist())):
            pos = (test["label"] == fam) & (test["strength"] == strength)
            eps = np.unique(test["episode"][pos])
            cell: dict[str, Any] = {
                "family": fam,
                "strength": float(strength),
                "blocks": int(pos.sum()),
                "episodes": int(eps.size),
                "qber_abort_tpr": float(qber_abort[pos].mean()),
                "mean_qber": float(np.nanmean(test["qber_z_signal"][pos])),
                **costs.get((fam, float(strength)), {}),
            }
            for name in METHODS:
                if name == "gbm-lofo":
                    neg_s, pos_s = lofo_honest_by_family[fam], lofo_te[pos]
                    thr = lofo_thr[fam]
                    s_all = None
                else:
                    s_all = scores[name][1]
                    neg_s, pos_s, thr = s_all[honest_te], s_all[pos], thresholds[name]
                delays = []
                for e in eps:
                    m = test["episode"] == e
                    order = np.argsort(test["block"][m])
                    onset = int(test["onset_block"][m][0])
                    s_ep = (s_all[m] if s_all is not None else lofo_te[m])[order]
                    hits = np.flatnonzero(s_ep[onset:] > thr)
                    if hits.size:
                        delays.append(int(hits[0]))
                cell[name] = {
                    "auc": _auc(neg_s, pos_s),
                    "tpr": float((pos_s > thr).mean()),
                    "delay_blocks": float(np.mean(delays)) if delays else None,
                    "detected": len(delays) / eps.size if eps.size else None,
                }
            cells.append(cell)
    step("evaluation")
    summary = _summary(cells, methods)
    return {
        "config": {
            "seed": seed,
            "train_episodes": train_episodes,
            "calib_episodes": calib_episodes,
            "test_episodes": test_episodes,
            "episode_blocks": episode_blocks,
            "block_pulses": block_pulses,
            "false_alarm_rate": false_alarm_rate,
            "reference_blocks": reference_blocks,
            "window_blocks": window_blocks,
            "cost_pulses": cost_pulses,
            "n_threads": n_threads,
            "train_blocks": int(y_tr.size),
            "test_blocks": int(honest_te.size),
            "test_honest_blocks": int(honest_te.sum()),
        },
        "methods": methods,
        "cells": cells,
        "summary": summary,
        "timing_s": {"data": t_data, "total": time.perf_counter() - t0},
    }
