"""Telemetry of a network simulation and its conversion to :class:`SimulationResult` tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from qnetai.sim.linklayer import LinkModel
from qnetai.sim.result import SCHEMAS
from qnetai.sim.state import Request

#: Number of time bins of the ``timeseries`` table.
TIMESERIES_BINS = 100


class Telemetry:
    """Counters and records filled in by the engine (plain lists; no per-event objects)."""

    def __init__(self, n_nodes: int, n_links: int, duration_s: float) -> None:
        self.duration_s = duration_s
        self.bin_s = duration_s / TIMESERIES_BINS
        self.bin_deliveries = [0] * TIMESERIES_BINS
        self.bin_fidelity = [0.0] * TIMESERIES_BINS
        self.bin_generated = [0] * TIMESERIES_BINS
        self.link_generated = [0] * n_links
        self.link_consumed = [0] * n_links
        self.link_discarded = [0] * n_links
        # per link and time bin (flat, ``link * TIMESERIES_BINS + bin``): bounded memory
        self.link_bin_generated = [0] * (n_links * TIMESERIES_BINS)
        self.link_bin_attempts = [0] * (n_links * TIMESERIES_BINS)
        self.mem_used = [0] * n_nodes
        self.mem_area = [0.0] * n_nodes
        self.mem_last = [0.0] * n_nodes
        self.mem_peak = [0] * n_nodes
        # deliveries
        self.d_rid: list[int] = []
        self.d_time: list[float] = []
        self.d_fid: list[float] = []
        self.counters: dict[str, int] = {
            "pairs_generated": 0,
            "swaps": 0,
            "swap_failures": 0,
            "purifications": 0,
            "purification_failures": 0,
            "cutoff_discards": 0,
            "pairs_below_min_fidelity": 0,
        }

    def _bin(self, t: float) -> int:
        b = int(t / self.bin_s) if self.bin_s > 0 else 0
        return b if b < TIMESERIES_BINS else TIMESERIES_BINS - 1

    def generated(self, link: int, t: float, n: int, attempts: int = 1) -> None:
        """``n`` pairs heralded on ``link`` at time ``t`` after ``attempts`` attempt rounds.

        The attempts are those of the generation process since its (re)start, the herald's
        round included; they are counted in the bin of the herald.
        """
        self.link_generated[link] += n
        b = int(t / self.bin_s) if self.bin_s > 0 else 0  # _bin(t), inlined (hot path)
        if b >= TIMESERIES_BINS:
            b = TIMESERIES_BINS - 1
        self.bin_generated[b] += n
        k = link * TIMESERIES_BINS + b
        self.link_bin_generated[k] += n
        self.link_bin_attempts[k] += attempts
        self.counters["pairs_generated"] += n

    def attempted(self, link: int, t: float, attempts: int) -> None:
        """``attempts`` rounds on ``link`` of a process whose request ended at ``t`` (no pair)."""
        self.link_bin_attempts[link * TIMESERIES_BINS + self._bin(t)] += attempts

    def delivered(self, rid: int, t: float, fidelity: float) -> None:
        """An end-to-end pair handed to the application."""
        self.d_rid.append(rid)
        self.d_time.append(t)
        self.d_fid.append(fidelity)
        b = self._bin(t)
        self.bin_deliveries[b] += 1
        self.bin_fidelity[b] += fidelity

    def memory(self, node: int, t: float, delta: int) -> None:
        """The reserved memory of ``node`` changes by ``delta`` qubits at ``t``."""
        used = self.mem_used[node]
        self.mem_area[node] += used * (t - self.mem_last[node])
        self.mem_last[node] = t
        used += delta
        self.mem_used[node] = used
        if used > self.mem_peak[node]:
            self.mem_peak[node] = used

    def memory_path(self, nodes: list[int], need: list[int], scale: int, t: float) -> None:
        """:meth:`memory` at each of ``nodes`` with ``delta = need[i] * scale`` (one call)."""
        used_of, area, last, peak = self.mem_used, self.mem_area, self.mem_last, self.mem_peak
        for node, k in zip(nodes, need, strict=True):
            used = used_of[node]
            area[node] += used * (t - last[node])
            last[node] = t
            used += k * scale
            used_of[node] = used
            if used > peak[node]:
                peak[node] = used


def _pct(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q)) if x.size else math.nan


def build_tables(
    tel: Telemetry,
    *,
    end_s: float,
    node_names: list[str],
    node_kinds: Sequence[str],
    node_memory: list[int],
    links: list[LinkModel],
    requests: list[Request],
    arrival_of: dict[int, float],
    events: int,
    wall_time_s: float,
) -> tuple[dict[str, Any], dict[str, pa.Table]]:
    """The summary and the six tables (see :mod:`qnetai.sim.result`)."""
    span = end_s if end_s > 0 else math.nan
    # nodes
    area = [
        tel.mem_area[i] + tel.mem_used[i] * (end_s - tel.mem_last[i])
        for i in range(len(node_names))
    ]
    util = [
        (a / (span * m)) if (m > 0 and span == span) else 0.0
        for a, m in zip(area, node_memory, strict=True)
    ]
    nodes = pa.table(
        {
            "node": node_names,
            "kind": node_kinds,
            "memory_qubits": node_memory,
            "mean_memory_utilisation": util,
            "peak_memory_used": tel.mem_peak,
        },
        schema=SCHEMAS["nodes"],
    )
    links_t = pa.table(
        {
            "link": [lm.name for lm in links],
            "a": [lm.a for lm in links],
            "b": [lm.b for lm in links],
            "kind": [lm.spec.kind for lm in links],
            "length_km": [float(lm.spec.length_km) for lm in links],
            "p_success": [float(lm.p_success) for lm in links],
            "attempt_s": [float(lm.attempt_s) for lm in links],
            "pairs_generated": tel.link_generated,
            "pairs_consumed": tel.link_consumed,
            "pairs_discarded": tel.link_discarded,
            "rate_hz": [g / span if span == span else 0.0 for g in tel.link_generated],
        },
        schema=SCHEMAS["links"],
    )
    # requests
    req_cols: dict[str, list[Any]] = {k: [] for k in SCHEMAS["requests"].names}
    for r in requests:
        req_cols["request_id"].append(r.rid)
        req_cols["source"].append(r.src_name)
        req_cols["destination"].append(r.dst_name)
        req_cols["arrival_s"].append(r.arrival)
        status = r.status if r.status in ("served", "expired") else "unserved"
        req_cols["status"].append(status)
        served = r.served_s if status == "served" else None
        req_cols["served_s"].append(served)
        req_cols["latency_s"].append(None if served is None else served - r.arrival)
        req_cols["pairs_delivered"].append(r.delivered)
        req_cols["path"].append(r.path_str)
        req_cols["hops"].append(r.hops)
    requests_t = pa.table(req_cols, schema=SCHEMAS["requests"])
    # deliveries
    rid = np.asarray(tel.d_rid, dtype=np.int64)
    t = np.asarray(tel.d_time, dtype=np.float64)
    fid = np.asarray(tel.d_fid, dtype=np.float64)
    by_id = {r.rid: r for r in requests}
    arrival = np.asarray([arrival_of[i] for i in tel.d_rid], dtype=np.float64)
    latency = t - arrival
    deliveries = pa.table(
        {
            "request_id": rid,
            "time_s": t,
            "source": [by_id[i].src_name for i in tel.d_rid],
            "destination": [by_id[i].dst_name for i in tel.d_rid],
            "fidelity": fid,
            "latency_s": latency,
            "path": [by_id[i].path_str for i in tel.d_rid],
            "hops": np.asarray([by_id[i].hops for i in tel.d_rid], dtype=np.int64),
        },
        schema=SCHEMAS["deliveries"],
    )
    # timeseries
    edges = np.arange(len(tel.bin_deliveries) + 1) * tel.bin_s
    counts = np.asarray(tel.bin_deliveries, dtype=np.int64)
    fsum = np.asarray(tel.bin_fidelity)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_f = np.where(counts > 0, fsum / np.maximum(counts, 1), np.nan)
    timeseries = pa.table(
        {
            "bin_start_s": edges[:-1],
            "bin_end_s": edges[1:],
            "deliveries": counts,
            "mean_fidelity": mean_f,
            "pairs_generated": np.asarray(tel.bin_generated, dtype=np.int64),
        },
        schema=SCHEMAS["timeseries"],
    )
    link_timeseries = _link_timeseries(tel, edges, [lm.name for lm in links])
    served = sum(1 for r in requests if r.status == "served")
    expired = sum(1 for r in requests if r.status == "expired")
    mem_total = sum(node_memory)
    summary: dict[str, Any] = {
        "simulated_s": float(end_s),
        "wall_time_s": float(wall_time_s),
        "events": int(events),
        "requests_total": len(requests),
        "requests_served": served,
        "requests_expired": expired,
        "requests_unserved": len(requests) - served - expired,
        "pairs_delivered": int(fid.size),
        "pairs_per_s": float(fid.size / span) if span == span else 0.0,
        "mean_fidelity": float(fid.mean()) if fid.size else math.nan,
        "fidelity_p05": _pct(fid, 5),
        "fidelity_p50": _pct(fid, 50),
        "fidelity_p95": _pct(fid, 95),
        "mean_latency_s": float(latency.mean()) if latency.size else math.nan,
        "latency_p95_s": _pct(latency, 95),
        "mean_memory_utilisation": (
            float(sum(area) / (span * mem_total)) if mem_total > 0 and span == span else 0.0
        ),
    }
    summary.update({k: int(v) for k, v in tel.counters.items()})
    tables = {
        "requests": requests_t,
        "deliveries": deliveries,
        "links": links_t,
        "nodes": nodes,
        "timeseries": timeseries,
        "link_timeseries": link_timeseries,
    }
    return summary, tables


def _link_timeseries(tel: Telemetry, edges: np.ndarray, names: list[str]) -> pa.Table:
    """Per link and time bin: pairs generated and attempt rounds (link-major order)."""
    n = len(names)
    bins = TIMESERIES_BINS
    schema = SCHEMAS["link_timeseries"]
    # each name repeated per bin, decoded in Arrow (no n * bins Python strings)
    link = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(n, dtype=np.int32), bins)), pa.array(names)
    ).cast(schema.field("link").type)
    return pa.table(
        {
            "link": link,
            "bin_start_s": np.tile(edges[:-1], n),
            "bin_end_s": np.tile(edges[1:], n),
            "pairs_generated": np.asarray(tel.link_bin_generated, dtype=np.int64),
            "attempts": np.asarray(tel.link_bin_attempts, dtype=np.int64),
        },
        schema=schema,
    )
