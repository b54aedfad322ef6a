"""The learned decoder: a small 3D convolutional network over the detection-event history.

Detection events are placed on a ``(rounds + 1, rows, cols)`` grid by their stim coordinates
(time last; spatial coordinates mapped to consecutive indices). Two input channels: the
events and a constant mask of where detectors exist. Then ``conv3d(3x3x3, padding 1) + ReLU``
layers, a flatten, one ReLU hidden layer and a linear head with one logit per observable.

With ``residual_of="matching-correlated"`` (the shipped models) the head also sees correlated
matching's prediction (as +-1) and its logit says whether matching is *wrong*: the decoder
outputs matching's prediction XOR (logit > 0). An untrained (zero-head) network is matching.

Weights are inert files (format ``qnetai-qec-model/1``): ``STEM.npz`` (float32 arrays only,
``allow_pickle=False``) and ``STEM.json`` (architecture, training settings and figures).
Inference runs in numpy (no torch needed) or, with ``backend="torch"``, in torch.

Speed (issue 13 section 3): the network runs once per *distinct* syndrome of a batch (exact:
identical rows get identical outputs), in chunks of :data:`TORCH_CHUNK` shots (small enough for
the activations to stay in cache). ``gate="disagree"`` runs it only on the shots where plain and
correlated matching disagree and returns correlated matching's prediction elsewhere: not the
reference decoder, but about 1 % of the shots at d = 5, p = 0.5 % (measured in
``benchmarks/README.md``, with the flips it loses).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from qnetai._atomic_files import write_stream_atomic
from qnetai.errors import InputError
from qnetai.qec._decoders import CompiledQecDecoder, MatchingDecoder, QecDecoder
from qnetai.qec._types import StimDem

MODEL_FORMAT = "qnetai-qec-model/1"
RESIDUALS: tuple[str | None, ...] = (None, "matching-correlated")
#: ``none``: the network on every shot (the reference); ``disagree``: only where plain and
#: correlated matching disagree (residual models only).
GATES: tuple[str, ...] = ("none", "disagree")
#: Shots per torch forward pass (measured fastest on one core: 256-512; 4,096 was 1.8x slower).
TORCH_CHUNK = 256
#: Shots per numpy forward pass (1,024: about 20 % faster than 4,096 on one core).
NUMPY_CHUNK = 1024
#: Shipped models live in ``qnetai/data/models/qec-*.npz`` + ``.json``.
SHIPPED_PREFIX = "qec-"


def detector_grid(
    coords: dict[int, list[float]], num_detectors: int
) -> tuple[list[int], list[int]]:
    """Grid shape ``[T, H, W]`` and each detector's flat index in it, from stim coordinates.

    Example:
        >>> detector_grid({0: [1.0, 0.0], 1: [3.0, 0.0], 2: [1.0, 1.0], 3: [3.0, 1.0]}, 4)
        ([2, 1, 2], [0, 1, 2, 3])
    """
    if len(coords) != num_detectors or any(
        len(coords.get(i, [])) < 2 for i in range(num_detectors)
    ):
        raise InputError("every detector needs coordinates (space..., time) to place it on a grid")
    rows = np.array([coords[i] for i in range(num_detectors)], dtype=float)
    t = rows[:, -1]
    space = rows[:, :-1]
    if space.shape[1] == 1:
        space = np.column_stack([np.zeros_like(t), space[:, 0]])
    elif space.shape[1] > 2:
        space = space[:, :2]
    axes = [t, space[:, 0], space[:, 1]]
    idx, shape = [], []
    for a in axes:
        u, inv = np.unique(a, return_inverse=True)
        idx.append(inv)
        shape.append(len(u))
    flat = np.ravel_multi_index(tuple(idx), tuple(shape))
    if len(set(flat.tolist())) != num_detectors:
        raise InputError("two detectors share a grid cell; cannot place the syndrome on a grid")
    return shape, flat.astype(int).tolist()


@dataclass(frozen=True)
class NeuralModel:
    """Architecture (``arch``, JSON-ready), float32 ``params`` and free-form ``info``."""

    arch: dict[str, Any]
    params: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shapes = param_shapes(self.arch)
        if set(shapes) != set(self.params):
            raise InputError(
                f"weights {sorted(self.params)} do not match the architecture {sorted(shapes)}"
            )
        for k, s in shapes.items():
            a = self.params[k]
            if tuple(a.shape) != s:
                raise InputError(f"weights[{k!r}].shape={a.shape} != {s}")
            if a.dtype != np.float32 or not np.isfinite(a).all():
                raise InputError(f"weights[{k!r}] must be finite float32")

    @property
    def num_detectors(self) -> int:
        """Detectors the model reads."""
        return int(self.arch["num_detectors"])

    @property
    def num_observables(self) -> int:
        """Observables the model predicts."""
        return int(self.arch["num_observables"])


def make_arch(
    *,
    grid: list[int],
    index: list[int],
    num_observables: int,
    channels: tuple[int, ...] = (16, 16),
    hidden: int = 128,
    residual_of: str | None = "matching-correlated",
) -> dict[str, Any]:
    """The architecture dict (validated by :func:`param_shapes`)."""
    arch = {
        "type": "conv3d",
        "grid": [int(g) for g in grid],
        "index": [int(i) for i in index],
        "num_detectors": len(index),
        "num_observables": int(num_observables),
        "channels": [int(c) for c in channels],
        "hidden": int(hidden),
        "residual_of": residual_of,
    }
    param_shapes(arch)
    return arch


def param_shapes(arch: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the weights of ``arch``; an :class:`InputError` if it is malformed."""
    try:
        if arch["type"] != "conv3d":
            raise InputError(f"architecture type {arch['type']!r} is not 'conv3d'")
        grid = [int(g) for g in arch["grid"]]
        chans = [int(c) for c in arch["channels"]]
        hidden, n_obs = int(arch["hidden"]), int(arch["num_observables"])
        index = [int(i) for i in arch["index"]]
        if arch["residual_of"] not in RESIDUALS:
            raise InputError(f"residual_of={arch['residual_of']!r} is not one of {RESIDUALS}")
        if len(grid) != 3 or min(grid) < 1 or math.prod(grid) > 100_000:
            raise InputError(f"grid={grid} must be 3 positive sizes (at most 1e5 cells)")
        if not chans or min(chans) < 1 or max(chans) > 1024 or not 1 <= hidden <= 65536:
            raise InputError(f"channels={chans}, hidden={hidden} out of range")
        if not 1 <= n_obs <= 64 or len(index) != int(arch["num_detectors"]):
            raise InputError("num_observables or num_detectors out of range")
        if min(index) < 0 or max(index) >= math.prod(grid) or len(set(index)) != len(index):
            raise InputError("index must be distinct cells of the grid")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"malformed architecture: {exc!r}") from exc
    shapes: dict[str, tuple[int, ...]] = {}
    c_in = 2
    for i, c in enumerate(chans):
        shapes[f"conv{i}.weight"] = (c, c_in, 3, 3, 3)
        shapes[f"conv{i}.bias"] = (c,)
        c_in = c
    shapes["fc.weight"] = (hidden, c_in * math.prod(grid))
    shapes["fc.bias"] = (hidden,)
    extra = n_obs if arch["residual_of"] else 0
    shapes["head.weight"] = (n_obs, hidden + extra)
    shapes["head.bias"] = (n_obs,)
    return shapes


