"""Run qnetai on the SeQUeNCe speed-anchor scenarios and print one JSON document.

Same physics as ``sequence_scenarios.py`` (SeQUeNCe 1.3.1), mapped parameter by parameter;
``README.md`` in this folder derives each mapping from SeQUeNCe's code:

* **Links**: 20 km of 0.2 dB/km fibre with the heralding station half way; two-photon
  (``double_click``) heralding with ideal detectors. SeQUeNCe's single-heralded scheme succeeds
  when its linear-optics BSM succeeds (probability 1/2) and both photons survive memory
  (efficiency 1) and fibre (10 km each) and are detected (efficiency 1):
  ``p = 0.5 * 10**(-0.2 * 10 / 10)**2 = 0.1991`` per attempt and memory pair, which is exactly
  qnetai's ideal ``double_click_herald`` (``t_a t_b / 2``).
* **Attempt period**: one SeQUeNCe attempt costs four one-way router-to-router delays
  ``tau = 20 km / 2e5 km/s = 100 us`` (resource-manager request and response, the
  ``NEGOTIATE`` message, then photon flight to the station plus the herald back), so
  ``attempt_rate_hz = 1 / (4 tau) = 2500`` (qnetai's own default would be one round trip,
  ``tau``). The 2e8 Hz memory frequency never limits (5 ns per emission).
* **Memories**: SeQUeNCe decoheres each memory with a single-qubit Pauli channel of total rate
  ``1/T`` split evenly over X, Y, Z; on a Bell-diagonal pair this is depolarising with factor
  ``exp(-4 t / (3 T))`` per memory, ``exp(-8 t / (3 T))`` per pair. qnetai's pair factor is
  ``exp(-t / t_coh_s)``, so ``t_coh_s = 3 T / 8 = 0.75 s`` for ``T = 2 s``. Efficiency 1.
* **Request**: SeQUeNCe's ``memo_size=10`` request reserves 10 memories at each end and 20
  at each intermediate router and pools them; qnetai's request does the same with
  ``memories: 10`` (one request, at t = 0, asking for more pairs than 1 s allows, at
  ``min_fidelity`` 0.5; see ``qnetai.sim.release``: up to 10 generation processes per link, a
  router swaps the first-arrived left pair with the first-arrived right pair its level
  rule allows, freed memories regenerate at once). Swapping follows SeQUeNCe's reservation
  rules: nested (doubling) order, ideal gates and measurements.
* **Classical messages**: fibre delay (2e5 km/s), no processing delay.
* **Swap confirmation** (``operations.swapping.confirm: true``): SeQUeNCe's resource manager
  has a swapping router ask both partner routers whether they still hold their memories and
  wait for both replies before it swaps (``es_rule_action_A`` / ``es_match_func`` in
  ``resource_management/action_condition_set.py``; the swap starts in ``is_ready()`` of
  ``swapping_base.py``): one round trip to the farther partner, 2, 4, 8 link delays at
  nesting levels 1, 2, 3. qnetai does the same with the option on, so both do the same work
  (``--no-confirm``: qnetai's default protocol, swap as soon as the pairs are known).

Usage (from the repository root)::

    .venv/bin/python benchmarks/sequence_compare/qnetai_scenarios.py --scenario chain-3
"""

from __future__ import annotations

import argparse
import json
import sys
import time

#: name -> (routers, memories per router, raw fidelity); same keys as sequence_scenarios.py
SCENARIOS: dict[str, tuple[int, int, float]] = {
    "link-2": (2, 10, 0.9),
    "chain-3": (3, 20, 0.9),
    "chain-5": (5, 20, 0.9),
    "chain-9-f95": (9, 20, 0.95),
    "chain-9-f90": (9, 20, 0.9),
}

LINK_KM = 20.0
SPEED_KM_PER_S = 2.0e5
SEQUENCE_COHERENCE_TIME_S = 2.0
#: SeQUeNCe's per-memory Pauli rate 1/T (1/3 each X, Y, Z) -> pair depolarising rate 8/(3T)
T_COH_S = 3.0 * SEQUENCE_COHERENCE_TIME_S / 8.0
#: four one-way router-to-router delays per SeQUeNCe single-heralded attempt
ATTEMPT_RATE_HZ = SPEED_KM_PER_S / (4.0 * LINK_KM)
MEMO_PER_REQUEST = 10
TARGET_FIDELITY = 0.5
SIMULATED_S = 1.0


