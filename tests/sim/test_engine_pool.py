"""Requests with pooled memories (``memories > 1``): rates, physics, bookkeeping, contention."""

import itertools
import math
from collections import deque

import numpy as np
import pytest
from sim_helpers import Simulation, simulate

from qnetai.config.models import Scenario
from qnetai.errors import InputError


def scenario(nodes, links, requests, **extra):
    d = {
        "nodes": [n if isinstance(n, dict) else {"name": n} for n in nodes],
        "links": links,
        "traffic": {"requests": requests},
    }
    d.update(extra)
    return Scenario.model_validate(d)


def request(src, dst, memories, pairs=10**6, **kw):
    return {
        "source": src,
        "destination": dst,
        "count": 1,
        "pairs_per_request": pairs,
        "min_fidelity": kw.pop("min_fidelity", 0.0),
        "arrival": {"process": "at_once"},
        "memories": memories,
        **kw,
    }


def zero_length_link(a, b, p, period, **kw):
    return {
        "endpoints": [a, b],
        "length_km": 0.0,
        "attempt_rate_hz": 1.0 / period,
        "success_probability": p,
        **kw,
    }


@pytest.mark.parametrize("m,mux", [(1, 1), (4, 1), (3, 2)])
def test_single_link_rate_is_m_times_the_one_memory_rate(m, mux):
    # every memory attempts every round and restarts at once after a delivery, so the
    # deliveries in n rounds are Binomial(m n, q) with q = 1 - (1 - p)^mux per round:
    # renewal rate m q / period, m times the one-memory rate
    p, period, n = 0.1, 1e-3, 2000
    s = scenario(
        ["A", "B"],
        [zero_length_link("A", "B", p, period, multiplexing=mux)],
        [request("A", "B", m)],
        duration_s=(n + 0.5) * period,
    )
    r = simulate(s, seed=m + 10 * mux)
    q = 1 - (1 - p) ** mux
    got = r.summary["pairs_delivered"]
    assert abs(got - m * n * q) < 4 * math.sqrt(m * n * q * (1 - q))
    link = r.links.to_pylist()[0]
    assert link["pairs_generated"] == link["pairs_consumed"] == got
    d = r.deliveries.to_pandas()
    np.testing.assert_allclose(d.latency_s, d.time_s)  # arrival at t = 0
    rounds = d.time_s / period
    np.testing.assert_allclose(rounds, np.round(rounds), atol=1e-6)
    assert np.bincount(np.round(rounds).astype(int)).max() <= m  # at most m per round
    assert max(x["peak_memory_used"] for x in r.nodes.to_pylist()) == m


def mc_two_segments(m, p, f0, t_coh_rounds, n_rounds, p_swap, cutoff_rounds, rng):
    """Independent time-stepped Monte Carlo of a 2-segment chain with m memories per side.

    Each round, every idle memory pair of each link attempts (success p); new pairs join the
    middle node's left/right queues; the middle node swaps oldest-left with oldest-right
    while both are non-empty (zero classical delay: the end-to-end pair is delivered at
    once); then pairs aged >= cutoff are dropped. Freed memories attempt from the next round.
    Returns (deliveries, fidelities).
    """
    w0 = (4 * f0 - 1) / 3
    left, right = deque(), deque()
    idle = [m, m]
    fids = []
    for r in range(1, n_rounds + 1):
        k0 = int((rng.random(idle[0]) < p).sum())
        k1 = int((rng.random(idle[1]) < p).sum())
        idle[0] -= k0
        idle[1] -= k1
        left.extend([r] * k0)
        right.extend([r] * k1)
        while left and right:
            g0, g1 = left.popleft(), right.popleft()
            idle[0] += 1
            idle[1] += 1
            if p_swap >= 1 or rng.random() < p_swap:
                w = w0 * w0 * math.exp(-(2 * r - g0 - g1) / t_coh_rounds)
                fids.append((3 * w + 1) / 4)
        if cutoff_rounds is not None:
            for side, q in enumerate((left, right)):
                while q and r - q[0] >= cutoff_rounds:
                    q.popleft()
                    idle[side] += 1
    return len(fids), np.asarray(fids)


