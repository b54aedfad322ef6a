"""Rate-adaptive blind LDPC syndrome reconciliation with a compiled layered BP decoder.

Scheme (Elkouss, Martinez-Mateo, Martin 2011, "Information reconciliation for QKD", QIC 11,
226, rate adaptation; Martinez-Mateo, Elkouss, Martin 2012, "Blind reconciliation", QIC 12,
791). A mother code of length ``n`` (``code_bits``) and rate ``R0`` (irregular, BSC-optimised
distributions of Elkouss et al. 2009, :mod:`qnetai.qkd.ldpc_codes`) carries ``k = n - d`` key
bits per frame; the other ``d = round(modulation * n)`` positions are *punctured* (Alice fills
them with fresh random bits that Bob does not know: channel LLR 0) or *shortened* (random bits
whose values Alice discloses: known to Bob). With ``p`` punctured and ``s = d - p`` shortened
bits the frame leaks ``m - p`` bits (syndrome ``m = n (1 - R0)`` minus the ``p`` bits of
private randomness it protects), i.e. efficiency ``f = (m - p) / (k h2(q))``.

1. From the QBER estimate ``q`` the protocol picks the mother rate and ``p0`` so that the first
   attempt leaks ``efficiency_start * k * h2(q)`` (as far as the puncturing range allows, keeping
   at least half of ``d`` punctured for the blind rounds).
2. Alice sends the syndrome; Bob decodes the error pattern with layered (row-serial)
   sum-product BP (:mod:`qnetai.qkd._ldpc_numba`, compiled with numba, float64 messages, ``phi``
   from a fine table) and reports success when the hard decision has the right syndrome.
3. Blind rounds: on failure Alice discloses ``step`` more punctured bits (they become shortened;
   each disclosed bit is leaked; the step is multiplied by ``step_growth`` after each round)
   and Bob resumes decoding from the previous round's messages (warm start: only the disclosed
   bits' channel LLRs change), until success or no punctured bit is left; every round is one
   round trip (all frames' messages batched). A round stops after ``max_iter`` iterations or
   once the number of unsatisfied checks has not improved for ``patience`` iterations.
   The default ``decoder="batch"`` decodes ``batch_frames`` frames at once (SIMD across
   frames, float32 messages); ``"layered"`` keeps the float64 frame-by-frame decoder and
   ``"ldpc"`` the ``ldpc`` package's ``BpDecoder`` (every round from scratch).

A frame that still fails is flagged (``decoded_per_frame``): Bob keeps his raw bits, and the
caller should discard it (its leak still counts). A frame decoded to a wrong pattern with the
right syndrome is an undetected error, caught by per-frame verification
(:mod:`qnetai.qkd.hashing`). The shorter last frame is shortened further (unused key positions
are filled with known bits).

Defaults (measured with ``benchmarks/bench_ldpc_blind.py``, figures in benchmarks/README.md):
a ``2**16``-bit mother code (``code_construction="random"``; ``"girth6"`` gives codes without
4-cycles, same f within noise), the highest rate that keeps half of ``d`` punctured,
first attempt at :func:`start_efficiency` (1.14 at QBER 1 %, 1.10
from 2 %), fixed blind step ``0.02``, ``max_iter = 50`` with ``patience = 4``, the batched
decoder with 32 frames per batch. On a loaded 2-core machine the batched decoder costs about
5 ns per edge, frame and iteration (``batch-minsum`` about 4.5; the float64 ``layered``
decoder 13-14 ns per edge and iteration); the whole protocol runs 1.6-2.5x faster than with
``layered`` at the same f (256 / 226 / 694 kbit/s CPU at QBER 1 / 2 / 5 %, f = 1.179 / 1.134 /
1.096). Normalised or offset min-sum needs far more iterations on these codes (check degrees
up to 50, variable degrees up to 71, punctured bits): at QBER 4 % on the rate-0.65 code
(f = 1.44) it fails where sum-product converges in 9 iterations, so it is offered only as a
comparison. A ``2**18`` code lowers f (1.167 / 1.117 at 1 / 2 %, 8 frames) at 35-40 % of the
throughput (messages capped at 64 MiB: 10 frames per batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from qnetai._optional import require
from qnetai.errors import InputError
from qnetai.physics import binary_entropy
from qnetai.qkd.ldpc_codes import (
    CONSTRUCTIONS,
    DEFAULT_CONSTRUCTION,
    MOTHER_RATES,
    ldpc_matrix,
    puncture_order,
)

DEFAULT_CODE_BITS = 1 << 16
_KNOWN_P = 1e-12  # error probability given to shortened bits
_KNOWN_LLR = math.log((1.0 - _KNOWN_P) / _KNOWN_P)
DEFAULT_PATIENCE = 4
DEFAULT_EFFICIENCY_START = 1.10  # first-attempt target; see "Defaults" in the module docstring
DECODERS = ("batch", "batch-minsum", "layered", "ldpc")
DEFAULT_DECODER = "batch"
DEFAULT_BATCH_FRAMES = 32
_BATCH_MESSAGE_FLOATS = 1 << 24  # cap on r's size (edges x frames, float32: 64 MiB)


def key_bits_per_frame(code_bits: int = DEFAULT_CODE_BITS, modulation: float = 0.1) -> int:
    """Key bits carried by one frame: ``code_bits - round(modulation * code_bits)``."""
    return int(code_bits - round(modulation * code_bits))


def start_efficiency(qber: float) -> float:
    """Default first-attempt efficiency: 1.14 at QBER <= 1 %, 1.10 from 2 %, linear between.

    Tuned on the shipped ``2**16`` codes (``benchmarks/bench_ldpc_blind.py``): at 1 % the
    rate-0.85 code ends near f = 1.18 whatever the start, and starting at 1.14 instead of 1.10
    gave the same f (1.179) with 3.1 instead of 5.1 blind rounds; at 2 % a start of 1.12
    cost 0.006 in f, so the start stays at 1.10 there.

    Example:
        >>> start_efficiency(0.01), start_efficiency(0.015), start_efficiency(0.05)
        (1.14, 1.12, 1.1)
    """
    lo, hi = DEFAULT_EFFICIENCY_START + 0.04, DEFAULT_EFFICIENCY_START
    t = min(max((float(qber) - 0.01) / 0.01, 0.0), 1.0)
    return round(lo + t * (hi - lo), 6)


def choose_code(
    qber: float,
    *,
    code_bits: int = DEFAULT_CODE_BITS,
    modulation: float = 0.1,
    efficiency_start: float | None = None,
    min_punctured_fraction: float = 0.5,
) -> tuple[float, int]:
    """Mother rate and initial punctured count for the first attempt at ``qber``.

    Picks the highest mother rate whose syndrome ``m`` leaves ``p0 = m - f k h2(q)`` of at
    least ``min_punctured_fraction * d`` (room for blind rounds), ``p0`` clipped to ``[0, d]``.
    ``efficiency_start=None``: :func:`start_efficiency` of ``qber``.

    Example:
        >>> choose_code(0.02, code_bits=1 << 14)
        (0.8, 983)
    """
    if not 0.0 <= qber < 0.5:
        raise InputError(f"qber_estimate must be in [0, 0.5) (got {qber})")
    if efficiency_start is None:
        efficiency_start = start_efficiency(qber)
    d = round(modulation * code_bits)
    k = code_bits - d
    need = efficiency_start * k * float(binary_entropy(max(qber, 1e-6)))
    for rate in sorted(MOTHER_RATES, reverse=True):
        m = round(code_bits * (1.0 - rate))
        if m - need >= min_punctured_fraction * d or rate == MOTHER_RATES[0]:
            return rate, int(min(max(round(m - need), 0), d))
    raise AssertionError  # pragma: no cover


@dataclass(frozen=True)
class LdpcOutcome:
    """Result of :func:`ldpc_reconcile` (per-frame arrays have one entry per frame).

    ``frame_bits`` is the number of key bits per frame (the last frame may be shorter);
    ``code_bits`` the mother code length; ``rounds_per_frame`` the decoding attempts.
    """

    corrected_bits: NDArray[np.uint8]
    leaked_bits_per_frame: NDArray[np.int64]
    decoded_per_frame: NDArray[np.bool_]
    residual_errors_per_frame: NDArray[np.int64]
    rounds_per_frame: NDArray[np.int64]
    rate: float
    frame_bits: int
    code_bits: int
    initial_punctured: int

    @property
    def leaked_bits(self) -> int:
        """Total bits disclosed (syndromes net of punctured bits, plus revealed bits)."""
        return int(self.leaked_bits_per_frame.sum())

    @property
    def frame_errors(self) -> int:
        """Frames left with at least one error (detected or not)."""
        return int(np.count_nonzero(self.residual_errors_per_frame))

    @property
    def detected_failures(self) -> int:
        """Frames whose BP decoding never reproduced the syndrome."""
        return int(np.count_nonzero(~self.decoded_per_frame))

    @property
    def failed_frames(self) -> tuple[int, ...]:
        """Indices of the frames flagged as failed by the decoder."""
        return tuple(int(i) for i in np.flatnonzero(~self.decoded_per_frame))

    @property
    def round_trips(self) -> int:
        """Round trips with all frames batched: the largest number of attempts of a frame."""
        return int(self.rounds_per_frame.max(initial=0))


def ldpc_reconcile(
    alice_bits: NDArray,
    bob_bits: NDArray,
    *,
    qber_estimate: float,
    rng: np.random.Generator | None = None,
    code_bits: int = DEFAULT_CODE_BITS,
    modulation: float = 0.1,
    efficiency_start: float | None = None,
    efficiency_step: float = 0.02,
    step_growth: float = 1.0,
    blind: bool = True,
    max_iter: int = 50,
    bp_method: str = "product_sum",
    ms_scaling_factor: float = 0.75,
    schedule: str = "parallel",
    code_seed: int = 0,
    decoder: str = DEFAULT_DECODER,
    patience: int = DEFAULT_PATIENCE,
    batch_frames: int = DEFAULT_BATCH_FRAMES,
    ms_offset: float = 0.0,
    code_construction: str = DEFAULT_CONSTRUCTION,
    min_punctured_fraction: float = 0.5,
) -> LdpcOutcome:
    """Reconcile Bob's key to Alice's with rate-adaptive blind syndrome decoding.

    Args:
        alice_bits, bob_bits: the keys (1-D uint8 0/1, equal length).
        qber_estimate: QBER used to pick the code and the decoder's channel LLRs.
        rng: source of Alice's punctured/shortened filler bits (default: seeded from 0).
        code_bits: mother code length ``n``; ``modulation``: fraction ``d / n`` of punctured or
            shortened positions (key bits per frame: ``n - d``).
        efficiency_start: target efficiency of the first attempt (``None``:
            :func:`start_efficiency` of ``qber_estimate``).
        efficiency_step: extra leak per blind round, in units of ``k h2(q)`` (at least 1 bit).
        step_growth: factor applied to the step after every failed blind round (``1``: fixed).
        blind: disclose punctured bits and retry on failure (otherwise one attempt).
        max_iter: BP iterations per round at most.
        bp_method, schedule: ``decoder="ldpc"`` only (``ldpc.BpDecoder`` settings).
        ms_scaling_factor: min-sum normalisation, for ``decoder="ldpc"`` with
            ``bp_method="minimum_sum"`` and for ``decoder="batch-minsum"``.
        code_seed: seed of the code construction (both sides use the same code).
        decoder: ``"batch"`` (default: compiled layered sum-product decoder, float32,
            ``batch_frames`` frames at once with the frame index innermost so the loops run as
            vector instructions, each blind round resuming from the previous round's
            messages), ``"batch-minsum"`` (the same with normalised/offset min-sum check
            nodes: faster per iteration, needs more iterations and leaks more), ``"layered"``
            (the former compiled decoder: float64, one frame at a time) or ``"ldpc"`` (the
            ``ldpc`` package's ``BpDecoder``, every round from scratch). All see the same
            frames for the same ``rng``.
        patience: compiled decoders: a round gives up once the number of unsatisfied
            checks has not reached a new minimum for this many iterations (0: never).
        batch_frames: frames per batch for the batch decoders (capped so the messages stay
            below 64 MiB).
        ms_offset: ``"batch-minsum"`` only: offset subtracted from the check-node minimum.
        code_construction: mother codes, one of :data:`~qnetai.qkd.ldpc_codes.CONSTRUCTIONS`
            (``"random"``, the default: configuration-model codes; ``"girth6"``: no 4-cycles).
        min_punctured_fraction: the first attempt keeps at least this fraction of ``d``
            punctured (room for blind rounds), see :func:`choose_code` (smaller values pick
            higher-rate mother codes: 0.1 takes the rate-0.9 code at QBER 1 %).

    Example:
        >>> rng = np.random.default_rng(3)
        >>> a = rng.integers(0, 2, 20_000, dtype=np.uint8)
        >>> b = a ^ (rng.random(a.size) < 0.02).astype(np.uint8)
        >>> out = ldpc_reconcile(a, b, qber_estimate=0.02, rng=rng, code_bits=1 << 13)
        >>> out.frame_errors, bool(np.array_equal(out.corrected_bits, a))
        (0, True)
    """
    a = np.asarray(alice_bits, dtype=np.uint8)
    b = np.asarray(bob_bits, dtype=np.uint8)
    if a.shape != b.shape or a.ndim != 1:
        raise InputError("alice_bits and bob_bits must be 1-D arrays of equal length")
    if code_bits < 256:
        raise InputError(f"code_bits must be >= 256 (got {code_bits})")
    if not 0.0 <= modulation <= 0.5:
        raise InputError(f"modulation must be in [0, 0.5] (got {modulation})")
    if not efficiency_step > 0:
        raise InputError(f"efficiency_step must be > 0 (got {efficiency_step})")
    if not step_growth >= 1.0:
        raise InputError(f"step_growth must be >= 1 (got {step_growth})")
    if bp_method not in ("product_sum", "minimum_sum"):
        raise InputError(f"bp_method must be 'product_sum' or 'minimum_sum' (got {bp_method!r})")
    if not 0.0 < ms_scaling_factor <= 1.0:
        raise InputError(f"ms_scaling_factor must be in (0, 1] (got {ms_scaling_factor})")
    if max_iter < 1:
        raise InputError(f"max_iter must be >= 1 (got {max_iter})")
    if schedule not in ("parallel", "serial"):
        raise InputError(f"schedule must be 'parallel' or 'serial' (got {schedule!r})")
    if decoder not in DECODERS:
        raise InputError(f"decoder must be one of {DECODERS} (got {decoder!r})")
    if batch_frames < 1:
        raise InputError(f"batch_frames must be >= 1 (got {batch_frames})")
    if not ms_offset >= 0.0:
        raise InputError(f"ms_offset must be >= 0 (got {ms_offset})")
    if patience < 0:
        raise InputError(f"patience must be >= 0 (got {patience})")
    if code_construction not in CONSTRUCTIONS:
        raise InputError(
            f"code_construction must be one of {CONSTRUCTIONS} (got {code_construction!r})"
        )
    if not 0.0 <= min_punctured_fraction <= 1.0:
        raise InputError(f"min_punctured_fraction must be in [0, 1] (got {min_punctured_fraction})")
    rng = np.random.default_rng(0) if rng is None else rng
    rate, p0 = choose_code(
        qber_estimate,
        code_bits=code_bits,
        modulation=modulation,
        efficiency_start=efficiency_start,
        min_punctured_fraction=min_punctured_fraction,
    )
    n = int(code_bits)
    d = round(modulation * n)
    k = n - d
    h = ldpc_matrix(n, rate, code_seed, code_construction)
    m = h.shape[0]
    order = puncture_order(n, rate, code_seed, code_construction)
    modulated = order[:d]  # first p of them punctured, the rest shortened
    payload = np.sort(order[d:])
    q = min(max(float(qber_estimate), 1e-5), 0.45)
    step = max(1, math.ceil(efficiency_step * k * float(binary_entropy(q))))
    frames = -(-a.size // k)
    corrected = b.copy()
    leaked = np.zeros(frames, dtype=np.int64)
    decoded = np.zeros(frames, dtype=bool)
    rounds = np.zeros(frames, dtype=np.int64)
    if decoder in ("batch", "batch-minsum"):
        _batch_reconcile(
            h,
            a,
            b,
            corrected,
            leaked,
            decoded,
            rounds,
            rng,
            payload,
            modulated,
            p0,
            q,
            step,
            step_growth,
            blind,
            max_iter,
            patience,
            batch_frames,
            rule=0 if decoder == "batch" else 1,
            alpha=ms_scaling_factor,
            beta=ms_offset,
        )
        frames = 0
    elif decoder == "layered":
        run_frame = _layered_frame(h, q, max_iter, patience)
    else:
        run_frame = _ldpc_package_frame(h, q, max_iter, bp_method, ms_scaling_factor, schedule)
    for f in range(frames):
        lo, hi = f * k, min((f + 1) * k, a.size)
        width = hi - lo
        err = np.zeros(n, dtype=np.uint8)
        err[payload[:width]] = a[lo:hi] ^ b[lo:hi]
        known = np.ones(n, dtype=bool)
        known[payload[:width]] = False
        err[modulated[:p0]] = rng.integers(0, 2, p0, dtype=np.uint8)  # Alice's random filler
        known[modulated[:p0]] = False
        syndrome = np.asarray(h @ err, dtype=np.int64).astype(np.uint8) & 1
        est, p, rounds[f] = run_frame(
            err, known, modulated[:p0], syndrome, step, step_growth, blind
        )
        if est is not None:
            decoded[f] = True
            corrected[lo:hi] ^= est[payload[:width]]
        leaked[f] = m - p
    frames = leaked.size
    residual = corrected ^ a
    starts = np.arange(0, a.size, k)
    res = np.add.reduceat(residual.astype(np.int64), starts) if a.size else starts
    return LdpcOutcome(
        corrected_bits=corrected,
        leaked_bits_per_frame=leaked,
        decoded_per_frame=decoded,
        residual_errors_per_frame=np.asarray(res, dtype=np.int64),
        rounds_per_frame=rounds,
        rate=float(rate),
        frame_bits=int(k),
        code_bits=n,
        initial_punctured=int(p0),
    )


def _channel_llr(err: NDArray, known: NDArray, punctured: NDArray, q: float) -> NDArray:
    """Bob's LLRs of the error pattern: payload ``log((1 - q) / q)``, punctured 0, known +-."""
    llr = np.full(err.size, math.log((1.0 - q) / q))
    llr[known] = np.where(err[known] == 1, -_KNOWN_LLR, _KNOWN_LLR)
    llr[punctured] = 0.0
    return llr


def _layered_frame(h, q: float, max_iter: int, patience: int):
    """Blind decoding of one frame with the compiled layered decoder and warm starts."""
    from qnetai.qkd._ldpc_numba import PHI_TABLE, layered_decode

    indptr = h.indptr.astype(np.int64)
    cols = h.indices.astype(np.int64)

    def run(err, known, punctured, syndrome, step, growth, blind):
        p = punctured.size
        post = _channel_llr(err, known, punctured, q)
        r = np.zeros(cols.size)
        frame_step = float(step)
        tries = 0
        while True:
            tries += 1
            if layered_decode(indptr, cols, syndrome, r, post, max_iter, PHI_TABLE, patience) >= 0:
                return (post < 0).astype(np.uint8), p, tries
            if not blind or p == 0:
                return None, p, tries
            reveal = min(round(frame_step), p)
            frame_step *= growth
            shown = punctured[p - reveal : p]  # Bob now knows Alice's filler bits there:
            post[shown] += np.where(err[shown] == 1, -_KNOWN_LLR, _KNOWN_LLR)  # LLR 0 -> +-
            p -= reveal

    return run


def _ldpc_package_frame(h, q, max_iter, bp_method, ms_scaling_factor, schedule):
    """Blind decoding of one frame with ``ldpc.BpDecoder``, every round from scratch."""
    ldpc = require("ldpc", extra="qec")
    bp = ldpc.BpDecoder(
        h,
        error_rate=q,
        max_iter=max_iter,
        bp_method=bp_method,
        ms_scaling_factor=ms_scaling_factor,
        schedule=schedule,
    )

    def run(err, known, punctured, syndrome, step, growth, blind):
        err = err.copy()
        syndrome = syndrome.copy()
        p = punctured.size
        probs = np.where(known, _KNOWN_P, q)
        probs[punctured] = 0.5
        frame_step = float(step)
        tries = 0
        while True:
            tries += 1
            bp.update_channel_probs(probs)
            est = np.asarray(bp.decode(syndrome), dtype=np.uint8)
            if bp.converge:
                return est, p, tries
            if not blind or p == 0:
                return None, p, tries
            reveal = min(round(frame_step), p)
            frame_step *= growth
            cols = punctured[p - reveal : p]  # disclosed: Bob now knows Alice's filler bits,
            syndrome ^= (np.asarray(h[:, cols] @ err[cols]) & 1).astype(np.uint8)
            err[cols] = 0  # so the error there is 0 and the syndrome loses those columns
            probs[cols] = _KNOWN_P
            p -= reveal

    return run


def _batch_reconcile(
    h,
    a,
    b,
    corrected,
    leaked,
    decoded,
    rounds,
    rng,
    payload,
    modulated,
    p0,
    q,
    step,
    growth,
    blind,
    max_iter,
    patience,
    batch_frames,
    *,
    rule,
    alpha,
    beta,
) -> None:
    """Blind decoding of all frames, ``batch_frames`` at a time, with the batched kernel.

    Frames of a batch go through the blind rounds in lockstep (one round trip per round for
    all of them). Messages are stored frame-major and gathered into the kernel's
    ``[edge, frame]`` layout for the frames still running; when fewer than half of the lanes
    run, the kernel returns and the batch is narrowed to them. Alice's filler bits are drawn
    frame by frame in the same order as the per-frame decoders, so every decoder sees the same
    frames for the same ``rng``.
    """
    from qnetai.qkd._ldpc_numba import PHI_LOG_SLOPE, PHI_LOG_VAL, layered_decode_batch

    m, n = h.shape
    k = n - modulated.size
    nnz = h.nnz
    indptr = h.indptr.astype(np.int64)
    cols = h.indices.astype(np.int64)
    width_max = max(1, min(batch_frames, _BATCH_MESSAGE_FLOATS // max(nnz, 1)))
    frames = leaked.size
    llr_q = np.float32(math.log((1.0 - q) / q))
    punct = modulated[:p0]
    for f0 in range(0, frames, width_max):
        ids = np.arange(f0, min(f0 + width_max, frames))
        nb = ids.size
        err = np.zeros((nb, n), dtype=np.uint8)
        big_p = np.full((nb, n), llr_q, dtype=np.float32)  # posterior LLRs, frame-major
        widths = np.empty(nb, dtype=np.int64)
        for i, f in enumerate(ids):
            lo, hi = f * k, min((f + 1) * k, a.size)
            widths[i] = hi - lo
            err[i, payload[: widths[i]]] = a[lo:hi] ^ b[lo:hi]
            err[i, punct] = rng.integers(0, 2, p0, dtype=np.uint8)  # Alice's random filler
            known = np.ones(n, dtype=bool)
            known[payload[: widths[i]]] = False
            known[punct] = False
            big_p[i, known] = np.where(err[i, known] == 1, -_KNOWN_LLR, _KNOWN_LLR)
        big_p[:, punct] = 0.0
        synd = (np.asarray(h @ err.T) & 1).astype(np.uint8)  # (m, nb)
        big_r = np.zeros((nb, nnz), dtype=np.float32)
        p = np.full(nb, p0, dtype=np.int64)
        fstep = np.full(nb, float(step))
        state = np.zeros(nb, dtype=np.int64)
        iters = np.zeros(nb, dtype=np.int64)
        best = np.full(nb, -1, dtype=np.int64)
        since = np.zeros(nb, dtype=np.int64)
        pending = np.arange(nb)
        while pending.size:
            rounds[ids[pending]] += 1
            state[pending], iters[pending], best[pending], since[pending] = 0, 0, -1, 0
            run = pending
            while run.size:
                w = run.size
                r = np.ascontiguousarray(big_r[run].T).ravel()
                post = np.ascontiguousarray(big_p[run].T).ravel()
                syn = np.ascontiguousarray(synd[:, run]).ravel()
                hard = np.zeros(n * w, dtype=np.uint8)
                st, it, be, si = state[run], iters[run], best[run], since[run]
                layered_decode_batch(
                    indptr,
                    cols,
                    syn,
                    r,
                    post,
                    hard,
                    st,
                    it,
                    be,
                    si,
                    max_iter,
                    patience,
                    (w + 1) // 2 if w > 4 else 1,
                    rule,
                    alpha,
                    beta,
                    PHI_LOG_VAL,
                    PHI_LOG_SLOPE,
                )
                state[run], iters[run], best[run], since[run] = st, it, be, si
                big_r[run] = r.reshape(nnz, w).T
                big_p[run] = post.reshape(n, w).T
                hv = hard.reshape(n, w)
                for j in np.flatnonzero(st == 1):
                    i = run[j]
                    f = ids[i]
                    decoded[f] = True
                    lo = f * k
                    corrected[lo : lo + widths[i]] ^= hv[payload[: widths[i]], j]
                run = run[st == 0]
            failed = pending[state[pending] == 2]
            leaked[ids[pending]] = m - p[pending]
            if not blind:
                break
            more = []
            for i in failed:
                if p[i] == 0:
                    continue
                reveal = min(round(fstep[i]), int(p[i]))
                fstep[i] *= growth
                shown = punct[p[i] - reveal : p[i]]  # Bob now knows Alice's filler bits there
                big_p[i, shown] += np.where(err[i, shown] == 1, -_KNOWN_LLR, _KNOWN_LLR)
                p[i] -= reveal
                more.append(i)
            pending = np.asarray(more, dtype=np.int64)
