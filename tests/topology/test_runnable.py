"""check_runnable: what `scenario validate` accepts, `run` runs; work estimates and limits."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from qnetai import facade
from qnetai.cli.main import main
from qnetai.config import BUILTIN_SCENARIOS, builtin_scenario, scenario_from_dict
from qnetai.errors import InputError
from qnetai.facade import check_runnable
from qnetai.topology import (
    WORK_LIMITS,
    builders,
    check_topology,
    check_topology_size,
    estimate_topology,
    estimate_work,
    resolve,
)

TWO = {
    "nodes": [{"name": "A"}, {"name": "B"}],
    "links": [{"endpoints": ["A", "B"], "length_km": 10, "qkd": True}],
}


def scenario(**extra):
    return scenario_from_dict({**TWO, **extra})


def exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def write(tmp_path: Path, data: dict, name: str = "s.yaml") -> str:
    import yaml

    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


# -- estimates --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BUILTIN_SCENARIOS))
def test_builtins_are_well_under_every_limit(name):
    estimates = estimate_work(builtin_scenario(name))
    for key, limit in WORK_LIMITS.items():
        assert estimates[key] <= limit / 10, (key, estimates[key])
    check_runnable(builtin_scenario(name))  # does not raise (a policy file aside)


@pytest.mark.parametrize(("n", "alpha", "beta"), [(600, 0.4, 0.2), (400, 0.2, 0.5), (300, 1, 0.1)])
def test_waxman_link_estimate_is_close_to_the_built_count(n, alpha, beta):
    s = scenario_from_dict(
        {"topology": {"builder": "waxman", "nodes": n, "waxman_alpha": alpha, "waxman_beta": beta}}
    )
    built = len(resolve(s).links)
    assert built <= estimate_topology(s)["links"] <= 1.3 * built


def test_request_and_relay_estimates_follow_rates_and_counts():
    s = scenario(
        duration_s=2.0,
        traffic={
            "requests": [
                {
                    "source": "A",
                    "destination": "B",
                    "count": 50,
                    "pairs_per_request": 3,
                    "arrival": {"process": "at_once"},
                },
                {
                    "source": "A",
                    "destination": "B",
                    "count": 10**6,
                    "arrival": {"process": "poisson", "rate_hz": 100, "start_s": 1.0},
                },
            ]
        },
        qkd={
            "time_step_s": 0.01,
            "record_interval_s": 0.1,
            "relay": {"requests": [{"source": "A", "destination": "B", "rate_hz": 7}]},
        },
    )
    e = estimate_work(s)
    assert e["requests"] == pytest.approx(150)
    assert e["delivered_pairs"] == pytest.approx(250)
    assert e["relay_steps"] == 200
    assert e["relay_requests"] == pytest.approx(14)
    assert e["pool_samples"] == 22  # 20 samples + the first and the last, one QKD link


# -- refusals with the estimate, the limit and the override -------------------------------------


CASES = {
    "duration": ({"duration_s": 1e9}, "QKD relay steps"),
    "time-step": ({"qkd": {"time_step_s": 1e-12, "record_interval_s": 1e-12}}, "QKD relay steps"),
    "relay-rate": (
        {"qkd": {"relay": {"requests": [{"source": "A", "destination": "B", "rate_hz": 1e12}]}}},
        "QKD relay requests",
    ),
    "requests": (
        {
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "B",
                        "count": 10_000_000,
                        "arrival": {"process": "at_once"},
                    }
                ]
            }
        },
        "entanglement requests",
    ),
    "pairs": (
        {
            "duration_s": 1e4,
            "traffic": {
                "requests": [
                    {"source": "A", "destination": "B", "count": 1000, "pairs_per_request": 100_000}
                ]
            },
        },
        "end-to-end pairs",
    ),
    "pulses": (
        {"qkd": {"mode": "simulate", "simulate": {"block_pulses": 100_000_000, "blocks": 100}}},
        "simulated QKD pulses",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_large_work_is_refused_unless_allowed(case):
    extra, what = CASES[case]
    s = scenario(**extra)
    with pytest.raises(InputError) as info:
        check_runnable(s)
    message = str(info.value)
    # refused from an estimate ("> limit"), not by running out of time or memory
    assert what in message and "> limit" in message and "--allow-large" in message
    check_runnable(s, allow_large=True)  # the override accepts it


def test_waxman_20000_is_refused_before_building_with_little_memory(monkeypatch):
    s = scenario_from_dict({"topology": {"builder": "waxman", "nodes": 20_000}})

    def no_build(*args, **kwargs):
        raise AssertionError("the Waxman builder ran before the size check refused")

    monkeypatch.setattr(builders, "waxman", no_build)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match=r"links in the network: about [\d,]+ > limit 250,000"):
        check_runnable(s)
    with pytest.raises(InputError, match="Waxman builder"):
        check_topology_size(s)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 100


# -- what validate accepts, run runs -----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"name": "none"}, "is empty: it has 0 node"),
        ({"nodes": [{"name": "A"}]}, "is empty: it has 1 node"),
        (
            {
                "nodes": [{"name": "A"}, {"name": "B"}],
                "links": [{"endpoints": ["A", "B"], "length_km": 0}],
            },
            "attempt_rate_hz must be given",
        ),
        ({**TWO, "controller": {"routing": "no-such-policy"}}, "controller.routing"),
        (
            {**TWO, "qkd": {"relay": {"requests": [{"source": "A", "destination": "Z"}]}}},
            "qkd.relay.requests",
        ),
        (
            {**TWO, "controller": {"routing": "qnetai_no_such_module.policies:Mine"}},
            # refused before any import: a scenario file may not import code without consent
            "controller.routing: 'qnetai_no_such_module.policies:Mine' is an import-path plug-in",
        ),
    ],
    ids=["no-nodes", "one-node", "zero-length", "policy", "qkd", "plugin"],
)
def test_validate_and_run_refuse_the_same_scenarios(tmp_path, capsys, data, match):
    path = write(tmp_path, data)
    with pytest.raises(InputError, match=match):
        check_runnable(scenario_from_dict(data))
    assert match.split(":")[0] in exit_2(["scenario", "validate", path], capsys)
    out = tmp_path / "run"
    assert match.split(":")[0] in exit_2(["run", path, "--out", str(out), "--json"], capsys)
    assert not out.exists()


def test_zero_length_with_attempt_rate_is_runnable():
    data = {
        "nodes": [{"name": "A"}, {"name": "B"}],
        "links": [{"endpoints": ["A", "B"], "length_km": 0, "attempt_rate_hz": 1e3}],
    }
    check_runnable(scenario_from_dict(data))


def test_cli_validate_refuses_large_and_accepts_with_allow_large(tmp_path, capsys):
    path = write(tmp_path, {**TWO, "duration_s": 1e9})
    err = exit_2(["scenario", "validate", path], capsys)
    assert "1,000,000,000,000 > limit 5,000,000" in err and "--allow-large" in err
    main_ok = ["scenario", "validate", path, "--allow-large", "--json"]
    with pytest.raises(SystemExit) as info:
        main(main_ok)
    assert info.value.code in (0, None)


def test_cli_run_refuses_large_before_simulating(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, {**TWO, "qkd": {"time_step_s": 1e-12, "record_interval_s": 1e-12}})
    out = tmp_path / "run"

    def no_run(*args, **kwargs):
        raise AssertionError("run_scenario was called before the work check refused")

    monkeypatch.setattr(facade, "run_scenario", no_run)
    err = exit_2(["run", path, "--out", str(out), "--json"], capsys)
    assert "QKD relay steps" in err and "--allow-large" in err
    assert not out.exists()


def test_cli_show_refuses_a_huge_waxman(tmp_path, capsys):
    path = write(tmp_path, {"topology": {"builder": "waxman", "nodes": 20_000}})
    assert "Waxman builder" in exit_2(["scenario", "show", path], capsys)


def test_relay_arrivals_at_a_huge_rate_draw_in_bounded_chunks():
    """With the override, a 1e12 Hz relay flow of 10 requests draws 2**20 times, not 1.2e12."""
    import tracemalloc

    import numpy as np

    from qnetai.qkd.relay import request_arrivals

    tracemalloc.start()
    t = request_arrivals(
        rate_hz=1e12,
        start_s=0.0,
        end_s=1.0,
        process="poisson",
        count=10,
        rng=np.random.default_rng(1),
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert t.size == 10 and np.all(np.diff(t) >= 0)
    assert peak < 64 * 2**20


def test_topology_level_check_needs_no_policy_or_qkd():
    """check_topology refuses what the topology decides; the policy is the facade's check."""
    s = scenario(controller={"routing": "no-such-policy"})
    assert len(check_topology(s).nodes) == 2  # topology-level: fine
    with pytest.raises(InputError, match="no-such-policy"):
        check_runnable(s)
    with pytest.raises(InputError, match="empty"):
        check_topology(scenario_from_dict({"nodes": [{"name": "A"}]}))


def test_vacuum_speed_matches_the_engine():
    from qnetai.sim.linklayer import C_VACUUM_KM_PER_S as engine_c
    from qnetai.topology.runnable import C_VACUUM_KM_PER_S

    assert engine_c == C_VACUUM_KM_PER_S
