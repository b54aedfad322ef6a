import gymnasium as gym
import numpy as np

import qnetai.ai  # noqa: F401


def test_allocation_env_width_masks_and_reward_is_ext():
    env = gym.make("qnetai/Allocation-v0", nodes=30, requests=6)
    _, info = env.reset(seed=3)
    total = 0.0
    steps = 0
    while True:
        mask = info["action_mask"]
        assert mask[0]  # skip always allowed
        a = int(np.flatnonzero(mask)[-1])  # widest feasible width
        __, r, term, _, info = env.step(a)
        total += r
        steps += 1
        if term:
            break
    assert steps == 6
    alloc = info["allocation"]
    u = env.unwrapped
    net = u._state.net
    assert abs(sum(net.path_ext(p)[w] for _, p, w in alloc) - total) < 1e-9
