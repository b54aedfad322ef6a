"""Tests of the repeater-chain baselines, evaluation, and the shipped learned model."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from qnetai.ai.chain_env import ChainEnvConfig, RepeaterChainEnv
from qnetai.ai.chain_policies import (
    NestedPolicy,
    PurifySwapPolicy,
    SwapAsapPolicy,
    evaluate_policy,
    make_baseline,
)
from qnetai.errors import InputError
from qnetai.sim.chain import simulate_chain


def test_nested_blocks() -> None:
    cfg = ChainEnvConfig(segments=4)
    assert NestedPolicy(cfg).blocks == {2: (0, 4), 1: (0, 2), 3: (2, 4)}
    assert NestedPolicy(ChainEnvConfig(segments=3)).blocks == {1: (0, 3), 2: (1, 3)}


def test_make_baseline_errors() -> None:
    cfg = ChainEnvConfig(segments=3)
    with pytest.raises(InputError, match="cutoff_slots"):
        make_baseline("swap-asap-cutoff", cfg)
    with pytest.raises(InputError, match="policy must be"):
        make_baseline("magic", cfg)
    with pytest.raises(InputError, match="memories"):
        PurifySwapPolicy(ChainEnvConfig(memories=1))


def test_cutoff_matches_sim_chain() -> None:
    """Swap-asap with a cut-off in the env is the cut-off model of qnetai.sim.chain."""
    kw = {"segments": 3, "p_gen": 0.5, "fidelity": 0.95, "t_coh_slots": 10.0, "p_swap": 0.9}
    cfg = ChainEnvConfig(**kw, memories=1, threshold=0.0, max_slots=100_000)
    res = evaluate_policy(cfg, SwapAsapPolicy(cfg, cutoff_slots=2), episodes=800, seed=3)
    ref = simulate_chain(
        segments=3,
        p_gen=0.5,
        attempt_s=1.0,
        fidelity=0.95,
        t_coh_s=10.0,
        p_swap=0.9,
        cutoff_s=2.0,
        samples=200_000,
        rng=np.random.default_rng(0),
    )
    se_t = math.hypot(res.slots.std(ddof=1) / math.sqrt(res.slots.size), ref.sem_waiting_time_s)
    assert abs(res.slots.mean() - ref.mean_waiting_time_s) < 4 * se_t
    fid = res.fidelities
    se_f = math.hypot(fid.std(ddof=1) / math.sqrt(fid.size), ref.sem_fidelity)
    assert abs(fid.mean() - ref.mean_fidelity) < 4 * se_f


def test_huge_cutoff_is_swap_asap() -> None:
    cfg = ChainEnvConfig(segments=3, p_gen=0.5, t_coh_slots=10.0, max_slots=60)
    a = evaluate_policy(cfg, SwapAsapPolicy(cfg), episodes=40, seed=1)
    b = evaluate_policy(cfg, SwapAsapPolicy(cfg, cutoff_slots=10_000), episodes=40, seed=1)
    np.testing.assert_array_equal(a.slots, b.slots)
    np.testing.assert_array_equal(a.fidelities, b.fidelities)


def test_purification_raises_delivered_fidelity() -> None:
    # Low fresh fidelity, no decoherence: purifying first must deliver better pairs.
    cfg = ChainEnvConfig(
        segments=2, p_gen=0.6, fidelity=0.8, t_coh_slots=math.inf, threshold=0.0, max_slots=500
    )
    plain = evaluate_policy(cfg, SwapAsapPolicy(cfg), episodes=150, seed=2).summary()
    pur = evaluate_policy(cfg, PurifySwapPolicy(cfg), episodes=150, seed=2).summary()
    assert pur["fraction_valid"] == 1.0
    assert pur["mean_delivered_fidelity"] > plain["mean_delivered_fidelity"] + 0.05


def test_baselines_only_take_valid_actions() -> None:
    cfg = ChainEnvConfig(segments=4, p_gen=0.6, t_coh_slots=8.0, max_slots=40)
    env = RepeaterChainEnv(cfg)
    for pol in (
        SwapAsapPolicy(cfg, 2),
        NestedPolicy(cfg, 3),
        PurifySwapPolicy(cfg, 3),
    ):
        obs, info = env.reset(seed=4)
        for _ in range(200):
            action = pol.act(env.state, obs, info["action_mask"])
            mask = info["action_mask"].reshape(-1, 2)
            assert mask[np.arange(action.size), action].all(), pol.name
            obs, _, term, trunc, info = env.step(action)
            if term or trunc:
                obs, info = env.reset()


def test_evaluation_summary_fields() -> None:
    cfg = ChainEnvConfig(segments=2, p_gen=0.5, t_coh_slots=10.0, threshold=0.85)
    s = evaluate_policy(cfg, SwapAsapPolicy(cfg, 1), episodes=50, seed=0).summary()
    assert 0 < s["delivery_rate_per_slot"] <= 1
    assert s["delivery_rate_ci95"] > 0
    assert 0 <= s["fraction_valid"] <= 1
    assert s["mean_delivered_fidelity"] >= 0.25
    # Rate = valid deliveries per slot = 1 / mean time to a valid delivery when none truncates.
    if s["truncated"] == 0:
        assert s["delivery_rate_per_slot"] == pytest.approx(1 / s["mean_slots_to_valid"])


@pytest.fixture(scope="module")
def shipped():
    from qnetai.ai.chain_training import load_chain_model

    return load_chain_model("n3-short")


def test_shipped_model_loads_and_runs(shipped) -> None:
    policy, cfg = shipped
    res = evaluate_policy(cfg, policy, episodes=60, seed=99)
    s = res.summary()
    assert s["delivery_rate_per_slot"] > 0.2
    assert s["fraction_valid"] > 0.5
    # decision time per step (target < 10 ms) is measured by benchmarks/bench_chain_policies.py
    assert res.decision_s.size == res.slots.sum() and np.all(res.decision_s >= 0)  # one per slot


def _torch_chain_model(actor, cfg):
    """A MaskablePPO ``MlpPolicy`` whose actor holds ``actor``'s weights (the reference)."""
    pytest.importorskip("torch")
    sb3c = pytest.importorskip("sb3_contrib")
    import torch

    model = sb3c.MaskablePPO(
        "MlpPolicy",
        RepeaterChainEnv(cfg),
        seed=0,
        device="cpu",
        policy_kwargs={"net_arch": [w.shape[1] for w in actor.weights]},
    )
    linears = [m for m in model.policy.mlp_extractor.policy_net if hasattr(m, "weight")]
    with torch.no_grad():
        for lin, w, b in zip(linears, actor.weights, actor.biases, strict=True):
            lin.weight.copy_(torch.as_tensor(w.T))
            lin.bias.copy_(torch.as_tensor(b))
        model.policy.action_net.weight.copy_(torch.as_tensor(actor.out_weight.T))
        model.policy.action_net.bias.copy_(torch.as_tensor(actor.out_bias))
    model.policy.set_training_mode(False)
    return model


