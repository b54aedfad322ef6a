"""A small DuckDB catalogue of runs: ``catalogue.duckdb`` next to the run folders.

One row per run: run_id, scenario, seed, started_at, wall_time_s, simulated_s,
requests_served, pairs_delivered, mean_fidelity, path. :func:`record_run` is
called by :func:`qnetai.results.write_run` after the run folder is in place.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CATALOGUE_NAME = "catalogue.duckdb"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR PRIMARY KEY"),
    ("scenario", "VARCHAR"),
    ("seed", "BIGINT"),
    ("started_at", "TIMESTAMP"),  # UTC
    ("wall_time_s", "DOUBLE"),
    ("simulated_s", "DOUBLE"),
    ("requests_served", "BIGINT"),
    ("pairs_delivered", "BIGINT"),
    ("mean_fidelity", "DOUBLE"),
    ("path", "VARCHAR"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(name for name, _ in COLUMNS)

_CREATE = "CREATE TABLE IF NOT EXISTS runs ({})".format(
    ", ".join(f"{name} {kind}" for name, kind in COLUMNS)
)


def catalogue_path(root: str | Path) -> Path:
    """The catalogue file of a runs folder (``root/catalogue.duckdb``)."""
    return Path(root) / CATALOGUE_NAME


def _connect(path: Path, *, read_only: bool = False, timeout_s: float = 10.0) -> Any:
    """Open the DuckDB file, retrying while another process holds the lock."""
    import duckdb

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def record_run(root: str | Path, row: Mapping[str, Any]) -> Path:
    """Insert (or replace, same ``path`` or ``run_id``) one run row; returns the catalogue path.

    ``row`` holds :data:`COLUMN_NAMES` (missing ones are stored as NULL); ``started_at``
    is a ``datetime`` (naive means UTC) or an ISO string.
    """
    path = catalogue_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {name: _clean(row.get(name)) for name in COLUMN_NAMES}
    started = values["started_at"]
    if isinstance(started, str):
        started = datetime.fromisoformat(started)
    if isinstance(started, datetime) and started.tzinfo is not None:
        started = started.astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
    values["started_at"] = started
    con = _connect(path)
    try:
        con.execute(_CREATE)
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "DELETE FROM runs WHERE path = ? OR run_id = ?", [values["path"], values["run_id"]]
        )
        placeholders = ", ".join("?" for _ in COLUMN_NAMES)
        con.execute(
            f"INSERT INTO runs ({', '.join(COLUMN_NAMES)}) VALUES ({placeholders})",
            [values[name] for name in COLUMN_NAMES],
        )
        con.execute("COMMIT")
    finally:
        con.close()
    return path


def list_runs(root: str | Path = "runs", *, limit: int | None = None) -> list[dict[str, Any]]:
    """The catalogued runs under ``root``, newest first (empty if there is no catalogue).

    ``started_at`` comes back as an ISO-8601 string in UTC.

    Example:
        >>> list_runs("runs")  # doctest: +SKIP
        [{'run_id': '...', 'scenario': 'metro-6g', 'seed': 0, ...}]
    """
    path = catalogue_path(root)
    if not path.exists():
        return []
    con = _connect(path, read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables")
                  .fetchall()}
        if "runs" not in tables:
            return []
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM runs ORDER BY started_at DESC, run_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    out = []
    for r in rows:
        d = dict(zip(COLUMN_NAMES, r, strict=True))
        if isinstance(d["started_at"], datetime):
            d["started_at"] = d["started_at"].replace(tzinfo=UTC).isoformat()
        out.append(d)
    return out