def grid_input(arch: dict[str, Any], dets: np.ndarray) -> np.ndarray:
    """Detection events ``(n, D)`` -> network input ``(n, 2, T, H, W)`` float32."""
    t, h, w = arch["grid"]
    n = dets.shape[0]
    x = np.zeros((n, 2, t * h * w), dtype=np.float32)
    idx = np.asarray(arch["index"])
    x[:, 0, idx] = dets
    x[:, 1, idx] = 1.0
    return x.reshape(n, 2, t, h, w)


def numpy_logits(model: NeuralModel, dets: np.ndarray, base: np.ndarray | None) -> np.ndarray:
    """The network's logits ``(n, num_observables)`` in numpy (``base``: residual prediction).

    Channel-last convolution as a sum of 27 shifted matrix products (memory: one activation).
    """
    arch, p = model.arch, model.params
    x = grid_input(arch, dets).transpose(0, 2, 3, 4, 1)  # (n, T, H, W, C)
    n, t, h, w, _ = x.shape
    for i in range(len(arch["channels"])):
        wgt, b = p[f"conv{i}.weight"], p[f"conv{i}.bias"]
        xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))
        y = np.zeros((n, t, h, w, wgt.shape[0]), dtype=np.float32)
        for a in range(3):
            for bb in range(3):
                for c in range(3):
                    y += xp[:, a : a + t, bb : bb + h, c : c + w, :] @ wgt[:, :, a, bb, c].T
        x = np.maximum(y + b, 0.0)
    flat = x.transpose(0, 4, 1, 2, 3).reshape(n, -1)  # torch's (C, T, H, W) flatten order
    hid = np.maximum(flat @ p["fc.weight"].T + p["fc.bias"], 0.0)
    if arch["residual_of"]:
        assert base is not None
        hid = np.concatenate([hid, 2.0 * base.astype(np.float32) - 1.0], axis=1)
    return hid @ p["head.weight"].T + p["head.bias"]


