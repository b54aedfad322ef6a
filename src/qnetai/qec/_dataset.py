"""Training data files: bit-packed detection events and observable flips in one ``.npz``.

The file holds only plain arrays (read with ``numpy.load(path, allow_pickle=False)``):
``detection_events`` and ``observable_flips`` (``uint8``, bit-packed with
``bitorder='little'`` along axis 1), ``circuit`` (stim's text of the circuit) and ``meta``
(a JSON string: experiment, seed, shots, batch_shots, counts, format tag).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from qnetai._atomic_files import write_stream_atomic
from qnetai.errors import InputError
from qnetai.qec._codes import MemoryExperiment
from qnetai.qec._sampling import DEFAULT_BATCH_SHOTS, sample_bytes, sample_packed_batches

DATASET_FORMAT = "qnetai-qec-dataset/1"
#: Largest dataset written (bit-packed bytes, held in memory once while the file is written).
MAX_DATASET_BYTES = 1 << 30


def write_dataset(
    experiment: MemoryExperiment,
    *,
    shots: int,
    seed: int,
    out: str | os.PathLike[str],
    overwrite: bool = False,
    batch_shots: int = DEFAULT_BATCH_SHOTS,
    max_bytes: int = MAX_DATASET_BYTES,
) -> dict[str, Any]:
    """Sample ``shots`` shots of ``experiment`` and write them to ``out`` (``.npz``), atomically.

    Only ``out`` is written (through a temporary file beside it, renamed into place). An
    existing ``out`` is refused unless ``overwrite``. Returns the metadata written.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> exp = MemoryExperiment(code="repetition", distance=3, rounds=2, p=0.01)
        >>> write_dataset(exp, shots=10, seed=1, out=d / "x.npz")["shots"]
        10
        >>> write_dataset(exp, shots=10, seed=1, out=d / "x.npz")
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: ... exists; pass overwrite=True (--overwrite) to replace it
    """
    path = Path(out)
    if path.suffix != ".npz":
        raise InputError(f"out={str(path)!r} must end in .npz")
    if path.is_dir():
        raise InputError(f"out={str(path)!r} is a directory")
    if not path.parent.is_dir():
        raise InputError(f"out={str(path)!r}: directory {str(path.parent)!r} does not exist")
    if path.exists() and not overwrite:
        raise InputError(f"{str(path)!r} exists; pass overwrite=True (--overwrite) to replace it")
    if not isinstance(shots, int) or shots < 1:
        raise InputError(f"shots={shots} < 1")
    circuit = experiment.circuit()
    need = sample_bytes(circuit, shots)
    if need > max_bytes:
        raise InputError(
            f"shots={shots} need {need} bytes > the limit of {max_bytes} bytes per file; "
            "write several files with different seeds"
        )
    dets_parts, obs_parts = [], []
    for d, o in sample_packed_batches(circuit, shots=shots, seed=seed, batch_shots=batch_shots):
        dets_parts.append(d)
        obs_parts.append(o)
    meta = {
        "format": DATASET_FORMAT,
        "experiment": experiment.describe(),
        "seed": int(seed),
        "shots": int(shots),
        "batch_shots": int(batch_shots),
        "num_detectors": circuit.num_detectors,
        "num_observables": circuit.num_observables,
        "bitorder": "little",
    }
    arrays: dict[str, Any] = {
        "detection_events": np.concatenate(dets_parts),
        "observable_flips": np.concatenate(obs_parts),
        "circuit": np.array(str(circuit)),
        "meta": np.array(json.dumps(meta)),
    }

    def fill(fh: BinaryIO) -> None:
        np.savez_compressed(fh, **arrays)
        if path.exists() and not overwrite:  # appeared meanwhile
            raise InputError(f"{str(path)!r} exists; pass overwrite=True (--overwrite)")

    write_stream_atomic(path, fill)
    return meta


def read_dataset(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Read a dataset: unpacked ``bool`` detection events, observable flips, and metadata.

    Example:
        >>> import tempfile, pathlib
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "x.npz"
        >>> exp = MemoryExperiment(code="repetition", distance=3, rounds=2, p=0.01)
        >>> _ = write_dataset(exp, shots=4, seed=1, out=f)
        >>> dets, obs, meta = read_dataset(f)
        >>> dets.shape, obs.shape, meta["experiment"]["code"]
        ((4, 6), (4, 1), 'repetition')
    """
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format") != DATASET_FORMAT:
                raise InputError(f"{str(p)!r}: format {meta.get('format')!r} != {DATASET_FORMAT}")
            nd, no = int(meta["num_detectors"]), int(meta["num_observables"])
            dets = np.unpackbits(z["detection_events"], axis=1, count=nd, bitorder="little")
            obs = np.unpackbits(z["observable_flips"], axis=1, count=no, bitorder="little")
    except (OSError, KeyError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{str(p)!r} is not a qnetai QEC dataset: {exc}") from exc
    return dets.astype(bool), obs.astype(bool), meta