def test_numpy_actor_equals_the_torch_policy(shipped) -> None:
    """Greedy decisions and logits of the numpy actor equal MaskablePPO's on many states."""
    policy, cfg = shipped
    model = _torch_chain_model(policy.actor, cfg)
    from qnetai.ai.chain_actor import NumpyChainActor

    assert np.array_equal(NumpyChainActor.from_sb3(model).out_weight, policy.actor.out_weight)
    import torch

    env = RepeaterChainEnv(cfg)
    rng = np.random.default_rng(0)
    splits = np.cumsum(env.action_space.nvec)[:-1]
    obs, info = env.reset(seed=5)
    for t in range(1500):
        mask = info["action_mask"]
        a = policy.act(env.state, obs, mask)
        b, _ = model.predict(obs, action_masks=mask, deterministic=True)
        np.testing.assert_array_equal(a, b)
        if t % 3 == 0:  # random observations and masks as well
            o = rng.random(obs.shape).astype(np.float32)
            m = rng.random(mask.shape) < 0.5
            m[np.concatenate([[0], splits])] = True
            ref, _ = model.predict(o, action_masks=m, deterministic=True)
            np.testing.assert_array_equal(policy.actor.act(o, m), ref)
            with torch.no_grad():
                latent, _ = model.policy.mlp_extractor(torch.as_tensor(o[None]))
                logits = model.policy.action_net(latent)[0].double().numpy()
            np.testing.assert_allclose(policy.logits(o), logits, rtol=1e-5, atol=1e-5)
        if rng.random() < 0.2:  # leave the learned trajectory now and then
            a = np.array([rng.choice(np.flatnonzero(x)) for x in np.split(mask, splits)])
        obs, _, term, trunc, info = env.step(a)
        if term or trunc:
            obs, info = env.reset(seed=int(rng.integers(1 << 30)))


def test_load_unknown_model() -> None:
    from qnetai.ai.chain_training import load_chain_model

    with pytest.raises(InputError, match="shipped chain model"):
        load_chain_model("no-such-model")


def test_bench_rows_smoke(shipped) -> None:
    from qnetai.ai.chain_training import bench_chain_policies

    rows = bench_chain_policies(
        model="n3-short", episodes=10, cutoff_episodes=5, cutoff_candidates=(1, 4)
    )
    names = [r["policy"] for r in rows]
    assert names[0] == "swap-asap" and names[-1].startswith("maskable-ppo")
    assert len(rows) == 7
    assert all("delivery_rate_ci95" in r and "decision_ms_mean" in r for r in rows)