# --------------------------------------------------------------------------- files


def _models_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "models"


def shipped_models() -> list[str]:
    """Names of the shipped learned decoders (``qec-surface-d3`` ...)."""
    return sorted(p.stem for p in _models_dir().glob(f"{SHIPPED_PREFIX}*.json"))


def _resolve(ref: str | os.PathLike[str]) -> Path:
    s = str(ref)
    if s in shipped_models():
        return _models_dir() / f"{s}.npz"
    p = Path(s)
    if p.suffix == ".json":
        p = p.with_suffix(".npz")
    if p.suffix != ".npz":
        p = p.with_suffix(".npz")
    if not p.is_file() or not p.with_suffix(".json").is_file():
        raise InputError(
            f"model {s!r}: neither a shipped model ({', '.join(shipped_models()) or 'none'}) "
            "nor a STEM.npz with STEM.json beside it"
        )
    return p


def load_model(ref: str | os.PathLike[str]) -> NeuralModel:
    """Load a shipped model by name or ``STEM.npz``/``STEM.json`` (no pickles are read).

    Example:
        >>> load_model("no-such-model")
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: model 'no-such-model': neither a shipped model ...
    """
    npz = _resolve(ref)
    js = npz.with_suffix(".json")
    try:
        doc = json.loads(js.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{str(js)!r}: not readable JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise InputError(f"{str(js)!r}: format is not {MODEL_FORMAT!r}")
    arch = doc.get("architecture")
    if not isinstance(arch, dict):
        raise InputError(f"{str(js)!r}: architecture missing")
    shapes = param_shapes(arch)
    try:
        with np.load(npz, allow_pickle=False) as z:
            params = {k: np.asarray(z[k]) for k in z.files if k in shapes}
    except (OSError, ValueError) as exc:
        raise InputError(f"{str(npz)!r}: not a weights file: {exc}") from exc
    return NeuralModel(arch=arch, params=params, info=doc.get("info", {}))


def save_model(model: NeuralModel, stem: str | os.PathLike[str], **extra: np.ndarray) -> Path:
    """Write ``STEM.npz`` (float32 weights, plus ``extra`` arrays) and ``STEM.json``, atomically.

    ``extra`` holds training state (optimiser moments) in checkpoints; loaders ignore it.
    """
    base = Path(stem)
    if base.suffix in (".npz", ".json"):
        base = base.with_suffix("")
    if not base.parent.is_dir():
        raise InputError(f"directory {str(base.parent)!r} does not exist")
    npz, js = base.with_name(base.name + ".npz"), base.with_name(base.name + ".json")
    arrays: dict[str, Any] = {**model.params, **{f"train/{k}": v for k, v in extra.items()}}
    write_stream_atomic(npz, lambda fh: np.savez(fh, **arrays))
    doc = {"format": MODEL_FORMAT, "architecture": model.arch, "info": model.info}
    write_stream_atomic(js, lambda fh: fh.write(json.dumps(doc, indent=1).encode()))
    return npz


def load_train_state(stem: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The ``train/*`` arrays of a checkpoint (empty if none)."""
    npz = _resolve(stem)
    with np.load(npz, allow_pickle=False) as z:
        return {k[6:]: np.asarray(z[k]) for k in z.files if k.startswith("train/")}


# --------------------------------------------------------------------------- decoder


def distinct_rows(dets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first occurrence of each distinct row and each row's distinct index.

    Example:
        >>> first, inverse = distinct_rows(np.array([[0, 1], [0, 0], [0, 1]], dtype=np.uint8))
        >>> first.tolist(), inverse.tolist()
        ([1, 0], [1, 0, 1])
    """
    packed = np.ascontiguousarray(np.packbits(dets.astype(bool), axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return first, inverse.ravel()


class CompiledNeural(CompiledQecDecoder):
    """The network (numpy or torch) and, for residual models, correlated matching.

    ``network_shots`` / ``decoded_shots`` count (cumulatively) the distinct syndromes the
    network evaluated and the shots decoded.
    """

    def __init__(self, model: NeuralModel, dem: StimDem, backend: str, gate: str = "none") -> None:
        self.model = model
        self.num_detectors = dem.num_detectors
        self.num_observables = dem.num_observables
        if (self.num_detectors, self.num_observables) != (
            model.num_detectors,
            model.num_observables,
        ):
            raise InputError(
                f"model reads {model.num_detectors} detectors / {model.num_observables} "
                f"observables; the DEM has {self.num_detectors} / {self.num_observables}"
            )
        grid, index = detector_grid(dem.get_detector_coordinates(), dem.num_detectors)
        if grid != model.arch["grid"] or index != model.arch["index"]:
            raise InputError("the DEM's detector layout differs from the model's")
        if gate not in GATES:
            raise InputError(f"gate={gate!r} is not one of {', '.join(GATES)}")
        if gate != "none" and not model.arch["residual_of"]:
            raise InputError(f"gate={gate!r} needs a residual model (residual_of is None)")
        self.base = (
            MatchingDecoder(correlations=True).compile(dem) if model.arch["residual_of"] else None
        )
        self.plain = MatchingDecoder().compile(dem) if gate == "disagree" else None
        self.gate = gate
        self.backend = backend
        self.network_shots = 0
        self.decoded_shots = 0
        self._torch_net: Any = None
        if backend == "torch":
            from qnetai.qec._training import torch_network

            self._torch_net = torch_network(model).eval()

    def logits(self, dets: np.ndarray) -> np.ndarray:
        """Logits ``(n, num_observables)`` of every shot (no gate)."""
        base = self.base.decode_batch(dets) if self.base is not None else None
        return self._logits(dets, base)

    def _logits(self, dets: np.ndarray, base: np.ndarray | None) -> np.ndarray:
        """The network once per distinct row of ``dets``, in chunks; logits of every row."""
        first, inverse = distinct_rows(dets)
        self.network_shots += len(first)
        u_dets = dets[first]
        u_base = None if base is None else base[first]
        out = np.empty((len(first), self.num_observables), dtype=np.float32)
        step = TORCH_CHUNK if self._torch_net is not None else NUMPY_CHUNK
        for s in range(0, len(first), step):
            b = None if u_base is None else u_base[s : s + step]
            if self._torch_net is not None:
                from qnetai.qec._training import torch_logits

                out[s : s + step] = torch_logits(
                    self._torch_net, self.model, u_dets[s : s + step], b
                )
            else:
                out[s : s + step] = numpy_logits(self.model, u_dets[s : s + step], b)
        return out[inverse]

    def _decode(self, dets: np.ndarray) -> np.ndarray:
        self.decoded_shots += dets.shape[0]
        if self.base is None:
            return self._logits(dets, None) > 0
        base = np.asarray(self.base.decode_batch(dets), dtype=bool)
        if self.plain is None:
            return (self._logits(dets, base) > 0) ^ base
        plain = np.asarray(self.plain.decode_batch(dets), dtype=bool)
        sel = np.flatnonzero(np.any(plain != base, axis=1))
        out = base.copy()
        if len(sel):
            out[sel] = (self._logits(dets[sel], base[sel]) > 0) ^ base[sel]
        return out


@dataclass(frozen=True)
class NeuralDecoder(QecDecoder):
    """The learned decoder, from a shipped model name or ``STEM.npz`` path, or a model.

    ``gate="none"`` (default) is the reference: the network decides on every shot.
    ``gate="disagree"`` (residual models) runs it only where plain and correlated matching
    disagree, and keeps correlated matching's prediction on the other shots.

    Example:
        >>> NeuralDecoder(model="qec-surface-d3", backend="jax")
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: backend='jax' is not 'numpy' or 'torch'
        >>> NeuralDecoder(gate="sometimes")
        Traceback (most recent call last):
        ...
        qnetai.errors.InputError: gate='sometimes' is not one of none, disagree
    """

    name: ClassVar[str] = "neural"
    model: str | NeuralModel = "qec-surface-d3"
    backend: str = "numpy"
    gate: str = "none"

    def __post_init__(self) -> None:
        if self.backend not in ("numpy", "torch"):
            raise InputError(f"backend={self.backend!r} is not 'numpy' or 'torch'")
        if self.gate not in GATES:
            raise InputError(f"gate={self.gate!r} is not one of {', '.join(GATES)}")

    def loaded(self) -> NeuralModel:
        """The model (loaded from its files if given by name or path)."""
        return self.model if isinstance(self.model, NeuralModel) else load_model(self.model)

    def compile(self, dem: StimDem) -> CompiledNeural:
        """Check the model fits ``dem`` and set up inference."""
        return CompiledNeural(self.loaded(), dem, self.backend, self.gate)
