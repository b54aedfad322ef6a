"""Decoy-state BB84 end to end: pulses -> sifting -> estimation -> EC -> verification -> PA.

Example:
    >>> r = run_bb84(distance_km=25.0, pulses=2_000_000, rng=np.random.default_rng(7))
    >>> r.status, r.keys_identical
    ('ok', True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qkd.attacks import AttackSpec
from qnetai.qkd.channel import DEFAULT_CHANNEL, ChannelModel
from qnetai.qkd.estimation import (
    DEFAULT_QBER_THRESHOLD,
    asymptotic_key_length,
    estimate_parameters,
    finite_key_length_from_counts,
)
from qnetai.qkd.monitoring import block_features
from qnetai.qkd.pulses import DEFAULT_BLOCK_PULSES, BB84Setup, iter_blocks
from qnetai.qkd.reconciliation import ReconciliationMethod, reconcile, resolve_reconciliation
from qnetai.qkd.sifting import INTENSITY_NAMES, SiftCounts, block_counts

__all__ = [
    "MAX_KEY_BITS",
    "ProgressCallback",
    "QKDRunResult",
    "expected_key_bits",
    "run_bb84",
]

_BASES = ("z", "x")
#: Most sifted key bits a run may expect to keep for post-processing. Reconciliation and privacy
#: amplification need the whole raw key at once, ~120 bytes per bit at their peak, so this
#: bounds a run to ~0.5 GB whatever its number of pulses; larger runs are refused up front.
MAX_KEY_BITS = 1 << 22
#: Hard limit of the raw-key buffer during a run (headroom for fluctuations above the mean).
_KEY_BUFFER_BITS = MAX_KEY_BITS + MAX_KEY_BITS // 4

#: ``progress(stage, done, total)``: stage ``"pulses"`` (pulses simulated so far), then
#: ``"key bits"`` (0 when post-processing starts, ``total`` when it ends).
ProgressCallback = Callable[[str, int, int], None]


def expected_key_bits(setup: BB84Setup, pulses: int, attack: AttackSpec | None = None) -> float:
    """Expected raw-key size (sifted Z-basis events) of ``pulses`` pulses, within a few %.

    Primary clicks of the channel model, the Z-Z basis fraction ``p_z**2`` and after-pulses.
    """
    from qnetai.qkd.attacks import build_pulse_model

    spec = attack if attack is not None and attack.active else None
    model = build_pulse_model(setup, spec)
    p_click = float((model.type_prior * model.type_click).sum())
    return pulses * p_click * setup.p_z**2 * (1.0 + setup.afterpulse_probability)


def _check_key_budget(setup: BB84Setup, pulses: int, spec: AttackSpec, km: float) -> None:
    expected = expected_key_bits(setup, pulses, spec)
    if expected <= MAX_KEY_BITS:
        return
    fit = int(pulses * MAX_KEY_BITS / expected)
    raise InputError(
        f"pulses={pulses:,} at {km:g} km would keep ~{expected:,.0f} sifted key bits for "
        f"post-processing, {expected / MAX_KEY_BITS:.3g}x the limit of {MAX_KEY_BITS:,} bits "
        f"(~{120 * MAX_KEY_BITS / 2**30:.1f} GB); use at most ~{fit:.3g} pulses here"
    )


def _per_class(arr: Any) -> dict[str, dict[str, float]]:
    return {
        name: {b: float(arr[k][j]) for j, b in enumerate(_BASES)}
        for k, name in enumerate(INTENSITY_NAMES)
    }


@dataclass(frozen=True)
class QKDRunResult:
    """Every figure of one simulated BB84 run (``to_dict`` gives JSON-ready data).

    ``status`` is ``"ok"`` or ``"aborted"`` (then ``abort_reason`` says why and the final
    key is empty). Gains and QBERs are per intensity class and basis (sifted);
    ``detection_gains`` count all detections per pulse of each class; ``setup`` holds the
    source and the channel's parameters (:meth:`BB84Setup.to_dict`); ``frames`` is the
    reconciliation frames, ``verified_frames`` those that passed verification (the others
    are ``frames_discarded``). ``final_alice_key`` and
    ``final_bob_key`` hold the keys (not in ``to_dict``).
    """

    status: str
    abort_reason: str | None
    distance_km: float
    pulses: int
    attack: str | None
    attack_strength: float
    reconciliation: str
    finite_key: bool
    finite_key_applied: bool
    channel_transmittance: float
    transmittance: float
    setup: dict[str, float]
    detection_gains: dict[str, float]
    gains: dict[str, dict[str, float]]
    qber: dict[str, dict[str, float]]
    y0: dict[str, float]
    y1_lower: dict[str, float]
    e1_upper: dict[str, float]
    phase_error_upper: float
    s_z0_lower: float
    s_z1_lower: float
    sifted_bits: int
    key_bits: int
    qber_key: float
    double_click_rate: float
    consecutive_click_rate: float
    afterpulse_rate: float
    leaked_bits: int
    reconciliation_efficiency: float
    round_trips: int
    frame_errors: int
    frames: int
    verified_frames: int
    verification_bits: int
    verified: bool | None
    frames_discarded: int
    discarded_bits: int
    final_key_length: int
    secret_key_rate_per_pulse: float
    keys_identical: bool | None
    blocks: int
    block_labels: tuple[str, ...]
    timing_s: dict[str, float]
    block_features: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    final_alice_key: NDArray[np.uint8] = field(
        default_factory=lambda: np.zeros(0, np.uint8), repr=False
    )
    final_bob_key: NDArray[np.uint8] = field(
        default_factory=lambda: np.zeros(0, np.uint8), repr=False
    )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (keys excluded; per-block labels summarised as counts)."""
        d = asdict(self)
        for name in ("final_alice_key", "final_bob_key", "block_features", "block_labels"):
            d.pop(name)
        labels, counts = np.unique(np.array(self.block_labels, dtype=object), return_counts=True)
        d["block_label_counts"] = {str(k): int(v) for k, v in zip(labels, counts, strict=True)}
        return d


