"""``qnetai/Routing-v0``: choose (request, candidate path, width) actions for one Q-CAST slot.

Functional core (pure functions over an immutable :class:`RoutingState`) and a thin
gymnasium ``Env`` around it, as gymnasium's functional envs do. An episode is one slot:
``R`` requests arrive on a Waxman (or scenario) network; each step either reserves a
candidate path of some request at some width, or stops. Observations are per-action feature
rows (:mod:`qnetai.ai.features`) of what the controller knows; infeasible actions (capacity,
request already at ``max_paths`` paths, padding) are masked (``action_masks()`` for
MaskablePPO, also ``info["action_mask"]``). Reward: the chosen path's EXT (``"expected"``,
default) or, at the end of the slot, the pairs a Monte Carlo of the slot delivers
(``"realised"``). The episode ends on ``stop`` or when no action is feasible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gymnasium as gym
import numpy as np

from qnetai.ai.features import N_FEATURES, CandidateTable, action_features, candidate_table
from qnetai.control.slotted import (
    Allocation,
    Path,
    SlottedNetwork,
    sample_requests,
    scenario_network,
    simulate_slot,
    waxman_network,
)
from qnetai.errors import InputError

_BIG = 1 << 30


@dataclass(frozen=True)
class RoutingParams:
    """Static settings: candidates ``k``, widths ``1..w_max``, padded request count ``r_max``."""

    k: int = 6
    w_max: int = 8
    r_max: int = 10
    max_paths: int = 4
    reward: str = "expected"

    def __post_init__(self) -> None:
        if self.reward not in ("expected", "realised"):
            raise InputError(f"reward must be 'expected' or 'realised' (got {self.reward!r})")
        if min(self.k, self.w_max, self.r_max, self.max_paths) < 1:
            raise InputError("k, w_max, r_max and max_paths must be >= 1")

    @property
    def n_actions(self) -> int:
        """``r_max * k * w_max`` path actions plus ``stop``."""
        return self.r_max * self.k * self.w_max + 1


@dataclass(frozen=True, eq=False)
class RoutingState:
    """One slot in progress (never mutated: :func:`routing_step` returns a new state)."""

    net: SlottedNetwork
    requests: np.ndarray
    table: CandidateTable
    edge_free: np.ndarray  # (m + 1,) with a sentinel
    node_free: np.ndarray  # (n + 1,)
    served: np.ndarray  # (r_max,)
    items: tuple[tuple[int, Path, int], ...] = ()
    done: bool = False


def routing_reset(net: SlottedNetwork, requests: np.ndarray, params: RoutingParams) -> RoutingState:
    """The initial state of a slot with ``requests`` (the first ``r_max`` are used)."""
    reqs = np.asarray(requests, dtype=np.int64).reshape(-1, 2)[: params.r_max]
    table = candidate_table(net, reqs, k=params.k, w_max=params.w_max, r_max=params.r_max)
    state = RoutingState(
        net=net,
        requests=reqs,
        table=table,
        edge_free=np.append(net.channels, _BIG).astype(np.int64),
        node_free=np.append(net.capacity, _BIG).astype(np.int64),
        served=np.zeros(params.r_max, dtype=np.int64),
    )
    _, mask = routing_observe(state, params)
    return replace(state, done=not mask[:-1].any())


def routing_observe(state: RoutingState, params: RoutingParams) -> tuple[np.ndarray, np.ndarray]:
    """``(features (A, F) float32, mask (A,) bool)`` of ``state``."""
    return action_features(
        state.table,
        state.edge_free,
        state.node_free,
        state.net.capacity,
        state.served,
        len(state.requests),
        w_max=params.w_max,
        max_paths=params.max_paths,
    )


def decode_action(action: int, params: RoutingParams) -> tuple[int, int, int] | None:
    """``(request, candidate, width)`` of ``action``, or ``None`` for stop."""
    if action == params.n_actions - 1:
        return None
    i, rest = divmod(int(action), params.k * params.w_max)
    j, w = divmod(rest, params.w_max)
    return i, j, w + 1


def routing_step(
    state: RoutingState, action: int, params: RoutingParams, mask: np.ndarray | None = None
) -> tuple[RoutingState, float, bool]:
    """Apply ``action``; returns ``(state, expected reward, terminated)``.

    An infeasible action is treated as ``stop`` (the masks exclude them); ``mask`` may pass
    the current mask when the caller has it already.
    """
    if state.done:
        return state, 0.0, True
    if mask is None:
        _, mask = routing_observe(state, params)
    dec = decode_action(action, params)
    if dec is None or not mask[action]:
        return replace(state, done=True), 0.0, True
    i, j, w = dec
    t = state.table
    edge_free = state.edge_free.copy()
    node_free = state.node_free.copy()
    hops = int(t.hops[i, j])
    np.subtract.at(edge_free, t.edge_idx[i, j, :hops], w)
    np.subtract.at(node_free, t.node_idx[i, j, : hops + 1], w * t.node_mult[i, j, : hops + 1])
    served = state.served.copy()
    served[i] += 1
    new = replace(
        state,
        edge_free=edge_free,
        node_free=node_free,
        served=served,
        items=(*state.items, (i, t.paths[i][j], w)),
    )
    _, mask = routing_observe(new, params)
    done = not mask[:-1].any()
    return replace(new, done=done), float(t.ext[i, j, w]), done


def state_allocation(state: RoutingState) -> Allocation:
    """The allocation made so far (paths of one request on the same path merged)."""
    from qnetai.control.slotted_policies import merge_items

    return Allocation.from_list(merge_items(list(state.items)))


def make_network(topology: str, nodes: int, seed: int) -> SlottedNetwork:
    """``waxman`` (``nodes``, ``seed``) or a built-in scenario name such as ``metro-6g``."""
    if topology == "waxman":
        return waxman_network(nodes, seed=seed)
    return scenario_network(topology)


class RoutingEnv(gym.Env):
    """Thin stateful wrapper of the routing core (see the module docstring)."""

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        topology: str = "waxman",
        nodes: int = 50,
        requests: int = 10,
        topology_seeds: tuple[int, ...] = (0,),
        k: int = 6,
        w_max: int = 8,
        max_paths: int = 4,
        reward: str = "expected",
        network: SlottedNetwork | None = None,
    ) -> None:
        self.params = RoutingParams(
            k=k, w_max=w_max, r_max=requests, max_paths=max_paths, reward=reward
        )
        self.n_requests = requests
        self._nets = (
            [network]
            if network is not None
            else [make_network(topology, nodes, s) for s in topology_seeds]
        )
        a = self.params.n_actions
        self.observation_space = gym.spaces.Box(
            -10.0, 10.0, shape=(a, N_FEATURES), dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(a)
        self._state: RoutingState | None = None

    def _obs(self) -> tuple[np.ndarray, dict[str, Any]]:
        assert self._state is not None
        obs, mask = routing_observe(self._state, self.params)
        return np.clip(obs, -10.0, 10.0), {"action_mask": mask}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Draw a network from the pool and ``requests`` source-destination pairs."""
        super().reset(seed=seed)
        net = self._nets[int(self.np_random.integers(len(self._nets)))]
        reqs = (
            np.asarray(options["requests"])
            if options and "requests" in options
            else sample_requests(net, self.n_requests, self.np_random)
        )
        self._state = routing_reset(net, reqs, self.params)
        return self._obs()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Reserve a path (or stop); reward as configured."""
        assert self._state is not None, "call reset() first"
        self._state, reward, done = routing_step(self._state, int(action), self.params)
        if self.params.reward == "realised":
            reward = 0.0
            if done:
                alloc = state_allocation(self._state)
                reward = float(simulate_slot(self._state.net, alloc, self.np_random).sum())
        obs, info = self._obs()
        if done:
            info["allocation"] = tuple(self._state.items)
        return obs, reward, done, False, info

    def action_masks(self) -> np.ndarray:
        """The current action mask (MaskablePPO calls this)."""
        assert self._state is not None
        return routing_observe(self._state, self.params)[1]
