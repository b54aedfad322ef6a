"""Classical decoders behind one interface: sinter's ``Decoder`` and a PyMatching-like API.

Every decoder here is a frozen, self-validating option object and a ``sinter.Decoder``
(``compile_decoder_for_dem(dem=...)`` gives a :class:`CompiledQecDecoder`, so
``sinter.collect(custom_decoders={...})`` runs it). The compiled object is the PyMatching-like
side: built once (``Decoder.from_circuit(circuit)`` or ``from_dem(dem)``), then
``decode_batch(detection_events) -> observable flips`` on ``bool`` arrays.
"""

from __future__ import annotations

import abc
import pathlib
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from qnetai._optional import require
from qnetai.errors import InputError
from qnetai.qec._types import StimCircuit, StimDem

sinter = require("sinter", extra="qec")
#: sinter's base classes (sinter ships no type information).
_SinterDecoder: Any = sinter.Decoder
_SinterCompiledDecoder: Any = sinter.CompiledDecoder


class CompiledQecDecoder(_SinterCompiledDecoder):
    """A decoder configured for one detector error model; decodes batches of shots."""

    num_detectors: int
    num_observables: int

    @abc.abstractmethod
    def _decode(self, dets: np.ndarray) -> np.ndarray:
        """Decode ``(n, num_detectors)`` ``uint8`` 0/1 rows into ``(n, num_observables)``."""

    def decode_batch(self, detection_events: np.ndarray) -> np.ndarray:
        """Predicted observable flips ``(shots, num_observables)`` (``bool``).

        ``detection_events`` is ``(shots, num_detectors)`` of ``bool`` or 0/1 integers.
        """
        dets = np.asarray(detection_events)
        if dets.ndim != 2 or dets.shape[1] != self.num_detectors:
            raise InputError(
                f"detection_events.shape={dets.shape} is not (shots, {self.num_detectors})"
            )
        if dets.shape[0] == 0:
            return np.zeros((0, self.num_observables), dtype=bool)
        return np.asarray(self._decode(dets.astype(np.uint8, copy=False)), dtype=bool)

    def decode_shots_bit_packed(self, *, bit_packed_detection_event_data: np.ndarray) -> np.ndarray:
        """Sinter entry point: bit-packed (little) detection events to packed predictions."""
        dets = np.unpackbits(
            bit_packed_detection_event_data, axis=1, count=self.num_detectors, bitorder="little"
        )
        return np.packbits(self.decode_batch(dets), axis=1, bitorder="little")


class QecDecoder(_SinterDecoder):
    """Base of the decoder option objects (subclasses are frozen dataclasses)."""

    #: Short name used by the benchmark and ``sinter`` (``custom_decoders`` key).
    name: ClassVar[str] = "decoder"
    #: Whether the DEM given to ``compile`` should have errors decomposed into graphlike parts.
    decompose_errors: ClassVar[bool] = True

    @abc.abstractmethod
    def compile(self, dem: StimDem) -> CompiledQecDecoder:
        """Configure the decoder for ``dem``."""

    def compile_decoder_for_dem(self, *, dem: StimDem) -> CompiledQecDecoder:
        """Sinter entry point (same as :meth:`compile`)."""
        return self.compile(dem)

    def decode_via_files(
        self,
        *,
        num_shots: int,
        num_dets: int,
        num_obs: int,
        dem_path: pathlib.Path,
        dets_b8_in_path: pathlib.Path,
        obs_predictions_b8_out_path: pathlib.Path,
        tmp_dir: pathlib.Path,
    ) -> None:
        """Sinter file-based entry point, through :meth:`compile`."""
        stim = require("stim", extra="qec")
        dem = stim.DetectorErrorModel.from_file(dem_path)
        dets = stim.read_shot_data_file(path=dets_b8_in_path, format="b8", num_detectors=num_dets)
        pred = self.compile(dem).decode_batch(dets)
        stim.write_shot_data_file(
            data=pred, path=obs_predictions_b8_out_path, format="b8", num_observables=num_obs
        )

    def dem_for(self, circuit: StimCircuit) -> StimDem:
        """The detector error model of ``circuit`` this decoder wants."""
        return circuit.detector_error_model(decompose_errors=self.decompose_errors)

    def for_circuit(self, circuit: StimCircuit) -> CompiledQecDecoder:
        """Compile for ``circuit``'s detector error model."""
        return self.compile(self.dem_for(circuit))

    @classmethod
    def from_circuit(cls, circuit: StimCircuit, **options: Any) -> CompiledQecDecoder:
        """PyMatching-like constructor: ``cls(**options)`` compiled for ``circuit``."""
        return cls(**options).for_circuit(circuit)

    @classmethod
    def from_dem(cls, dem: StimDem, **options: Any) -> CompiledQecDecoder:
        """PyMatching-like constructor: ``cls(**options)`` compiled for ``dem``."""
        return cls(**options).compile(dem)


# --------------------------------------------------------------------------- matching