@pytest.mark.parametrize(
    "m,p,p_swap,cutoff_rounds",
    [(3, 0.3, 1.0, None), (4, 0.2, 0.7, None), (3, 0.25, 1.0, 3)],
)
def test_two_segment_chain_matches_independent_monte_carlo(m, p, p_swap, cutoff_rounds):
    period, f0, t_coh_rounds, n_rounds, reps = 1e-3, 0.95, 20.0, 1500, 12
    s = scenario(
        [{"name": x, "memory": {"t_coh_s": t_coh_rounds * period}} for x in "ABC"],
        [zero_length_link(a, b, p, period, raw_fidelity=f0) for a, b in ("AB", "BC")],
        [request("A", "C", m)],
        operations={
            "swap_success_probability": p_swap,
            "cutoff_s": None if cutoff_rounds is None else cutoff_rounds * period,
        },
        classical={"processing_delay_s": 0.0},
        duration_s=(n_rounds + 0.5) * period,
    )
    eng_n, eng_f = [], []
    for seed in range(reps):
        sim = Simulation(s, seed=seed).run()
        r = sim.result()
        eng_n.append(r.summary["pairs_delivered"])
        eng_f.append(r.summary["mean_fidelity"])
        # the request is still active: its stored pairs are neither consumed nor discarded
        (res,) = sim.reservations
        held = {id(x): x for store in (*res.left, *res.right) for x in store if not x.dead}
        stored = np.bincount([i for x in held.values() for i in x.parts], minlength=2)
        links = r.links.to_pandas()
        np.testing.assert_array_equal(
            links.pairs_generated, links.pairs_consumed + links.pairs_discarded + stored
        )
    rng = np.random.default_rng(123)
    mc = [
        mc_two_segments(m, p, f0, t_coh_rounds, n_rounds, p_swap, cutoff_rounds, rng)
        for _ in range(reps)
    ]
    mc_n = [x[0] for x in mc]
    mc_f = [x[1].mean() for x in mc]

    def check(a, b):
        a, b = np.asarray(a, float), np.asarray(b, float)
        se = math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std(ddof=1) / math.sqrt(b.size))
        assert abs(a.mean() - b.mean()) < 4 * se, (a.mean(), b.mean(), se)

    check(eng_n, mc_n)
    check(eng_f, mc_f)
    # pooling matters: well above one pair in flight (one delivery per max of two geometrics)
    assert np.mean(eng_n) > 1.5 * n_rounds / (2 / p - 1 / (1 - (1 - p) ** 2))


def test_two_hops_with_classical_delays_exact():
    c, length, proc, f0, m = 1e-3, 20.0, 1e-5, 0.95, 3
    s = scenario(
        [{"name": x, "memory": {"t_coh_s": c}} for x in "ABC"],
        [
            {
                "endpoints": [a, b],
                "length_km": length,
                "success_probability": 1.0,
                "raw_fidelity": f0,
            }
            for a, b in ("AB", "BC")
        ],
        [request("A", "C", m, pairs=5 * m)],
        classical={"processing_delay_s": proc},
    )
    r = simulate(s, seed=0)
    rtt = length / 2e5
    cycle = rtt + rtt + proc  # as for one memory: the end memories wait for the swap news
    t = np.asarray(r.deliveries.column("time_s"))
    np.testing.assert_allclose(t, np.repeat(cycle * np.arange(1, 6), m), rtol=1e-12)
    w0 = (4 * f0 - 1) / 3
    w = w0**2 * math.exp(-2 * rtt / c) * math.exp(-(rtt + proc) / c)
    np.testing.assert_allclose(
        np.asarray(r.deliveries.column("fidelity")), (3 * w + 1) / 4, rtol=1e-12
    )
    assert r.requests.to_pylist()[0]["status"] == "served"
    peaks = {x["node"]: x["peak_memory_used"] for x in r.nodes.to_pylist()}
    assert peaks == {"A": m, "B": 2 * m, "C": m}


