"""Train learned slot policies (MaskablePPO with the per-action scorer) and save them.

Training uses stable-baselines3; the model is saved as inert data only
(:mod:`qnetai.control.model_files`): ``OUT.npz`` (the scorer's weights) and ``OUT.json``
(architecture, configuration, evaluation history). It loads, without torch, with
``qnetai.plugins.slot_policy("rl:OUT")``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path as FsPath
from typing import Any

import numpy as np

from qnetai._optional import require
from qnetai.ai.sb3_logging import quiet_sb3_logger
from qnetai.control.model_files import check_model_name
from qnetai.errors import InputError

Progress = Callable[[int, int, dict[str, Any]], None]


def _evaluate(policy: Any, nets: list[Any], requests: int, slots: int, seed: int) -> float:
    """Mean total EXT per slot of ``policy`` on fixed evaluation slots."""
    from qnetai.control.slotted import expected_pairs, sample_requests

    rng = np.random.default_rng(seed)
    total = 0.0
    for t in range(slots):
        net = nets[t % len(nets)]
        alloc = policy.allocate(net, sample_requests(net, requests, rng))
        total += float(expected_pairs(net, alloc).sum())
    return total / slots


def expert_dataset(
    nets: list[Any], requests: int, slots: int, params: Any, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observations, masks and expert actions from MILP-optimal slots (routing env).

    The MILP optimum over the env's candidate set is replayed in order of decreasing EXT
    (then ``stop``); a cross-entropy fit to these actions is behaviour cloning of the MILP.
    """
    from qnetai.ai.routing_env import routing_observe, routing_reset, routing_step
    from qnetai.control.milp import solve_milp
    from qnetai.control.slotted import sample_requests

    rng = np.random.default_rng(seed)
    obs_l, mask_l, act_l = [], [], []
    for t in range(slots):
        net = nets[t % len(nets)]
        reqs = sample_requests(net, requests, rng)
        state = routing_reset(net, reqs, params)
        got = solve_milp(net, reqs, k=params.k, time_limit_s=5.0).allocation
        order = np.argsort(
            [-net.path_ext(p)[w] for p, w in zip(got.paths, got.widths.tolist(), strict=True)],
            kind="stable",
        )
        actions = []
        for idx in order.tolist():
            i, path, w = int(got.request[idx]), got.paths[idx], int(got.widths[idx])
            j = state.table.paths[i].index(path)
            w = min(w, params.w_max)
            actions.append((i * params.k + j) * params.w_max + w - 1)
        actions.append(params.n_actions - 1)
        for a in actions:
            if state.done:
                break
            obs, mask = routing_observe(state, params)
            if not mask[a]:
                continue
            obs_l.append(np.clip(obs, -10, 10))
            mask_l.append(mask)
            act_l.append(a)
            state, _, _ = routing_step(state, a, params)
    return np.array(obs_l), np.array(mask_l), np.array(act_l)


