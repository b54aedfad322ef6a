"""Tests of the repeater-chain environment (qnetai.ai.chain_env)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env

from qnetai import physics
from qnetai.ai.chain_env import (
    BELL,
    ENV_ID,
    NCOL,
    PUR,
    ChainEnvConfig,
    ChainState,
    RepeaterChainEnv,
    action_mask,
    action_nvec,
    register_envs,
    step_state,
)
from qnetai.ai.chain_policies import SwapAsapPolicy, evaluate_policy
from qnetai.errors import InputError
from qnetai.sim.chain import exact_mean_fidelity, exact_mean_waiting_time_s


def _random_masked(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    m = mask.reshape(-1, 2)
    return np.where(m[:, 1], rng.integers(0, 2, m.shape[0]), 0)


@pytest.mark.parametrize("memories", [1, 2])
def test_check_env(memories: int) -> None:
    env = RepeaterChainEnv(ChainEnvConfig(segments=3, memories=memories, max_slots=30))
    check_env(env.unwrapped, skip_render_check=True)


def test_registered_and_made() -> None:
    gymnasium = pytest.importorskip("gymnasium")
    register_envs()
    register_envs()  # idempotent
    env = gymnasium.make(ENV_ID, segments=2, p_gen=0.4)
    obs, info = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    assert info["action_mask"].shape == (2 * int(action_nvec(env.unwrapped.config).size),)


def test_config_validation() -> None:
    with pytest.raises(InputError, match="p_gen"):
        ChainEnvConfig(p_gen=1.5)
    with pytest.raises(InputError, match="purification"):
        ChainEnvConfig(purification="x")
    with pytest.raises(InputError, match="unknown"):
        ChainEnvConfig.from_dict({"segmentz": 3})
    cfg = ChainEnvConfig(segments=4)
    assert ChainEnvConfig.from_dict(cfg.to_dict()) == cfg


def _rollout(seed: int, steps: int = 300) -> list[tuple]:
    env = RepeaterChainEnv(ChainEnvConfig(segments=4, p_gen=0.4, t_coh_slots=8.0, p_swap=0.8))
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    trace = [(obs.tobytes(),)]
    for _ in range(steps):
        action = _random_masked(rng, info["action_mask"])
        obs, r, term, trunc, info = env.step(action)
        trace.append((obs.tobytes(), r, term, trunc, info["deliveries"]))
        if term or trunc:
            obs, info = env.reset()
            trace.append((obs.tobytes(),))
    return trace


def test_seeded_rollouts_repeat_exactly() -> None:
    assert _rollout(7) == _rollout(7)
    assert _rollout(7) != _rollout(8)


def test_step_state_is_pure() -> None:
    cfg = ChainEnvConfig(segments=3)
    env = RepeaterChainEnv(cfg)
    env.reset(seed=1)
    state = env.state
    before = state.pairs.copy()
    a = step_state(cfg, state, np.ones(action_nvec(cfg).size), np.random.default_rng(0))
    b = step_state(cfg, state, np.ones(action_nvec(cfg).size), np.random.default_rng(0))
    np.testing.assert_array_equal(state.pairs, before)
    np.testing.assert_array_equal(a[0].pairs, b[0].pairs)


def _pair(lo: int, hi: int, fid: float, age: float = 0.0) -> np.ndarray:
    row = np.zeros(NCOL)
    row[0], row[1] = lo, hi
    row[BELL] = physics.werner(fid)
    row[6] = age
    return row


def test_masks_exclude_invalid_actions() -> None:
    cfg = ChainEnvConfig(segments=3, memories=2)
    # Segment 0: two links; segment 2: one link; node 1 lacks a right pair, node 2 a left one.
    pairs = np.array([_pair(0, 1, 0.9), _pair(0, 1, 0.8), _pair(2, 3, 0.9)])
    mask = action_mask(cfg, ChainState(1, pairs)).reshape(-1, 2)
    assert mask[:, 0].all()  # "no" is always valid
    swaps, discards, purify = mask[:2, 1], mask[2:8, 1], mask[8:, 1]
    assert not swaps.any()
    assert discards.tolist() == [True, True, False, False, True, False]
    assert purify.tolist() == [True, False, False]
    # Adding segment 1 makes both swaps valid.
    pairs = np.concatenate([pairs, _pair(1, 2, 0.9)[None]])
    mask = action_mask(cfg, ChainState(1, pairs[np.lexsort((-pairs[:, 2], pairs[:, 0]))]))
    assert mask.reshape(-1, 2)[:2, 1].all()
    # Random masked play never raises and always keeps at most `memories` pairs per segment.
    env = RepeaterChainEnv(ChainEnvConfig(segments=4, memories=2, p_gen=0.7, max_slots=50))
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    for _ in range(500):
        _, _, term, trunc, info = env.step(_random_masked(rng, info["action_mask"]))
        cover = np.zeros(4)
        for lo, hi in env.state.pairs[:, :2].astype(int):
            cover[lo:hi] += 1
        assert cover.max() <= 2
        if term or trunc:
            _, info = env.reset()


@pytest.mark.parametrize("method", ["bbpssw", "dejmps"])
def test_purification_matches_physics(method: str) -> None:
    cfg = ChainEnvConfig(segments=2, memories=2, purification=method, t_coh_slots=math.inf)
    p1 = physics.werner(0.9)
    p2 = np.array([0.8, 0.1, 0.06, 0.04])
    a, b = _pair(0, 1, 0.9), _pair(0, 1, 0.8)
    b[BELL] = p2
    state = ChainState(1, np.array([a, b]))
    op = physics.bbpssw if method == "bbpssw" else physics.dejmps
    expected, p_ok = op(p1, p2)
    action = np.zeros(action_nvec(cfg).size, dtype=int)
    action[-2] = 1  # purify segment 0
    rng = np.random.default_rng(5)
    successes, trials = 0, 1500
    for _ in range(trials):
        nxt, _ = step_state(cfg, state, action, rng)
        left = nxt.pairs[nxt.pairs[:, 0] == 0]
        purified = left[left[:, PUR] == 1]
        if purified.shape[0]:
            successes += 1
            np.testing.assert_allclose(purified[0, BELL], expected, atol=1e-12)
    se = math.sqrt(p_ok * (1 - p_ok) / trials)
    assert abs(successes / trials - float(p_ok)) < 4 * se


@pytest.mark.parametrize("segments,p_gen,t_coh", [(3, 0.4, 10.0), (4, 0.5, 6.0)])
def test_swap_asap_matches_exact_chain(segments: int, p_gen: float, t_coh: float) -> None:
    cfg = ChainEnvConfig(
        segments=segments,
        p_gen=p_gen,
        fidelity=0.95,
        t_coh_slots=t_coh,
        memories=1,
        threshold=0.0,
        max_slots=10_000,
    )
    res = evaluate_policy(cfg, SwapAsapPolicy(cfg), episodes=1500, seed=11)
    assert res.valid.all() and (res.deliveries == 1).all()
    t_exact = exact_mean_waiting_time_s(segments, p_gen, 1.0)
    se_t = res.slots.std(ddof=1) / math.sqrt(res.slots.size)
    assert abs(res.slots.mean() - t_exact) < 4 * se_t
    f_exact = exact_mean_fidelity(segments, p_gen, 1.0, 0.95, t_coh)
    se_f = res.fidelities.std(ddof=1) / math.sqrt(res.fidelities.size)
    assert abs(res.fidelities.mean() - f_exact) < 4 * se_f


def test_threshold_and_rewards() -> None:
    # p_gen = 1, no decoherence: a 2-segment chain delivers at slot 1 with F = swap(F0, F0).
    cfg = ChainEnvConfig(segments=2, p_gen=1.0, t_coh_slots=math.inf, memories=1, threshold=0.9)
    env = RepeaterChainEnv(cfg)
    env.reset(seed=0)
    _, r, term, _, info = env.step([1, 0, 0])
    f = float(physics.swap(physics.werner(0.95), physics.werner(0.95))[0])
    assert info["delivered_fidelity"] == pytest.approx(f) and f >= 0.9
    assert term and r == -1 + cfg.delivery_bonus
    # Above the delivered fidelity: counted, no reward, the episode goes on.
    cfg = ChainEnvConfig(segments=2, p_gen=1.0, t_coh_slots=math.inf, memories=1, threshold=0.95)
    env = RepeaterChainEnv(cfg)
    env.reset(seed=0)
    _, r, term, trunc, info = env.step([1, 0, 0])
    assert info["deliveries"] == 1 and info["valid_deliveries"] == 0
    assert not term and not trunc and r == -1.0


def test_truncation_at_slot_limit() -> None:
    cfg = ChainEnvConfig(segments=2, p_gen=0.5, max_slots=5)
    env = RepeaterChainEnv(cfg)
    env.reset(seed=0)
    for k in range(5):
        _, _, term, trunc, _ = env.step(np.zeros(action_nvec(cfg).size, dtype=int))
        assert not term and trunc == (k == 4)
