"""Quantum error correction: memory experiments, classical and learned decoders, benchmark.

Needs the ``[qec]`` extra (stim, pymatching, sinter, ldpc; torch for training the learned
decoder, from the ``[ai]`` extra). Decoders are ``sinter.Decoder`` option objects whose
compiled form has a PyMatching-like ``decode_batch``; modules that need sinter, ldpc or torch
are imported on first use of their names.

Example:
    >>> from qnetai.qec import MatchingDecoder, MemoryExperiment, sample
    >>> circuit = MemoryExperiment(code="surface", distance=3, rounds=3, p=0.001).circuit()
    >>> shots = sample(circuit, shots=2000, seed=5)
    >>> decoder = MatchingDecoder.from_circuit(circuit)
    >>> flips = decoder.decode_batch(shots.detection_events)
    >>> flips.shape
    (2000, 1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from qnetai.qec._codes import CODES, NOISE_MODELS, MemoryExperiment, si1000_noise
from qnetai.qec._dataset import MAX_DATASET_BYTES, read_dataset, write_dataset
from qnetai.qec._sampling import MAX_SAMPLE_BYTES, Samples, sample, sample_packed_batches

if TYPE_CHECKING:
    from qnetai.qec._bench import bench_qec, logical_error_per_round, wilson_interval
    from qnetai.qec._decoders import (
        BpOsdDecoder,
        CompiledQecDecoder,
        MatchingDecoder,
        QecDecoder,
    )
    from qnetai.qec._lookup import LookupDecoder
    from qnetai.qec._neural import NeuralDecoder, NeuralModel, load_model, save_model
    from qnetai.qec._threshold import (
        estimate_threshold,
        sweep_threshold,
        threshold_plot_html,
        threshold_table,
        write_threshold_plot,
    )
    from qnetai.qec._training import TrainConfig, train_decoder

_LAZY: dict[str, str] = {
    "QecDecoder": "_decoders",
    "CompiledQecDecoder": "_decoders",
    "MatchingDecoder": "_decoders",
    "BpOsdDecoder": "_decoders",
    "LookupDecoder": "_lookup",
    "NeuralDecoder": "_neural",
    "NeuralModel": "_neural",
    "load_model": "_neural",
    "save_model": "_neural",
    "TrainConfig": "_training",
    "train_decoder": "_training",
    "bench_qec": "_bench",
    "wilson_interval": "_bench",
    "logical_error_per_round": "_bench",
    "sweep_threshold": "_threshold",
    "estimate_threshold": "_threshold",
    "threshold_table": "_threshold",
    "threshold_plot_html": "_threshold",
    "write_threshold_plot": "_threshold",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"qnetai.qec.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'qnetai.qec' has no attribute {name!r}")


__all__ = [
    "CODES",
    "MAX_DATASET_BYTES",
    "MAX_SAMPLE_BYTES",
    "NOISE_MODELS",
    "BpOsdDecoder",
    "CompiledQecDecoder",
    "LookupDecoder",
    "MatchingDecoder",
    "MemoryExperiment",
    "NeuralDecoder",
    "NeuralModel",
    "QecDecoder",
    "Samples",
    "TrainConfig",
    "bench_qec",
    "estimate_threshold",
    "load_model",
    "logical_error_per_round",
    "read_dataset",
    "sample",
    "sample_packed_batches",
    "save_model",
    "si1000_noise",
    "sweep_threshold",
    "threshold_plot_html",
    "threshold_table",
    "train_decoder",
    "wilson_interval",
    "write_dataset",
    "write_threshold_plot",
]
