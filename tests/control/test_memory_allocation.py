"""Memory allocators on the event engine: FCFS equivalence, quotas, plug-ins, optimiser."""

import math

import pytest

import qnetai
from qnetai.control.memory_allocation import (
    FirstComeFirstServed,
    StaticPartition,
    bottleneck_scenario,
    evaluate_allocator,
    jain_index,
    optimise_partition,
    request_class,
)
from qnetai.control.policy import ShortestPathPolicy
from qnetai.errors import InputError
from qnetai.plugins import memory_allocator
from qnetai.sim.engine import Simulation, simulate
from qnetai.sim.state import ACTIVE


def _small():
    return bottleneck_scenario(fast_rate_hz=150, slow_rate_hz=40, timeout_s=0.1, duration_s=0.3)


def test_jain_index_closed_forms():
    assert jain_index([2.0, 2.0, 2.0]) == 1.0
    assert jain_index([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert jain_index([1.0, 3.0]) == pytest.approx(16 / 20)
    assert math.isnan(jain_index([0.0, 0.0]))


def test_fcfs_allocator_reproduces_the_engine_without_one():
    sc = _small()
    a = simulate(sc, seed=3, policy=ShortestPathPolicy()).summary
    b = simulate(sc, seed=3, policy=ShortestPathPolicy(), allocator=FirstComeFirstServed()).summary
    for key in ("requests_served", "requests_expired", "pairs_delivered", "mean_fidelity"):
        assert a[key] == b[key]


class _Checked(StaticPartition):
    """Records the most qubits each class held at the middle node."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.peak: dict[str, int] = {}

    def admit(self, state, reservation):
        ok = super().admit(state, reservation)
        for (cls, node), held in self._held.items():
            if state.node_names[node] == "M":
                self.peak[cls] = max(self.peak.get(cls, 0), held)
        return ok


def test_static_partition_quota_binds_at_the_bottleneck_and_memories_are_granted():
    sc = _small()
    alloc = _Checked(shares={"B->D": 0.5, "A->C": 1.0}, memories={"B->D": 1})
    sim = Simulation(sc, seed=2, policy=ShortestPathPolicy(), allocator=alloc)
    sim.run()
    assert alloc.peak["B->D"] <= 2  # floor(0.5 * 4 qubits): one slow request at a time
    assert alloc.peak["A->C"] <= 4
    # What the allocator counts is exactly what the still-active requests hold.
    active: dict = {}
    for res in sim.reservations:
        if res.req.status == ACTIVE:
            for n, need in zip(res.route.nodes, res.route.need, strict=True):
                key = (request_class(res.req), n)
                active[key] = active.get(key, 0) + need * res.req.mem
    assert {k: v for k, v in alloc._held.items() if v} == active
    two = StaticPartition(shares={}, memories={"B->D": 2})
    sim = Simulation(sc, seed=2, policy=ShortestPathPolicy(), allocator=two)
    sim.run()
    assert {r.mem for r in sim.requests if r.src_name == "B" and r.path_str} == {2}


def test_plugins_and_scenario_field_select_the_allocator():
    assert memory_allocator("fcfs").name == "fcfs"
    with pytest.raises(InputError, match=r"controller\.memory_allocation must be one of"):
        memory_allocator("nope")
    with pytest.raises(InputError, match=r"shares.A->B must be a number"):
        memory_allocator("static-partition", options={"shares": {"A->B": 2}})
    sc = _small()
    opts = {"shares": {"B->D": 0.5}}
    sc2 = sc.model_copy(
        update={
            "controller": sc.controller.model_copy(
                update={"memory_allocation": "static-partition", "memory_allocation_options": opts}
            )
        }
    )
    via_scenario = qnetai.simulate(sc2, seed=4).summary
    direct = simulate(sc, seed=4, policy=ShortestPathPolicy(), allocator=StaticPartition(**opts))
    assert via_scenario["requests_served"] == direct.summary["requests_served"]
    assert via_scenario["pairs_delivered"] == direct.summary["pairs_delivered"]
    mine = qnetai.simulate(
        sc2.model_copy(
            update={"controller": sc2.controller.model_copy(update={"memory_allocation": "mine"})}
        ),
        seed=4,
        allocators={"mine": FirstComeFirstServed},
    ).summary
    assert mine["requests_served"] == qnetai.simulate(sc, seed=4).summary["requests_served"]


def test_evaluate_and_optimise_are_seeded_and_report_intervals():
    sc = _small()
    row = evaluate_allocator(sc, "fcfs", seeds=[1, 2])
    assert row["served_ci95"] >= 0 and 0 < row["jain"] <= 1
    assert set(row["served_fraction"]) == {"A->C", "B->D"}
    a = optimise_partition(sc, seeds=(5,), budget=2, seed=1)
    b = optimise_partition(sc, seeds=(5,), budget=2, seed=1)
    assert a == b
    assert set(a[0]["shares"]) == {"A->C", "B->D"}
    with pytest.raises(InputError, match="allocator must be one of"):
        evaluate_allocator(sc, "nope", seeds=[1])


def test_cli_bench_memory_json():
    import json

    from typer.testing import CliRunner

    from qnetai.cli.main import app

    res = CliRunner().invoke(
        app, ["bench", "memory", "--seeds", "1", "--budget", "1", "--duration-s", "0.1", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    assert [r["allocator"] for r in rows] == ["fcfs", "static-equal", "static-optimised"]


def test_check_runnable_refuses_a_bad_allocator_before_running():
    sc = _small()
    bad = sc.model_copy(
        update={"controller": sc.controller.model_copy(update={"memory_allocation": "nope"})}
    )
    with pytest.raises(InputError, match=r"controller\.memory_allocation must be one of"):
        qnetai.facade.check_runnable(bad)
