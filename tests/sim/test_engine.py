import itertools
import math

import numpy as np
import pytest
from sim_helpers import Simulation, simulate

from qnetai import physics as ph
from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.sim import SimulationResult
from qnetai.sim.linklayer import build_link_model
from qnetai.sim.result import SCHEMAS, SUMMARY_KEYS


def scenario(nodes, links, requests, **extra):
    d = {
        "nodes": [n if isinstance(n, dict) else {"name": n} for n in nodes],
        "links": links,
        "traffic": {"requests": requests},
    }
    d.update(extra)
    return Scenario.model_validate(d)


def one_request(src, dst, pairs, **kw):
    return {
        "source": src,
        "destination": dst,
        "count": 1,
        "pairs_per_request": pairs,
        "min_fidelity": kw.pop("min_fidelity", 0.0),
        "arrival": {"process": "at_once"},
        **kw,
    }


def test_single_link_geometric_times_and_storage_decay():
    p, t_coh, length = 0.2, 1e-3, 100.0
    rtt = length / 2e5
    s = scenario(
        [{"name": "A", "memory": {"t_coh_s": t_coh}}, {"name": "B", "memory": {"t_coh_s": t_coh}}],
        [
            {
                "endpoints": ["A", "B"],
                "length_km": length,
                "success_probability": p,
                "raw_fidelity": 0.9,
            }
        ],
        [one_request("A", "B", 4000)],
        duration_s=1e6,
    )
    r = simulate(s, seed=11)
    t = np.asarray(r.deliveries.column("time_s"))
    w = np.diff(np.concatenate([[0.0], t]))
    assert w.size == 4000
    k = w / rtt  # attempt period = heralding round trip
    np.testing.assert_allclose(k, np.round(k), atol=1e-6)
    sem = w.std(ddof=1) / math.sqrt(w.size)
    assert abs(w.mean() - rtt / p) < 4 * sem
    # geometric: P(K = 1) = p and Var = (1 - p) / p^2 (in rounds)
    frac1 = np.mean(np.round(k) == 1)
    assert abs(frac1 - p) < 4 * math.sqrt(p * (1 - p) / w.size)
    assert abs(np.var(k) / ((1 - p) / p**2) - 1) < 0.1
    # every pair was stored one round trip (loading to herald) before delivery
    f = np.asarray(r.deliveries.column("fidelity"))
    herald = ph.double_click_herald(1.0, 1.0, detector_efficiency=0.9, raw_fidelity=0.9).state
    expected = ph.depolarise(herald, rtt, t_coh)[0]
    np.testing.assert_allclose(f, expected, rtol=1e-12)
    links = r.links.to_pylist()[0]
    assert links["pairs_generated"] == 4000 == links["pairs_consumed"]
    assert links["attempt_s"] == pytest.approx(rtt)


def test_two_hop_classical_delays_and_fidelity_exact():
    c, length, proc, f0 = 1e-3, 20.0, 1e-5, 0.95
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
        [one_request("A", "C", 5)],
        classical={"processing_delay_s": proc},
    )
    r = simulate(s, seed=0)
    rtt = length / 2e5
    cycle = rtt + rtt + proc  # links ready after one round trip, swap news to the far end
    t = np.asarray(r.deliveries.column("time_s"))
    np.testing.assert_allclose(t, cycle * np.arange(1, 6), rtol=1e-12)
    w0 = (4 * f0 - 1) / 3
    w = w0**2 * math.exp(-2 * rtt / c) * math.exp(-(rtt + proc) / c)
    np.testing.assert_allclose(
        np.asarray(r.deliveries.column("fidelity")), (3 * w + 1) / 4, rtol=1e-12
    )


@pytest.mark.parametrize("hops", [2, 3])
def test_swap_fidelity_matches_physics(hops):
    g, e, f0 = 0.97, 0.01, 0.9
    names = [f"n{i}" for i in range(hops + 1)]
    s = scenario(
        [{"name": n, "memory": {"t_coh_s": None}} for n in names],
        [
            {
                "endpoints": [a, b],
                "length_km": 0.0,
                "attempt_rate_hz": 1e3,
                "success_probability": 0.5,
                "raw_fidelity": f0,
            }
            for a, b in itertools.pairwise(names)
        ],
        [one_request(names[0], names[-1], 50)],
        operations={"swap_gate_fidelity": g, "measurement_error": e},
        duration_s=100.0,
    )
    r = simulate(s, seed=2)
    fid = np.asarray(r.deliveries.column("fidelity"))
    assert fid.size == 50
    fresh = ph.werner(f0)
    one = ph.swap(fresh, fresh, gate_fidelity=g, measurement_error=e)
    if hops == 2:
        np.testing.assert_allclose(fid, one[0], rtol=1e-12)
    else:  # swap order varies, but Pauli composition with depolarising noise commutes
        two = ph.swap(one, fresh, gate_fidelity=g, measurement_error=e)
        np.testing.assert_allclose(fid, two[0], rtol=1e-12)


