"""Train, save, load and benchmark repeater-chain policies (MaskablePPO against the baselines).

A model is a pair of inert files (:mod:`qnetai.control.model_files`, kind ``chain``):
``chain-<name>.npz`` (the weights of the MaskablePPO actor) and ``chain-<name>.json`` (its
architecture, environment config, training settings, measured figures). Training uses
sb3-contrib; loading reads only these two files and runs the actor in numpy
(:class:`~qnetai.ai.chain_actor.NumpyChainActor`), without torch. Shipped models live in
``qnetai/data/models``; :func:`load_chain_model` finds them by name.

Example:
    >>> policy, cfg = load_chain_model("n3-short")  # doctest: +SKIP
    >>> rows = bench_chain_policies(model="n3-short", episodes=200)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qnetai._optional import require
from qnetai.ai.chain_actor import NumpyChainActor
from qnetai.ai.chain_env import ChainEnvConfig, RepeaterChainEnv, action_nvec, observation_size
from qnetai.ai.chain_policies import (
    ChainPolicy,
    MaskablePolicy,
    evaluate_policy,
    make_baseline,
    search_cutoff,
)
from qnetai.ai.sb3_logging import quiet_sb3_logger
from qnetai.control import model_files
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


def _stem(name: str) -> str:
    return name if name.startswith("chain-") else f"chain-{name}"


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
    """Train MaskablePPO on ``config`` (CPU) and write ``chain-<name>.npz`` and ``.json``.

    ``name`` must be a plain name (no path separators, no ``..``): the files are written in
    ``out_dir`` and nowhere else. Returns the metadata written to the json (config, settings,
    wall time, a greedy evaluation of the saved actor on seeds of its own).
    ``progress(fraction_done)`` is called now and then.
    """
    model_files.check_model_name(name, field="name")
    if timesteps < 1:
        raise InputError(f"timesteps must be >= 1 (got {timesteps})")
    if seed < 0:
        raise InputError(f"seed must be >= 0 (got {seed})")
    if not net_arch or any(int(h) < 1 for h in net_arch):
        raise InputError(f"net_arch must be a non-empty list of widths >= 1 (got {net_arch})")
    cfg = config or DEFAULT_CHAIN_CONFIG
    torch = require("torch", extra="ai")
    sb3c = require("sb3_contrib", extra="ai")
    require("stable_baselines3", extra="ai")
    from stable_baselines3.common.callbacks import BaseCallback

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

    class _Progress(BaseCallback):
        def _on_step(self) -> bool:
            if progress is not None and self.num_timesteps % (256 * n_envs) == 0:
                progress(min(1.0, self.num_timesteps / timesteps))
            return True

    t0 = time.perf_counter()
    try:
        quiet_sb3_logger(model)
        model.learn(total_timesteps=timesteps, callback=_Progress())
    finally:
        torch.distributions.Distribution.set_default_validate_args(validate)
    wall = time.perf_counter() - t0
    actor = NumpyChainActor.from_sb3(model)
    learned = MaskablePolicy(actor, name=f"maskable-ppo:{name}")
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
    arch, arrays = actor.to_arrays()
    files = model_files.write_model(
        Path(out_dir) / _stem(name), kind="chain", architecture=arch, arrays=arrays, meta=meta
    )
    meta["paths"] = [str(files.npz_path), str(files.json_path)]
    return meta


def load_chain_model(name_or_path: str | Path) -> tuple[MaskablePolicy, ChainEnvConfig]:
    """Load a model by shipped name (``"n3-short"`` or ``"chain-n3-short"``) or by path.

    A path names ``MODEL.npz`` / ``MODEL.json`` (or ``MODEL``); only those two inert files
    are read (a stable-baselines3 zip is refused). Returns the greedy masked policy (numpy)
    and the environment config it was trained on; InputError for anything malformed.
    """
    ref = str(name_or_path)
    if Path(ref).suffix == ".zip":
        model_files.resolve_model(ref, field="model")  # raises: zips are refused
    files = None
    for cand in dict.fromkeys((ref, _stem(ref))) if ref.strip() else ():
        try:
            files = model_files.resolve_model(cand, field="model")
            break
        except InputError:
            continue
    if files is None:
        shipped = [n.removeprefix("chain-") for n in model_files.shipped_models(("chain",))]
        raise InputError(
            f"model must be a shipped chain model ({', '.join(shipped) or 'none'}) or a path "
            f"to MODEL.npz with MODEL.json beside it (got {ref!r})"
        )
    meta, arrays = model_files.load_model(files, kinds=("chain",))
    where = files.json_path
    if not isinstance(meta.get("config"), dict):
        raise InputError(f"{where}: config must be an object of chain environment parameters")
    try:
        cfg = ChainEnvConfig.from_dict(meta["config"])
    except (InputError, TypeError, ValueError) as exc:
        raise InputError(f"{where}: config: {exc}") from exc
    arch = meta["architecture"]
    if arch["n_obs"] != observation_size(cfg):
        raise InputError(
            f"{where}: architecture.n_obs must be {observation_size(cfg)} for its "
            f"config (got {arch['n_obs']})"
        )
    if arch["action_nvec"] != [int(x) for x in action_nvec(cfg)]:
        raise InputError(
            f"{where}: architecture.action_nvec must be "
            f"{[int(x) for x in action_nvec(cfg)]} for its config "
            f"(got {arch['action_nvec']})"
        )
    actor = NumpyChainActor.from_arrays(arch, arrays)
    label = meta.get("name") if isinstance(meta.get("name"), str) else files.json_path.stem
    return MaskablePolicy(actor, name=f"maskable-ppo:{label}"), cfg


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
