# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Training a controller, next to its classical baselines
#
# The Gymnasium environments are registered on `import qnetai.ai`. Here we (1) step the
# routing environment by hand, (2) train a small learned routing scorer (behaviour cloning
# from MILP-solved slots, then MaskablePPO) with a deliberately tiny budget, and (3) compare it
# with Q-CAST and shortest-path on the same instances and seeds. A real training run uses
# `qnetai train routing --timesteps 20000` (minutes); this budget only shows the workflow.
# Run: `python examples/05_train_controller.py OUT_DIR` (writes `OUT_DIR/router.npz/.json`).

# %%
import sys
import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np

import qnetai.ai  # noqa: F401  (registers the environments)
from qnetai.ai.training import train
from qnetai.plugins import bench_routing

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="qnetai-ex-"))
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## The environment contract
# `reset(seed=...)` then `step(action) -> (obs, reward, terminated, truncated, info)`; the
# action mask says which candidate paths are allowed.

# %%
env = gym.make("qnetai/Routing-v0", nodes=15, requests=3)
obs, info = env.reset(seed=0)
rng = np.random.default_rng(0)
total, done = 0.0, False
while not done:
    mask = info.get("action_mask", np.ones(env.action_space.n, dtype=bool))
    action = int(rng.choice(np.flatnonzero(mask))) if mask.any() else 0
    obs, reward, terminated, truncated, info = env.step(action)
    total += float(reward)
    done = terminated or truncated
print(f"random policy, one episode: reward {total:.3f}")

# %% [markdown]
# ## Train (tiny budget) and save inert weights (`router.npz` + `router.json`)

# %%
meta = train(
    "routing",
    nodes=15,
    requests=3,
    timesteps=256,
    imitation_slots=4,
    seed=0,
    out=out / "router",
)
print("selected:", meta.get("selected"), "| files:", sorted(p.name for p in out.glob("router*")))

# %% [markdown]
# ## The learned policy beside the strongest classical baselines
# `rl:PATH` loads the saved scorer; the benchmark gives every method the same instances.

# %%
res = bench_routing(
    methods=["shortest-path", "q-cast", f"rl:{out / 'router'}"],
    nodes=15,
    requests=3,
    slots=3,
    seeds=[10, 11],
    milp_reference=False,
)
for row in res["rows"]:
    print(
        f"{row['method']:>24}: {row['throughput']:.2f} pairs/slot "
        f"(interval {row['throughput_ci_low']:.2f} to {row['throughput_ci_high']:.2f})"
    )
