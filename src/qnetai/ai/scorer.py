"""Torch-free inference of the per-action scorer (:class:`qnetai.ai.models.ActionScorer`).

A trained routing model ``MODEL.zip`` (stable-baselines3) has its scorer exported beside it
as ``MODEL.npz``: the weights of the shared row MLP, of the linear head and the EXT prior,
plus the architecture (activation of each layer, the prior's feature column, the
observation clip). :class:`NumpyScorer` runs the same forward pass in numpy (float64 on the
float32 weights), so loading and acting need neither torch nor stable-baselines3::

    logit(row) = head(act_L(... act_1(row @ W_1 + b_1) ...)) + prior * row[prior_feature]

Decisions are the masked arg-max of the logits, ties to the lowest action index (as
``torch.argmax`` / MaskablePPO's deterministic ``predict``). The export also stores the
SHA-256 of the ``.zip`` it was made from, so a stale export is detected and ignored.

Example:
    >>> import numpy as np
    >>> s = NumpyScorer(weights=(np.eye(2),), biases=(np.zeros(2),),
    ...                 activations=("identity",), head_weight=np.ones((2, 1)),
    ...                 head_bias=np.zeros(1), prior=0.0)
    >>> s.best_action(np.array([[1.0, 0.0], [1.0, 2.0]]), np.array([True, True]))
    1
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qnetai.errors import InputError

#: Format tag of the ``.npz`` export.
FORMAT = "qnetai-action-scorer/1"
_ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "identity": lambda x: x,
}


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True, eq=False)
class NumpyScorer:
    """The per-action scorer as numpy arrays (see the module docstring).

    ``weights[i]`` is ``(in, out)`` (torch's ``Linear.weight`` transposed), ``head_weight``
    ``(hidden, 1)``; ``activations[i]`` follows layer ``i`` (``tanh``, ``relu`` or
    ``identity``). Observations are clipped to ``[-obs_clip, obs_clip]`` first (as the envs
    do; a no-op on already clipped rows).
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    head_weight: np.ndarray
    head_bias: np.ndarray
    prior: float
    prior_feature: int = 0
    obs_clip: float = 10.0
    source_sha256: str = ""
    _w: list[np.ndarray] = field(init=False, repr=False)
    _b: list[np.ndarray] = field(init=False, repr=False)
    _f: list[Any] = field(init=False, repr=False)
    _wh: np.ndarray = field(init=False, repr=False)
    _bh: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.weights)
        if not (n == len(self.biases) == len(self.activations)) or n == 0:
            raise InputError(f"scorer needs matching weights, biases and activations (got "
                             f"{n}, {len(self.biases)}, {len(self.activations)})")
        for a in self.activations:
            if a not in _ACTIVATIONS:
                raise InputError(f"scorer activation must be one of {sorted(_ACTIVATIONS)} "
                                 f"(got {a!r})")
        object.__setattr__(self, "_w", [np.asarray(w, dtype=np.float64) for w in self.weights])
        object.__setattr__(self, "_b", [np.asarray(b, dtype=np.float64) for b in self.biases])
        object.__setattr__(self, "_f", [_ACTIVATIONS[a] for a in self.activations])
        object.__setattr__(self, "_wh", np.asarray(self.head_weight, np.float64).reshape(-1, 1))
        object.__setattr__(self, "_bh", np.asarray(self.head_bias, np.float64).reshape(1))

    @property
    def n_features(self) -> int:
        """Feature columns per observation row."""
        return int(self.weights[0].shape[0])

    def scores(self, obs: np.ndarray) -> np.ndarray:
        """Logits ``(A,)`` (float64) of the feature rows ``obs`` ``(A, F)``."""
        x = np.clip(np.asarray(obs), -self.obs_clip, self.obs_clip).astype(np.float64)
        h = x
        for w, b, f in zip(self._w, self._b, self._f, strict=True):
            h = f(h @ w + b)
        return (h @ self._wh + self._bh)[:, 0] + self.prior * x[:, self.prior_feature]

    def best_action(self, obs: np.ndarray, mask: np.ndarray) -> int:
        """Index of the highest-scoring allowed row (lowest index among equal scores).

        Only the allowed rows are scored.
        """
        rows = np.flatnonzero(mask)
        if rows.size == 0:
            raise InputError("action mask allows no action")
        return int(rows[int(np.argmax(self.scores(np.asarray(obs)[rows])))])

    # ------------------------------------------------------------------ export / import

    def save(self, path: str | Path) -> Path:
        """Write the ``.npz`` export (weights as float32) and return its path."""
        path = Path(path)
        arch = {
            "format": FORMAT,
            "activations": list(self.activations),
            "prior_feature": int(self.prior_feature),
            "obs_clip": float(self.obs_clip),
            "source_sha256": self.source_sha256,
            "n_features": self.n_features,
            "hidden": [int(np.shape(w)[1]) for w in self.weights],
        }
        arrays: dict[str, Any] = {"arch": np.array(json.dumps(arch))}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"] = np.asarray(w, dtype=np.float32)
            arrays[f"b{i}"] = np.asarray(b, dtype=np.float32)
        arrays["head_w"] = np.asarray(self.head_weight, dtype=np.float32)
        arrays["head_b"] = np.asarray(self.head_bias, dtype=np.float32)
        arrays["prior"] = np.asarray(self.prior, dtype=np.float32)
        with path.open("wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> NumpyScorer:
        """Read an export written by :meth:`save` (InputError if it is not one)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                arch = json.loads(str(data["arch"]))
                if arch.get("format") != FORMAT:
                    raise InputError(f"{path}: not a {FORMAT} export "
                                     f"(format {arch.get('format')!r})")
                n = len(arch["activations"])
                return cls(
                    weights=tuple(data[f"w{i}"] for i in range(n)),
                    biases=tuple(data[f"b{i}"] for i in range(n)),
                    activations=tuple(arch["activations"]),
                    head_weight=data["head_w"],
                    head_bias=data["head_b"],
                    prior=float(data["prior"]),
                    prior_feature=int(arch["prior_feature"]),
                    obs_clip=float(arch["obs_clip"]),
                    source_sha256=str(arch.get("source_sha256", "")),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise InputError(f"{path}: unreadable scorer export ({exc})") from exc

    @classmethod
    def from_extractor(cls, extractor: Any, *, source_sha256: str = "") -> NumpyScorer:
        """The numpy copy of a torch :class:`~qnetai.ai.models.ActionScorer`.

        Reads ``extractor.embed`` (Linear layers, each optionally followed by an
        activation module), ``extractor.head`` and ``extractor.prior``.
        """
        weights, biases, acts = [], [], []
        for m in extractor.embed:
            kind = type(m).__name__.lower()
            if hasattr(m, "weight"):
                weights.append(m.weight.detach().cpu().numpy().T.copy())
                biases.append(m.bias.detach().cpu().numpy().copy())
                acts.append("identity")
            elif kind in ("tanh", "relu") and acts:
                acts[-1] = kind
            else:
                raise InputError(f"scorer layer {type(m).__name__} has no numpy export")
        head = extractor.head
        return cls(
            weights=tuple(weights), biases=tuple(biases), activations=tuple(acts),
            head_weight=head.weight.detach().cpu().numpy().T.copy(),
            head_bias=head.bias.detach().cpu().numpy().copy(),
            prior=float(extractor.prior.detach().cpu()),
            source_sha256=source_sha256,
        )


def export_path(zip_path: str | Path) -> Path:
    """The ``.npz`` export beside ``MODEL.zip``."""
    return Path(zip_path).with_suffix(".npz")


def load_export(zip_path: str | Path) -> NumpyScorer | None:
    """The numpy scorer exported beside ``zip_path``, or ``None``.

    ``None`` when there is no ``.npz`` or it was made from another ``.zip`` (stale).
    """
    npz = export_path(zip_path)
    if not npz.is_file():
        return None
    scorer = NumpyScorer.load(npz)
    if scorer.source_sha256 and scorer.source_sha256 != file_sha256(zip_path):
        return None
    return scorer


__all__ = ["FORMAT", "NumpyScorer", "export_path", "file_sha256", "load_export"]
