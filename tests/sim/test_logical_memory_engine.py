"""Logical memories in the engine: a repeater chain with error-corrected memories against the
exact chain fidelity (closed form) at the measured t_coh_s, physical vs logical, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.facade import run_scenario, simulate
from qnetai.qec.memory import physical_t_coh_s
from qnetai.sim.chain import exact_mean_fidelity

P, CYCLE_S = 0.001, 1e-6
LOGICAL = {"distance": 5, "physical_error_rate": P, "cycle_time_s": CYCLE_S, "shots": 20_000}


def chain(memory, *, n=2, p=0.2, attempt_s=2e-5, f0=0.97, pairs=1500, duration_s=1e9):
    """A zero-delay repeater chain of ``n`` segments (the engine reduces to the chain model)."""
    return Scenario.model_validate(
        {
            "nodes": [{"name": f"n{i}", "memory": memory} for i in range(n + 1)],
            "links": [
                {
                    "endpoints": [f"n{i}", f"n{i + 1}"],
                    "length_km": 0.0,
                    "attempt_rate_hz": 1.0 / attempt_s,
                    "success_probability": p,
                    "raw_fidelity": f0,
                }
                for i in range(n)
            ],
            "duration_s": duration_s,
            "classical": {"processing_delay_s": 0.0},
            "controller": {"routing": "shortest-path"},
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


def fidelities(result):
    return np.asarray(result.deliveries.column("fidelity"), dtype=float)


def sem(x):
    return float(x.std(ddof=1) / math.sqrt(len(x)))


def test_logical_chain_matches_closed_form_and_beats_physical():
    t_phys = physical_t_coh_s(P, cycle_time_s=CYCLE_S)
    phys = simulate(chain({"t_coh_s": t_phys}), seed=4)
    logi = simulate(chain({"logical": LOGICAL}), seed=4)
    mem = logi.summary["logical_memory"]["memories"][0]
    assert mem["physical_t_coh_s"] == t_phys and mem["nodes"] == ["n0", "n1", "n2"]
    t_log = mem["t_coh_s"]
    assert t_log > 3 * t_phys
    assert logi.scenario.nodes[1].memory.t_coh_s == t_log
    assert logi.scenario.nodes[1].memory.logical is not None  # the settings stay visible
    f_phys, f_log = fidelities(phys), fidelities(logi)
    for f, t in ((f_phys, t_phys), (f_log, t_log)):
        assert abs(f.mean() - exact_mean_fidelity(2, 0.2, 2e-5, 0.97, t)) < 4 * sem(f)
    # same links and seed: the same deliveries, each pair with a higher fidelity
    assert len(f_phys) == len(f_log) == 1500
    assert np.all(f_log >= f_phys) and f_log.mean() - f_phys.mean() > 10 * sem(f_log - f_phys)


def test_logical_run_is_deterministic_and_records_rates():
    sc = chain({"logical": {**LOGICAL, "distance": 3}}, pairs=50, duration_s=0.05)
    a, b = run_scenario(sc, seed=9), run_scenario(sc, seed=9)
    assert a.summary == {**b.summary, "wall_time_s": a.summary["wall_time_s"]}
    assert a.deliveries.equals(b.deliveries)
    mem = a.summary["logical_memory"]["memories"][0]
    assert mem["distance"] == 3 and mem["decoder"] == "matching"
    lo, hi = mem["r_z_ci"]
    assert lo <= mem["r_z"] <= hi and mem["errors_z"] >= 0
    assert a.to_dict()["summary"]["logical_memory"] == a.summary["logical_memory"]


def test_report_shows_the_logical_memory():
    from qnetai.report.insights import hardware_section

    run = run_scenario(chain({"logical": {**LOGICAL, "distance": 3}}, pairs=20, duration_s=0.05))
    html = hardware_section(run)
    assert "Error-corrected memories" in html and "surface d=3" in html
    assert "Error-corrected" not in hardware_section(
        run_scenario(chain({"t_coh_s": 1e-3}, pairs=20, duration_s=0.05))
    )


def test_engine_alone_refuses_unmeasured_logical_memories():
    from sim_helpers import simulate as engine_simulate

    with pytest.raises(InputError, match=r"memory\.logical is measured by qnetai\.simulate"):
        engine_simulate(chain({"logical": LOGICAL}, pairs=5, duration_s=0.01), seed=1)
