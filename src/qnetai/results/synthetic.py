"""A small, made-up :class:`~qnetai.sim.SimulationResult` for tests, docs and report previews.

The figures are random draws, not physics: use :func:`qnetai.sim.simulate` for those.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from qnetai.config.models import Scenario
from qnetai.sim.result import SCHEMAS, SimulationResult


def synthetic_result(
    *,
    nodes: int = 4,
    deliveries: int = 50,
    duration_s: float = 1.0,
    seed: int = 0,
    positions: bool = True,
    name: str = "synthetic",
) -> SimulationResult:
    """A line of ``nodes`` nodes with random telemetry whose columns follow the engine's schemas.

    Example:
        >>> r = synthetic_result(nodes=3, deliveries=10)
        >>> r.deliveries.num_rows, r.links.num_rows
        (10, 2)
    """
    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(nodes)]
    spec = {
        "name": name,
        "description": "A synthetic result for tests.",
        "seed": seed,
        "duration_s": duration_s,
        "nodes": [
            {
                "name": n,
                "kind": "end_user" if i in (0, nodes - 1) else "repeater",
                **({"position_km": (10.0 * i, 0.0)} if positions else {}),
            }
            for i, n in enumerate(names)
        ],
        "links": [
            {
                "endpoints": (names[i], names[i + 1]),
                "name": f"{names[i]}-{names[i + 1]}",
                "length_km": 10.0,
            }
            for i in range(nodes - 1)
        ],
        "traffic": {
            "requests": [{"source": names[0], "destination": names[-1], "count": deliveries + 5}]
        },
    }
    scenario = Scenario.model_validate(spec)
    path = ">".join(names)
    hops = nodes - 1
    n_req = deliveries + 5
    arrival = np.sort(rng.uniform(0, duration_s * 0.8, n_req))
    served = np.arange(n_req) < deliveries
    latency = np.where(served, rng.exponential(0.01, n_req), np.nan)
    requests = pa.table(
        {
            "request_id": np.arange(n_req, dtype=np.int64),
            "source": [names[0]] * n_req,
            "destination": [names[-1]] * n_req,
            "arrival_s": arrival,
            "status": np.where(served, "served", "unserved").tolist(),
            "served_s": arrival + latency,
            "latency_s": latency,
            "pairs_delivered": served.astype(np.int64),
            "path": [path] * n_req,
            "hops": np.full(n_req, hops, dtype=np.int64),
        },
        schema=SCHEMAS["requests"],
    )
    fid = np.clip(rng.normal(0.9, 0.03, deliveries), 0.25, 1.0)
    dtimes = (arrival + latency)[:deliveries]
    dels = pa.table(
        {
            "request_id": np.arange(deliveries, dtype=np.int64),
            "time_s": dtimes,
            "source": [names[0]] * deliveries,
            "destination": [names[-1]] * deliveries,
            "fidelity": fid,
            "latency_s": latency[:deliveries],
            "path": [path] * deliveries,
            "hops": np.full(deliveries, hops, dtype=np.int64),
        },
        schema=SCHEMAS["deliveries"],
    )
    gen = rng.integers(deliveries, 3 * deliveries + 2, hops).astype(np.int64)
    links = pa.table(
        {
            "link": [f"{names[i]}-{names[i + 1]}" for i in range(hops)],
            "a": names[:-1],
            "b": names[1:],
            "kind": ["fibre"] * hops,
            "length_km": np.full(hops, 10.0),
            "p_success": rng.uniform(0.01, 0.2, hops),
            "attempt_s": np.full(hops, 5e-5),
            "pairs_generated": gen,
            "pairs_consumed": np.full(hops, deliveries, dtype=np.int64),
            "pairs_discarded": gen - deliveries,
            "rate_hz": gen / duration_s,
        },
        schema=SCHEMAS["links"],
    )
    node_t = pa.table(
        {
            "node": names,
            "kind": [n.kind for n in scenario.nodes],
            "memory_qubits": np.full(nodes, 10, dtype=np.int64),
            "mean_memory_utilisation": rng.uniform(0, 0.5, nodes),
            "peak_memory_used": rng.integers(1, 10, nodes).astype(np.int64),
        },
        schema=SCHEMAS["nodes"],
    )
    bins = 10
    edges = np.linspace(0, duration_s, bins + 1)
    idx = np.clip(np.searchsorted(edges, dtimes, side="right") - 1, 0, bins - 1)
    counts = np.bincount(idx, minlength=bins)
    sums = np.bincount(idx, weights=fid, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_f = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    ts = pa.table(
        {
            "bin_start_s": edges[:-1],
            "bin_end_s": edges[1:],
            "deliveries": counts.astype(np.int64),
            "mean_fidelity": mean_f,
            "pairs_generated": np.full(bins, int(gen.sum()) // bins, dtype=np.int64),
        },
        schema=SCHEMAS["timeseries"],
    )
    link_ts = pa.table(
        {
            "link": [f"{names[i]}-{names[i + 1]}" for i in range(hops) for _ in range(bins)],
            "bin_start_s": np.tile(edges[:-1], hops),
            "bin_end_s": np.tile(edges[1:], hops),
            "pairs_generated": np.repeat(gen // bins, bins).astype(np.int64),
            "attempts": np.repeat(gen // bins * 10, bins).astype(np.int64),
        },
        schema=SCHEMAS["link_timeseries"],
    )
    lat = latency[:deliveries]
    has = deliveries > 0
    summary = {
        "simulated_s": duration_s,
        "wall_time_s": 0.01,
        "events": int(gen.sum()) + n_req,
        "requests_total": n_req,
        "requests_served": int(served.sum()),
        "pairs_delivered": deliveries,
        "pairs_per_s": deliveries / duration_s,
        "mean_fidelity": float(fid.mean()) if has else float("nan"),
        "fidelity_p05": float(np.percentile(fid, 5)) if has else float("nan"),
        "fidelity_p50": float(np.percentile(fid, 50)) if has else float("nan"),
        "fidelity_p95": float(np.percentile(fid, 95)) if has else float("nan"),
        "mean_latency_s": float(lat.mean()) if has else float("nan"),
        "latency_p95_s": float(np.percentile(lat, 95)) if has else float("nan"),
        "mean_memory_utilisation": float(node_t["mean_memory_utilisation"].to_numpy().mean()),
    }
    return SimulationResult(
        scenario=scenario,
        summary=summary,
        requests=requests,
        deliveries=dels,
        links=links,
        nodes=node_t,
        timeseries=ts,
        link_timeseries=link_ts,
    )
