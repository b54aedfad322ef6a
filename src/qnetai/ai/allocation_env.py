"""``qnetai/Allocation-v0``: give widths (channels and qubits) to already-chosen paths.

Each request's path is fixed to its best candidate by width-1 EXT; the agent visits the
requests in order and picks a width ``0..w_max`` for each (0 = none). Observations are the
routing features of the current request's ``w_max`` width actions plus a "skip" row;
widths beyond the residual capacity are masked. Reward: the path's EXT at the chosen width.
Functional core (:func:`allocation_step`) plus a thin ``Env``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np

from qnetai.ai.features import N_FEATURES
from qnetai.ai.routing_env import (
    RoutingParams,
    RoutingState,
    make_network,
    routing_observe,
    routing_reset,
    routing_step,
)
from qnetai.control.slotted import SlottedNetwork, sample_requests


def allocation_observe(
    state: RoutingState, cursor: int, params: RoutingParams
) -> tuple[np.ndarray, np.ndarray]:
    """Rows ``(w_max + 1, F)``: widths ``1..w_max`` of request ``cursor``'s path, then skip."""
    obs, mask = routing_observe(state, params)
    w = params.w_max
    if cursor >= len(state.requests):
        rows, m = np.zeros((w, N_FEATURES), np.float32), np.zeros(w, bool)
    else:
        rows, m = obs[cursor * w : (cursor + 1) * w], mask[cursor * w : (cursor + 1) * w]
    skip = np.zeros((1, N_FEATURES), np.float32)
    skip[0, -1] = 1.0
    return np.concatenate([skip, rows]), np.concatenate([[True], m])


def allocation_step(
    state: RoutingState, cursor: int, action: int, params: RoutingParams
) -> tuple[RoutingState, int, float, bool]:
    """Give width ``action`` to request ``cursor``'s path; returns ``(state, cursor, r, done)``."""
    reward = 0.0
    _, mask = allocation_observe(state, cursor, params)
    if action > 0 and mask[action]:
        state, reward, _ = routing_step(state, cursor * params.w_max + action - 1, params)
        state = replace(state, done=False)
    cursor += 1
    return state, cursor, reward, cursor >= len(state.requests)


class AllocationEnv(gym.Env):
    """Thin stateful wrapper: one episode = one slot, one step per request."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        topology: str = "waxman",
        nodes: int = 50,
        requests: int = 10,
        topology_seeds: tuple[int, ...] = (0,),
        w_max: int = 8,
        network: SlottedNetwork | None = None,
    ) -> None:
        self.params = RoutingParams(k=1, w_max=w_max, r_max=requests, max_paths=1)
        self.n_requests = requests
        self._nets = (
            [network]
            if network is not None
            else [make_network(topology, nodes, s) for s in topology_seeds]
        )
        self.observation_space = gym.spaces.Box(
            -10.0, 10.0, shape=(w_max + 1, N_FEATURES), dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(w_max + 1)
        self._state: RoutingState | None = None
        self._cursor = 0

    def _obs(self) -> tuple[np.ndarray, dict[str, Any]]:
        assert self._state is not None
        obs, mask = allocation_observe(self._state, self._cursor, self.params)
        return np.clip(obs, -10.0, 10.0), {"action_mask": mask}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw a network from the pool and the slot's requests."""
        super().reset(seed=seed)
        net = self._nets[int(self.np_random.integers(len(self._nets)))]
        reqs = (
            np.asarray(options["requests"])
            if options and "requests" in options
            else sample_requests(net, self.n_requests, self.np_random)
        )
        self._state = replace(routing_reset(net, reqs, self.params), done=False)
        self._cursor = 0
        return self._obs()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Allocate the current request's width and move to the next request."""
        assert self._state is not None, "call reset() first"
        self._state, self._cursor, reward, done = allocation_step(
            self._state, self._cursor, int(action), self.params
        )
        obs, info = self._obs()
        if done:
            info["allocation"] = tuple(self._state.items)
        return obs, reward, done, False, info

    def action_masks(self) -> np.ndarray:
        """The current action mask (index 0 = skip, always allowed)."""
        assert self._state is not None
        return allocation_observe(self._state, self._cursor, self.params)[1]
