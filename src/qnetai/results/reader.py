"""Read a run folder back: summary, run metadata, scenario and the Parquet tables.

Tables beyond the six standard ones (e.g. the key network's ``qkd_*.parquet``) land in
``RunView.extra_tables`` by file stem; ``qkd_summary.json`` in ``RunView.qkd_summary``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from qnetai.errors import InputError
from qnetai.results._atomic import read_marker
from qnetai.results._staging import MARKER_FILE, stagings
from qnetai.results.writer import (
    QKD_SUMMARY_FILE,
    RUN_FILE,
    SCENARIO_FILE,
    SUMMARY_FILE,
    table_file,
)
from qnetai.sim.result import SCHEMAS, TABLE_NAMES


@dataclass(frozen=True)
class RunView:
    """A run folder loaded into memory; has the attributes of a ``SimulationResult``.

    ``scenario`` is the resolved :class:`qnetai.config.models.Scenario` (validated
    from ``scenario.yaml``), so :func:`qnetai.report.render_html` accepts a view too.
    """

    path: Path
    summary: dict[str, Any]
    meta: dict[str, Any]
    scenario: Any
    requests: pa.Table
    deliveries: pa.Table
    links: pa.Table
    nodes: pa.Table
    timeseries: pa.Table
    link_timeseries: pa.Table
    extra_tables: dict[str, pa.Table] = field(default_factory=dict)
    qkd_summary: dict[str, Any] | None = None

    def tables(self) -> dict[str, pa.Table]:
        """The standard tables by name (:data:`qnetai.sim.result.TABLE_NAMES`)."""
        return {name: getattr(self, name) for name in TABLE_NAMES}


#: Tables added after the first run folders were written: an older folder without one reads
#: back as an empty table of the current schema.
_OPTIONAL_TABLES = frozenset({"link_timeseries"})


def _read_table(path: Path, name: str) -> pa.Table:
    file = path / table_file(name)
    if name in _OPTIONAL_TABLES and not file.is_file():
        return SCHEMAS[name].empty_table()
    return pq.read_table(file)


def read_run(path: str | Path) -> RunView:
    """Load the run folder at ``path``.

    Example:
        >>> run = read_run("runs/metro-6g-20250102T030405Z-seed0")  # doctest: +SKIP
        >>> run.summary["mean_fidelity"], run.deliveries.num_rows  # doctest: +SKIP
    """
    from qnetai.config import load_scenario

    path = Path(path)
    if not (path / SUMMARY_FILE).is_file():
        raise InputError(f"run: {path} is not a qnetai run folder (no {SUMMARY_FILE})")
    if read_marker(path) is None and stagings(path):
        raise InputError(
            f"run: {path} is an incomplete run folder (being written, or "
            f"interrupted: no {MARKER_FILE})"
        )
    summary = json.loads((path / SUMMARY_FILE).read_text())
    meta_file = path / RUN_FILE
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    scenario = load_scenario(path / SCENARIO_FILE)
    tables = {name: _read_table(path, name) for name in TABLE_NAMES}
    extra = {
        p.stem: pq.read_table(p)
        for p in sorted(path.glob("*.parquet"))
        if p.stem not in TABLE_NAMES
    }
    qkd_file = path / QKD_SUMMARY_FILE
    qkd_summary = json.loads(qkd_file.read_text()) if qkd_file.is_file() else None
    return RunView(
        path=path,
        summary=summary,
        meta=meta,
        scenario=scenario,
        extra_tables=extra,
        qkd_summary=qkd_summary,
        **tables,
    )
