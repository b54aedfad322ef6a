"""Torch-free inference of a repeater-chain policy: the actor of a MaskablePPO ``MlpPolicy``.

A trained chain policy is stored as inert data (:mod:`qnetai.control.model_files`, kind
``chain``, architecture ``mlp-actor``): the hidden layers of the policy network
(``mlp_extractor.policy_net``) and the action head (``action_net``). :class:`NumpyChainActor`
runs that forward pass in numpy (float64 on the float32 weights)::

    logits = act_L(... act_1(obs @ W_1 + b_1) ...) @ W_out + b_out

and acts greedily: in every dimension of the ``MultiDiscrete`` action, the arg-max of the
logits of the allowed choices (ties to the lowest index), which is what
``MaskablePPO.predict(obs, action_masks=mask, deterministic=True)`` returns.

Example:
    >>> import numpy as np
    >>> a = NumpyChainActor(weights=(np.eye(2),), biases=(np.zeros(2),),
    ...                     activations=("identity",), out_weight=np.eye(2),
    ...                     out_bias=np.zeros(2), action_nvec=(2,))
    >>> a.act(np.array([1.0, 0.0]), np.array([True, True])).tolist()
    [0]
    >>> a.act(np.array([1.0, 0.0]), np.array([False, True])).tolist()
    [1]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnetai.ai.scorer import ACTIVATION_FUNCTIONS, numpy_layers
from qnetai.errors import InputError

__all__ = ["NumpyChainActor"]


@dataclass(frozen=True, eq=False)
class NumpyChainActor:
    """The policy network and action head of a MaskablePPO ``MlpPolicy`` as numpy arrays.

    ``weights[i]`` is ``(in, out)`` (torch's ``Linear.weight`` transposed) and
    ``activations[i]`` follows layer ``i``; ``out_weight`` is ``(hidden, sum(action_nvec))``.
    """

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    out_weight: np.ndarray
    out_bias: np.ndarray
    action_nvec: tuple[int, ...]
    _f: list[Any] = field(init=False, repr=False)
    _splits: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.weights)
        if not (n == len(self.biases) == len(self.activations)) or n == 0:
            raise InputError(
                f"actor needs matching weights, biases and activations (got "
                f"{n}, {len(self.biases)}, {len(self.activations)})"
            )
        bad = [a for a in self.activations if a not in ACTIVATION_FUNCTIONS]
        if bad:
            raise InputError(
                f"actor activation must be one of {sorted(ACTIVATION_FUNCTIONS)} (got {bad[0]!r})"
            )
        if int(np.shape(self.out_weight)[1]) != int(sum(self.action_nvec)):
            raise InputError(
                f"actor head has {np.shape(self.out_weight)[1]} outputs, the "
                f"action space {sum(self.action_nvec)}"
            )
        object.__setattr__(self, "weights", tuple(np.asarray(w, np.float64) for w in self.weights))
        object.__setattr__(self, "biases", tuple(np.asarray(b, np.float64) for b in self.biases))
        object.__setattr__(self, "out_weight", np.asarray(self.out_weight, np.float64))
        object.__setattr__(self, "out_bias", np.asarray(self.out_bias, np.float64))
        object.__setattr__(self, "action_nvec", tuple(int(x) for x in self.action_nvec))
        object.__setattr__(self, "_f", [ACTIVATION_FUNCTIONS[a] for a in self.activations])
        object.__setattr__(self, "_splits", np.cumsum(self.action_nvec)[:-1])

    @property
    def n_obs(self) -> int:
        """Length of an observation."""
        return int(self.weights[0].shape[0])

    def logits(self, obs: np.ndarray) -> np.ndarray:
        """Unmasked action logits (flat, ``sum(action_nvec)``) of one observation."""
        h = np.asarray(obs, dtype=np.float32).astype(np.float64).reshape(-1)
        for w, b, f in zip(self.weights, self.biases, self._f, strict=True):
            h = f(h @ w + b)
        return h @ self.out_weight + self.out_bias

    def act(self, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The most likely allowed choice in every action dimension (ties to the lowest)."""
        masked = np.where(np.asarray(mask, dtype=bool), self.logits(obs), -np.inf)
        return np.array([int(np.argmax(p)) for p in np.split(masked, self._splits)])

    # ------------------------------------------------------------------ model files

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(architecture, arrays)`` for :func:`qnetai.control.model_files.write_model`."""
        arch = {
            "type": "mlp-actor",
            "n_obs": self.n_obs,
            "hidden": [int(w.shape[1]) for w in self.weights],
            "activations": list(self.activations),
            "action_nvec": list(self.action_nvec),
        }
        arrays: dict[str, np.ndarray] = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"], arrays[f"b{i}"] = w, b
        arrays["out_w"], arrays["out_b"] = self.out_weight, self.out_bias
        return arch, arrays

    @classmethod
    def from_arrays(cls, arch: dict[str, Any], arrays: dict[str, np.ndarray]) -> NumpyChainActor:
        """The actor of a validated ``mlp-actor`` architecture and its arrays."""
        n = len(arch["hidden"])
        return cls(
            weights=tuple(arrays[f"w{i}"] for i in range(n)),
            biases=tuple(arrays[f"b{i}"] for i in range(n)),
            activations=tuple(arch["activations"]),
            out_weight=arrays["out_w"],
            out_bias=arrays["out_b"],
            action_nvec=tuple(arch["action_nvec"]),
        )

    @classmethod
    def from_sb3(cls, model: Any) -> NumpyChainActor:
        """The numpy copy of a MaskablePPO ``MlpPolicy`` actor (reads its torch weights).

        The features extractor must be a plain flatten (SB3's default for a ``Box``
        observation) and the policy network ``Linear`` layers, each optionally followed by a
        ``Tanh`` or ``ReLU``.
        """
        policy = model.policy
        if type(policy.pi_features_extractor).__name__ != "FlattenExtractor":
            raise InputError("only MlpPolicy actors with a flatten features extractor export")
        weights, biases, acts = numpy_layers(policy.mlp_extractor.policy_net, what="actor")
        head = policy.action_net
        return cls(
            weights=weights,
            biases=biases,
            activations=acts,
            out_weight=head.weight.detach().cpu().numpy().T.copy(),
            out_bias=head.bias.detach().cpu().numpy().copy(),
            action_nvec=tuple(int(x) for x in np.asarray(model.action_space.nvec).reshape(-1)),
        )
