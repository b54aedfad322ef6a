"""Sifting: keep detections whose bases agree, count them per intensity and basis.

After Bob announces which gates clicked and in which basis (squashed), Alice announces her
bases and intensity classes. Events with matching bases are *sifted*; Z-basis signal events
form the raw key, all X-basis events and the decoy classes serve parameter estimation
(for which Alice and Bob disclose those bits).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from qnetai.qkd.pulses import BlockResult

__all__ = [
    "INTENSITY_NAMES",
    "SiftCounts",
    "block_counts",
    "key_bits",
    "sift_mask",
]

#: Names of the intensity classes, in index order.
INTENSITY_NAMES: tuple[str, ...] = ("signal", "decoy", "vacuum")


def sift_mask(block: BlockResult) -> NDArray[np.bool_]:
    """Events whose Alice and Bob bases agree."""
    return block.alice_basis == block.bob_basis


@dataclass
class SiftCounts:
    """Accumulated counts over blocks (arrays indexed ``[intensity, basis]``).

    ``sent``: pulses sent; ``sifted``: sifted detections; ``errors``: sifted detections with
    Bob's bit != Alice's; ``detections[k]``: all detection events; ``multi_clicks``:
    detections with more than one detector clicking; ``consecutive``: detections in the gate
    right after another detection; ``afterpulse_events`` (ground truth).
    """

    sent: NDArray[np.int64] = field(default_factory=lambda: np.zeros((3, 2), np.int64))
    sifted: NDArray[np.int64] = field(default_factory=lambda: np.zeros((3, 2), np.int64))
    errors: NDArray[np.int64] = field(default_factory=lambda: np.zeros((3, 2), np.int64))
    detections: NDArray[np.int64] = field(default_factory=lambda: np.zeros(3, np.int64))
    multi_clicks: int = 0
    consecutive: int = 0
    afterpulse_events: int = 0
    pulses: int = 0

    def add(self, other: SiftCounts) -> None:
        """Add another block's counts in place."""
        self.sent += other.sent
        self.sifted += other.sifted
        self.errors += other.errors
        self.detections += other.detections
        self.multi_clicks += other.multi_clicks
        self.consecutive += other.consecutive
        self.afterpulse_events += other.afterpulse_events
        self.pulses += other.pulses

    @property
    def gains(self) -> NDArray[np.float64]:
        """Sifted gain ``Q[k, b]``: sifted detections per pulse of intensity k, basis b."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sent > 0, self.sifted / np.maximum(self.sent, 1), np.nan)

    @property
    def qber(self) -> NDArray[np.float64]:
        """Sifted error rate ``E[k, b]`` (NaN without sifted events)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.sifted > 0, self.errors / np.maximum(self.sifted, 1), np.nan)

    @property
    def detection_gains(self) -> NDArray[np.float64]:
        """All detections (any basis) per pulse sent, per intensity."""
        s = self.sent.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(s > 0, self.detections / np.maximum(s, 1), np.nan)


def block_counts(block: BlockResult) -> SiftCounts:
    """Sifting counts of one block."""
    k = block.intensity.astype(np.intp)
    sm = sift_mask(block)
    basis = block.alice_basis.astype(np.intp)
    sifted = np.zeros((3, 2), np.int64)
    errors = np.zeros((3, 2), np.int64)
    np.add.at(sifted, (k[sm], basis[sm]), 1)
    err = sm & (block.alice_bit != block.bob_bit)
    np.add.at(errors, (k[err], basis[err]), 1)
    pos = block.position
    consecutive = int(np.count_nonzero(np.diff(pos) == 1)) if pos.size > 1 else 0
    return SiftCounts(
        sent=block.sent.copy(),
        sifted=sifted,
        errors=errors,
        detections=np.bincount(k, minlength=3).astype(np.int64),
        multi_clicks=int(block.multi_click.sum()),
        consecutive=consecutive,
        afterpulse_events=int(block.afterpulse.sum()),
        pulses=block.n_pulses,
    )


def key_bits(
    block: BlockResult, *, intensity: int = 0, basis: int = 0
) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """Alice's and Bob's sifted bits of one intensity class and basis (default: Z signal)."""
    m = sift_mask(block) & (block.intensity == intensity) & (block.alice_basis == basis)
    return block.alice_bit[m], block.bob_bit[m]
