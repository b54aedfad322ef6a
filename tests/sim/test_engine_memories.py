"""One request model for any number of memories: purification with pooled memories, and
``memories = 1`` vs ``memories > 1`` as one continuous model (same physics, more pairs)."""

import math

import numpy as np
import pytest
from sim_helpers import Simulation, simulate
from test_engine_pool import _pool_invariants

from qnetai.config.models import Scenario
from qnetai.physics import scalar as bf


def link_scenario(m, *, protocol="dejmps", rounds=1, p=0.5, f0=0.9, n_rounds=2000, **link):
    """A zero-delay link A-B of period 1 ms, no decoherence, one request with ``m`` memories."""
    period = 1e-3
    return Scenario.model_validate(
        {
            "nodes": [
                {"name": x, "memory_qubits": 2 * m, "memory": {"t_coh_s": None}} for x in "AB"
            ],
            "links": [
                {
                    "endpoints": ["A", "B"],
                    "length_km": 0.0,
                    "attempt_rate_hz": 1.0 / period,
                    "success_probability": p,
                    "raw_fidelity": f0,
                    **link,
                }
            ],
            "classical": {"processing_delay_s": 0.0},
            "operations": {"purification": {"protocol": protocol, "rounds": rounds}},
            "duration_s": (n_rounds + 0.5) * period,
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "B",
                        "count": 1,
                        "pairs_per_request": 10**6,
                        "min_fidelity": 0.0,
                        "arrival": {"process": "at_once"},
                        "memories": m,
                    }
                ]
            },
        }
    )


@pytest.mark.parametrize("protocol", ["dejmps", "bbpssw"])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_pooled_purification_on_one_link_matches_theory(m, protocol):
    # each of the m processes: two heralds (Geometric(p) rounds each), purify at once (no
    # delay), deliver on success and start over: m * n * p * p_ok / 2 pairs in n rounds
    p, n_rounds, seeds = 0.5, 2000, 6
    s = link_scenario(m, protocol=protocol, p=p, n_rounds=n_rounds)
    counts, tried, failed = [], 0, 0
    for seed in range(seeds):
        sim = Simulation(s, seed=seed).run()
        r = sim.result()
        fresh = sim.links[0].state
        out, p_ok = getattr(bf, protocol)(fresh, fresh, 1.0, 0.0)
        fid = np.asarray(r.deliveries.column("fidelity"))
        np.testing.assert_allclose(fid, out[0], rtol=1e-12)  # the purified state, exactly
        counts.append(r.summary["pairs_delivered"])
        tried += r.summary["purifications"]
        failed += r.summary["purification_failures"]
        assert max(x["peak_memory_used"] for x in r.nodes.to_pylist()) == 2 * m
    # purification outcomes: Binomial(tried, 1 - p_ok)
    assert abs(failed - tried * (1 - p_ok)) < 4 * math.sqrt(tried * p_ok * (1 - p_ok))
    # deliveries: renewal rate (cycle 2/p rounds, success p_ok), 4 standard errors + edge
    counts = np.asarray(counts, float)
    expected = m * n_rounds * p * p_ok / 2
    se = counts.std(ddof=1) / math.sqrt(seeds)
    assert abs(counts.mean() - expected) < 4 * se + m, (counts.mean(), expected, se)


def test_pooled_purification_two_rounds_and_multiplexing_agree_with_one_memory():
    # same physics whatever m: per-pair fidelity and the purification success rate agree
    res = {}
    for m in (1, 3):
        s = link_scenario(m, rounds=2, p=0.3, multiplexing=3, n_rounds=3000)
        fids, tried, failed = [], 0, 0
        for seed in range(4):
            r = simulate(s, seed=seed)
            fids.extend(np.asarray(r.deliveries.column("fidelity")).tolist())
            tried += r.summary["purifications"]
            failed += r.summary["purification_failures"]
        res[m] = (np.asarray(fids), tried, failed)
    (f1, t1, x1), (f3, t3, x3) = res[1], res[3]
    # no decoherence: every delivered pair went through exactly two successful rounds
    np.testing.assert_allclose(f1, f1[0], rtol=1e-12)
    np.testing.assert_allclose(f3, f1[0], rtol=1e-12)
    q1, q3 = x1 / t1, x3 / t3
    se = math.sqrt(q1 * (1 - q1) / t1 + q3 * (1 - q3) / t3)
    assert abs(q1 - q3) < 4 * se
    assert 2.5 * f1.size < f3.size < 3.5 * f1.size  # three processes instead of one


