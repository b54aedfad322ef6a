"""Batched sampling of detection events and observable flips from a stim circuit."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from qnetai.errors import InputError
from qnetai.qec._types import StimCircuit

#: Default shots per stim call; results depend on (seed, batch_shots), so both are recorded.
DEFAULT_BATCH_SHOTS = 65_536
#: Largest in-memory sample (bit-packed detection events plus observables), in bytes.
MAX_SAMPLE_BYTES = 1 << 30


@dataclass(frozen=True)
class Samples:
    """Detection events ``(shots, num_detectors)`` and observable flips ``(shots, num_obs)``.

    Both are ``bool`` arrays (unpacked), ready for ``decode_batch``.
    """

    detection_events: np.ndarray
    observable_flips: np.ndarray

    @property
    def shots(self) -> int:
        """Number of shots."""
        return int(self.detection_events.shape[0])


def sample_bytes(circuit: StimCircuit, shots: int) -> int:
    """Bytes that ``shots`` bit-packed shots of ``circuit`` take."""
    per_shot = (circuit.num_detectors + 7) // 8 + (circuit.num_observables + 7) // 8
    return int(shots) * per_shot


def _check_shots(circuit: StimCircuit, shots: int, batch_shots: int) -> None:
    if not isinstance(shots, int | np.integer) or shots < 1:
        raise InputError(f"shots={shots} < 1")
    if batch_shots < 1:
        raise InputError(f"batch_shots={batch_shots} < 1")


def sample_packed_batches(
    circuit: StimCircuit,
    *,
    shots: int,
    seed: int,
    batch_shots: int = DEFAULT_BATCH_SHOTS,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield bit-packed (``bitorder='little'``) ``(dets, obs)`` batches of at most ``batch_shots``.

    Memory stays bounded by one batch whatever ``shots`` is.

    Example:
        >>> import stim
        >>> c = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
        ...                            before_measure_flip_probability=0.1)
        >>> [d.shape for d, _ in sample_packed_batches(c, shots=5, seed=1, batch_shots=3)]
        [(3, 1), (2, 1)]
    """
    _check_shots(circuit, shots, batch_shots)
    sampler = circuit.compile_detector_sampler(seed=int(seed))
    left = int(shots)
    while left > 0:
        n = min(left, batch_shots)
        dets, obs = sampler.sample(n, separate_observables=True, bit_packed=True)
        yield dets, obs
        left -= n


def sample(
    circuit: StimCircuit,
    *,
    shots: int,
    seed: int,
    batch_shots: int = DEFAULT_BATCH_SHOTS,
    max_bytes: int = MAX_SAMPLE_BYTES,
) -> Samples:
    """Sample ``shots`` shots of ``circuit`` (seeded) into unpacked ``bool`` arrays.

    Raises :class:`~qnetai.errors.InputError` when the bit-packed sample would exceed
    ``max_bytes`` (the unpacked arrays are 8x that; use :func:`sample_packed_batches`).

    Example:
        >>> import stim
        >>> c = stim.Circuit.generated("repetition_code:memory", distance=3, rounds=2,
        ...                            before_measure_flip_probability=0.1)
        >>> s = sample(c, shots=100, seed=7)
        >>> s.detection_events.shape, s.observable_flips.dtype
        ((100, 6), dtype('bool'))
    """
    _check_shots(circuit, shots, batch_shots)
    need = sample_bytes(circuit, shots)
    if need > max_bytes:
        raise InputError(
            f"shots={shots} need {need} bytes bit-packed > max_bytes={max_bytes}; "
            "sample in batches (sample_packed_batches)"
        )
    nd, no = circuit.num_detectors, circuit.num_observables
    dets = np.empty((shots, nd), dtype=bool)
    obs = np.empty((shots, no), dtype=bool)
    at = 0
    for d, o in sample_packed_batches(circuit, shots=shots, seed=seed, batch_shots=batch_shots):
        n = d.shape[0]
        dets[at : at + n] = np.unpackbits(d, axis=1, count=nd, bitorder="little")
        obs[at : at + n] = np.unpackbits(o, axis=1, count=no, bitorder="little")
        at += n
    return Samples(detection_events=dets, observable_flips=obs)
