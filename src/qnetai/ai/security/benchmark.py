"""``qnetai bench security``: every detector beside the textbook baselines on equal data.

Three independent data sets from one seed (:func:`numpy.random.Generator.spawn`): a
training set (honest and attacked episodes), a calibration set (honest episodes only:
every method's alarm threshold is its score quantile at the target false-alarm rate there,
so all methods run at the same per-block false-alarm rate) and a test set. Per attack
family and strength, on test blocks (honest test blocks against the attacked blocks of that
cell):

* ``auc``: ROC AUC of the per-block score (negatives: honest blocks from block
  ``episode_blocks // 4`` on, the earliest onset, in every per-block figure);
* ``tpr``: true-positive rate at the calibrated threshold (1 % false alarms per block);
* ``delay_blocks``: mean blocks from the onset to the first alarm in attacked episodes
  (alarms before the onset count as false alarms, not detections) and ``detected`` the
  share of attacked episodes with an alarm at or after the onset;
* ``cost`` (with ``estimated_loss`` and ``attacked_share``): what the attack costs the
  key at 25 km (:func:`attack_key_costs`), for the target "strengths that cost >= 10 %";
* ``key_kept``: share of the honest raw key (detections in honest test blocks) not
  discarded at the threshold (one figure per method, not per cell).

Per link (the operator's decision, ``link_*`` figures): a link is watched for a window of
``link_window_blocks`` = K consecutive blocks; it raises an alarm when any block's score in
the window exceeds the *per-link* threshold, calibrated on the honest calibration links so
that 1 % of honest K-block windows (every start between ``episode_blocks // 4`` and
``3 * episode_blocks // 4``) raise one. Per cell: ``link_detected``, the share of attacked
links with an alarm among the attack's first K blocks; ``link_delay_blocks``, the mean over
attacked links of the blocks from the onset to the first alarm, a link without an alarm in
the window counted as K (so delays of different methods compare at the same per-link
false-alarm rate and over the same links). Per method: ``link_false_alarm_rate`` on honest
test windows and ``link_key_kept``, the share of honest key in windows without an alarm.

Methods: ``changepoint`` (:class:`~qnetai.ai.security.changepoint.ChangePointDetector`,
gradient boosting on CUSUM-style accumulated statistics of the link's stream: the posterior
that an attack has started by this block), ``gbm`` and ``mlp`` (supervised, all
families), ``gbm-window`` and ``one-class-window`` (the same with the causal mean of the
last ``window_blocks`` blocks' changes added), ``gbm-lofo`` (gradient boosting trained
without the family under test), ``one-class`` (honest training blocks only),
``cusum-one-class`` (CUSUM over the one-class score), baselines ``qber`` (abort threshold
11 %, also shown at its own operating point as ``qber_abort_tpr``), ``cusum-qber`` (CUSUM
over the QBER) and ``decoy`` (decoy single-photon share). Nothing is saved: models are
retrained from the seed on every run.

Example:
    >>> out = run_security_benchmark(seed=0, train_episodes=12, calib_episodes=6,
    ...     test_episodes=12, episode_blocks=8, block_pulses=50_000, reference_blocks=2,
    ...     link_window_blocks=2, mlp_iter=5, gbm_iter=5, cost_pulses=1_000_000)
    >>> sorted(out["methods"])[:2]
    ['changepoint', 'cusum-one-class']
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from qnetai.ai.security.baselines import DecoyConsistencyBaseline, QberThresholdBaseline
from qnetai.ai.security.changepoint import ChangePointDetector, stream_order
from qnetai.ai.security.datasets import (
    DEFAULT_STRENGTHS,
    PULSE_RATE_HZ,
    DatasetOptions,
    make_dataset,
)
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
    "changepoint",
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
TARGET_DELAY_RATIO = 2.0
#: The baseline whose delay the target compares against (the QBER score at equal alarms).
DELAY_BASELINE = "qber"


def _wilson(k: int, n: int) -> tuple[float, float] | None:
    """95 % Wilson interval of ``k`` successes in ``n`` (scipy), ``None`` when ``n = 0``."""
    if n <= 0:
        return None
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def _summary(cells: list[dict[str, Any]], methods: dict[str, Any]) -> dict[str, Any]:
    """Per method and family: worst detection where costly, delays; the issue's targets.

    Worst per-block TPR and worst per-link detection over strengths whose key cost is >=
    :data:`TARGET_COST`, and the per-link detection pooled over the links of those
    strengths (``link_detected_costly``, with its 95 % Wilson interval: cells hold only a
    few links each); ``mean_delay_blocks`` (per-block thresholds, detected links only,
    with ``detected``); ``link_delay_blocks``: mean per-link delay (undetected counted as K)
    over every attacked link of the family, and its ratio to :data:`DELAY_BASELINE`'s.
    """
    out: dict[str, Any] = {}
    for m in METHODS:
        fams: dict[str, Any] = {}
        all_delay, all_base, all_links = 0.0, 0.0, 0
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
            link_d = sum(c[m]["link_delay_blocks"] * c["episodes"] for c in cs)
            base_d = sum(c[DELAY_BASELINE]["link_delay_blocks"] * c["episodes"] for c in cs)
            all_delay, all_base, all_links = all_delay + link_d, all_base + base_d, all_links + n_ep
            n_costly = sum(c["episodes"] for c in costly)
            k_costly = round(sum(c[m]["link_detected"] * c["episodes"] for c in costly))
            fams[fam] = {
                "link_detected_costly": k_costly / n_costly if n_costly else None,
                "link_detected_costly_ci95": _wilson(k_costly, n_costly),
                "links_costly": n_costly,
                "min_tpr_costly": min((c[m]["tpr"] for c in costly), default=None),
                "min_link_detected_costly": min(
                    (c[m]["link_detected"] for c in costly), default=None
                ),
                "costly_strengths": [c["strength"] for c in costly],
                "mean_delay_blocks": mean_delay,
                "detected": n_det / n_ep if n_ep else None,
                "link_delay_blocks": link_d / n_ep if n_ep else None,
                "link_delay_ratio": (base_d / link_d if link_d > 0 else None) if n_ep else None,
            }
        tprs = [f["min_tpr_costly"] for f in fams.values() if f["min_tpr_costly"] is not None]
        links = [
            f["min_link_detected_costly"]
            for f in fams.values()
            if f["min_link_detected_costly"] is not None
        ]
        ratio = all_base / all_delay if all_delay > 0 else None
        out[m] = {
            "families": fams,
            "link_delay_blocks": all_delay / all_links if all_links else None,
            "link_delay_ratio": ratio,
            "tpr_target_met": bool(tprs) and min(tprs) >= TARGET_TPR,
            "link_target_met": bool(links) and min(links) >= TARGET_TPR,
            "families_link_target_met": [
                fam
                for fam, f in fams.items()
                if f["min_link_detected_costly"] is not None
                and f["min_link_detected_costly"] >= TARGET_TPR
            ],
            "delay_target_met": ratio is not None and ratio >= TARGET_DELAY_RATIO,
            "key_kept_target_met": methods[m]["key_kept"] >= TARGET_KEY_KEPT
            and methods[m]["link_key_kept"] >= TARGET_KEY_KEPT,
        }
    return out


def run_security_benchmark(
    *,
    seed: int = 0,
    train_episodes: int = 160,
    calib_episodes: int = 160,
    test_episodes: int = 400,
    episode_blocks: int = 20,
    block_pulses: int = 2_000_000,
    reference_blocks: int = 4,
    window_blocks: int = 4,
    link_window_blocks: int | None = None,
    false_alarm_rate: float = 0.01,
    gbm_iter: int = 100,
    mlp_iter: int = 200,
    cost_pulses: int = 100_000_000,
    n_threads: int | None = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Train, calibrate and test every method; see the module doc for the figures.

    ``link_window_blocks`` (K) defaults to 5, or fewer where the stream after the latest
    onset is shorter. ``n_threads`` caps the OpenMP/BLAS threads of the learners (``None``: library
    default); one thread is much faster on a shared machine than oversubscribed ones.

    Returns a JSON-ready dict: ``config``, ``methods`` (per method: ``key_kept``,
    ``false_alarm_rate`` measured on test honest blocks, ``threshold``, and the per-link
    ``link_threshold``, ``link_false_alarm_rate``, ``link_key_kept``), ``cells`` (one per
    family and strength with every method's ``auc``, ``tpr``, ``delay_blocks``,
    ``detected``, ``link_detected``, ``link_delay_blocks``), ``qber_abort_tpr`` per cell,
    ``summary`` and ``timing_s``.
    """
    if not 0 < reference_blocks <= episode_blocks // 4:
        raise InputError(
            f"reference_blocks must be in [1, episode_blocks // 4 = {episode_blocks // 4}] "
            f"(attacks start at block episode_blocks // 4 at the earliest; got {reference_blocks})"
        )
    room = episode_blocks - (3 * episode_blocks) // 4
    if link_window_blocks is None:
        link_window_blocks = min(5, room)
    if not 1 <= link_window_blocks <= room:
        raise InputError(
            "link_window_blocks must be in [1, episode_blocks - 3 * episode_blocks // 4 = "
            f"{episode_blocks - (3 * episode_blocks) // 4}] (the window of the latest onset "
            f"must end inside the link's stream; got {link_window_blocks})"
        )
    for name, value in (
        ("train_episodes", train_episodes),
        ("calib_episodes", calib_episodes),
        ("test_episodes", test_episodes),
    ):
        if value < 2:
            raise InputError(f"{name} must be >= 2 (got {value})")
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
            link_window_blocks=link_window_blocks,
            false_alarm_rate=false_alarm_rate,
            gbm_iter=gbm_iter,
            mlp_iter=mlp_iter,
            cost_pulses=cost_pulses,
            n_threads=n_threads,
            progress=progress,
        )


