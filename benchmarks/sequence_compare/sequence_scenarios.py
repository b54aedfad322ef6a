"""Run SeQUeNCe 1.3.1 on the speed-anchor scenarios and print one JSON document.

This script runs in SeQUeNCe's own virtual environment (``benchmarks/.venv-sequence``, made by
``run.py``), never in qnetai's: it imports only the standard library and ``sequence``.

The network is built the way SeQUeNCe's examples build it: a ``RouterNetTopo`` JSON
configuration (quantum routers, a ``meet_in_the_middle`` quantum connection per link, which puts a
BSM node half way, and classical connections with fibre delay between every pair of routers)
and one ``RequestApp`` request through the network manager (RSVP reservation, rule-based
generation and nested swapping). Physics (see ``sequence-anchor.md``):

* 20 km per link, 10 km of 0.2 dB/km fibre from each router to the BSM node;
* memories: frequency 2e8 Hz, efficiency 1, coherence time 2 s, raw fidelity 0.9 (0.95);
* BSM: SeQUeNCe's ``SingleHeraldedBSM`` with two ideal detectors (efficiency 1, no dark counts,
  time resolution 150 ps, count rate 1e11 Hz so that detector dead time plays no part);
* Bell-diagonal formalism everywhere (the four process-global switches SeQUeNCe needs:
  the quantum-manager formalism, single-heralded generation on both sides, BDS swapping and
  BDS purification);
* one request from the first to the last router reserving 10 memories at each end (20 at each
  intermediate router, SeQUeNCe's rule) at target fidelity 0.5 for 1 s of simulated time.

Counting: a pair is delivered when the initiator's app is handed an entangled memory whose
remote end is the responder with fidelity >= target (``RequestApp.get_memory``, which then
resets the memory to RAW). ``mean_fidelity`` is the fidelity SeQUeNCe reports for the memory
(its own bookkeeping, ``MemoryInfo.fidelity``); ``mean_state_fidelity`` is the first diagonal
element of the Bell-diagonal state its quantum manager actually holds for the pair at delivery.

Usage (from the repository root)::

    benchmarks/.venv-sequence/bin/python benchmarks/sequence_compare/sequence_scenarios.py \
        --scenario chain-3 [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

#: name -> (routers, memories per router, raw fidelity)
SCENARIOS: dict[str, tuple[int, int, float]] = {
    "link-2": (2, 10, 0.9),
    "chain-3": (3, 20, 0.9),
    "chain-5": (5, 20, 0.9),
    "chain-9-f95": (9, 20, 0.95),
    "chain-9-f90": (9, 20, 0.9),
}

PS_PER_S = 10**12
LINK_M = 20_000  # router to router; the BSM node sits half way
ATTENUATION_DB_PER_M = 0.0002  # 0.2 dB/km
LIGHT_M_PER_PS = 2e-4  # SeQUeNCe's SPEED_OF_LIGHT (in fibre)
MEMO_PER_REQUEST = 10
TARGET_FIDELITY = 0.5
START_S = 0.01  # reservation start: after the RSVP round trip along the longest chain
SIMULATED_S = 1.0


def build_config(routers: int, memories: int, raw_fidelity: float, seed: int) -> dict:
    """SeQUeNCe ``RouterNetTopo`` configuration of a chain of ``routers`` quantum routers."""
    names = [f"r{i}" for i in range(routers)]
    detector = {"efficiency": 1, "dark_count": 0, "time_resolution": 150, "count_rate": 1e11}
    return {
        "formalism": "bell_diagonal",
        "stop_time": int((START_S + SIMULATED_S) * PS_PER_S),
        "is_parallel": False,
        "templates": {
            "router": {
                "MemoryArray": {
                    "frequency": 2e8,
                    "coherence_time": 2,
                    "efficiency": 1,
                    "fidelity": raw_fidelity,
                }
            },
            "bsm": {
                "encoding_type": "single_heralded",
                "SingleHeraldedBSM": {"detectors": [dict(detector), dict(detector)]},
            },
        },
        "nodes": [
            {
                "name": n,
                "type": "QuantumRouter",
                "seed": seed * 1000 + i,
                "memo_size": memories,
                "template": "router",
            }
            for i, n in enumerate(names)
        ],
        "qconnections": [
            {
                "node1": names[i],
                "node2": names[i + 1],
                "attenuation": ATTENUATION_DB_PER_M,
                "distance": LINK_M,
                "type": "meet_in_the_middle",
                "template": "bsm",
                "seed": seed * 1000 + 500 + i,
            }
            for i in range(routers - 1)
        ],
        # every pair of routers: swapping results and resource-manager requests travel end to
        # end; the delay is the fibre delay along the chain
        "cconnections": [
            {
                "node1": names[i],
                "node2": names[j],
                "delay": round((j - i) * LINK_M / LIGHT_M_PER_PS),
            }
            for i in range(routers)
            for j in range(i + 1, routers)
        ],
    }


def set_globals() -> None:
    """SeQUeNCe's protocol choices are process-global class attributes: set all four."""
    from sequence.constants import BELL_DIAGONAL_STATE_FORMALISM, SINGLE_HERALDED
    from sequence.entanglement_management.generation import (
        EntanglementGenerationA,
        EntanglementGenerationB,
    )
    from sequence.entanglement_management.purification import PurificationProtocol
    from sequence.entanglement_management.swapping import (
        EntanglementSwappingA,
        EntanglementSwappingB,
    )

    EntanglementGenerationA.set_global_type(SINGLE_HERALDED)
    EntanglementGenerationB.set_global_type(SINGLE_HERALDED)
    EntanglementSwappingA.set_formalism(BELL_DIAGONAL_STATE_FORMALISM)
    EntanglementSwappingB.set_formalism(BELL_DIAGONAL_STATE_FORMALISM)
    PurificationProtocol.set_formalism(BELL_DIAGONAL_STATE_FORMALISM)