def _net(seed=0, **ops):
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
            "operations": ops,
            "traffic": {
                "random": {"count": 60, "rate_hz": 600.0, "pairs_per_request": 2, "timeout_s": 0.05}
            },
        }
    )


def test_seeded_determinism_and_schema():
    a = simulate(_net(), seed=4)
    b = simulate(_net(), seed=4)
    c = simulate(_net(), seed=5)
    assert isinstance(a, SimulationResult)
    for name, schema in SCHEMAS.items():
        assert getattr(a, name).schema.equals(schema), name
        assert getattr(a, name).to_pandas().equals(getattr(b, name).to_pandas()), name
    assert not a.deliveries.equals(c.deliveries)
    assert set(SUMMARY_KEYS) <= set(a.summary)
    strip = {k: v for k, v in a.summary.items() if k != "wall_time_s"}
    assert strip == {k: v for k, v in b.summary.items() if k != "wall_time_s"}
    req = a.requests.to_pandas()
    assert a.summary["requests_total"] == len(req) > 0
    assert set(req.status) <= {"served", "expired", "unserved"}
    served = req[req.status == "served"]
    assert (served.pairs_delivered == 2).all()
    assert (served.latency_s >= 0).all()
    assert req.pairs_delivered.sum() == a.deliveries.num_rows == a.summary["pairs_delivered"]
    ts = a.timeseries.to_pandas()
    assert ts.deliveries.sum() == a.deliveries.num_rows
    assert ts.pairs_generated.sum() == a.links.to_pandas().pairs_generated.sum()
    nodes = a.nodes.to_pandas()
    assert ((nodes.mean_memory_utilisation >= 0) & (nodes.mean_memory_utilisation <= 1)).all()


def test_resource_contention_serves_one_after_the_other():
    s = scenario(
        ["A", {"name": "B", "memory_qubits": 1}, "C"],
        [
            {
                "endpoints": [a, b],
                "length_km": 0.0,
                "attempt_rate_hz": 1e3,
                "success_probability": 0.1,
            }
            for a, b in ("AB", "CB")
        ],
        [one_request("A", "B", 3), one_request("C", "B", 3)],
        duration_s=10.0,
    )
    r = simulate(s, seed=3)
    req = r.requests.to_pylist()
    assert [x["status"] for x in req] == ["served", "served"]
    d = r.deliveries.to_pandas()
    first_of_second = d[d.request_id == 1].time_s.min()
    assert first_of_second > req[0]["served_s"]
    assert d[d.request_id == 0].time_s.max() == req[0]["served_s"]
    nodes = {x["node"]: x for x in r.nodes.to_pylist()}
    assert nodes["B"]["peak_memory_used"] == 1
    # B was busy from 0 to the second request's end, without gaps
    assert nodes["B"]["mean_memory_utilisation"] == pytest.approx(req[1]["served_s"] / 10.0)


def test_min_fidelity_discards_and_timeout_releases_memory():
    s = scenario(
        ["A", "B"],
        [
            {
                "endpoints": ["A", "B"],
                "length_km": 0.0,
                "attempt_rate_hz": 1e3,
                "success_probability": 0.5,
                "raw_fidelity": 0.8,
            }
        ],
        [
            one_request("A", "B", 1, min_fidelity=0.9, timeout_s=0.05),
            {
                "source": "A",
                "destination": "B",
                "count": 1,
                "min_fidelity": 0.5,
                "arrival": {"process": "at_once", "start_s": 0.01},
            },
        ],
        duration_s=0.2,
    )
    r = simulate(s, seed=1)
    req = r.requests.to_pylist()
    assert req[0]["status"] == "expired" and req[0]["pairs_delivered"] == 0
    assert r.summary["pairs_below_min_fidelity"] > 10
    # the second request (memory of A and B: 10 qubits) runs in parallel and is served
    assert req[1]["status"] == "served"
    nodes = r.nodes.to_pylist()
    assert all(n["peak_memory_used"] == 2 for n in nodes)


def test_multiplexing_round_success():
    p, m, period = 0.05, 10, 1e-4
    s = scenario(
        ["A", "B"],
        [
            {
                "endpoints": ["A", "B"],
                "length_km": 0.0,
                "attempt_rate_hz": 1 / period,
                "success_probability": p,
                "multiplexing": m,
            }
        ],
        [one_request("A", "B", 3000)],
        duration_s=100.0,
    )
    t = np.asarray(simulate(s, seed=9).deliveries.column("time_s"))
    w = np.diff(np.concatenate([[0.0], t]))
    q = 1 - (1 - p) ** m
    assert abs(w.mean() - period / q) < 4 * w.std(ddof=1) / math.sqrt(w.size)


