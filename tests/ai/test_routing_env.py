import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import qnetai.ai  # noqa: F401  (registers the envs)
from qnetai.ai.routing_env import (
    RoutingParams,
    decode_action,
    routing_observe,
    routing_reset,
    routing_step,
    state_allocation,
)
from qnetai.control.slotted import is_feasible, sample_requests, waxman_network
from qnetai.control.slotted_policies import Residual


@pytest.mark.parametrize("env_id", ["qnetai/Routing-v0", "qnetai/Allocation-v0"])
def test_check_env_and_make(env_id):
    env = gym.make(env_id, nodes=30, requests=5)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=1)
    assert env.observation_space.contains(obs)
    assert info["action_mask"].shape == (env.action_space.n,)


def _rollout(env_id, seed):
    env = gym.make(env_id, nodes=30, requests=5)
    obs, info = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    traj = [obs]
    rewards = []
    while True:
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, r, term, trunc, info = env.step(a)
        traj.append(obs)
        rewards.append(r)
        if term or trunc:
            return np.array(traj), np.array(rewards), info["allocation"]


@pytest.mark.parametrize("env_id", ["qnetai/Routing-v0", "qnetai/Allocation-v0"])
def test_seeded_rollouts_repeat(env_id):
    a, b = _rollout(env_id, 7), _rollout(env_id, 7)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2] == b[2]
    c = _rollout(env_id, 8)
    assert not (len(c[0]) == len(a[0]) and np.array_equal(c[0], a[0]))


def test_masks_exclude_exactly_the_infeasible_actions():
    net = waxman_network(30, seed=2, capacity=(3, 6))
    params = RoutingParams(k=3, w_max=6, r_max=6, max_paths=2)
    state = routing_reset(net, sample_requests(net, 6, np.random.default_rng(0)), params)
    rng = np.random.default_rng(1)
    while not state.done:
        _, mask = routing_observe(state, params)
        res = Residual(net)
        for _r, p, w in state.items:
            res.take(p, w)
        for a in range(params.n_actions - 1):
            i, j, w = decode_action(a, params)
            paths = state.table.paths[i] if i < len(state.table.paths) else ()
            ok = (
                j < len(paths)
                and state.served[i] < params.max_paths
                and res.max_width(paths[j]) >= w
            )
            assert mask[a] == ok
        assert mask[-1]
        state, reward, _ = routing_step(state, int(rng.choice(np.flatnonzero(mask[:-1]))), params)
        assert reward > 0
        assert is_feasible(net, state_allocation(state))