def run(name: str, seed: int) -> dict:
    """Build and run one scenario; return the figures."""
    t_import = time.perf_counter()
    set_globals()
    from sequence.app.request_app import RequestApp
    from sequence.topology.router_net_topo import RouterNetTopo

    class CountingApp(RequestApp):
        """``RequestApp`` that also keeps the fidelity of every pair it counts."""

        def __init__(self, node):
            super().__init__(node)
            self.fidelities: list[float] = []
            self.state_fidelities: list[float] = []
            self.times_ps: list[int] = []

        def get_memory(self, info) -> None:
            before = self.memory_counter
            state_f = None
            fid = float(info.fidelity)  # read first: the app resets the memory to RAW
            if info.state in ("ENTANGLED", "PURIFIED"):
                qm = self.node.timeline.quantum_manager
                state_f = float(qm.get(info.memory.qstate_key).state[0])
            super().get_memory(info)
            if self.memory_counter > before:
                self.fidelities.append(fid)
                self.state_fidelities.append(state_f)
                self.times_ps.append(self.node.timeline.now())

    routers, memories, raw = SCENARIOS[name]
    t_build = time.perf_counter()
    topo = RouterNetTopo(build_config(routers, memories, raw, seed))
    tl = topo.get_timeline()
    tl.show_progress = False
    nodes = {r.name: r for r in topo.get_nodes_by_type(RouterNetTopo.QUANTUM_ROUTER)}
    apps = {n: CountingApp(node) for n, node in nodes.items()}
    initiator, responder = "r0", f"r{routers - 1}"
    tl.init()
    start_ps = int(START_S * PS_PER_S)
    end_ps = int((START_S + SIMULATED_S) * PS_PER_S)
    apps[initiator].start(responder, start_ps, end_ps, MEMO_PER_REQUEST, TARGET_FIDELITY)
    t_run = time.perf_counter()
    c_run = time.process_time()
    tl.run()
    t_end = time.perf_counter()
    c_end = time.process_time()
    app = apps[initiator]
    fids = app.fidelities
    sfids = [f for f in app.state_fidelities if f is not None]
    return {
        "simulator": "sequence",
        "version": _version(),
        "scenario": name,
        "seed": seed,
        "routers": routers,
        "memories_per_router": memories,
        "raw_fidelity": raw,
        "simulated_s": SIMULATED_S,
        "wall_time_s": t_end - t_run,
        "cpu_time_s": c_end - c_run,
        "build_time_s": t_run - t_build,
        "import_time_s": t_build - t_import,
        "events": int(tl.run_counter),
        "reservation_approved": bool(app.reservation_result),
        "pairs_delivered": int(app.memory_counter),
        "mean_fidelity": (sum(fids) / len(fids)) if fids else None,
        "mean_state_fidelity": (sum(sfids) / len(sfids)) if sfids else None,
        "min_fidelity": min(fids) if fids else None,
        "max_fidelity": max(fids) if fids else None,
    }


def _version() -> str:
    from importlib.metadata import version

    return version("sequence")


def main(argv: list[str] | None = None) -> int:
    """Command line: run one scenario and print its JSON figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    json.dump(run(args.scenario, args.seed), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