def test_time_varying_free_space_link_follows_the_loss():
    link = {
        "endpoints": ["G", "H"],
        "kind": "free_space",
        "length_km": 2.0,
        "attempt_rate_hz": 2e4,
        "detector_efficiency": 1.0,
        "free_space": {"loss_variation": {"period_s": 0.5, "amplitude_db": 6.0, "update_s": 0.01}},
    }
    s = scenario(["G", "H"], [link], [one_request("G", "H", 10**6)], duration_s=1.0)
    sim = Simulation(s, seed=5)
    lm = sim.links[0]
    assert lm.varying
    n_att = round(1.0 / lm.attempt_s)
    emit = np.arange(n_att) * lm.attempt_s  # attempt k (1-based) is emitted at (k-1) * period
    q = np.array([lm._interval(int(x // lm.update_s + 1e-9))[0] for x in emit])
    expected, var = q.sum(), (q * (1 - q)).sum()
    got = sim.run().result().deliveries.num_rows
    assert abs(got - expected) < 4 * math.sqrt(var)
    # the loss variation is visible: first half-period (loss > 0 dB) delivers fewer pairs
    t = np.asarray(sim.result().deliveries.column("time_s"))
    assert np.sum(t < 0.25) < 0.8 * np.sum((t >= 0.25) & (t < 0.5))
    # and the constant model differs from it
    assert abs(lm.p_success * n_att - expected) > 4 * math.sqrt(var)


@pytest.mark.parametrize("protocol,rounds", [("bbpssw", 1), ("dejmps", 2)])
def test_purification_pumping_matches_physics(protocol, rounds):
    f0 = 0.8
    s = scenario(
        [{"name": x, "memory": {"t_coh_s": None}} for x in "AB"],
        [
            {
                "endpoints": ["A", "B"],
                "length_km": 0.0,
                "attempt_rate_hz": 1e3,
                "success_probability": 1.0,
                "raw_fidelity": f0,
            }
        ],
        [one_request("A", "B", 1000)],
        operations={"purification": {"protocol": protocol, "rounds": rounds}},
        duration_s=1e4,
    )
    r = simulate(s, seed=8)
    fresh = ph.werner(f0)
    fn = getattr(ph, protocol)
    state, p_ok = fresh, []
    for _ in range(rounds):
        state, p = fn(state, fresh)
        p_ok.append(float(p))
    np.testing.assert_allclose(np.asarray(r.deliveries.column("fidelity")), state[0], rtol=1e-12)
    if rounds == 1:
        n = r.summary["purifications"]
        assert abs(1000 / n - p_ok[0]) < 4 * math.sqrt(p_ok[0] * (1 - p_ok[0]) / n)
    assert max(x["peak_memory_used"] for x in r.nodes.to_pylist()) == 2


def test_progress_unreachable_and_bad_inputs():
    s = scenario(
        ["A", "B", "C"],
        [{"endpoints": ["A", "B"]}],
        [one_request("A", "C", 1), one_request("A", "B", 1)],
        duration_s=0.01,
    )
    seen = []
    r = simulate(s, seed=0, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert r.requests.column("status").to_pylist() == ["unserved", "served"]
    sim = Simulation(s)
    with pytest.raises(InputError, match="source"):
        sim.submit("X", "B")
    rid = sim.submit("B", "A", pairs=2, at_s=0.001)
    sim.run()
    assert sim.result().requests.to_pylist()[rid]["status"] == "served"
    with pytest.raises(InputError, match="seed"):
        Simulation(s, seed=-1)


def test_zero_length_link_needs_attempt_rate():
    s = scenario(["A", "B"], [{"endpoints": ["A", "B"], "length_km": 0.0}], [])
    with pytest.raises(InputError, match="attempt_rate_hz"):
        Simulation(s)


def test_link_model_physics():
    s = scenario(
        ["A", {"name": "B", "memory": {"efficiency": 0.5}}],
        [
            {
                "endpoints": ["A", "B"],
                "length_km": 50.0,
                "scheme": "single_click",
                "bright_state_parameter": 0.05,
            }
        ],
        [],
    )
    lm = build_link_model(
        0, s.links[0], s.nodes[0], s.nodes[1], speed_km_per_s=2e5, processing_delay_s=0.0
    )
    eta = float(ph.fibre_transmittance(25.0))
    out = ph.single_click_herald(eta, eta, bright_state_parameter=0.05, detector_efficiency=0.9)
    assert lm.p_success == pytest.approx(float(out.p_success) * 0.5, rel=1e-12)
    np.testing.assert_allclose(lm.state, out.state, rtol=1e-12)
    assert lm.attempt_s == pytest.approx(50.0 / 2e5)


def test_concurrency_cap_and_queue_counter():
    s = scenario(
        ["A", "B"],
        [
            {
                "endpoints": ["A", "B"],
                "length_km": 0.0,
                "attempt_rate_hz": 1e3,
                "success_probability": 0.05,
            }
        ],
        [{"source": "A", "destination": "B", "count": 6, "arrival": {"process": "at_once"}}],
        controller={"max_concurrent_requests": 2},
        duration_s=10.0,
    )
    sim = Simulation(s, seed=0)
    sim.run(0.0)
    assert sim.queued_requests == 4  # two admitted and active, four held back
    assert sim.free_memory("A") == 8
    r = sim.run().result()
    assert r.summary["requests_served"] == 6 and sim.queued_requests == 0
    assert max(x["peak_memory_used"] for x in r.nodes.to_pylist()) == 2