@pytest.mark.parametrize("policy", ["swap_asap", "nested"])
def test_four_hop_fidelity_exact_without_decoherence(policy):
    f0, names = 0.9, [f"n{i}" for i in range(5)]
    s = scenario(
        [{"name": n, "memory": {"t_coh_s": None}} for n in names],
        [
            {"endpoints": [a, b], "length_km": 10.0, "success_probability": 0.4, "raw_fidelity": f0}
            for a, b in itertools.pairwise(names)
        ],
        [request("n0", "n4", 3, pairs=300)],
        operations={"swapping_policy": policy},
        duration_s=10.0,
    )
    r = simulate(s, seed=1)
    w0 = (4 * f0 - 1) / 3
    fid = np.asarray(r.deliveries.column("fidelity"))
    assert fid.size == 300
    np.testing.assert_allclose(fid, (3 * w0**4 + 1) / 4, rtol=1e-12)
    assert r.summary["swaps"] >= 3 * 300  # more: swaps of pairs in flight when it was served
    links = r.links.to_pandas()
    assert (links.pairs_consumed == 300).all()
    assert (links.pairs_generated == links.pairs_consumed + links.pairs_discarded).all()


def _pool_invariants(sim):
    for res in sim.reservations:
        m = res.req.mem
        if not res.live or m == 1:
            continue
        for s in range(res.route.hops):
            held_a = sum(1 for x in res.right[s] if x.stored)
            held_b = sum(1 for x in res.left[s + 1] if x.stored)
            assert held_a == len(res.right[s]) and held_b == len(res.left[s + 1])
            assert 0 <= res.free_a[s] and held_a + res.free_a[s] <= m
            assert 0 <= res.free_b[s] and held_b + res.free_b[s] <= m
            # a running process holds one memory at each end of its link
            assert m - held_a - res.free_a[s] == m - held_b - res.free_b[s]


@pytest.mark.parametrize("policy", ["swap_asap", "nested"])
def test_conservation_and_memory_returned(policy, busy_network):
    sim = Simulation(
        busy_network(memory_qubits=8, requests=60, pairs=6, memories=2, swapping_policy=policy),
        seed=1,
    )
    for t in np.linspace(0.01, 0.6, 25):
        sim.run(t)
        _pool_invariants(sim)
        assert all(0 <= f <= c for f, c in zip(sim.free, sim.capacity, strict=True))
    r = sim.result()
    req = r.requests.to_pandas()
    assert set(req.status) <= {"served", "expired", "unserved"}
    assert sim.tel.mem_used == [0] * len(sim.node_names)
    assert sim.free == sim.capacity
    links = r.links.to_pandas()
    np.testing.assert_array_equal(
        links.pairs_generated, links.pairs_consumed + links.pairs_discarded
    )
    assert links.pairs_consumed.sum() >= r.summary["pairs_delivered"] > 0
    d = r.deliveries.to_pandas()
    assert (d.fidelity >= 0.6).all() and (d.fidelity <= 1).all()
    assert (d.latency_s >= 0).all()
    nodes = r.nodes.to_pandas()
    assert (nodes.peak_memory_used <= nodes.memory_qubits).all()
    assert ((nodes.mean_memory_utilisation >= 0) & (nodes.mean_memory_utilisation <= 1)).all()
    served = req[req.status == "served"]
    assert ((served.served_s - served.arrival_s) <= 0.1 + 1e-12).all()
    assert r.summary["swap_failures"] > 0 and r.summary["cutoff_discards"] > 0
    assert req.pairs_delivered.sum() == r.deliveries.num_rows


def test_contention_queues_requests_with_several_memories():
    s = scenario(
        ["A", {"name": "B", "memory_qubits": 5}, "C", "D"],
        [zero_length_link(a, b, 0.1, 1e-3) for a, b in ("AB", "CB", "BD")],
        [
            request("A", "B", 3, pairs=20),
            request("C", "B", 3, pairs=20),
            request("A", "B", 6, pairs=1),
            request("A", "D", 3, pairs=1),
            request("A", "D", 2, pairs=20),
        ],
        duration_s=10.0,
    )
    r = simulate(s, seed=3)
    req = r.requests.to_pylist()
    # 6 > 5 qubits at B as an end node, 2 * 3 = 6 > 5 as an intermediate node: never
    assert [x["status"] for x in req] == ["served", "served", "unserved", "unserved", "served"]
    d = r.deliveries.to_pandas()
    # request 1 (3 qubits at B) waits for request 0 (3 of B's 5), request 4 (4) for request 1
    assert d[d.request_id == 1].time_s.min() > req[0]["served_s"]
    assert d[d.request_id == 0].time_s.max() == req[0]["served_s"]
    assert d[d.request_id == 4].time_s.min() > req[1]["served_s"]
    nodes = {x["node"]: x for x in r.nodes.to_pylist()}
    assert nodes["B"]["peak_memory_used"] == 4
    assert nodes["D"]["peak_memory_used"] == 2
    used = 3 * req[1]["served_s"] + 4 * (req[4]["served_s"] - req[1]["served_s"])
    assert nodes["B"]["mean_memory_utilisation"] == pytest.approx(used / (5 * 10.0))


