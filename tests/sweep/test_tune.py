"""Hyperparameter search for the chain policy (tiny budgets) and RLlib-ready environments."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qnetai.errors import InputError
from qnetai.sweep.tune import _space, _study, register_ray_envs, tune_chain

TINY = {"timesteps": 256, "val_episodes": 4, "test_episodes": 4, "cutoff_episodes": 2}


def test_tune_runs_resumes_and_compares(tmp_path):
    rep = tune_chain(tmp_path, trials=1, engine="inline", **TINY)
    assert rep["trials"] == 1
    first = (tmp_path / "trials" / "trial-0000.json").read_text()
    rep = tune_chain(tmp_path, trials=2, engine="inline", **TINY)
    # resumed: trial 0 untouched, one new trial
    assert (tmp_path / "trials" / "trial-0000.json").read_text() == first
    assert sorted(p.name for p in (tmp_path / "trials").glob("trial-*.json")) == [
        "trial-0000.json",
        "trial-0001.json",
    ]
    assert rep["trials"] == 2
    cmp = json.loads((tmp_path / "compare.json").read_text())
    names = [r["policy"] for r in cmp["rows"]]
    assert "maskable-ppo:n3-short" in names and names[-1].startswith("maskable-ppo:trial-")
    tuned, shipped = cmp["tuned"], cmp["shipped"]
    lo_t = tuned["delivery_rate_per_slot"] - tuned["delivery_rate_ci95"]
    hi_s = shipped["delivery_rate_per_slot"] + shipped["delivery_rate_ci95"]
    assert (lo_t > hi_s) == cmp["verdict"].startswith("improved")
    # the best trial is the one with the highest validation score
    vals = [
        json.loads(p.read_text())["value"] for p in sorted((tmp_path / "trials").glob("t*.json"))
    ]
    assert rep["best"]["validation"] == max(vals)


def test_interrupted_trial_is_asked_again(tmp_path):
    tune_chain(tmp_path, trials=1, engine="inline", **TINY)
    study = _study(tmp_path, 0)
    lost = study.ask()  # a trial left running by a killed run
    params = _space(lost, TINY["timesteps"])
    rep = tune_chain(tmp_path, trials=2, engine="inline", **TINY)
    assert rep["trials"] == 2
    retried = [json.loads(p.read_text()) for p in (tmp_path / "trials").glob("trial-*.json")]
    assert any(r["params"] == params for r in retried)


def test_bad_settings(tmp_path):
    with pytest.raises(InputError, match="trials"):
        tune_chain(tmp_path, trials=0, engine="inline")
    with pytest.raises(InputError, match="timesteps"):
        tune_chain(tmp_path, trials=1, timesteps=10, engine="inline")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "tune.json").write_text(
        json.dumps({"timesteps": 1, "seed": 0, "val_episodes": 2})
    )
    with pytest.raises(InputError, match="other settings"):
        tune_chain(tmp_path / "s", trials=1, engine="inline", **TINY)


def test_cli_bad_input_exits_2(tmp_path):
    from qnetai.cli.main import app

    res = CliRunner().invoke(
        app, ["sweep", "tune", "chain", "--out", str(tmp_path / "x"), "--trials", "0"]
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output


@pytest.mark.parametrize("env_id", ["qnetai/RepeaterChain-v0", "qnetai/Routing-v0"])
def test_envs_pass_check_env_and_register_with_ray(env_id):
    import gymnasium as gym
    from gymnasium.utils.env_checker import check_env
    from ray.tune.registry import ENV_CREATOR, _global_registry

    ids = register_ray_envs()
    assert env_id in ids
    assert _global_registry.contains(ENV_CREATOR, env_id)
    env = _global_registry.get(ENV_CREATOR, env_id)({})
    check_env(env.unwrapped, skip_render_check=True)
    assert isinstance(env, gym.Env)
    env.close()


def test_trial_on_ray_gives_the_inline_result(tmp_path):
    a = tune_chain(tmp_path / "inline", trials=1, engine="inline", **TINY)
    b = tune_chain(tmp_path / "ray", trials=1, engine="ray", workers=1, **TINY)
    assert b["engine"]["engine"] == "ray"
    assert a["best"] == b["best"]  # same params and validation score for the same seeds