class _Links:
    """Per-link K-block windows of one data set (streams in block order)."""

    def __init__(self, d: dict[str, NDArray[Any]], k: int, episode_blocks: int) -> None:
        self.k = k
        self.groups = stream_order(d["episode"].size, d["episode"], d["block"])
        self.onset = np.array([int(d["onset_block"][g[0]]) for g in self.groups])
        self.episode = np.array([int(d["episode"][g[0]]) for g in self.groups])
        self.lo = episode_blocks // 4
        self.hi = min((3 * episode_blocks) // 4, episode_blocks - k)

    def honest_window_max(self, s: NDArray[np.float64]) -> NDArray[np.float64]:
        """Max score of every K-block window of every honest link (starts lo..hi)."""
        from numpy.lib.stride_tricks import sliding_window_view

        out = [
            sliding_window_view(s[g], self.k).max(axis=1)[self.lo : self.hi + 1]
            for g, o in zip(self.groups, self.onset, strict=True)
            if o < 0
        ]
        return np.concatenate(out) if out else np.zeros(0)

    def honest_window_weights(self, w: NDArray[np.float64]) -> NDArray[np.float64]:
        """Key weight of the same windows as :meth:`honest_window_max`."""
        from numpy.lib.stride_tricks import sliding_window_view

        out = [
            sliding_window_view(w[g], self.k).sum(axis=1)[self.lo : self.hi + 1]
            for g, o in zip(self.groups, self.onset, strict=True)
            if o < 0
        ]
        return np.concatenate(out) if out else np.zeros(0)

    def attacked(
        self, s: NDArray[np.float64], thr: float, episodes: NDArray[Any]
    ) -> tuple[float, float]:
        """(share detected within K blocks of the onset, mean delay with misses as K)."""
        hits, delays = 0, []
        wanted = set(episodes.tolist())
        for g, o, e in zip(self.groups, self.onset, self.episode, strict=True):
            if o < 0 or e not in wanted:
                continue
            above = np.flatnonzero(s[g][o : o + self.k] > thr)
            hits += bool(above.size)
            delays.append(int(above[0]) if above.size else self.k)
        n = len(delays)
        return (hits / n if n else float("nan"), float(np.mean(delays)) if n else float("nan"))


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
    link_window_blocks: int,
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
    n_stages = 7

    def step(name: str) -> None:
        nonlocal stage
        stage += 1
        if progress is not None:
            progress(name, stage, n_stages)

    train = make_dataset(train_episodes, rng=rng_train, options=opts)
    step("train data")
    calib = make_dataset(calib_episodes, rng=rng_cal, options=honest_opts)
    step("calibration data")
    test = make_dataset(test_episodes, rng=rng_test, options=opts)
    step("test data")
    t_data = time.perf_counter() - t0

    f_tr, f_ca, f_te = (derived_features(_telemetry(d)) for d in (train, calib, test))
    x_tr, x_ca, x_te = (
        episode_deltas(f, d["episode"], d["block"], reference_blocks=reference_blocks)
        for f, d in ((f_tr, train), (f_ca, calib), (f_te, test))
    )
    raw_tr, raw_ca, raw_te = (_telemetry(d) for d in (train, calib, test))
    n_feat = x_tr.shape[1] // 2

    def windowed(x: NDArray[np.float64], d: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
        w = window_means(x[:, n_feat:], d["episode"], d["block"], window=window_blocks)
        return np.column_stack([x, w])

    w_tr, w_ca, w_te = windowed(x_tr, train), windowed(x_ca, calib), windowed(x_te, test)
    y_tr = train["attacked"].astype(int)
    scores: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}

    t_cpd = time.perf_counter()
    cpd = ChangePointDetector(
        reference_blocks=reference_blocks,
        window=window_blocks,
        max_iter=2 * gbm_iter,
        random_state=seed,
    ).fit(f_tr, y_tr, stream=train["episode"], block=train["block"])
    scores["changepoint"] = (
        cpd.decision_function(f_ca, stream=calib["episode"], block=calib["block"]),
        cpd.decision_function(f_te, stream=test["episode"], block=test["block"]),
    )
    t_cpd = time.perf_counter() - t_cpd
    step("change-point detector")

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
    # leave-one-family-out gradient boosting: one model per family, scores on every block
    lofo: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
    for fam in ATTACKS:
        det = fit_gbm(train["label"] != fam)
        lofo[fam] = (det.decision_function(x_ca), det.decision_function(x_te))
    step("one-class, baselines, leave-one-family-out")

    def scores_for(name: str, fam: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return lofo[fam] if name == "gbm-lofo" else scores[name]

    links_ca = _Links(calib, link_window_blocks, episode_blocks)
    links_te = _Links(test, link_window_blocks, episode_blocks)
    honest_te = ~test["attacked"]
    # per-block negatives and calibration: honest blocks where an attack could be on (from
    # the earliest onset); the reference blocks would flatter stream methods, whose scores
    # start low on every link
    on_ca = calib["block"] >= episode_blocks // 4
    neg_te = honest_te & (test["block"] >= episode_blocks // 4)
    key_w = test["gain_signal"] * test["n_pulses"]
    key_w = np.where(np.isfinite(key_w), key_w, 0.0)
    win_w = links_te.honest_window_weights(key_w)
    # thresholds per (method, family): per block and per link; lofo differs by family
    thr_block: dict[tuple[str, str], float] = {}
    thr_link: dict[tuple[str, str], float] = {}
    methods: dict[str, dict[str, Any]] = {}
    for name in METHODS:
        per_fam: list[dict[str, float]] = []
        for fam in ATTACKS if name == "gbm-lofo" else ATTACKS[:1]:
            s_ca, s_te = scores_for(name, fam)
            tb = float(np.quantile(s_ca[on_ca], 1.0 - false_alarm_rate))
            tl = float(np.quantile(links_ca.honest_window_max(s_ca), 1.0 - false_alarm_rate))
            for f in ATTACKS if name != "gbm-lofo" else (fam,):
                thr_block[(name, f)], thr_link[(name, f)] = tb, tl
            flag = s_te[neg_te] > tb
            wflag = links_te.honest_window_max(s_te) > tl
            per_fam.append(
                {
                    "threshold": tb,
                    "false_alarm_rate": float(flag.mean()),
                    "key_kept": float(key_w[neg_te][~flag].sum() / key_w[neg_te].sum()),
                    "link_threshold": tl,
                    "link_false_alarm_rate": float(wflag.mean()) if wflag.size else float("nan"),
                    "link_key_kept": float(win_w[~wflag].sum() / win_w.sum())
                    if win_w.size
                    else float("nan"),
                }
            )
        if name == "gbm-lofo":  # one model per left-out family: mean over the five
            methods[name] = {
                k: (None if "threshold" in k else float(np.mean([p[k] for p in per_fam])))
                for k in per_fam[0]
            }
        else:
            methods[name] = per_fam[0]
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
            # the QBER abort rule per link: any block above 11 % among the first K
            abort_link, _ = links_te.attacked(qber_abort.astype(float), 0.5, eps)
            cell: dict[str, Any] = {
                "family": fam,
                "strength": float(strength),
                "blocks": int(pos.sum()),
                "episodes": int(eps.size),
                "qber_abort_tpr": float(qber_abort[pos].mean()),
                "qber_abort_link": abort_link,
                "mean_qber": float(np.nanmean(test["qber_z_signal"][pos])),
                **costs.get((fam, float(strength)), {}),
            }
            for name in METHODS:
                s_te = scores_for(name, fam)[1]
                thr = thr_block[(name, fam)]
                delays = []
                for e in eps:
                    m = test["episode"] == e
                    order = np.argsort(test["block"][m])
                    onset = int(test["onset_block"][m][0])
                    hits = np.flatnonzero(s_te[m][order][onset:] > thr)
                    if hits.size:
                        delays.append(int(hits[0]))
                link_det, link_delay = links_te.attacked(s_te, thr_link[(name, fam)], eps)
                cell[name] = {
                    "auc": _auc(s_te[neg_te], s_te[pos]),
                    "tpr": float((s_te[pos] > thr).mean()),
                    "delay_blocks": float(np.mean(delays)) if delays else None,
                    "detected": len(delays) / eps.size if eps.size else None,
                    "link_detected": link_det,
                    "link_delay_blocks": link_delay,
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
            "block_ms": 1e3 * block_pulses / PULSE_RATE_HZ,
            "false_alarm_rate": false_alarm_rate,
            "reference_blocks": reference_blocks,
            "window_blocks": window_blocks,
            "link_window_blocks": link_window_blocks,
            "cost_pulses": cost_pulses,
            "n_threads": n_threads,
            "train_blocks": int(y_tr.size),
            "test_blocks": int(honest_te.size),
            "test_honest_blocks": int(honest_te.sum()),
            "test_negative_blocks": int(neg_te.sum()),
            "calib_honest_windows": int(links_ca.honest_window_max(scores["qber"][0]).size),
            "test_honest_windows": int(win_w.size),
        },
        "methods": methods,
        "cells": cells,
        "summary": summary,
        "timing_s": {
            "data": t_data,
            "changepoint_fit_predict": t_cpd,
            "total": time.perf_counter() - t0,
        },
    }
