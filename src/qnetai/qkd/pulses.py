"""Pulse-by-pulse decoy-state BB84, vectorised in blocks, simulating only the clicks.

Alice sends weak coherent pulses of intensity class signal ``mu``, decoy ``nu`` or vacuum
(probabilities ``p_mu, p_nu, p_vacuum``), basis Z with probability ``p_z`` and a random bit.
The light reaching Bob's detectors is Poisson with mean ``transmittance * mu`` (thinning of
the Poisson photon number by the fibre and by Bob's efficiency ``eta_bob``); Bob's passive
receiver (:mod:`qnetai.qkd.detectors`) has four detectors with dark counts, misalignment
and after-pulsing (a click of a detector makes that detector click in the next gate with
probability ``afterpulse_probability``, across block boundaries too; after-pulse clicks
after-pulse in turn).

Exact fast sampling. Whether a pulse gives a primary (light or dark) click depends only on
its type (intensity, attacked or not), so in each block the primary clicks are placed by
geometric skipping with the mixture click probability, the type of a clicked pulse is drawn
from ``prior * p_click`` and its basis, bit and click pattern from their conditional laws;
pulses without a primary click are only counted (multinomial over ``prior * (1 - p_click)``),
except those hit by an after-pulse, which are materialised with the same conditional law.
This has the joint distribution of the naive per-pulse simulation (tested against one).

Example:
    >>> setup = BB84Setup.from_distance(25.0)
    >>> blocks = list(iter_blocks(setup, pulses=100_000, rng=np.random.default_rng(1)))
    >>> blocks[0].n_pulses
    100000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qkd.attacks import AttackSpec, PulseTypeModel, build_pulse_model
from qnetai.qkd.channel import DEFAULT_CHANNEL, ChannelModel
from qnetai.qkd.decoy import check_intensity
from qnetai.qkd.detectors import squash

__all__ = [
    "DEFAULT_BLOCK_PULSES",
    "BB84Setup",
    "BlockResult",
    "bernoulli_positions",
    "iter_blocks",
]

DEFAULT_BLOCK_PULSES = 1 << 20


def _check_prob(name: str, value: float, *, open_low: bool = False, open_high: bool = False):
    v = float(value)
    lo_ok = v > 0 if open_low else v >= 0
    hi_ok = v < 1 if open_high else v <= 1
    if not (np.isfinite(v) and lo_ok and hi_ok):
        lo = "(0" if open_low else "[0"
        hi = "1)" if open_high else "1]"
        raise InputError(f"{name} must be in {lo}, {hi} (got {value})")


@dataclass(frozen=True)
class BB84Setup:
    """Source and link of a decoy-state BB84 run (validated on creation).

    ``channel_transmittance`` is the fibre's transmittance; Bob's receiver (efficiency,
    background, misalignment, after-pulsing) comes from ``channel``, the same
    :class:`~qnetai.qkd.channel.ChannelModel` the analytic rates use (its per-detector
    dark-count probability is ``channel.dark_count_probability``). The total transmittance
    to a click is ``channel_transmittance * eta_bob`` (:attr:`transmittance`).

    Example:
        >>> s = BB84Setup.from_distance(50.0)
        >>> s.channel is DEFAULT_CHANNEL, round(s.transmittance, 5)
        (True, 0.00401)
    """

    channel_transmittance: float
    mu: float = 0.5
    nu: float = 0.1
    p_mu: float = 0.7
    p_nu: float = 0.2
    p_vacuum: float = 0.1
    p_z: float = 0.5
    channel: ChannelModel = DEFAULT_CHANNEL

    def __post_init__(self) -> None:
        _check_prob("channel_transmittance", self.channel_transmittance)
        check_intensity("mu", self.mu)
        if not (np.isfinite(self.nu) and 0 < self.nu < self.mu):
            raise InputError(f"nu must be in (0, mu={self.mu}) (got {self.nu})")
        for name in ("p_mu", "p_nu", "p_vacuum"):
            _check_prob(name, getattr(self, name))
        if self.p_mu <= 0:
            raise InputError(f"p_mu must be > 0 (got {self.p_mu})")
        total = self.p_mu + self.p_nu + self.p_vacuum
        if abs(total - 1.0) > 1e-9:
            raise InputError(f"p_mu + p_nu + p_vacuum must be 1 (got {total})")
        _check_prob("p_z", self.p_z, open_low=True, open_high=True)
        if not isinstance(self.channel, ChannelModel):
            raise InputError(f"channel must be a ChannelModel (got {type(self.channel).__name__})")

    @classmethod
    def from_distance(
        cls, distance_km: float, *, channel: ChannelModel = DEFAULT_CHANNEL, **source: float
    ) -> BB84Setup:
        """Setup over ``distance_km`` of ``channel``'s fibre; ``source``: intensities etc."""
        if not (np.isfinite(distance_km) and distance_km >= 0):
            raise InputError(f"distance_km must be >= 0 (got {distance_km})")
        t = float(channel.channel_transmittance(distance_km))
        return cls(channel_transmittance=t, channel=channel, **source)

    @property
    def eta_bob(self) -> float:
        """Bob's detection efficiency (from :attr:`channel`)."""
        return self.channel.eta_bob

    @property
    def dark_count_probability(self) -> float:
        """Dark-count probability per gate of each of the four detectors."""
        return self.channel.dark_count_probability

    @property
    def afterpulse_probability(self) -> float:
        """After-pulse probability per click (from :attr:`channel`)."""
        return self.channel.afterpulse_probability

    @property
    def e_detector(self) -> float:
        """Misalignment error probability (from :attr:`channel`)."""
        return self.channel.e_detector

    def to_dict(self) -> dict[str, float]:
        """Source parameters and the channel's receiver parameters, flat (JSON output)."""
        src = ("mu", "nu", "p_mu", "p_nu", "p_vacuum", "p_z")
        out = {k: float(getattr(self, k)) for k in src}
        out.update(self.channel.to_dict())
        out["dark_count_probability"] = self.dark_count_probability
        return out

    @property
    def transmittance(self) -> float:
        """Total transmittance Alice -> click: channel times Bob's efficiency."""
        return self.channel_transmittance * self.eta_bob

    @property
    def intensities(self) -> NDArray[np.float64]:
        """``[mu, nu, 0]`` (signal, decoy, vacuum)."""
        return np.array([self.mu, self.nu, 0.0])

    @property
    def probabilities(self) -> NDArray[np.float64]:
        """``[p_mu, p_nu, p_vacuum]``."""
        return np.array([self.p_mu, self.p_nu, self.p_vacuum])