def chain_scenario(m, *, purification=None, t_coh_s=None, cutoff_s=None, p_swap=1.0):
    """A 3-node chain A-B-C of 20 km fibre links, one request with ``m`` memories."""
    ops = {"swap_success_probability": p_swap, "cutoff_s": cutoff_s}
    if purification:
        ops["purification"] = purification
    return Scenario.model_validate(
        {
            "nodes": [
                {"name": x, "memory_qubits": 8 * m, "memory": {"t_coh_s": t_coh_s}} for x in "ABC"
            ],
            "links": [
                {
                    "endpoints": [a, b],
                    "length_km": 20.0,
                    "success_probability": 0.3,
                    "raw_fidelity": 0.95,
                }
                for a, b in ("AB", "BC")
            ],
            "classical": {"processing_delay_s": 1e-5},
            "operations": ops,
            "duration_s": 0.5,
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "C",
                        "count": 1,
                        "pairs_per_request": 10**6,
                        "min_fidelity": 0.0,
                        "arrival": {"process": "at_once"},
                        "memories": m,
                    }
                ]
            },
        }
    )


@pytest.mark.parametrize("purification", [None, {"protocol": "dejmps", "rounds": 1}])
def test_memories_one_to_three_is_one_continuous_model(purification):
    # no decoherence: every delivered pair has the same exact fidelity for every m (the
    # fidelity model does not depend on m); more memories deliver more pairs
    counts = {}
    fid0 = None
    for m in (1, 2, 3):
        c = []
        for seed in range(3):
            sim = Simulation(chain_scenario(m, purification=purification), seed=seed).run()
            r = sim.result()
            fid = np.asarray(r.deliveries.column("fidelity"))
            fid0 = fid[0] if fid0 is None else fid0
            np.testing.assert_allclose(fid, fid0, rtol=1e-12)
            c.append(r.summary["pairs_delivered"])
        counts[m] = np.asarray(c, float)
    fresh = sim.links[0].state
    if purification:
        fresh = bf.dejmps(fresh, fresh, 1.0, 0.0)[0]
    np.testing.assert_allclose(fid0, bf.swap(fresh, fresh, 1.0, 0.0)[0], rtol=1e-12)
    assert counts[1].min() > 0
    assert counts[2].mean() > 1.3 * counts[1].mean()
    assert counts[3].mean() > 1.2 * counts[2].mean()


def test_memories_two_delivers_more_with_decoherence_cutoff_and_failures():
    # with every loss mechanism on, m = 2 keeps the same noise model (mean fidelities agree
    # within 0.01: pooled pairs wait in memory a little differently) and
    # delivers at least as many pairs as m = 1 on every seed
    kw = {"t_coh_s": 5e-3, "cutoff_s": 5e-4, "p_swap": 0.8}
    for seed in range(3):
        r1 = simulate(chain_scenario(1, **kw), seed=seed).summary
        r2 = simulate(chain_scenario(2, **kw), seed=seed).summary
        assert r2["pairs_delivered"] >= r1["pairs_delivered"] > 0
        assert abs(r2["mean_fidelity"] - r1["mean_fidelity"]) < 0.01
        for r in (r1, r2):
            assert r["cutoff_discards"] > 0 and r["swap_failures"] > 0


@pytest.mark.parametrize("policy", ["swap_asap", "nested"])
def test_pooled_purification_conserves_pairs_and_returns_memory(policy, busy_network):
    sim = Simulation(
        busy_network(
            memory_qubits=12,
            requests=50,
            pairs=4,
            memories=2,
            swapping_policy=policy,
            purification={"protocol": "dejmps", "rounds": 1},
        ),
        seed=2,
    )
    for t in np.linspace(0.01, 0.6, 20):
        sim.run(t)
        _pool_invariants(sim)
        assert all(0 <= f <= c for f, c in zip(sim.free, sim.capacity, strict=True))
    r = sim.result()
    assert sim.free == sim.capacity and sim.tel.mem_used == [0] * len(sim.node_names)
    assert not sim.reservations
    links = r.links.to_pandas()
    np.testing.assert_array_equal(
        links.pairs_generated, links.pairs_consumed + links.pairs_discarded
    )
    assert r.summary["purifications"] > r.summary["purification_failures"] > 0
    assert r.summary["pairs_delivered"] > 0
    assert sim.pairs_delivered == r.summary["pairs_delivered"]
    nodes = r.nodes.to_pandas()
    assert (nodes.peak_memory_used <= nodes.memory_qubits).all()