def _wax(seed=0, memories=3):
    return Scenario.model_validate(
        {
            "seed": seed,
            "duration_s": 0.2,
            "topology": {
                "builder": "waxman",
                "nodes": 30,
                "area_km": 60.0,
                "end_user_fraction": 0.4,
                "seed": 5,
            },
            "operations": {"swap_success_probability": 0.9, "cutoff_s": 0.02},
            "traffic": {
                "random": {
                    "count": 40,
                    "rate_hz": 400.0,
                    "pairs_per_request": 4,
                    "timeout_s": 0.05,
                    "memories": memories,
                }
            },
        }
    )


def test_determinism():
    a = simulate(_wax(), seed=4)
    b = simulate(_wax(), seed=4)
    c = simulate(_wax(), seed=5)
    for name in ("requests", "deliveries", "links", "nodes", "timeseries"):
        assert getattr(a, name).to_pandas().equals(getattr(b, name).to_pandas()), name
    assert not a.deliveries.equals(c.deliveries)
    assert a.summary["pairs_delivered"] > 0


def test_bad_memories():
    base = {
        "nodes": [{"name": "A", "kind": "end_user"}, {"name": "B", "kind": "end_user"}],
        "links": [{"endpoints": ["A", "B"], "length_km": 1.0}],
    }
    sim2 = Simulation(Scenario.model_validate(base))
    with pytest.raises(InputError, match="memories"):
        sim2.submit("A", "B", memories=0)
    rid = sim2.submit("A", "B", memories=4, pairs=8)
    sim2.run(1.0)
    res = sim2.result()
    assert res.requests.to_pylist()[rid]["status"] == "served"
    assert max(x["peak_memory_used"] for x in res.nodes.to_pylist()) == 4
    with pytest.raises(ValueError, match="memories"):
        Scenario.model_validate({**base, "traffic": {"requests": [request("A", "B", 0)]}})


def test_below_min_fidelity_and_cutoff_at_herald_restart_the_memories():
    s = scenario(
        ["A", "B"],
        [zero_length_link("A", "B", 0.5, 1e-3, raw_fidelity=0.8)],
        [request("A", "B", 3, min_fidelity=0.9, timeout_s=0.05)],
        duration_s=0.2,
    )
    r = simulate(s, seed=1)
    link = r.links.to_pylist()[0]
    assert r.requests.to_pylist()[0]["status"] == "expired"
    assert r.summary["pairs_below_min_fidelity"] == link["pairs_discarded"]
    assert link["pairs_generated"] == link["pairs_discarded"]
    assert abs(link["pairs_generated"] - 3 * 50 * 0.5) < 4 * math.sqrt(3 * 50 * 0.25)
    # a cut-off shorter than the heralding round trip: every pair is too old on arrival
    s = scenario(
        ["A", "B", "C"],
        [
            {"endpoints": [a, b], "length_km": 20.0, "success_probability": 0.5}
            for a, b in ("AB", "BC")
        ],
        [request("A", "C", 2, timeout_s=0.01)],
        operations={"cutoff_s": 5e-5},
        duration_s=0.02,
    )
    sim = Simulation(s, seed=2).run()
    r = sim.result()
    links = r.links.to_pandas()
    assert r.summary["pairs_delivered"] == 0
    assert (links.pairs_generated == links.pairs_discarded).all()
    assert r.summary["cutoff_discards"] == links.pairs_generated.sum() > 0
    assert sim.free == sim.capacity
