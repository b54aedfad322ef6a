"""qnetai/NetworkRouting-v0: gymnasium conformance, determinism, masks and rewards."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import qnetai.ai  # noqa: F401  (registers the ids)
from qnetai.ai.envs import ENV_IDS
from qnetai.ai.network_env import OBS_FEATURES, NetworkRoutingEnv
from qnetai.config.models import Scenario
from qnetai.errors import InputError


def small_scenario() -> Scenario:
    """A 5-node ring with a chord and scarce memory at one repeater (so masks bite)."""
    mem = {"A": 8, "B": 2, "C": 8, "D": 8, "E": 8}
    nodes = [
        {
            "name": n,
            "memory_qubits": m,
            "memory": {"t_coh_s": 0.05},
            "kind": "repeater" if n == "B" else "end_user",
        }
        for n, m in mem.items()
    ]
    ring = ["AB", "BC", "CD", "DE", "EA", "BD"]
    links = [
        {"endpoints": [a, b], "length_km": 5 + 3 * i, "multiplexing": 1 + i % 3}
        for i, (a, b) in enumerate(ring)
    ]
    return Scenario.model_validate(
        {
            "name": "ring5",
            "seed": 1,
            "duration_s": 0.1,
            "nodes": nodes,
            "links": links,
            "operations": {"cutoff_s": 0.01},
            "traffic": {
                "random": {
                    "count": 40,
                    "rate_hz": 500.0,
                    "min_fidelity": 0.7,
                    "pairs_per_request": 2,
                    "timeout_s": 0.02,
                }
            },
        }
    )


def test_registered_and_passes_check_env():
    assert "qnetai/NetworkRouting-v0" in ENV_IDS
    env = gym.make("qnetai/NetworkRouting-v0", scenario=small_scenario(), k=3)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert obs.shape == (3, len(OBS_FEATURES)) and obs.dtype == np.float32
    assert env.observation_space.contains(obs)
    assert info["action_mask"].any()


def _rollout(env: NetworkRoutingEnv, seed: int, choose) -> tuple[list[float], list, list]:
    obs, info = env.reset(seed=seed)
    rewards, chosen, observations = [], [], [obs]
    done = False
    while not done:
        obs, r, term, trunc, info = env.step(choose(obs, info))
        rewards.append(r)
        chosen.append(info["chosen"])
        observations.append(obs)
        done = term or trunc
    return rewards, chosen, observations


def _best_ext(obs, info):
    ext = np.where(info["action_mask"], obs[:, OBS_FEATURES.index("ext")], -1.0)
    return int(np.argmax(ext))


def test_seeded_rollouts_repeat_exactly_and_seeds_differ():
    env = NetworkRoutingEnv(small_scenario(), k=3)
    a = _rollout(env, 5, _best_ext)
    b = _rollout(env, 5, _best_ext)
    assert a[0] == b[0] and a[1] == b[1]
    assert all(np.array_equal(x, y) for x, y in zip(a[2], b[2], strict=True))
    c = _rollout(env, 6, _best_ext)
    assert c[1] != a[1] or c[0] != a[0]


def test_rewards_are_the_engines_thresholded_deliveries():
    env = NetworkRoutingEnv(small_scenario(), k=3)
    rewards, chosen, _ = _rollout(env, 2, _best_ext)
    res = env.sim.result()
    assert sum(rewards) == res.summary["pairs_delivered"] > 0
    fids = np.array(res.deliveries.column("fidelity").to_pylist())
    assert np.all(fids >= 0.7)  # min_fidelity: the engine delivers only pairs above it
    assert res.summary["requests_total"] == len(chosen) == 40
    assert env.sim.now == pytest.approx(0.1)


def test_mask_excludes_candidates_without_free_memory_and_masked_action_declines():
    env = NetworkRoutingEnv(small_scenario(), k=3)
    obs, info = env.reset(seed=3)
    seen_masked = False
    done = False
    while not done:
        mask = info["action_mask"]
        adm = obs[:, OBS_FEATURES.index("admissible")] > 0.5
        valid = obs[:, OBS_FEATURES.index("valid")] > 0.5
        assert np.array_equal(mask, adm if adm.any() else valid)
        assert np.array_equal(env.action_masks(), mask)
        if not mask.all():
            seen_masked = True
            a = int(np.flatnonzero(~mask)[0])
            obs, _, term, trunc, info = env.step(a)
            assert info["chosen"] is None  # declined
        else:
            obs, _, term, trunc, info = env.step(0)
        done = term or trunc
    assert seen_masked
    statuses = env.sim.result().requests.column("status").to_pylist()
    assert "unserved" in statuses


def test_builtin_scenario_and_bad_arguments():
    env = gym.make("qnetai/NetworkRouting-v0", scenario="metro-6g", duration_s=0.01)
    obs, info = env.reset(seed=1)
    assert obs.shape == (4, len(OBS_FEATURES))
    assert all(c.count(">") >= 1 for c in info["candidates"])
    with pytest.raises(InputError):
        NetworkRoutingEnv("metro-6g", duration_s=0.0)
    with pytest.raises(InputError):
        NetworkRoutingEnv("metro-6g", k=0)
