"""The lookup decoder: the most frequent observable flip per syndrome seen in samples.

Given samples of (syndrome, observable flips) from the decoder's own noise model, predicting
the most frequent flip for each syndrome is the maximum-likelihood decision, estimated; on the
training samples themselves no function of the syndrome makes fewer errors. Syndromes never
seen (or tied) go to a fallback decoder (correlated matching by default). Useful where the
syndrome space is small enough to be covered by samples (d = 3); its memory grows with the
number of distinct syndromes seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from qnetai.errors import InputError
from qnetai.qec._decoders import CompiledQecDecoder, MatchingDecoder, QecDecoder
from qnetai.qec._types import StimDem

#: Most observables the lookup table handles (observable patterns are packed in one byte).
MAX_OBSERVABLES = 8


def _keys(dets: np.ndarray) -> np.ndarray:
    packed = np.packbits(np.ascontiguousarray(dets, dtype=np.uint8), axis=1, bitorder="little")
    packed = np.ascontiguousarray(packed)
    return packed.view(f"V{packed.shape[1]}").ravel()


def _obs_codes(obs: np.ndarray) -> np.ndarray:
    o = np.asarray(obs, dtype=np.uint8)
    return (o << np.arange(o.shape[1], dtype=np.uint8)).sum(axis=1).astype(np.uint8)


class CompiledLookup(CompiledQecDecoder):
    """A lookup table (sorted syndromes -> most frequent observable pattern) and a fallback."""

    def __init__(
        self,
        detection_events: np.ndarray,
        observable_flips: np.ndarray,
        fallback: CompiledQecDecoder,
    ) -> None:
        dets = np.asarray(detection_events)
        obs = np.asarray(observable_flips)
        self.num_detectors = fallback.num_detectors
        self.num_observables = fallback.num_observables
        if dets.shape[1] != self.num_detectors or obs.shape[1] != self.num_observables:
            raise InputError("training samples do not match the detector error model's shape")
        if self.num_observables > MAX_OBSERVABLES:
            raise InputError(f"num_observables={self.num_observables} > {MAX_OBSERVABLES}")
        self.fallback = fallback
        keys, inverse = np.unique(_keys(dets), return_inverse=True)
        codes = _obs_codes(obs)
        counts = np.zeros((keys.shape[0], 1 << self.num_observables), dtype=np.int64)
        np.add.at(counts, (inverse.ravel(), codes), 1)
        best = counts.argmax(axis=1)
        top = counts.max(axis=1)
        tied = (counts == top[:, None]).sum(axis=1) > 1
        self.keys = keys
        self.table = best.astype(np.uint8)
        self.known = ~tied
        self.counts_total = counts.sum(axis=1)

    @property
    def table_size(self) -> int:
        """Distinct syndromes in the table."""
        return int(self.keys.shape[0])

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        k = _keys(dets)
        at = np.searchsorted(self.keys, k)
        at_c = np.minimum(at, self.keys.shape[0] - 1)
        hit = (self.keys[at_c] == k) & self.known[at_c]
        codes = np.where(hit, self.table[at_c], 0).astype(np.uint8)
        out = ((codes[:, None] >> np.arange(self.num_observables, dtype=np.uint8)) & 1).astype(bool)
        miss = ~hit
        if miss.any():
            out[miss] = self.fallback.decode_batch(dets[miss])
        return out


@dataclass(frozen=True)
class LookupDecoder(QecDecoder):
    """Maximum-likelihood per observed syndrome, from ``train_shots`` samples of the DEM.

    ``compile(dem)`` samples the detector error model itself (seeded by ``seed``), so the
    table is built for exactly the noise it decodes. Unseen or tied syndromes go to
    ``fallback`` (correlated matching by default).

    Example:
        >>> from qnetai.qec import MemoryExperiment
        >>> c = MemoryExperiment(code="repetition", distance=3, rounds=2, p=0.01).circuit()
        >>> dec = LookupDecoder.from_circuit(c, train_shots=10_000, seed=1)
        >>> dec.table_size <= 2 ** c.num_detectors
        True
    """

    name: ClassVar[str] = "lookup"
    train_shots: int = 1_000_000
    seed: int = 0
    fallback: QecDecoder = field(default_factory=lambda: MatchingDecoder(correlations=True))

    def __post_init__(self) -> None:
        if not isinstance(self.train_shots, int) or self.train_shots < 1:
            raise InputError(f"train_shots={self.train_shots} < 1")
        if self.train_shots > 10**9:
            raise InputError(f"train_shots={self.train_shots} > 1e9")
        if not isinstance(self.fallback, QecDecoder):
            raise InputError("fallback must be a qnetai QecDecoder")

    def compile(self, dem: StimDem) -> CompiledLookup:
        """Sample ``dem`` and build the table (the fallback compiled for ``dem`` too)."""
        sampler = dem.compile_sampler(seed=int(self.seed))
        dets_parts, obs_parts = [], []
        left = self.train_shots
        while left > 0:
            n = min(left, 1 << 20)
            d, o, _ = sampler.sample(n)
            dets_parts.append(d)
            obs_parts.append(o)
            left -= n
        return self.from_samples(
            np.concatenate(dets_parts), np.concatenate(obs_parts), self.fallback.compile(dem)
        )

    @staticmethod
    def from_samples(
        detection_events: np.ndarray,
        observable_flips: np.ndarray,
        fallback: CompiledQecDecoder,
    ) -> CompiledLookup:
        """Build the table from given samples (e.g. a dataset file) and a compiled fallback."""
        return CompiledLookup(detection_events, observable_flips, fallback)
