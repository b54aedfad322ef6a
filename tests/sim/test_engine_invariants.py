"""Bookkeeping invariants under every feature at once (delays, failures, cut-offs, purification)."""

import numpy as np
import pytest
from sim_helpers import Simulation, simulate

from qnetai.config.models import Scenario


@pytest.mark.parametrize(
    "ops",
    [
        {},
        {"swapping_policy": "nested", "swap_gate_fidelity": 0.98, "measurement_error": 0.01},
        {"purification": {"protocol": "dejmps", "rounds": 1}},
    ],
)
def test_every_pair_is_accounted_for_and_memory_is_returned(ops, busy_network):
    sim = Simulation(busy_network(**ops), seed=1)
    sim.run()
    r = sim.result()
    req = r.requests.to_pandas()
    # every request has ended (timeout 0.1 s, last arrival well before 0.5 s)
    assert set(req.status) <= {"served", "expired", "unserved"}
    assert sim.tel.mem_used == [0] * len(sim.node_names)
    assert sim.free == sim.capacity
    links = r.links.to_pandas()
    np.testing.assert_array_equal(
        links.pairs_generated, links.pairs_consumed + links.pairs_discarded
    )
    assert r.summary["pairs_delivered"] > 0
    assert links.pairs_consumed.sum() >= r.summary["pairs_delivered"]
    d = r.deliveries.to_pandas()
    assert (d.fidelity >= 0.6).all() and (d.fidelity <= 1).all()
    nodes = r.nodes.to_pandas()
    assert (nodes.peak_memory_used <= nodes.memory_qubits).all()
    served = req[req.status == "served"]
    assert ((served.served_s - served.arrival_s) <= 0.1 + 1e-12).all()
    if "purification" in ops:
        assert r.summary["purifications"] > 0
    else:
        assert r.summary["swap_failures"] > 0 and r.summary["cutoff_discards"] > 0


def test_t1_t2_memories_decay_pairs():
    base = {
        "links": [{"endpoints": ["A", "B"], "length_km": 100.0, "success_probability": 0.5}],
        "traffic": {
            "requests": [
                {
                    "source": "A",
                    "destination": "B",
                    "pairs_per_request": 20,
                    "min_fidelity": 0.0,
                    "arrival": {"process": "at_once"},
                }
            ]
        },
    }
    mem = {"t_coh_s": None, "t1_s": 1e-3, "t2_s": 5e-4}
    s = Scenario.model_validate(
        {**base, "nodes": [{"name": "A", "memory": mem}, {"name": "B", "memory": mem}]}
    )
    from qnetai import physics as ph

    fid = np.asarray(simulate(s, seed=0).deliveries.column("fidelity"))
    herald = ph.double_click_herald(1.0, 1.0, detector_efficiency=0.9).state
    rtt = 100.0 / 2e5
    expected = ph.t1_t2_noise(herald, rtt, t1_s=1e-3, t2_s=5e-4, qubits="both")[0]
    np.testing.assert_allclose(fid, expected, rtol=1e-12)
