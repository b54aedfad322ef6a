"""The outcome of a network simulation: a frozen record of pyarrow tables.

``SimulationResult`` is what :func:`qnetai.sim.simulate` returns and what
``qnetai.results`` writes to disk and ``qnetai.report`` draws.

Tables and their columns:

- ``requests``: request_id, source, destination, arrival_s, status
  ("served" | "expired" | "unserved"), served_s, latency_s, pairs_delivered,
  path ("A>B>C"), hops
- ``deliveries``: request_id, time_s, source, destination, fidelity, latency_s,
  path, hops
- ``links``: link, a, b, kind, length_km, p_success, attempt_s, pairs_generated,
  pairs_consumed, pairs_discarded, rate_hz
- ``nodes``: node, kind, memory_qubits, mean_memory_utilisation, peak_memory_used
- ``timeseries``: bin_start_s, bin_end_s, deliveries, mean_fidelity, pairs_generated
- ``link_timeseries``: link, bin_start_s, bin_end_s, pairs_generated, attempts (one row
  per link and time bin, ``TIMESERIES_BINS`` bins per link; ``attempts``: attempt rounds
  counted since each generation process's (re)start, in the bin of its herald, or of its
  request's end for a process the end interrupted; a process still waiting for its herald
  when the run stops is not counted)

``summary`` keys: simulated_s, wall_time_s, events, requests_total,
requests_served, pairs_delivered, pairs_per_s, mean_fidelity, fidelity_p05,
fidelity_p50, fidelity_p95, mean_latency_s, latency_p95_s,
mean_memory_utilisation (plus a few extra engine counters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qnetai.config.models import Scenario

REQUESTS_SCHEMA = pa.schema(
    [
        ("request_id", pa.int64()),
        ("source", pa.string()),
        ("destination", pa.string()),
        ("arrival_s", pa.float64()),
        ("status", pa.string()),
        ("served_s", pa.float64()),
        ("latency_s", pa.float64()),
        ("pairs_delivered", pa.int64()),
        ("path", pa.string()),
        ("hops", pa.int64()),
    ]
)
DELIVERIES_SCHEMA = pa.schema(
    [
        ("request_id", pa.int64()),
        ("time_s", pa.float64()),
        ("source", pa.string()),
        ("destination", pa.string()),
        ("fidelity", pa.float64()),
        ("latency_s", pa.float64()),
        ("path", pa.string()),
        ("hops", pa.int64()),
    ]
)
LINKS_SCHEMA = pa.schema(
    [
        ("link", pa.string()),
        ("a", pa.string()),
        ("b", pa.string()),
        ("kind", pa.string()),
        ("length_km", pa.float64()),
        ("p_success", pa.float64()),
        ("attempt_s", pa.float64()),
        ("pairs_generated", pa.int64()),
        ("pairs_consumed", pa.int64()),
        ("pairs_discarded", pa.int64()),
        ("rate_hz", pa.float64()),
    ]
)
NODES_SCHEMA = pa.schema(
    [
        ("node", pa.string()),
        ("kind", pa.string()),
        ("memory_qubits", pa.int64()),
        ("mean_memory_utilisation", pa.float64()),
        ("peak_memory_used", pa.int64()),
    ]
)
TIMESERIES_SCHEMA = pa.schema(
    [
        ("bin_start_s", pa.float64()),
        ("bin_end_s", pa.float64()),
        ("deliveries", pa.int64()),
        ("mean_fidelity", pa.float64()),
        ("pairs_generated", pa.int64()),
    ]
)

LINK_TIMESERIES_SCHEMA = pa.schema(
    [
        ("link", pa.string()),
        ("bin_start_s", pa.float64()),
        ("bin_end_s", pa.float64()),
        ("pairs_generated", pa.int64()),
        ("attempts", pa.int64()),
    ]
)

SCHEMAS: dict[str, pa.Schema] = {
    "requests": REQUESTS_SCHEMA,
    "deliveries": DELIVERIES_SCHEMA,
    "links": LINKS_SCHEMA,
    "nodes": NODES_SCHEMA,
    "timeseries": TIMESERIES_SCHEMA,
    "link_timeseries": LINK_TIMESERIES_SCHEMA,
}

SUMMARY_KEYS: tuple[str, ...] = (
    "simulated_s",
    "wall_time_s",
    "events",
    "requests_total",
    "requests_served",
    "pairs_delivered",
    "pairs_per_s",
    "mean_fidelity",
    "fidelity_p05",
    "fidelity_p50",
    "fidelity_p95",
    "mean_latency_s",
    "latency_p95_s",
    "mean_memory_utilisation",
)

TABLE_NAMES: tuple[str, ...] = (
    "requests",
    "deliveries",
    "links",
    "nodes",
    "timeseries",
    "link_timeseries",
)


def empty_table(name: str) -> pa.Table:
    """An empty table with the schema of ``name`` (one of :data:`TABLE_NAMES`)."""
    return SCHEMAS[name].empty_table()


@dataclass(frozen=True)
class SimulationResult:
    """The result of :func:`qnetai.sim.simulate`: the resolved scenario, a summary and tables.

    Example:
        >>> from qnetai.sim import simulate
        >>> r = simulate(scenario, seed=1)  # doctest: +SKIP
        >>> r.summary["pairs_delivered"], r.deliveries.num_rows  # doctest: +SKIP
    """

    scenario: Scenario
    summary: dict[str, Any]
    requests: pa.Table
    deliveries: pa.Table
    links: pa.Table
    nodes: pa.Table
    timeseries: pa.Table
    link_timeseries: pa.Table

    def tables(self) -> dict[str, pa.Table]:
        """The six tables by name, in :data:`TABLE_NAMES` order."""
        return {name: getattr(self, name) for name in TABLE_NAMES}

    def to_pandas(self, table: str) -> pd.DataFrame:
        """One table (by name) as a pandas DataFrame (needs pandas installed)."""
        if table not in TABLE_NAMES:
            from qnetai.errors import InputError

            raise InputError(f"table must be one of {', '.join(TABLE_NAMES)} (got {table!r})")
        return getattr(self, table).to_pandas()