def _verify_frames(
    a: NDArray[np.uint8],
    b: NDArray[np.uint8],
    *,
    frame_bits: int,
    failed: tuple[int, ...],
    rng: np.random.Generator,
    tag_bits: int,
) -> tuple[NDArray[np.bool_], int]:
    """Per-frame verification: keep-mask over frames and the tag bits disclosed.

    Frames flagged by the reconciliation are dropped unverified; every other frame is checked
    with its own ``tag_bits`` Toeplitz tag (one fresh seed shared by all frames, which keeps the
    collision probability of each frame at ``2**-tag_bits``); mismatching frames are dropped.
    """
    from qnetai.qkd.privacy_amplification import ToeplitzHasher

    frames = -(-a.size // frame_bits) if a.size else 0
    keep = np.ones(frames, dtype=bool)
    keep[list(failed)] = False
    todo = np.flatnonzero(keep)
    if todo.size == 0:
        return keep, 0
    pad = frames * frame_bits - a.size
    fa = np.concatenate([a, np.zeros(pad, np.uint8)]).reshape(frames, frame_bits)[todo]
    fb = np.concatenate([b, np.zeros(pad, np.uint8)]).reshape(frames, frame_bits)[todo]
    seed = rng.integers(0, 2, frame_bits + tag_bits - 1, dtype=np.uint8)
    hasher = ToeplitzHasher(seed, n=frame_bits, out_len=tag_bits)
    tags = hasher(np.concatenate([fa, fb]))
    equal = (tags[: todo.size] == tags[todo.size :]).all(axis=1)
    keep[todo[~equal]] = False
    return keep, int(tag_bits * todo.size)


def run_bb84(
    *,
    distance_km: float,
    pulses: int,
    rng: np.random.Generator,
    mu: float = 0.5,
    nu: float = 0.1,
    p_mu: float = 0.7,
    p_nu: float = 0.2,
    p_vacuum: float = 0.1,
    p_z: float = 0.5,
    channel: ChannelModel = DEFAULT_CHANNEL,
    attack: str | None = None,
    attack_strength: float = 0.0,
    reconciliation: str | ReconciliationMethod = "cascade",
    block_pulses: int = DEFAULT_BLOCK_PULSES,
    finite_key: bool = False,
    qber_threshold: float = DEFAULT_QBER_THRESHOLD,
    tag_bits: int = 64,
    collect_block_features: bool = False,
    progress: ProgressCallback | None = None,
) -> QKDRunResult:
    """Simulate decoy-state BB84 from pulses to the final key.

    Args:
        distance_km: fibre length.
        pulses: number of pulses Alice sends (simulated in blocks of ``block_pulses``).
        rng: the only source of randomness (seeded runs repeat exactly).
        mu, nu: signal and weak-decoy intensities (the third class is vacuum).
        p_mu, p_nu, p_vacuum: class probabilities (sum 1).
        p_z: probability of the Z (key) basis for Alice and of Bob's passive splitter.
        channel: fibre and receiver (:class:`~qnetai.qkd.channel.ChannelModel`; default the
            GYS link :data:`~qnetai.qkd.channel.DEFAULT_CHANNEL`, as ``qkd rate``).
        attack: None, ``"intercept-resend"``, ``"pns"`` or ``"blinding"``, on a fraction
            ``attack_strength`` of the pulses (:mod:`qnetai.qkd.attacks`).
        reconciliation: a name of :data:`~qnetai.qkd.reconciliation.RECONCILIATION_METHODS`
            (default ``"cascade"``), an import path ``"pkg.mod:Name"`` or a
            :class:`~qnetai.qkd.reconciliation.ReconciliationMethod` object.
        finite_key: use the Lim et al. 2014 finite-key length on the observed counts.
        qber_threshold: abort when the key QBER is above it.
        tag_bits: verification hash length (bits disclosed).
        collect_block_features: keep the per-block feature records (with attack labels).
        progress: ``progress(stage, done, total)`` after each block (stage ``"pulses"``) and
            around post-processing (stage ``"key bits"``); see :data:`ProgressCallback`.

    Pulses are simulated and counted block by block in bounded memory; only the sifted Z-basis
    bits (the raw key) are kept for post-processing. Runs expected to keep more than
    :data:`MAX_KEY_BITS` of them are refused up front (:class:`InputError` with the figures).

    Returns:
        :class:`QKDRunResult`; an abort is reported in it (``status="aborted"``), not raised.
    """
    method = resolve_reconciliation(reconciliation)
    pulses = int(pulses)
    if pulses < 1:
        raise InputError(f"pulses must be >= 1 (got {pulses})")
    if tag_bits < 1:
        raise InputError(f"tag_bits must be >= 1 (got {tag_bits})")
    spec = AttackSpec(attack, attack_strength)
    setup = BB84Setup.from_distance(
        distance_km,
        channel=channel,
        mu=mu,
        nu=nu,
        p_mu=p_mu,
        p_nu=p_nu,
        p_vacuum=p_vacuum,
        p_z=p_z,
    )
    _check_key_budget(setup, pulses, spec, float(distance_km))
    timing: dict[str, float] = {}

    # -- pulses and sifting --------------------------------------------------------------
    t0 = time.perf_counter()
    counts = SiftCounts()
    alice_parts: list[NDArray[np.uint8]] = []
    bob_parts: list[NDArray[np.uint8]] = []
    labels: list[str] = []
    features: list[dict[str, Any]] = []
    kept = 0
    if progress is not None:
        progress("pulses", 0, pulses)
    for block in iter_blocks(setup, pulses=pulses, rng=rng, attack=spec, block_pulses=block_pulses):
        counts.add(block_counts(block))
        # raw key: sifted Z events of every class, in pulse order
        sm = (block.alice_basis == block.bob_basis) & (block.alice_basis == 0)
        alice_parts.append(block.alice_bit[sm])
        bob_parts.append(block.bob_bit[sm])
        kept += int(alice_parts[-1].size)
        if kept > _KEY_BUFFER_BITS:
            done = block.start + block.n_pulses
            raise InputError(
                f"the raw key passed {_KEY_BUFFER_BITS:,} bits after {done:,}"
                f" of {pulses:,} pulses (expected ~{expected_key_bits(setup, pulses, spec):,.0f});"
                " use fewer pulses"
            )
        labels.append(block.label)
        if collect_block_features:
            features.append(block_features(block))
        if progress is not None:
            progress("pulses", block.start + block.n_pulses, pulses)
    alice_key = np.concatenate(alice_parts) if alice_parts else np.zeros(0, np.uint8)
    bob_key = np.concatenate(bob_parts) if bob_parts else np.zeros(0, np.uint8)
    timing["pulses_and_sifting"] = time.perf_counter() - t0

    # -- parameter estimation ------------------------------------------------------------
    t0 = time.perf_counter()
    est = estimate_parameters(
        counts, setup, qber_threshold=qber_threshold, verification_bits=tag_bits
    )
    timing["estimation"] = time.perf_counter() - t0
    det = int(counts.detections.sum())
    mean_click = det / counts.pulses
    cons = counts.consecutive / det if det else float("nan")
    base: dict[str, Any] = {
        "distance_km": float(distance_km),
        "pulses": pulses,
        "attack": spec.kind if spec.active else None,
        "attack_strength": float(spec.strength) if spec.active else 0.0,
        "reconciliation": method.name,
        "finite_key": bool(finite_key),
        "finite_key_applied": False,
        "channel_transmittance": setup.channel_transmittance,
        "transmittance": setup.transmittance,
        "setup": setup.to_dict(),
        "detection_gains": {
            n: float(g) for n, g in zip(INTENSITY_NAMES, counts.detection_gains, strict=True)
        },
        "gains": _per_class(est.gains),
        "qber": _per_class(est.qber),
        "y0": dict(zip(_BASES, est.y0, strict=True)),
        "y1_lower": dict(zip(_BASES, est.y1_lower, strict=True)),
        "e1_upper": dict(zip(_BASES, est.e1_upper, strict=True)),
        "phase_error_upper": est.phase_error_upper,
        "s_z0_lower": est.s_z0_lower,
        "s_z1_lower": est.s_z1_lower,
        "sifted_bits": int(counts.sifted.sum()),
        "key_bits": est.key_bits,
        "qber_key": est.key_qber,
        "double_click_rate": counts.multi_clicks / det if det else float("nan"),
        "consecutive_click_rate": cons,
        "afterpulse_rate": (cons - mean_click) / (1 - mean_click) if det else float("nan"),
        "blocks": len(labels),
        "block_labels": tuple(labels),
        "block_features": tuple(features),
        "verification_bits": 0,
        "frames": 0,
        "verified_frames": 0,
        "frames_discarded": 0,
        "discarded_bits": 0,
    }
    ec = {
        "leaked_bits": 0,
        "reconciliation_efficiency": float("nan"),
        "round_trips": 0,
        "frame_errors": 0,
    }

    def finish(status: str, reason: str | None, **kw: Any) -> QKDRunResult:
        fields = {
            **base,
            **ec,
            "verified": None,
            "final_key_length": 0,
            "secret_key_rate_per_pulse": 0.0,
            "keys_identical": None,
            **kw,
        }
        return QKDRunResult(status=status, abort_reason=reason, timing_s=timing, **fields)

    if est.abort_reason is not None:
        return finish("aborted", est.abort_reason)

    # -- error correction ----------------------------------------------------------------
    t0 = time.perf_counter()
    if progress is not None:
        progress("key bits", 0, int(alice_key.size))
    rec = reconcile(
        alice_key,
        bob_key,
        qber_estimate=max(est.key_qber, 1e-4),
        method=method,
        rng=rng,
    )
    timing["reconciliation"] = time.perf_counter() - t0
    ec = {
        "leaked_bits": int(rec.leaked_bits),
        "reconciliation_efficiency": float(rec.efficiency),
        "round_trips": int(rec.round_trips),
        "frame_errors": int(rec.frame_errors),
    }
    bob_corrected = np.asarray(rec.corrected_bits, dtype=np.uint8)

    # -- per-frame verification; failed frames are discarded, their leak still counts ------
    t0 = time.perf_counter()
    frame_bits = rec.frame_bits
    keep, ver_bits = _verify_frames(
        alice_key,
        bob_corrected,
        frame_bits=frame_bits,
        failed=rec.failed_frames,
        rng=rng,
        tag_bits=tag_bits,
    )
    timing["verification"] = time.perf_counter() - t0
    base["verification_bits"] = ver_bits
    base["frames"] = int(keep.size)
    base["verified_frames"] = int(np.count_nonzero(keep))
    base["frames_discarded"] = int(np.count_nonzero(~keep))
    mask = np.repeat(keep, frame_bits)[: alice_key.size]
    dropped_bits = int(alice_key.size - np.count_nonzero(mask))
    base["discarded_bits"] = dropped_bits
    if not keep.any():
        return finish(
            "aborted", "verification failed for every frame after error correction", verified=False
        )
    alice_kept, bob_kept = alice_key[mask], bob_corrected[mask]

    # -- key length and privacy amplification ------------------------------------------
    # dropping frames removes at most their size from the smooth min-entropy, so the key
    # length computed on the whole key is reduced by every discarded bit (conservative)
    if finite_key:
        length = finite_key_length_from_counts(counts, setup, leaked_bits=rec.leaked_bits)
        base["finite_key_applied"] = True
    else:
        length = asymptotic_key_length(est, leaked_bits=rec.leaked_bits, verification_bits=ver_bits)
    length = min(length - dropped_bits, alice_kept.size)
    if length <= 0:
        return finish("aborted", "key length non-positive after error correction", verified=True)
    from qnetai.qkd.privacy_amplification import ToeplitzHasher

    t0 = time.perf_counter()
    seed = rng.integers(0, 2, alice_kept.size + length - 1, dtype=np.uint8)
    hasher = ToeplitzHasher(seed, n=alice_kept.size, out_len=length)
    final_a, final_b = hasher(np.stack([alice_kept, bob_kept]))
    timing["privacy_amplification"] = time.perf_counter() - t0
    if progress is not None:
        progress("key bits", int(alice_key.size), int(alice_key.size))
    return finish(
        "ok",
        None,
        verified=True,
        final_key_length=int(length),
        secret_key_rate_per_pulse=length / pulses,
        keys_identical=bool(np.array_equal(final_a, final_b)),
        final_alice_key=final_a,
        final_bob_key=final_b,
    )
