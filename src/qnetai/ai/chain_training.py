"""Train, save, load and benchmark repeater-chain policies (MaskablePPO against the baselines).

A model is a pair of files ``chain-<name>.zip`` (sb3-contrib ``MaskablePPO``) and
``chain-<name>.json`` (environment config, training settings, measured figures). Shipped models
live in ``qnetai/data/models``; :func:`load_chain_model` finds them by name.

Example:
    >>> policy, cfg = load_chain_model("n3-short")  # doctest: +SKIP
    >>> rows = bench_chain_policies(model="n3-short", episodes=200)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from qnetai._optional import require
from qnetai.ai.chain_env import ChainEnvConfig, RepeaterChainEnv
from qnetai.ai.chain_policies import (
    ChainPolicy,
    MaskablePolicy,
    evaluate_policy,
    make_baseline,
    search_cutoff,
)
from qnetai.errors import InputError

__all__ = [
    "DEFAULT_CHAIN_CONFIG",
    "MODEL_DIR",
    "bench_chain_policies",
    "load_chain_model",
    "train_chain",
]

#: Short coherence, where swap-asap often delivers below the threshold (the shipped model's).
DEFAULT_CHAIN_CONFIG = ChainEnvConfig(
    segments=3,
    p_gen=0.5,
    fidelity=0.95,
    t_coh_slots=10.0,
    memories=2,
    threshold=0.8,
    max_slots=100,
)
MODEL_DIR = "data/models"
_PPO_DEFAULTS: dict[str, Any] = {
    "n_steps": 256,
    "batch_size": 256,
    "gamma": 0.99,
    "learning_rate": 3e-4,
    "ent_coef": 0.01,
    "n_epochs": 10,
}


def _model_paths(name: str) -> tuple[Path, Path]:
    stem = name if name.startswith("chain-") else f"chain-{name}"
    return Path(stem + ".zip"), Path(stem + ".json")


def train_chain(
    config: ChainEnvConfig | None = None,
    *,
    name: str = "custom",
    timesteps: int = 150_000,
    seed: int = 0,
    out_dir: str | Path = ".",
    net_arch: Sequence[int] = (64, 64),
    n_envs: int = 8,
    ppo_kwargs: dict[str, Any] | None = None,
    eval_episodes: int = 300,
    progress: Callable[[float], None] | None = None,
) -> dict[str, Any]:
    """Train MaskablePPO on ``config`` (CPU) and write ``chain-<name>.zip`` and ``.json``.

    Returns the metadata written to the json (config, settings, wall time, a greedy evaluation
    on seeds of its own). ``progress(fraction_done)`` is called now and then.
    """
    if timesteps < 1:
        raise InputError(f"timesteps must be >= 1 (got {timesteps})")
    cfg = config or DEFAULT_CHAIN_CONFIG
    torch = require("torch", extra="ai")
    sb3c = require("sb3_contrib", extra="ai")
    callbacks = require("stable_baselines3.common.callbacks", extra="ai")
    vec_env = require("stable_baselines3.common.vec_env", extra="ai")
    torch.set_num_threads(1)
    # One masked Categorical per action dimension is built per step: batch over n_envs
    # environments and skip torch's argument validation (restored afterwards).
    validate = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(False)
    env = vec_env.DummyVecEnv([lambda: RepeaterChainEnv(cfg)] * n_envs)
    env.seed(seed)
    kwargs = {**_PPO_DEFAULTS, **(ppo_kwargs or {})}
    model = sb3c.MaskablePPO(
        "MlpPolicy",
        env,
        seed=seed,
        device="cpu",
        verbose=0,
        policy_kwargs={"net_arch": list(net_arch)},
        **kwargs,
    )

    class _Progress(callbacks.BaseCallback):  # type: ignore[misc, name-defined]
        def _on_step(self) -> bool:
            if progress is not None and self.num_timesteps % (256 * n_envs) == 0:
                progress(min(1.0, self.num_timesteps / timesteps))
            return True

    t0 = time.perf_counter()
    try:
        model.learn(total_timesteps=timesteps, callback=_Progress())
    finally:
        torch.distributions.Distribution.set_default_validate_args(validate)
    wall = time.perf_counter() - t0
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    zip_name, json_name = _model_paths(name)
    model.save(out / zip_name)
    learned = MaskablePolicy(model, name=f"maskable-ppo:{name}")
    summary = evaluate_policy(cfg, learned, episodes=eval_episodes, seed=seed + 1).summary()
    meta = {
        "name": name,
        "algorithm": "MaskablePPO",
        "env_id": "qnetai/RepeaterChain-v0",
        "config": cfg.to_dict(),
        "timesteps": timesteps,
        "seed": seed,
        "net_arch": list(net_arch),
        "n_envs": n_envs,
        "ppo": kwargs,
        "train_wall_s": wall,
        "evaluation": summary,
        "versions": {"sb3_contrib": sb3c.__version__, "torch": torch.__version__},
    }
    (out / json_name).write_text(json.dumps(meta, indent=2) + "\n")
    meta["paths"] = [str(out / zip_name), str(out / json_name)]
    return meta


def load_chain_model(name_or_path: str | Path) -> tuple[MaskablePolicy, ChainEnvConfig]:
    """Load a model by shipped name (``"n3-short"`` or ``"chain-n3-short"``) or by path.

    Returns the greedy masked policy and the environment config it was trained on.
    """
    sb3c = require("sb3_contrib", extra="ai")
    p = Path(name_or_path)
    if p.suffix in (".zip", ".json") and p.with_suffix(".zip").exists():
        zip_path, json_path = p.with_suffix(".zip"), p.with_suffix(".json")
    else:
        zip_name, json_name = _model_paths(str(name_or_path))
        base = resources.files("qnetai").joinpath(MODEL_DIR)
        zip_path, json_path = Path(str(base / zip_name.name)), Path(str(base / json_name.name))
        if not zip_path.exists():
            shipped = sorted(
                q.name[len("chain-") : -len(".zip")]
                for q in base.iterdir()
                if q.name.startswith("chain-") and q.name.endswith(".zip")
            )
            raise InputError(
                f"model must be a shipped chain model ({', '.join(shipped) or 'none'}) "
                f"or a path to a .zip (got {str(name_or_path)!r})"
            )
    meta = json.loads(json_path.read_text())
    cfg = ChainEnvConfig.from_dict(meta["config"])
    model = sb3c.MaskablePPO.load(str(zip_path), device="cpu")
    return MaskablePolicy(model, name=f"maskable-ppo:{meta.get('name', p.stem)}"), cfg


def bench_chain_policies(
    config: ChainEnvConfig | None = None,
    *,
    model: str | Path | None = "n3-short",
    episodes: int = 1000,
    seed: int = 2024,
    cutoff_episodes: int = 300,
    cutoff_candidates: Sequence[int] = (0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20),
) -> list[dict[str, Any]]:
    """Evaluate every policy on the same episode seeds; one summary row per policy.

    Baselines: swap-asap, nested and (with ``memories >= 2``) purify-swap, each without and
    with its own best cut-off, searched on other seeds (``seed + 1``). With ``model`` (a name or
    path) the learned policy is added, and ``config`` defaults to the model's. Rows carry the
    figures of :meth:`EvaluationResult.summary` plus ``cutoff_slots``.
    """
    learned: ChainPolicy | None = None
    if model is not None:
        learned, model_cfg = load_chain_model(model)
        config = config or model_cfg
    cfg = config or DEFAULT_CHAIN_CONFIG
    if episodes < 2:
        raise InputError(f"episodes must be >= 2 (got {episodes})")
    policies: list[tuple[ChainPolicy, int | None]] = []
    bases = ["swap-asap", "nested"] + (["purify-swap"] if cfg.memories >= 2 else [])
    for base in bases:
        best, _ = search_cutoff(
            cfg,
            episodes=cutoff_episodes,
            seed=seed + 1,
            candidates=list(cutoff_candidates),
            policy=base,
        )
        cut_name = "swap-asap-cutoff" if base == "swap-asap" else base
        policies.append((make_baseline(base, cfg), None))
        policies.append((make_baseline(cut_name, cfg, cutoff_slots=best), best))
    if learned is not None:
        policies.append((learned, None))
    rows = []
    for pol, cut in policies:
        row = evaluate_policy(cfg, pol, episodes=episodes, seed=seed).summary()
        row["cutoff_slots"] = cut
        rows.append(row)
    return rows
