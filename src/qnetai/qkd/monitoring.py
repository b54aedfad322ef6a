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
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qkd.attacks import ATTACKS, AttackSpec
from qnetai.qkd.pulses import BB84Setup, BlockResult, iter_blocks
from qnetai.qkd.sifting import INTENSITY_NAMES, block_counts

__all__ = [
    "FEATURE_NAMES",
    "LABELS",
    "block_features",
    "feature_matrix",
    "labelled_block_features",
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
    attack_kinds: tuple[str, ...] = ATTACKS,
    attack_probability: float = 0.5,
    strength: tuple[float, float] = (0.2, 1.0),
) -> list[dict[str, Any]]:
    """Labelled per-block feature records for training attack detectors.

    Each block is attacked with probability ``attack_probability`` by a uniformly chosen
    attack of ``attack_kinds`` with a strength uniform in ``strength``; the record's
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
