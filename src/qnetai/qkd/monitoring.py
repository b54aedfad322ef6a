"""Per-block telemetry of a BB84 link: the feature table that attack and fault detectors read.

Detectors consume telemetry, not attack models: this module turns the simulator's
:class:`~qnetai.qkd.pulses.BlockResult` into one record of observable statistics per block,
and :func:`feature_matrix` turns records into the ``(X, y)`` pair of scikit-learn.

Detector interface (scikit-learn estimator conventions, nothing to subclass here):
``__init__`` stores parameters only; ``fit(X, y) -> self``; ``predict(X)`` returns one
label per row (``"none"`` or an attack name of :data:`~qnetai.qkd.attacks.ATTACKS`;
:data:`LABELS`); ``predict_proba`` / ``decision_function`` when the model has them;
learned attributes end in ``_``; randomness through ``random_state``. ``X`` is the
feature table, ``(n_blocks, len(FEATURE_NAMES))`` float64 in :data:`FEATURE_NAMES` order,
NaN where a statistic is undefined (no sifted bits in that class; impute or use a model
that accepts NaN). Ground-truth columns (``label``, ``attacked_fraction``) are never
features.

Feature table (one row per block):

========================== ===========================================================
column                     meaning
========================== ===========================================================
``gain_{k}``               detections per pulse sent of class ``k`` (signal, decoy,
                           vacuum)
``qber_{b}_{k}``           sifted error rate in basis ``b`` (z, x) of class ``k``
``sifted_fraction``        sifted detections per detection
``double_click_rate``      multi-click detections per detection
``consecutive_click_rate`` detections in the gate right after a detection, per detection
``afterpulse_rate``        excess of the latter over the mean detection probability (an
                           estimate of the after-pulse probability)
========================== ===========================================================

Example:
    >>> import numpy as np
    >>> from qnetai.qkd.pulses import BB84Setup
    >>> rows = labelled_block_features(BB84Setup.from_distance(10.0), n_blocks=2,
    ...     block_pulses=10_000, rng=np.random.default_rng(1))
    >>> X, y = feature_matrix(rows)
    >>> X.shape, set(y) <= set(LABELS)
    ((2, 13), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qkd.attacks import (
    ATTACKS,
    BOB_SIDE_ATTACKS,
    TIME_SHIFT_MISMATCH,
    TIME_SHIFT_PS,
    TROJAN_MONITOR_NW,
    AttackSpec,
)
from qnetai.qkd.decoy import e1_upper, y1_lower_vacuum_weak
from qnetai.qkd.pulses import BB84Setup, BlockResult, iter_blocks
from qnetai.qkd.sifting import INTENSITY_NAMES, block_counts

__all__ = [
    "FEATURE_NAMES",
    "LABELS",
    "TELEMETRY_FEATURE_NAMES",
    "TelemetryConditions",
    "block_features",
    "feature_matrix",
    "labelled_block_features",
    "telemetry_features",
    "timing_and_monitor",
]

#: The detector features, in column order of :func:`feature_matrix`.
FEATURE_NAMES: tuple[str, ...] = (
    *(f"gain_{k}" for k in INTENSITY_NAMES),
    *(f"qber_{b}_{k}" for b in ("z", "x") for k in INTENSITY_NAMES),
    "sifted_fraction",
    "double_click_rate",
    "consecutive_click_rate",
    "afterpulse_rate",
)
#: Features of :func:`telemetry_features`: :data:`FEATURE_NAMES` and what a deployed system
#: measures besides (decoy bounds, detector click balance, timing, Alice's monitor).
TELEMETRY_FEATURE_NAMES: tuple[str, ...] = (
    *FEATURE_NAMES,
    "y1_lower",
    "e1_upper",
    "single_photon_fraction",
    "click_balance_z",
    "click_balance_x",
    "timing_mean_ps",
    "timing_std_ps",
    "monitor_photodiode_nw",
)
#: Labels a detector predicts: ``"none"`` (no attack) or the attack's name.
LABELS: tuple[str, ...] = ("none", *ATTACKS)


def block_features(block: BlockResult) -> dict[str, Any]:
    """Observable statistics of one block, with its ground truth.

    Keys: ``block``, ``n_pulses``, the :data:`FEATURE_NAMES`, and the ground truth
    ``label`` (:data:`LABELS`) and ``attacked_fraction`` (pulses attacked per pulse).
    """
    c = block_counts(block)
    out: dict[str, Any] = {"block": block.index, "n_pulses": block.n_pulses}
    sent_k = c.sent.sum(axis=1)
    for k, name in enumerate(INTENSITY_NAMES):
        out[f"gain_{name}"] = c.detections[k] / sent_k[k] if sent_k[k] else float("nan")
    for b, bname in enumerate(("z", "x")):
        for k, name in enumerate(INTENSITY_NAMES):
            n = c.sifted[k, b]
            out[f"qber_{bname}_{name}"] = c.errors[k, b] / n if n else float("nan")
    det = int(c.detections.sum())
    mean_click = det / block.n_pulses if block.n_pulses else 0.0
    out["sifted_fraction"] = c.sifted.sum() / det if det else float("nan")
    out["double_click_rate"] = c.multi_clicks / det if det else float("nan")
    cons = c.consecutive / det if det else float("nan")
    out["consecutive_click_rate"] = cons
    out["afterpulse_rate"] = (cons - mean_click) / (1 - mean_click) if det else float("nan")
    out["label"] = block.label
    out["attacked_fraction"] = block.attacked_pulses / block.n_pulses if block.n_pulses else 0.0
    return out


def feature_matrix(
    records: Sequence[dict[str, Any]],
) -> tuple[NDArray[np.float64], NDArray[np.str_]]:
    """``(X, y)`` of per-block records: features in :data:`FEATURE_NAMES` order, labels.

    Records may come from :func:`block_features` or from stored telemetry with those keys;
    a record without a ``label`` gets ``""``.
    """
    missing = [n for n in FEATURE_NAMES if records and n not in records[0]]
    if missing:
        raise InputError(f"records lack the feature columns {missing}")
    x = np.array([[float(r[n]) for n in FEATURE_NAMES] for r in records], dtype=float)
    y = np.array([str(r.get("label", "")) for r in records], dtype=str)
    return x.reshape(len(records), len(FEATURE_NAMES)), y


def labelled_block_features(
    setup: BB84Setup,
    *,
    n_blocks: int,
    block_pulses: int,
    rng: np.random.Generator,
    attack_kinds: tuple[str, ...] = BOB_SIDE_ATTACKS,
    attack_probability: float = 0.5,
    strength: tuple[float, float] = (0.2, 1.0),
) -> list[dict[str, Any]]:
    """Labelled per-block feature records for training attack detectors.

    Each block is attacked with probability ``attack_probability`` by a uniformly chosen
    attack of ``attack_kinds`` (default :data:`~qnetai.qkd.attacks.BOB_SIDE_ATTACKS`; the
    Trojan-horse and time-shift attacks show mainly in :func:`telemetry_features`) with a
    strength uniform in ``strength``; the record's
    ``label`` is the attack name or ``"none"``.
    """
    if not 0.0 <= attack_probability <= 1.0:
        raise InputError(f"attack_probability must be in [0, 1] (got {attack_probability})")
    schedule: list[AttackSpec | None] = []
    for _ in range(n_blocks):
        if attack_kinds and rng.random() < attack_probability:
            kind = attack_kinds[int(rng.integers(len(attack_kinds)))]
            schedule.append(AttackSpec(kind, float(rng.uniform(*strength))))
        else:
            schedule.append(None)
    blocks = iter_blocks(
        setup,
        pulses=n_blocks * block_pulses,
        rng=rng,
        block_pulses=block_pulses,
        block_attacks=schedule,
    )
    return [block_features(b) for b in blocks]


@dataclass(frozen=True)
class TelemetryConditions:
    """Instrument state for :func:`telemetry_features` (hardware that drifts in the field).

    ``timing_jitter_ps``: rms jitter of the detection time (detector plus clock);
    ``timing_offset_ps``: clock offset of the gate centre; ``monitor_baseline_nw`` and
    ``monitor_noise_nw``: back-reflected power at Alice's monitor photodiode without an
    attack (Rayleigh backscatter, connector reflections) and its rms noise per block.
    """

    timing_jitter_ps: float = 50.0
    timing_offset_ps: float = 0.0
    monitor_baseline_nw: float = 1.0
    monitor_noise_nw: float = 0.3


def telemetry_features(
    block: BlockResult,
    *,
    mu: float,
    nu: float,
    rng: np.random.Generator,
    conditions: TelemetryConditions | None = None,
) -> dict[str, Any]:
    """:func:`block_features` plus decoy bounds, click balance, timing and monitor reading.

    * ``y1_lower`` / ``e1_upper``: vacuum + weak decoy bounds (MQZL05) from the block's
      detection gains and X-basis decoy errors; ``single_photon_fraction``:
      ``Y1^L mu e^-mu / Q_mu``, the share of signal detections the bound attributes to
      single photons (the textbook decoy consistency figure; it collapses under PNS).
    * ``click_balance_{z,x}``: ``(n0 - n1) / (n0 + n1)`` of Bob's bits in each basis.
    * ``timing_mean_ps`` / ``timing_std_ps``: moments of the detection-time histogram.
      Every detection has Gaussian jitter around the gate centre; a time-shifted detection
      (attack ``time-shift``) arrives :data:`~qnetai.qkd.attacks.TIME_SHIFT_PS` early or
      late: early with probability ``1 / (1 + r)`` when Bob's bit is 0 and ``r / (1 + r)``
      when it is 1 (``r`` the efficiency mismatch), the posterior of Eve's shift given the
      detector that clicked, neglecting misalignment and dark counts.
    * ``monitor_photodiode_nw``: Alice's monitor: baseline plus Gaussian noise plus, under
      the Trojan-horse attack, :data:`~qnetai.qkd.attacks.TROJAN_MONITOR_NW` times the
      attacked fraction.

    Example:
        >>> from qnetai.qkd.pulses import BB84Setup, iter_blocks
        >>> rng = np.random.default_rng(3)
        >>> b = next(iter_blocks(BB84Setup.from_distance(10.0), pulses=100_000, rng=rng))
        >>> f = telemetry_features(b, mu=0.5, nu=0.1, rng=rng)
        >>> set(TELEMETRY_FEATURE_NAMES) <= set(f)
        True
    """
    cond = conditions if conditions is not None else TelemetryConditions()
    out = block_features(block)
    c = block_counts(block)
    sent_k = c.sent.sum(axis=1)
    q = np.where(sent_k > 0, c.detections / np.maximum(sent_k, 1), np.nan)
    y1 = float(y1_lower_vacuum_weak(mu=mu, nu=nu, q_mu=q[0], q_nu=q[1], y0=q[2]))
    n_x = c.sifted[1, 1]
    e_q = (c.errors[1, 1] / n_x) * c.gains[1, 1] if n_x else float("nan")
    y0_x = float(c.gains[2, 1]) if np.isfinite(c.gains[2, 1]) else float("nan")
    e1 = float(e1_upper(e_q=e_q, y0=y0_x, y1_lower=y1, intensity=nu)) if n_x else float("nan")
    out["y1_lower"] = y1
    out["e1_upper"] = min(e1, 1.0) if np.isfinite(e1) else 1.0
    out["single_photon_fraction"] = (
        y1 * mu * np.exp(-mu) / q[0] if np.isfinite(q[0]) and q[0] > 0 else float("nan")
    )
    for b, name in enumerate(("z", "x")):
        sel = block.bob_basis == b
        n = int(sel.sum())
        ones = int(block.bob_bit[sel].sum())
        out[f"click_balance_{name}"] = (n - 2 * ones) / n if n else float("nan")
    t, out["monitor_photodiode_nw"] = timing_and_monitor(block, cond, rng)
    out["timing_mean_ps"] = float(t.mean()) if t.size else float("nan")
    out["timing_std_ps"] = float(t.std()) if t.size > 1 else float("nan")
    return out


def timing_and_monitor(
    block: BlockResult, cond: TelemetryConditions, rng: np.random.Generator
) -> tuple[NDArray[np.float64], float]:
    """Detection times (ps) and Alice's monitor reading (nW) of one block.

    The draws of :func:`telemetry_features`, in its order (jitter, time-shift, monitor
    noise), so every caller sees the same stream; see there for the model.
    """
    n_ev = block.n_events
    t = cond.timing_offset_ps + cond.timing_jitter_ps * rng.standard_normal(n_ev)
    if block.label == "time-shift" and n_ev:
        att = block.attacked
        r = TIME_SHIFT_MISMATCH
        p_early = np.where(block.bob_bit[att] == 0, 1.0 / (1.0 + r), r / (1.0 + r))
        early = rng.random(int(att.sum())) < p_early
        t[att] += np.where(early, -TIME_SHIFT_PS, TIME_SHIFT_PS)
    attacked = block.attacked_pulses / block.n_pulses if block.n_pulses else 0.0
    probe = TROJAN_MONITOR_NW * attacked if block.label == "trojan-horse" else 0.0
    noise = cond.monitor_noise_nw * float(rng.standard_normal())
    return t, cond.monitor_baseline_nw + noise + probe