class _CompiledMatching(CompiledQecDecoder):
    def __init__(self, dem: StimDem, correlations: bool) -> None:
        pm = require("pymatching", extra="qec")
        if correlations:
            self.matching = pm.Matching.from_detector_error_model(dem, enable_correlations=True)
        else:
            self.matching = pm.Matching.from_detector_error_model(dem)
        self.correlations = correlations
        self.num_detectors = dem.num_detectors
        self.num_observables = dem.num_observables

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        if self.correlations:
            return self.matching.decode_batch(dets, enable_correlations=True)
        return self.matching.decode_batch(dets)


@dataclass(frozen=True)
class MatchingDecoder(QecDecoder):
    """Minimum-weight perfect matching (PyMatching 2), optionally with correlations.

    ``correlations=True`` uses PyMatching 2.4's two-pass correlated matching
    (``enable_correlations``), which reweights edges given hyperedges decomposed in the DEM.

    Example:
        >>> from qnetai.qec import MemoryExperiment, sample
        >>> c = MemoryExperiment(distance=3, rounds=3, p=0.001).circuit()
        >>> dec = MatchingDecoder.from_circuit(c, correlations=True)
        >>> s = sample(c, shots=1000, seed=1)
        >>> int((dec.decode_batch(s.detection_events) != s.observable_flips).sum()) < 20
        True
    """

    correlations: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.correlations, bool):
            raise InputError(f"correlations={self.correlations!r} is not a bool")

    @property
    def label(self) -> str:
        """``matching`` or ``matching-correlated``."""
        return "matching-correlated" if self.correlations else "matching"

    def compile(self, dem: StimDem) -> CompiledQecDecoder:
        """Build the matching graph."""
        return _CompiledMatching(dem, self.correlations)


# --------------------------------------------------------------------------- BP+OSD


class _CompiledBpOsd(CompiledQecDecoder):
    def __init__(self, dem: StimDem, opts: BpOsdDecoder) -> None:
        ldpc = require("ldpc", extra="qec")
        from ldpc.ckt_noise.dem_matrices import detector_error_model_to_check_matrices

        m = detector_error_model_to_check_matrices(dem, allow_undecomposed_hyperedges=True)
        self.observables_matrix = m.observables_matrix.tocsr()
        self.bposd = ldpc.BpOsdDecoder(
            m.check_matrix,
            error_channel=list(m.priors),
            max_iter=opts.max_iter,
            bp_method=opts.bp_method,
            ms_scaling_factor=opts.ms_scaling_factor,
            schedule="parallel",
            osd_method=opts.osd_method,
            osd_order=opts.osd_order,
        )
        self.num_detectors = dem.num_detectors
        self.num_observables = dem.num_observables

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        out = np.zeros((dets.shape[0], self.num_observables), dtype=np.uint8)
        for i, row in enumerate(dets):
            if row.any():
                corr = self.bposd.decode(row)
                out[i] = (self.observables_matrix @ corr) % 2
        return out


@dataclass(frozen=True)
class BpOsdDecoder(QecDecoder):
    """Belief propagation with ordered-statistics post-processing (``ldpc`` 2).

    Decodes the full (undecomposed) detector error model's check matrix; one shot at a time
    in ``ldpc``'s C++ (a Python loop over shots), so it is much slower than matching.

    Example:
        >>> from qnetai.qec import MemoryExperiment
        >>> c = MemoryExperiment(distance=3, rounds=3, p=0.001).circuit()
        >>> dec = BpOsdDecoder.from_circuit(c)
        >>> dec.decode_batch(np.zeros((2, c.num_detectors), dtype=bool)).tolist()
        [[False], [False]]
    """

    name: ClassVar[str] = "bposd"
    decompose_errors: ClassVar[bool] = False
    max_iter: int = 30
    bp_method: str = "minimum_sum"
    ms_scaling_factor: float = 0.625
    osd_method: str = "osd_cs"
    osd_order: int = 7

    def __post_init__(self) -> None:
        if self.max_iter < 1:
            raise InputError(f"max_iter={self.max_iter} < 1")
        if self.bp_method not in ("minimum_sum", "product_sum"):
            raise InputError(f"bp_method={self.bp_method!r} is not minimum_sum or product_sum")
        if not 0 < self.ms_scaling_factor <= 1:
            raise InputError(f"ms_scaling_factor={self.ms_scaling_factor} is not in (0, 1]")
        if self.osd_method not in ("osd0", "osd_e", "osd_cs"):
            raise InputError(f"osd_method={self.osd_method!r} is not osd0, osd_e or osd_cs")
        if self.osd_order < 0:
            raise InputError(f"osd_order={self.osd_order} < 0")
        if self.osd_method == "osd0" and self.osd_order != 0:
            raise InputError(f"osd_method='osd0' needs osd_order=0 (got {self.osd_order})")

    def compile(self, dem: StimDem) -> CompiledQecDecoder:
        """Build the check matrix and priors."""
        return _CompiledBpOsd(dem, self)
