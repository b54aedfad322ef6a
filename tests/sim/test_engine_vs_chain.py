"""The event engine configured to the abstract repeater-chain model agrees with qnetai.sim.chain."""

import numpy as np
import pytest
from sim_helpers import Simulation

from qnetai.config.models import Scenario
from qnetai.sim.chain import exact_mean_fidelity, exact_mean_waiting_time_s, simulate_chain


def chain_scenario(
    n, p, attempt_s, fidelity, t_coh_s, *, p_swap=1.0, cutoff_s=None, pairs=2000, policy="swap_asap"
):
    nodes = [{"name": f"n{i}", "memory": {"t_coh_s": t_coh_s}} for i in range(n + 1)]
    links = [
        {
            "endpoints": [f"n{i}", f"n{i + 1}"],
            "length_km": 0.0,
            "attempt_rate_hz": 1.0 / attempt_s,
            "success_probability": p,
            "raw_fidelity": fidelity,
        }
        for i in range(n)
    ]
    return Scenario.model_validate(
        {
            "nodes": nodes,
            "links": links,
            "duration_s": 1e9,
            "operations": {
                "swap_success_probability": p_swap,
                "cutoff_s": cutoff_s,
                "swapping_policy": policy,
            },
            "classical": {"processing_delay_s": 0.0},
            "traffic": {
                "requests": [
                    {
                        "source": "n0",
                        "destination": f"n{n}",
                        "count": 1,
                        "pairs_per_request": pairs,
                        "min_fidelity": 0.0,
                        "arrival": {"process": "at_once"},
                    }
                ]
            },
        }
    )


def per_pair_samples(scenario, seed):
    """Waiting time of each successive pair of the one request (memories restart at delivery)."""
    r = Simulation(scenario, seed=seed).run().result()
    t = np.asarray(r.deliveries.column("time_s"))
    f = np.asarray(r.deliveries.column("fidelity"))
    assert r.summary["requests_served"] == 1
    return np.diff(np.concatenate([[0.0], t])), f


def _sem(x):
    return x.std(ddof=1) / np.sqrt(x.size)


@pytest.mark.parametrize("policy", ["swap_asap", "nested"])
def test_exact_means_without_swap_failures(policy):
    n, p, a, f0, c = 4, 0.3, 1e-3, 0.95, 0.05
    w, f = per_pair_samples(chain_scenario(n, p, a, f0, c, pairs=3000, policy=policy), seed=1)
    # synchronised rounds: every pair arrives a whole number of rounds after the previous one
    np.testing.assert_allclose(w / a, np.round(w / a), atol=1e-6)
    assert abs(w.mean() - exact_mean_waiting_time_s(n, p, a)) < 4 * _sem(w)
    if policy == "swap_asap":
        assert abs(f.mean() - exact_mean_fidelity(n, p, a, f0, c)) < 4 * _sem(f)
    else:  # nested swapping stores unswapped pairs longer: lower fidelity, same waiting time
        assert f.mean() < exact_mean_fidelity(n, p, a, f0, c)


@pytest.mark.parametrize(
    "n,p,p_swap,cutoff_rounds",
    [(3, 0.4, 0.7, 3), (4, 0.25, 0.8, 5), (2, 0.5, 0.6, None)],
)
def test_matches_chain_with_swap_failures_and_cutoff(n, p, p_swap, cutoff_rounds):
    a, f0, c = 1e-3, 0.95, 0.05
    cutoff = None if cutoff_rounds is None else cutoff_rounds * a
    w, f = per_pair_samples(
        chain_scenario(n, p, a, f0, c, p_swap=p_swap, cutoff_s=cutoff, pairs=2500), seed=7
    )
    ch = simulate_chain(
        segments=n,
        p_gen=p,
        attempt_s=a,
        fidelity=f0,
        t_coh_s=c,
        p_swap=p_swap,
        cutoff_s=cutoff,
        samples=100_000,
        rng=np.random.default_rng(3),
    )
    assert abs(w.mean() - ch.mean_waiting_time_s) < 4 * np.hypot(_sem(w), ch.sem_waiting_time_s)
    assert abs(f.mean() - ch.mean_fidelity) < 4 * np.hypot(_sem(f), ch.sem_fidelity)
