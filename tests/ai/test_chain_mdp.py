"""The exact two-segment chain MDP against closed forms, hand solutions and Monte Carlo."""

import math

import numpy as np
import pytest

from qnetai.ai.chain_env import ChainEnvConfig
from qnetai.ai.chain_mdp import DISCARD0, SWAP, WAIT, ChainMDP, MDPPolicy
from qnetai.ai.chain_policies import SwapAsapPolicy, evaluate_policy
from qnetai.errors import InputError
from qnetai.sim.chain import exact_mean_fidelity, summarise_chain

Z999 = 3.2905  # two-sided 99.9 % normal quantile


def _cfg(**kw):
    base = {"segments": 2, "memories": 1, "fidelity": 0.95, "max_slots": 5000}
    return ChainEnvConfig(**{**base, **kw})


def test_cutoff_one_matches_a_hand_solved_three_state_system():
    p, q = 0.3, 0.7
    # States after generation: EE, (age 0, E), (age 1, E); symmetric in the segments.
    a = np.array([[1 - q * q, -2 * p * q, 0], [0, 1, -q], [-q * q, -2 * p * q, 1]])
    v = np.linalg.solve(a, [1 + p * p, 1 + p, 1 + p * p])
    hand = p * p + 2 * p * q * v[1] + q * q * v[0]
    mdp = ChainMDP(_cfg(p_gen=p, t_coh_slots=10.0, threshold=0.0), max_age=20)
    assert mdp.evaluate(mdp.cutoff_policy(1)).mean_slots == pytest.approx(hand, rel=1e-12)


def test_closed_forms_of_swap_asap_and_cutoff_zero_on_unequal_links():
    p0, p1 = 0.4, 0.15
    mdp = ChainMDP(_cfg(p_gen_segments=(p0, p1), threshold=0.0), max_age=200)
    # No cut-off: E[max(K0, K1)] of independent geometrics.
    e_max = 1 / p0 + 1 / p1 - 1 / (1 - (1 - p0) * (1 - p1))
    assert mdp.evaluate(mdp.swap_asap_policy()).mean_slots == pytest.approx(e_max, rel=1e-9)
    # Cut-off 0: both links must appear in the same slot.
    assert mdp.evaluate(mdp.cutoff_policy(0)).mean_slots == pytest.approx(1 / (p0 * p1), rel=1e-9)


def test_swap_asap_fidelity_equals_the_chain_closed_form():
    cfg = _cfg(p_gen=0.35, t_coh_slots=8.0, threshold=0.0)
    mdp = ChainMDP(cfg, max_age=300)  # exp(-300/8): lumping the oldest ages is negligible
    val = mdp.evaluate(mdp.swap_asap_policy())
    assert val.mean_fidelity == pytest.approx(exact_mean_fidelity(2, 0.35, 1.0, 0.95, 8.0), 1e-9)


@pytest.mark.parametrize("cut", [2, 5])
def test_cutoff_policy_matches_the_batched_chain_monte_carlo(cut):
    mdp = ChainMDP(_cfg(p_gen=0.3, t_coh_slots=10.0, threshold=0.0), max_age=40)
    val = mdp.evaluate(mdp.cutoff_policy(cut))
    s = summarise_chain(
        segments=2,
        p_gen=0.3,
        attempt_s=1.0,
        fidelity=0.95,
        t_coh_s=10.0,
        cutoff_s=float(cut),
        samples=200_000,
        rng=np.random.default_rng(7),
    )
    assert abs(s.mean_waiting_time_s - val.mean_slots) < Z999 * s.sem_waiting_time_s
    assert abs(s.mean_fidelity - val.mean_fidelity) < Z999 * s.sem_fidelity


def test_heterogeneous_threshold_values_match_the_env_monte_carlo():
    cfg = _cfg(p_gen_segments=(0.6, 0.3), t_coh_slots_nodes=(4.0, 40.0, 40.0), threshold=0.85)
    mdp = ChainMDP(cfg)
    assert mdp.lumping_exact
    for pol in (mdp.cutoff_policy(3), mdp.solve().table):
        val = mdp.evaluate(pol)
        r = evaluate_policy(cfg, MDPPolicy(mdp, pol), episodes=300, seed=11).summary()
        assert r["truncated"] == 0
        assert abs(r["mean_slots_to_valid"] - val.mean_slots) < Z999 / 1.96 * r["mean_slots_ci95"]


def test_mdp_cutoff_policy_acts_like_the_env_baseline():
    cfg = _cfg(p_gen_segments=(0.5, 0.2), t_coh_slots_nodes=(4.0, 40.0, 40.0), threshold=0.85)
    mdp = ChainMDP(cfg)
    a = evaluate_policy(cfg, MDPPolicy(mdp, mdp.cutoff_policy(3)), episodes=40, seed=3)
    b = evaluate_policy(cfg, SwapAsapPolicy(cfg, 3), episodes=40, seed=3)
    assert a.slots.tolist() == b.slots.tolist()
    assert np.array_equal(a.fidelities, b.fidelities)


def test_solve_satisfies_bellman_and_beats_every_single_cutoff():
    cfg = _cfg(p_gen_segments=(0.2, 0.05), t_coh_slots_nodes=(10.0, 50.0, 50.0), threshold=0.85)
    mdp = ChainMDP(cfg)
    opt = mdp.solve()
    v = opt.value.values
    q = mdp.q_values(v)
    assert np.allclose(q.min(axis=2), v, rtol=1e-9)
    for c in range(mdp.max_age + 1):
        assert opt.value.mean_slots <= mdp.evaluate(mdp.cutoff_policy(c)).mean_slots + 1e-9
    # The optimum here is a per-segment cut-off policy: exact values agree.
    assert opt.value.mean_slots == pytest.approx(
        mdp.evaluate(mdp.cutoff_policy((1, 4))).mean_slots, rel=1e-9
    )


def test_mdp_policy_maps_env_states_and_rejects_bad_input():
    cfg = _cfg(p_gen=1.0, t_coh_slots=10.0, threshold=0.0)
    mdp = ChainMDP(cfg, max_age=5)
    table = np.full((mdp.n, mdp.n), WAIT)
    table[1:, 1:] = SWAP
    pol = MDPPolicy(mdp, table)
    from qnetai.ai.chain_env import RepeaterChainEnv

    env = RepeaterChainEnv(cfg)
    env.reset(seed=0)
    assert pol.index(env.state) == (1, 1)
    assert pol.act(env.state, None, None).tolist() == [1, 0, 0]
    with pytest.raises(InputError, match="segments=2"):
        ChainMDP(_cfg(segments=3))
    with pytest.raises(InputError, match="shape"):
        mdp.evaluate(np.zeros((2, 2)))
    bad = table.copy()
    bad[0, 0] = DISCARD0
    with pytest.raises(InputError, match=r"policy\[0, 0\]"):
        mdp.evaluate(bad)
    never = np.full((mdp.n, mdp.n), WAIT)
    with pytest.raises(InputError, match="never delivers"):
        mdp.evaluate(never)
    assert math.isclose(mdp.evaluate(table).mean_slots, 1.0)
