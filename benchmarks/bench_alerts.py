"""Alerts of `qnetai run` on metro-6g: detection, delay and false alarms over many seeds.

The engine and key network run once (seed of the scenario); the link monitoring then runs
with ``--repeats`` independent random streams, once per detector (CUSUM and the textbook
11 % QBER rule, same streams), and the script prints per incident the detection rate and
median delay, and the false alarms per run (4 QKD links x 80 blocks each), with CPU time.

    .venv/bin/python benchmarks/bench_alerts.py --repeats 30
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from qnetai.ai.security.alerts import monitor_key_network
from qnetai.facade import key_network, load, simulate


def main() -> None:
    """Run the repeats and print one JSON document."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    sc = load("metro-6g")
    res = simulate(sc)
    keys = key_network(res)
    out = {}
    for detector in ("cusum", "qber-threshold"):
        assert sc.monitoring is not None
        mon = sc.monitoring.model_copy(update={"detector": detector})
        scd = res.scenario.model_copy(update={"monitoring": mon})
        caught = np.zeros(len(sc.incidents))
        delays: list[list[float]] = [[] for _ in sc.incidents]
        false = 0
        t0 = time.process_time()
        for k in range(args.repeats):
            m = monitor_key_network(scd, keys, rng=np.random.default_rng([k, 12]))
            false += m.summary["false_alarms"]
            for i, inc in enumerate(m.incidents):
                if inc["detected"]:
                    caught[i] += 1
                    delays[i].append(inc["delay_s"])
        out[detector] = {
            "incidents": [
                {
                    "incident": f"{inc.kind}: {inc.family or inc.fault} on {inc.link}",
                    "detected": f"{int(caught[i])}/{args.repeats}",
                    "median_delay_s": float(np.median(delays[i])) if delays[i] else None,
                }
                for i, inc in enumerate(sc.incidents)
            ],
            "false_alarms": f"{false} in {args.repeats} runs",
            "cpu_s_per_run": (time.process_time() - t0) / args.repeats,
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
