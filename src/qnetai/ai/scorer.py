"""Torch-free inference of the per-action scorer (:class:`qnetai.ai.models.ActionScorer`).

A trained routing or allocation model is stored as inert data
(:mod:`qnetai.control.model_files`): ``MODEL.npz`` holds the weights of the shared row MLP,
of the linear head and the EXT prior, ``MODEL.json`` the architecture (``action-scorer``:
width and activation of each layer, the prior's feature column, the observation clip).
:class:`NumpyScorer` runs the forward pass in numpy (float64 on the float32 weights), so
loading and acting need neither torch nor stable-baselines3::

    logit(row) = head(act_L(... act_1(row @ W_1 + b_1) ...)) + prior * row[prior_feature]

Decisions are the masked arg-max of the logits, ties to the lowest action index (as
``torch.argmax`` / MaskablePPO's deterministic ``predict``).

Example:
    >>> import numpy as np
    >>> s = NumpyScorer(weights=(np.eye(2),), biases=(np.zeros(2),),
    ...                 activations=("identity",), head_weight=np.ones((2, 1)),
    ...                 head_bias=np.zeros(1), prior=0.0)
    >>> s.best_action(np.array([[1.0, 0.0], [1.0, 2.0]]), np.array([True, True]))
    1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnetai.errors import InputError

#: The numpy function of each activation of :data:`qnetai.control.model_files.ACTIVATIONS`.
ACTIVATION_FUNCTIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
    "identity": lambda x: x,
}


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
    _w: list[np.ndarray] = field(init=False, repr=False)
    _b: list[np.ndarray] = field(init=False, repr=False)
    _f: list[Any] = field(init=False, repr=False)
    _wh: np.ndarray = field(init=False, repr=False)
    _bh: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.weights)
        if not (n == len(self.biases) == len(self.activations)) or n == 0:
            raise InputError(
                f"scorer needs matching weights, biases and activations (got "
                f"{n}, {len(self.biases)}, {len(self.activations)})"
            )
        for a in self.activations:
            if a not in ACTIVATION_FUNCTIONS:
                raise InputError(
                    f"scorer activation must be one of {sorted(ACTIVATION_FUNCTIONS)} (got {a!r})"
                )
        object.__setattr__(self, "_w", [np.asarray(w, dtype=np.float64) for w in self.weights])
        object.__setattr__(self, "_b", [np.asarray(b, dtype=np.float64) for b in self.biases])
        object.__setattr__(self, "_f", [ACTIVATION_FUNCTIONS[a] for a in self.activations])
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

    # ------------------------------------------------------------------ model files

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(architecture, arrays)`` for :func:`qnetai.control.model_files.write_model`."""
        arch = {
            "type": "action-scorer",
            "n_features": self.n_features,
            "hidden": [int(np.shape(w)[1]) for w in self.weights],
            "activations": list(self.activations),
            "prior_feature": int(self.prior_feature),
            "obs_clip": float(self.obs_clip),
        }
        arrays: dict[str, np.ndarray] = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = np.asarray(w), np.asarray(b)
        arrays["head_w"] = np.asarray(self.head_weight).reshape(-1, 1)
        arrays["head_b"] = np.asarray(self.head_bias).reshape(1)
        arrays["prior"] = np.asarray(self.prior)
        return arch, arrays

    @classmethod
    def from_arrays(cls, arch: dict[str, Any], arrays: dict[str, np.ndarray]) -> NumpyScorer:
        """The scorer of a validated ``action-scorer`` architecture and its arrays."""
        n = len(arch["hidden"])
        return cls(
            weights=tuple(arrays[f"w{i}"] for i in range(n)),
            biases=tuple(arrays[f"b{i}"] for i in range(n)),
            activations=tuple(arch["activations"]),
            head_weight=arrays["head_w"],
            head_bias=arrays["head_b"],
            prior=float(arrays["prior"]),
            prior_feature=int(arch["prior_feature"]),
            obs_clip=float(arch["obs_clip"]),
        )

    @classmethod
    def from_extractor(cls, extractor: Any) -> NumpyScorer:
        """The numpy copy of a torch :class:`~qnetai.ai.models.ActionScorer`.

        Reads ``extractor.embed`` (Linear layers, each optionally followed by an
        activation module), ``extractor.head`` and ``extractor.prior``.
        """
        weights, biases, acts = numpy_layers(extractor.embed, what="scorer")
        head = extractor.head
        return cls(
            weights=weights,
            biases=biases,
            activations=acts,
            head_weight=head.weight.detach().cpu().numpy().T.copy(),
            head_bias=head.bias.detach().cpu().numpy().copy(),
            prior=float(extractor.prior.detach().cpu()),
        )


def numpy_layers(
    modules: Any, *, what: str
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...], tuple[str, ...]]:
    """Numpy ``(weights, biases, activations)`` of a torch layer sequence.

    Each ``Linear`` may be followed by ``Tanh``/``ReLU``; weights come out ``(in, out)``
    (torch's transposed). ``what`` names the network in the InputError for a layer that
    has no numpy export.
    """
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    acts: list[str] = []
    for m in modules:
        kind = type(m).__name__.lower()
        if hasattr(m, "weight"):
            weights.append(m.weight.detach().cpu().numpy().T.copy())
            biases.append(m.bias.detach().cpu().numpy().copy())
            acts.append("identity")
        elif kind in ("tanh", "relu") and acts:
            acts[-1] = kind
        else:
            raise InputError(f"{what} layer {type(m).__name__} has no numpy export")
    return tuple(weights), tuple(biases), tuple(acts)


__all__ = ["ACTIVATION_FUNCTIONS", "NumpyScorer", "numpy_layers"]
