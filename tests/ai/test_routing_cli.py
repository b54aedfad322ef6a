import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from qnetai.cli.main import app
from qnetai.control.slotted import is_feasible, sample_requests, waxman_network
from qnetai.plugins import slot_policy


def get_slot_policy(name, **options):
    return slot_policy(name, options=options)


runner = CliRunner()


def test_bench_routing_json_tiny():
    # a subprocess, so that C-level output (HiGHS) would also break the JSON document
    exe = Path(sys.executable).with_name("qnetai")
    res = subprocess.run(
        [
            str(exe),
            "bench",
            "routing",
            "--nodes",
            "20",
            "--requests",
            "3",
            "--slots",
            "2",
            "--seeds",
            "0,1",
            "--methods",
            "shortest-path,q-cast,milp",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    rows = {r["method"]: r for r in doc["rows"]}
    assert set(rows) == {"shortest-path", "q-cast", "milp"}
    for r in rows.values():
        for key in (
            "method",
            "throughput",
            "throughput_ci_low",
            "throughput_ci_high",
            "fairness",
            "decision_time_ms",
            "gap_to_milp",
        ):
            assert key in r
        assert r["throughput_ci_low"] <= r["throughput"] <= r["throughput_ci_high"]
        assert r["gap_to_milp"] >= -1e-9
    assert abs(rows["milp"]["gap_to_milp"]) < 1e-9


def test_bench_rejects_bad_method():
    res = runner.invoke(app, ["bench", "routing", "--slots", "1", "--methods", "bogus", "--json"])
    assert res.exit_code != 0


def test_train_routing_and_load(tmp_path):
    out = tmp_path / "tiny"
    res = runner.invoke(
        app,
        [
            "train",
            "routing",
            "--nodes",
            "20",
            "--requests",
            "4",
            "--timesteps",
            "256",
            "--imitation-slots",
            "2",
            "--eval-every",
            "0",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    cfg = json.loads((tmp_path / "tiny.json").read_text())
    assert cfg["kind"] == "routing" and cfg["timesteps"] == 256
    assert cfg["format"] == "qnetai-model/1" and cfg["architecture"]["type"] == "action-scorer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.npz"]  # no zip
    assert (tmp_path / "tiny.npz").stat().st_size < 2_000_000
    pol = get_slot_policy(f"rl:{out}")
    net = waxman_network(30, seed=4)  # another size than in training: features generalise
    alloc = pol.allocate(net, sample_requests(net, 6, np.random.default_rng(0)))
    assert is_feasible(net, alloc) and len(alloc) > 0
    assert pol.last_steps >= len(alloc)


def test_shipped_model_loads_and_runs():
    pol = get_slot_policy("rl:waxman-routing")
    net = waxman_network(100, seed=5)
    reqs = sample_requests(net, 10, np.random.default_rng(0))
    pol.allocate(net, reqs)  # warm up caches
    alloc = pol.allocate(net, reqs)
    assert is_feasible(net, alloc) and pol.last_steps >= len(alloc) > 0
    # decision time per step (target < 10 ms): `qnetai bench routing`, benchmarks/README.md