@dataclass(frozen=True, eq=False)
class BlockResult:
    """The detection events of one block of pulses (arrays have one entry per event).

    ``position`` is the global pulse index; ``intensity`` 0/1/2 = signal/decoy/vacuum;
    bases 0 = Z, 1 = X. ``sent[k, b]`` counts pulses sent per intensity and Alice's basis.
    ``afterpulse`` (ground truth) flags events with a click caused by an after-pulse,
    ``attacked`` (ground truth) events of attacked pulses.
    """

    index: int
    start: int
    n_pulses: int
    label: str
    sent: NDArray[np.int64]
    attacked_pulses: int
    position: NDArray[np.int64]
    intensity: NDArray[np.uint8]
    alice_basis: NDArray[np.uint8]
    alice_bit: NDArray[np.uint8]
    bob_basis: NDArray[np.uint8]
    bob_bit: NDArray[np.uint8]
    pattern: NDArray[np.uint8]
    multi_click: NDArray[np.bool_]
    afterpulse: NDArray[np.bool_]
    attacked: NDArray[np.bool_]
    extra: dict = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        """Number of detection events."""
        return int(self.position.size)


def bernoulli_positions(n: int, p: float, rng: np.random.Generator) -> NDArray[np.int64]:
    """Sorted indices in ``[0, n)`` of independent Bernoulli(``p``) successes.

    Geometric skipping for small ``p`` (cost proportional to the number of successes).
    """
    if n <= 0 or p <= 0:
        return np.zeros(0, dtype=np.int64)
    if p >= 0.25:
        return np.flatnonzero(rng.random(n) < p).astype(np.int64)
    mean = n * p
    chunk = int(mean + 6.0 * np.sqrt(mean) + 32)
    parts = []
    last = -1
    while True:
        gaps = rng.geometric(p, size=chunk)
        pos = last + np.cumsum(gaps)
        if pos[-1] >= n:
            parts.append(pos[pos < n])
            break
        parts.append(pos)
        last = int(pos[-1])
    return np.concatenate(parts).astype(np.int64)


def _draw_bits(m: int, p_z: float, rng: np.random.Generator):
    basis = (rng.random(m) >= p_z).astype(np.uint8)
    bit = rng.integers(0, 2, m, dtype=np.uint8)
    return basis, bit