def behaviour_clone(
    model: Any,
    data: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    epochs: int = 30,
    lr: float = 3e-3,
    seed: int = 0,
) -> float:
    """Fit the scorer's masked logits to the expert actions; returns the final accuracy."""
    import torch

    obs, mask, act = (torch.as_tensor(x) for x in data)
    if len(act) == 0:
        return float("nan")
    scorer = model.policy.features_extractor
    opt = torch.optim.Adam(scorer.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(act), generator=gen)
        for b in range(0, len(act), 64):
            idx = perm[b : b + 64]
            logits, _ = scorer.scores(obs[idx].float())
            logits = logits.masked_fill(~mask[idx], -1e9)
            loss = torch.nn.functional.cross_entropy(logits, act[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        logits, _ = scorer.scores(obs.float())
        pred = logits.masked_fill(~mask, -1e9).argmax(-1)
    return float((pred == act).float().mean())


def train(
    kind: str = "routing",
    *,
    topology: str = "waxman",
    nodes: int = 50,
    requests: int = 10,
    timesteps: int = 20_000,
    seed: int = 0,
    out: str | FsPath = "model",
    topology_seeds: tuple[int, ...] | None = None,
    eval_every: int = 0,
    eval_slots: int = 10,
    progress: Progress | None = None,
    k: int = 6,
    w_max: int = 8,
    max_paths: int = 4,
    imitation_slots: int = 32,
) -> dict[str, Any]:
    """Train a ``routing`` or ``allocation`` policy; returns the saved configuration.

    Training uses ``topology_seeds`` Waxman instances (default: ``seed .. seed+3``) so the
    scorer does not overfit one graph. ``progress(done, total, info)`` is called after each
    rollout (``info`` may hold ``eval`` = mean expected pairs per slot and ``q_cast`` for the
    same slots). For ``routing``, ``imitation_slots`` MILP-solved slots first pre-train the
    scorer by behaviour cloning (:func:`behaviour_clone`); PPO then fine-tunes it, and the
    better of the two on the validation slots is saved (``selected`` in the json). Returns
    the dict also written to ``OUT.json`` (with ``model_path``, the ``OUT.npz`` written).
    """
    if kind not in ("routing", "allocation"):
        raise InputError(f"kind must be 'routing' or 'allocation' (got {kind!r})")
    if timesteps < 1:
        raise InputError(f"timesteps must be >= 1 (got {timesteps})")
    if seed < 0:
        raise InputError(f"seed must be >= 0 (got {seed})")
    out_path = FsPath(out)
    if out_path.suffix in (".zip", ".npz", ".json"):
        out_path = out_path.with_suffix("")
    check_model_name(out_path.name, field="out (its file name)")
    torch = require("torch", extra="ai")
    sb3c = require("sb3_contrib", extra="ai")
    require("stable_baselines3", extra="ai")
    from stable_baselines3.common.callbacks import BaseCallback

    from qnetai.ai.agents import RLSlotPolicy, save_scorer
    from qnetai.ai.allocation_env import AllocationEnv
    from qnetai.ai.models import ScorerPolicy, numpy_scorer
    from qnetai.ai.routing_env import RoutingEnv, make_network
    from qnetai.control.qcast import QCastPolicy

    torch.set_num_threads(1)
    seeds = tuple(topology_seeds) if topology_seeds else tuple(range(seed, seed + 4))
    nets = [make_network(topology, nodes, s) for s in seeds]
    env: RoutingEnv | AllocationEnv
    if kind == "routing":
        env = RoutingEnv(topology, nodes, requests, seeds, k=k, w_max=w_max, max_paths=max_paths)
        env._nets = nets
    else:
        env = AllocationEnv(topology, nodes, requests, seeds, w_max=w_max)
        env._nets = nets
    n_steps = int(min(512, max(64, timesteps)))
    model = sb3c.MaskablePPO(
        ScorerPolicy,
        env,
        n_steps=n_steps,
        batch_size=min(64, n_steps),
        n_epochs=4,
        learning_rate=1e-4,
        gamma=1.0,
        gae_lambda=0.95,
        ent_coef=0.001,
        seed=seed,
        device="cpu",
        verbose=0,
    )
    config: dict[str, Any] = {
        "kind": kind,
        "topology": topology,
        "nodes": nodes,
        "requests": requests,
        "timesteps": timesteps,
        "seed": seed,
        "topology_seeds": list(seeds),
        "k": k,
        "w_max": w_max,
        "max_paths": max_paths,
        "algorithm": "MaskablePPO",
        "policy": "qnetai.ai.models.ScorerPolicy",
        "history": [],
    }
    eval_nets = [make_network(topology, nodes, s + 1000) for s in range(2)] + nets[:1]
    q_cast = _evaluate(QCastPolicy(), eval_nets, requests, eval_slots, seed + 99)
    config["q_cast_eval"] = q_cast
    t_start = time.perf_counter()
    state = {"next_eval": eval_every}
    if kind == "routing" and imitation_slots > 0:
        data = expert_dataset(nets, requests, imitation_slots, env.params, seed + 7)
        config["imitation"] = {
            "slots": imitation_slots,
            "samples": len(data[2]),
            "accuracy": behaviour_clone(model, data, seed=seed),
        }
        config["imitation"]["eval"] = _evaluate(
            RLSlotPolicy(numpy_scorer(model), config, "rl:bc"),
            eval_nets,
            requests,
            eval_slots,
            seed + 99,
        )
        bc_weights = copy.deepcopy(model.policy.state_dict())
        if progress is not None:
            progress(0, timesteps, {"eval": config["imitation"]["eval"], "q_cast": q_cast})

    class _Cb(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            done = self.num_timesteps
            info: dict[str, Any] = {"q_cast": q_cast}
            if eval_every and done >= state["next_eval"]:
                state["next_eval"] += eval_every
                pol = RLSlotPolicy(numpy_scorer(self.model), config, "rl:training")
                score = _evaluate(pol, eval_nets, requests, eval_slots, seed + 99)
                info["eval"] = score
                config["history"].append({"timesteps": done, "eval": score})
            if progress is not None:
                progress(min(done, timesteps), timesteps, info)

    quiet_sb3_logger(model)
    model.learn(total_timesteps=timesteps, callback=_Cb())
    final = _evaluate(
        RLSlotPolicy(numpy_scorer(model), config, "rl:final"),
        eval_nets,
        requests,
        eval_slots,
        seed + 99,
    )
    config["ppo_eval"] = final
    config["selected"] = "ppo"
    if kind == "routing" and imitation_slots > 0 and config["imitation"]["eval"] > final:
        # PPO fine-tuning did not help on the validation slots: keep the cloned scorer
        model.policy.load_state_dict(bc_weights)
        final = config["imitation"]["eval"]
        config["selected"] = "imitation"
    config["final_eval"] = final
    config["train_time_s"] = time.perf_counter() - t_start
    config["versions"] = {"sb3_contrib": sb3c.__version__, "torch": torch.__version__}
    npz = save_scorer(numpy_scorer(model), config, out_path)
    config["model_path"] = str(npz)
    if progress is not None:
        progress(timesteps, timesteps, {"eval": final, "q_cast": q_cast})
    return config