def scenario_dict(
    routers: int, memories: int, raw_fidelity: float, seed: int = 0, *, confirm: bool = True
) -> dict:
    """The qnetai scenario (as a plain dict for ``Scenario.model_validate``)."""
    names = [f"r{i}" for i in range(routers)]
    link = {
        "length_km": LINK_KM,
        "attenuation_db_per_km": 0.2,
        "scheme": "double_click",
        "attempt_rate_hz": ATTEMPT_RATE_HZ,
        "multiplexing": 1,
        "source_efficiency": 1.0,
        "coupling_efficiency": 1.0,
        "detector_efficiency": 1.0,
        "dark_count_probability": 0.0,
        "raw_fidelity": raw_fidelity,
    }
    return {
        "name": f"sequence-anchor-{routers}",
        "seed": seed,
        "duration_s": SIMULATED_S,
        "nodes": [
            {
                "name": n,
                "kind": "repeater",
                "memory_qubits": memories,
                "position_km": [LINK_KM * i, 0.0],
                "memory": {"t_coh_s": T_COH_S, "efficiency": 1.0},
            }
            for i, n in enumerate(names)
        ],
        "links": [{"endpoints": [names[i], names[i + 1]], **link} for i in range(routers - 1)],
        "operations": {
            "swap_gate_fidelity": 1.0,
            "measurement_error": 0.0,
            "swap_success_probability": 1.0,
            "swapping_policy": "nested",
            "swapping": {"confirm": confirm},
        },
        "classical": {"speed_km_per_s": SPEED_KM_PER_S, "processing_delay_s": 0.0},
        "traffic": {
            "requests": [
                {
                    "source": names[0],
                    "destination": names[-1],
                    "count": 1,
                    "memories": MEMO_PER_REQUEST,
                    "pairs_per_request": 1_000_000,
                    "arrival": {"process": "at_once"},
                    "min_fidelity": TARGET_FIDELITY,
                }
            ]
        },
        "controller": {"routing": "shortest-path", "path_metric": "hops"},
    }


def run(name: str, seed: int, *, confirm: bool = True) -> dict:
    """Build and run one scenario through ``qnetai.sim.simulate``; return the figures."""
    t_import = time.perf_counter()
    from qnetai import __version__, simulate  # the facade resolves controller.routing
    from qnetai.config.models import Scenario

    # warm-up: a 1 ms run loads the modules simulate() imports lazily (topology builders with
    # scipy, pyarrow/pandas for the tables), so the timing below is the simulation itself, as
    # on the SeQUeNCe side (whose timing starts after its imports and topology build)
    warm = scenario_dict(2, MEMO_PER_REQUEST, 0.9, seed)
    warm["duration_s"] = 1e-3
    simulate(Scenario.model_validate(warm), seed=seed)
    routers, memories, raw = SCENARIOS[name]
    t_build = time.perf_counter()
    scenario = Scenario.model_validate(scenario_dict(routers, memories, raw, seed, confirm=confirm))
    c0 = time.process_time()
    t0 = time.perf_counter()
    result = simulate(scenario, seed=seed)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    s = result.summary
    fid = result.deliveries.column("fidelity").to_pylist()
    return {
        "simulator": "qnetai",
        "version": __version__,
        "scenario": name,
        "seed": seed,
        "routers": routers,
        "memories_per_router": memories,
        "raw_fidelity": raw,
        "swap_confirm": confirm,
        "simulated_s": float(s["simulated_s"]),
        "wall_time_s": wall,
        "cpu_time_s": cpu,
        "engine_wall_time_s": float(s["wall_time_s"]),
        "build_time_s": t0 - t_build,
        "import_time_s": t_build - t_import,  # imports + warm-up run
        "events": int(s["events"]),
        "pairs_delivered": int(s["pairs_delivered"]),
        "mean_fidelity": (sum(fid) / len(fid)) if fid else None,
        "min_fidelity": min(fid) if fid else None,
        "max_fidelity": max(fid) if fid else None,
        "pairs_generated": int(s.get("pairs_generated", 0)),
        "pairs_below_min_fidelity": int(s.get("pairs_below_min_fidelity", 0)),
        "swaps": int(s.get("swaps", 0)),
        "swap_confirmations": int(s.get("swap_confirmations", 0)),
        "swap_confirmations_refused": int(s.get("swap_confirmations_refused", 0)),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: run one scenario and print its JSON figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--no-confirm",
        action="store_true",
        help="qnetai's default protocol (swap without confirming with the partners)",
    )
    args = ap.parse_args(argv)
    json.dump(run(args.scenario, args.seed, confirm=not args.no_confirm), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