def _choice(n: int, size: int, p: NDArray[np.float64], rng: np.random.Generator):
    """``rng.choice(n, size=size, p=p)`` (int64), the same draws without its argument checks.

    ``Generator.choice`` with ``p`` and replacement: ``cdf = p.cumsum(); cdf /= cdf[-1]``,
    ``size`` uniforms from ``rng.random``, ``cdf.searchsorted(u, side="right")`` (tested
    equal, same stream). ``p`` must be a valid probability vector of length ``n``.
    """
    cdf = np.asarray(p, dtype=np.float64).cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(size), side="right").astype(np.int64, copy=False)


def _afterpulse_targets(
    pos: NDArray[np.int64], masks: NDArray[np.uint8], p_ap: float, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """After-pulse clicks in the gate after each (position, click mask); unique positions."""
    if p_ap <= 0 or pos.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    # one uniform per (click, detector): detector i of a click fires again when its uniform
    # is below p_ap and bit i of the click mask is set. The few uniforms below p_ap are
    # located first (row-major, so rows ascend) and only those bits are tested.
    hit = np.flatnonzero(rng.random((pos.size, 4)) < p_ap)
    rows = hit >> 2
    bit = np.left_shift(1, hit & 3).astype(np.uint8)
    ok = (masks[rows] & bit) != 0
    rows, bit = rows[ok], bit[ok]
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.uint8)
    start = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    return pos[rows[start]] + 1, np.bitwise_or.reduceat(bit, start).astype(np.uint8)


def _group_or(pos: NDArray[np.int64], mask: NDArray[np.uint8]):
    if pos.size == 0:
        return pos, mask
    order = np.argsort(pos, kind="stable")
    pos, mask = pos[order], mask[order]
    uniq, start = np.unique(pos, return_index=True)
    return uniq, np.bitwise_or.reduceat(mask, start).astype(np.uint8)


def _simulate_block(
    *,
    index: int,
    start: int,
    n: int,
    setup: BB84Setup,
    model: PulseTypeModel,
    rng: np.random.Generator,
    carry: int,
) -> tuple[BlockResult, int]:
    """One block; ``carry`` is the after-pulse mask entering gate 0; returns the outgoing one."""
    p_z = setup.p_z
    p_ap = setup.afterpulse_probability
    w_click = model.type_prior * model.type_click
    p_click = float(w_click.sum())
    pos = bernoulli_positions(n, p_click, rng)
    m = pos.size
    if m:
        types = _choice(model.n_types, m, w_click / p_click, rng).astype(np.intp)
    else:
        types = np.zeros(0, dtype=np.intp)
    a, x = _draw_bits(m, p_z, rng)
    pat = model.sample_patterns(types, a, x, rng) if m else np.zeros(0, np.uint8)
    ap = np.zeros(m, dtype=np.uint8)
    w_none = model.type_prior * (1.0 - model.type_click)
    p_none = w_none / w_none.sum() if w_none.sum() > 0 else model.type_prior
    blinded_t = model.type_blinded

    # after-pulsing, iterated over newly added clicks (cascades are rare)
    src_ok = ~blinded_t[types]
    tpos, tmask = _afterpulse_targets(pos[src_ok], pat[src_ok], p_ap, rng)
    if carry:
        tpos = np.concatenate([[0], tpos]).astype(np.int64)
        tmask = np.concatenate([[carry], tmask]).astype(np.uint8)
    carry_out = 0
    while tpos.size:
        tpos, tmask = _group_or(tpos, tmask)
        beyond = tpos >= n
        if beyond.any():
            carry_out |= int(np.bitwise_or.reduce(tmask[beyond]))
            tpos, tmask = tpos[~beyond], tmask[~beyond]
        idx = np.searchsorted(pos, tpos)
        exists = idx < pos.size
        exists[exists] = pos[idx[exists]] == tpos[exists]
        # existing gates: add the after-pulse clicks unless the gate is blinded
        ei, emask = idx[exists], tmask[exists]
        ok = ~blinded_t[types[ei]]
        ei, emask = ei[ok], emask[ok]
        new_bits = emask & ~pat[ei]
        pat[ei] |= new_bits
        ap[ei] |= new_bits
        nxt_pos = [pos[ei][new_bits != 0]]
        nxt_mask = [new_bits[new_bits != 0]]
        # gates without a primary click: materialise them
        npos, nmask = tpos[~exists], tmask[~exists]
        k_new = npos.size
        if k_new:
            ntypes = _choice(model.n_types, k_new, p_none, rng).astype(np.intp)
            na, nx = _draw_bits(k_new, p_z, rng)
            nblind = blinded_t[ntypes]
            nmask = np.where(nblind, 0, nmask).astype(np.uint8)
            pos = np.concatenate([pos, npos])
            order = np.argsort(pos, kind="stable")
            pos = pos[order]
            types = np.concatenate([types, ntypes])[order]
            a = np.concatenate([a, na])[order]
            x = np.concatenate([x, nx])[order]
            pat = np.concatenate([pat, nmask])[order]
            ap = np.concatenate([ap, nmask])[order]
            nxt_pos.append(npos[~nblind])
            nxt_mask.append(nmask[~nblind])
        fpos = np.concatenate(nxt_pos)
        fmask = np.concatenate(nxt_mask)
        tpos, tmask = _afterpulse_targets(fpos, fmask, p_ap, rng)

    # counts of pulses sent per type, then per intensity and Alice's basis
    n_rest = n - pos.size
    rest = rng.multinomial(n_rest, p_none)
    t_int = model.type_intensity
    # pulses per (intensity, Alice's basis) among the materialised gates (np.add.at's counts)
    sent = np.bincount(t_int[types] * 2 + a, minlength=6).astype(np.int64).reshape(3, 2)
    rest_k = np.bincount(t_int, weights=rest, minlength=3).astype(np.int64)
    rest_z = rng.binomial(rest_k, p_z)
    sent[:, 0] += rest_z
    sent[:, 1] += rest_k - rest_z
    attacked_pulses = int(rest[model.type_attacked].sum() + model.type_attacked[types].sum())

    keep = pat != 0
    pos, types, a, x, pat, ap = pos[keep], types[keep], a[keep], x[keep], pat[keep], ap[keep]
    b_basis, b_bit, multi = squash(pat, rng)
    block = BlockResult(
        index=index,
        start=start,
        n_pulses=n,
        label=model.attack.label,
        sent=sent,
        attacked_pulses=attacked_pulses,
        position=pos + start,
        intensity=t_int[types].astype(np.uint8),
        alice_basis=a,
        alice_bit=x,
        bob_basis=b_basis,
        bob_bit=b_bit,
        pattern=pat,
        multi_click=multi,
        afterpulse=ap != 0,
        attacked=model.type_attacked[types],
    )
    return block, carry_out


