"""Hyperparameter search for the learned chain policy: optuna (seeded TPE) on the sweep engines.

Each trial trains MaskablePPO (:func:`qnetai.ai.chain_training.train_chain`) on the shipped
model's environment with sampled hyperparameters (learning rate, entropy coefficient, network
width and depth, epochs, discount, timesteps within a budget) and scores the trained actor by
its valid-delivery rate on *validation* episode seeds. Trials are tasks on the same engines as
the sweeps (this process, a local process pool, or Ray): optuna's ask/tell interface hands
them out, there is no scheduler of ours. The study lives in an optuna journal file in the
output folder, so an interrupted search continues where it stopped (interrupted trials are
asked again with the same parameters).

At the end the best trial's model is compared with the shipped ``chain-n3-short`` and the
classical baselines (swap-asap with and without its best cut-off, nested, purify-swap) on
*test* seeds the search never saw, with 95 % intervals: ``compare.json`` says whether the
search improved the shipped model (intervals separate) or not.

Example:
    >>> rep = tune_chain("/tmp/tune", trials=2, timesteps=2048, engine="inline")  # doctest: +SKIP
    >>> rep["verdict"]  # doctest: +SKIP
    'no improvement (intervals overlap)'
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from qnetai.errors import InputError

#: Episode seeds that score trials (the search sees only these).
VALIDATION_SEED = 3000
#: Episode seeds of the final comparison (as ``qnetai bench chain``: cut-offs searched on 2025).
TEST_SEED = 2024
#: Most trials one call may run.
MAX_TRIALS = 1000
#: Shipped model the search tries to beat.
SHIPPED_MODEL = "n3-short"


def _space(trial: Any, timesteps: int) -> dict[str, Any]:
    """The search space (optuna ``suggest_*``); timesteps between half and all of the budget."""
    low = max(256, timesteps // 2)
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 3e-3, log=True),
        "ent_coef": trial.suggest_float("ent_coef", 1e-4, 5e-2, log=True),
        "width": trial.suggest_categorical("width", [32, 64, 128]),
        "depth": trial.suggest_int("depth", 1, 2),
        "n_epochs": trial.suggest_int("n_epochs", 4, 12),
        "gamma": trial.suggest_categorical("gamma", [0.95, 0.99]),
        "timesteps": trial.suggest_int("timesteps", low, max(low, timesteps), step=256)
        if timesteps > low
        else timesteps,
    }


def train_trial(task: Mapping[str, Any]) -> dict[str, Any]:
    """Train one trial's model and score it on the validation seeds (runs in a worker).

    ``task``: ``number``, ``params`` (from :func:`_space`), ``seed``, ``out`` (folder),
    ``val_episodes``. Returns the validation summary, the model path and CPU/wall seconds.
    """
    from qnetai.ai.chain_policies import evaluate_policy
    from qnetai.ai.chain_training import DEFAULT_CHAIN_CONFIG, load_chain_model, train_chain

    t0, c0 = time.monotonic(), time.process_time()
    p = dict(task["params"])
    name = f"trial-{int(task['number']):04d}"
    meta = train_chain(
        DEFAULT_CHAIN_CONFIG,
        name=name,
        timesteps=int(p["timesteps"]),
        seed=int(task["seed"]),
        out_dir=task["out"],
        net_arch=[int(p["width"])] * int(p["depth"]),
        ppo_kwargs={
            "learning_rate": float(p["learning_rate"]),
            "ent_coef": float(p["ent_coef"]),
            "n_epochs": int(p["n_epochs"]),
            "gamma": float(p["gamma"]),
        },
        eval_episodes=2,
    )
    model = meta["paths"][0]
    policy, cfg = load_chain_model(model)
    val = evaluate_policy(
        cfg, policy, episodes=int(task["val_episodes"]), seed=VALIDATION_SEED
    ).summary()
    return {
        "number": int(task["number"]),
        "params": p,
        "value": val["delivery_rate_per_slot"],
        "ci95": val["delivery_rate_ci95"],
        "validation": val,
        "model": model,
        "cpu_s": time.process_time() - c0,
        "wall_s": time.monotonic() - t0,
    }


def _study(out: Path, seed: int) -> Any:
    from qnetai._optional import require

    optuna = require("optuna", extra="sweep")
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = JournalStorage(JournalFileBackend(str(out / "study.journal")))
    return optuna.create_study(
        study_name="tune-chain",
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=4),
        load_if_exists=True,
    )


def compare_models(
    tuned: str | Path,
    *,
    shipped: str = SHIPPED_MODEL,
    episodes: int = 1000,
    cutoff_episodes: int = 300,
) -> dict[str, Any]:
    """The tuned model beside the shipped model and the baselines on the test seeds.

    Returns ``{"rows", "tuned", "shipped", "best_classical", "verdict"}``; rows are
    :meth:`EvaluationResult.summary` dicts (rate with its 95 % half-width).
    """
    from qnetai.ai.chain_policies import evaluate_policy
    from qnetai.ai.chain_training import bench_chain_policies, load_chain_model

    rows = bench_chain_policies(
        model=shipped, episodes=episodes, seed=TEST_SEED, cutoff_episodes=cutoff_episodes
    )
    shipped_row, classical = rows[-1], rows[:-1]
    policy, cfg = load_chain_model(tuned)
    tuned_row = evaluate_policy(cfg, policy, episodes=episodes, seed=TEST_SEED).summary()
    tuned_row["cutoff_slots"] = None
    best = max(classical, key=lambda r: r["delivery_rate_per_slot"])

    def iv(r: Mapping[str, Any]) -> tuple[float, float]:
        v, h = r["delivery_rate_per_slot"], r["delivery_rate_ci95"]
        return v - h, v + h

    a, b = iv(tuned_row), iv(shipped_row)
    if a[0] > b[1]:
        verdict = "improved (intervals separate)"
    elif a[1] < b[0]:
        verdict = "worse (intervals separate)"
    else:
        verdict = "no improvement (intervals overlap)"
    return {
        "episodes": episodes,
        "seed": TEST_SEED,
        "rows": [*classical, shipped_row, tuned_row],
        "tuned": tuned_row,
        "shipped": shipped_row,
        "best_classical": best,
        "verdict": verdict,
    }


def tune_chain(
    out: str | Path,
    *,
    trials: int = 6,
    timesteps: int = 32_768,
    seed: int = 0,
    val_episodes: int = 300,
    test_episodes: int = 1000,
    cutoff_episodes: int = 300,
    engine: Any = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[dict[str, Any], int, int], Any] | None = None,
) -> dict[str, Any]:
    """Run (or resume) the search in ``out``, then compare its best model with the shipped one.

    ``trials`` counts finished trials (complete or failed) including earlier runs';
    ``timesteps`` is the per-trial training budget; ``cutoff_episodes`` the episodes per
    candidate when the baselines' cut-offs are searched (on seeds ``TEST_SEED + 1``).
    ``progress(trial_result, done, total)`` is called after each trial. Writes
    ``trials/trial-NNNN.json`` per trial, ``study.journal`` (optuna) and ``compare.json``;
    returns the report (also written to ``report.json``).
    """
    from qnetai.sweep.engine import Engine, make_engine
    from qnetai.sweep.store import write_json_atomic

    if not 1 <= trials <= MAX_TRIALS:
        raise InputError(f"trials must be between 1 and {MAX_TRIALS} (got {trials})")
    if timesteps < 256:
        raise InputError(f"timesteps must be >= 256 (got {timesteps})")
    if min(val_episodes, test_episodes, cutoff_episodes) < 2:
        raise InputError("val_episodes, test_episodes and cutoff_episodes must be >= 2")
    if seed < 0:
        raise InputError(f"seed must be >= 0 (got {seed})")
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise InputError(f"out: {root} exists and is not a folder")
    (root / "trials").mkdir(parents=True, exist_ok=True)
    settings = {"timesteps": timesteps, "seed": seed, "val_episodes": val_episodes}
    meta_path = root / "tune.json"
    if meta_path.exists():
        old = json.loads(meta_path.read_text("utf-8"))
        if old != settings:
            raise InputError(
                f"out: {root} holds a search with other settings {old}; use a new folder"
            )
    else:
        write_json_atomic(meta_path, settings)
    study = _study(root, seed)
    import optuna

    # Trials left RUNNING by an interrupted run: close them and ask their parameters again.
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(t.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(t.params, user_attrs={"retry_of": t.number})
    # A trial's record is written when it finishes (complete or failed), never before.
    done = len(list((root / "trials").glob("trial-*.json")))
    t0 = time.monotonic()
    eng = (
        engine
        if isinstance(engine, Engine)
        else make_engine(engine, workers=workers, address=address)
    )
    failures: list[dict[str, Any]] = []
    try:
        running: dict[cf.Future[Any], Any] = {}
        while done + len(running) < trials or running:
            while done + len(running) < trials and len(running) < max(1, eng.slots):
                trial = study.ask()
                params = _space(trial, timesteps)
                task = {
                    "number": trial.number,
                    "params": params,
                    "seed": seed,
                    "out": str(root / "trials"),
                    "val_episodes": val_episodes,
                }
                running[eng.submit(train_trial, task)] = trial
            finished_now, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in finished_now:
                trial = running.pop(fut)
                try:
                    res = fut.result()
                except Exception as exc:
                    err = f"{type(exc).__name__}: {exc}"
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
                    res = {"number": trial.number, "params": trial.params, "error": err}
                    failures.append(res)
                else:
                    study.tell(trial, res["value"])
                write_json_atomic(root / "trials" / f"trial-{trial.number:04d}.json", res)
                done += 1
                if progress is not None:
                    progress(res, done, trials)
    except KeyboardInterrupt:
        eng.abort()
        raise
    finally:
        if not isinstance(engine, Engine):
            eng.close()
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise InputError(f"no trial finished ({len(failures)} failed): see {root}/trials")
    best = study.best_trial
    best_model = root / "trials" / f"chain-trial-{best.number:04d}.npz"
    cmp = compare_models(best_model, episodes=test_episodes, cutoff_episodes=cutoff_episodes)
    write_json_atomic(root / "compare.json", cmp)
    report = {
        "out": str(root),
        "trials": len(complete),
        "failed": len(failures),
        "best": {"number": best.number, "params": best.params, "validation": best.value},
        "best_model": str(best_model),
        "compare": cmp,
        "verdict": cmp["verdict"],
        "elapsed_s": time.monotonic() - t0,
        "engine": eng.describe(),
    }
    write_json_atomic(root / "report.json", report)
    return report


def _make_env(env_id: str, env_config: Mapping[str, Any] | None = None) -> Any:
    import gymnasium as gym

    return gym.make(env_id, **dict(env_config or {}))


def register_ray_envs() -> list[str]:
    """Register every qnetai Gymnasium environment with ``ray.tune.register_env``.

    RLlib (``ray[rllib]``, not among our extras) can then build them by id, e.g.
    ``PPOConfig().environment("qnetai/RepeaterChain-v0")``; ``env_config`` is passed to
    :func:`gymnasium.make` as keyword arguments. Returns the registered ids.

    Example:
        >>> "qnetai/RepeaterChain-v0" in register_ray_envs()  # doctest: +SKIP
        True
    """
    import functools

    from qnetai._optional import require

    registry = require("ray.tune.registry", extra="sweep")
    from qnetai.ai.envs import ENV_IDS, register_envs

    register_envs()
    for env_id in ENV_IDS:
        registry.register_env(env_id, functools.partial(_make_env, env_id))
    return list(ENV_IDS)


def format_tune_report(rep: Mapping[str, Any]) -> str:
    """Plain-text table of the final comparison."""
    lines = [
        f"best trial {rep['best']['number']} of {rep['trials']} "
        f"(validation rate {rep['best']['validation']:.4f}): {rep['best']['params']}",
        f"test seeds {rep['compare']['seed']}, {rep['compare']['episodes']} episodes:",
    ]
    for r in rep["compare"]["rows"]:
        cut = "" if r.get("cutoff_slots") is None else f" (cut-off {r['cutoff_slots']})"
        lines.append(
            f"  {r['policy'] + cut:<40} {r['delivery_rate_per_slot']:.4f} "
            f"+- {r['delivery_rate_ci95']:.4f} deliveries/slot"
        )
    lines.append(f"tuned vs shipped: {rep['verdict']}")
    return "\n".join(lines)


__all__ = [
    "SHIPPED_MODEL",
    "TEST_SEED",
    "VALIDATION_SEED",
    "compare_models",
    "format_tune_report",
    "register_ray_envs",
    "train_trial",
    "tune_chain",
]
