"""A per-action scorer policy for MaskablePPO (same weights for every action row).

Observations are ``(A, F)`` feature rows, one per action. A shared MLP embeds each row; a
linear head gives its logit, plus ``prior * row[0]`` (``row[0]`` is the action's scaled EXT),
so an untrained policy already leans toward EXT-greedy choices and PPO learns corrections.
The value function reads the mean embedding. Because nothing depends on ``A``, the scorer
works for any number of requests, candidates or nodes.

:func:`numpy_scorer` copies the scorer's weights into a
:class:`qnetai.ai.scorer.NumpyScorer` (what is saved, as ``MODEL.npz`` + ``MODEL.json``, and
what acts); :func:`torch_scores` is the reference torch forward pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from qnetai.ai.scorer import NumpyScorer


class ActionScorer(BaseFeaturesExtractor):
    """Features ``[logits (A), pooled embedding (hidden)]`` from ``(B, A, F)`` observations."""

    def __init__(
        self, observation_space: spaces.Box, hidden: int = 64, prior: float = 20.0
    ) -> None:
        n_actions, n_features = observation_space.shape
        super().__init__(observation_space, features_dim=n_actions + hidden)
        self.n_actions = n_actions
        self.embed = nn.Sequential(
            nn.Linear(n_features, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.head = nn.Linear(hidden, 1)
        self.prior = nn.Parameter(torch.tensor(float(prior)))

    def scores(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits ``(B, A)`` and embeddings ``(B, A, hidden)`` for any ``A``."""
        h = self.embed(obs)
        return self.head(h).squeeze(-1) + self.prior * obs[..., 0], h

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Concatenate logits and the mean embedding."""
        logits, h = self.scores(obs)
        return torch.cat([logits, h.mean(dim=1)], dim=-1)


class _Slice(nn.Module):
    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., : self.n]


class ScorerPolicy(MaskableActorCriticPolicy):
    """MaskablePPO policy whose action logits are the :class:`ActionScorer` scores."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("features_extractor_class", ActionScorer)
        kwargs.setdefault("net_arch", {"pi": [], "vf": [64]})
        kwargs.setdefault("share_features_extractor", True)
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule: Any) -> None:
        super()._build(lr_schedule)
        if not isinstance(self.action_space, spaces.Discrete):
            raise TypeError(f"ScorerPolicy needs a Discrete action space (got {self.action_space})")
        self.action_net = _Slice(int(self.action_space.n))
        # torch types Optimizer.__init__ as (params, defaults); its subclasses take lr= (sb3's
        # own _build carries the same ignore)
        self.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )


def numpy_scorer(model: Any) -> NumpyScorer:
    """The :class:`~qnetai.ai.scorer.NumpyScorer` copy of a MaskablePPO model's scorer."""
    return NumpyScorer.from_extractor(model.policy.features_extractor)


def torch_scores(model: Any, obs: np.ndarray) -> np.ndarray:
    """Reference logits ``(A,)`` of the torch scorer (float32 forward pass) for ``obs``."""
    ext = model.policy.features_extractor
    with torch.no_grad():
        x = torch.as_tensor(np.clip(obs, -10.0, 10.0), dtype=torch.float32)[None]
        logits, _ = ext.scores(x)
    return logits[0].double().numpy()