def iter_blocks(
    setup: BB84Setup,
    *,
    pulses: int,
    rng: np.random.Generator,
    attack: AttackSpec | None = None,
    block_pulses: int = DEFAULT_BLOCK_PULSES,
    block_attacks: Sequence[AttackSpec | None] | None = None,
    models: dict[AttackSpec | None, PulseTypeModel] | None = None,
) -> Iterator[BlockResult]:
    """Simulate ``pulses`` pulses in blocks of ``block_pulses``; yield one result per block.

    ``block_attacks`` (one entry per block) overrides ``attack`` block by block, for
    labelled data. After-pulses carry over block boundaries. ``models``: a dict to keep the
    pulse-type models in (by attack), reused by later calls with the same ``setup``; the
    models are deterministic, so this changes no draw.
    """
    pulses = int(pulses)
    block_pulses = int(block_pulses)
    if pulses <= 0:
        raise InputError(f"pulses must be >= 1 (got {pulses})")
    if block_pulses <= 0:
        raise InputError(f"block_pulses must be >= 1 (got {block_pulses})")
    n_blocks = -(-pulses // block_pulses)
    if block_attacks is not None and len(block_attacks) != n_blocks:
        raise InputError(
            f"block_attacks must have one entry per block ({n_blocks}) (got {len(block_attacks)})"
        )
    cache: dict[AttackSpec | None, PulseTypeModel] = {} if models is None else models

    def model_for(spec: AttackSpec | None) -> PulseTypeModel:
        key = spec if spec is not None and spec.active else None
        if key not in cache:
            cache[key] = build_pulse_model(setup, key)
        return cache[key]

    carry = 0
    for i in range(n_blocks):
        start = i * block_pulses
        n = min(block_pulses, pulses - start)
        spec = block_attacks[i] if block_attacks is not None else attack
        block, carry = _simulate_block(
            index=i,
            start=start,
            n=n,
            setup=setup,
            model=model_for(spec),
            rng=rng,
            carry=carry,
        )
        yield block
