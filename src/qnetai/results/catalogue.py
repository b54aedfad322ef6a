"""A small DuckDB catalogue of runs: ``catalogue.duckdb`` in a runs folder.

One row per run: run_id, scenario, seed, started_at, wall_time_s, simulated_s,
requests_served, pairs_delivered, mean_fidelity, path. The run folders are the
source of truth; the catalogue is an index of them that
:func:`qnetai.results.rescan_catalogue` rebuilds (``qnetai runs --rescan``).
Seeds are BIGINT: scenarios accept seeds in [0, 2**63) only
(:data:`qnetai.config.models.MAX_SEED`). The catalogue file is never opened
through a symlink; a file that is not a DuckDB database is reported as such
(:class:`CatalogueFileError`), not retried as if locked.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qnetai.errors import InputError

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


class CatalogueFileError(InputError):
    """The catalogue file cannot be used: not a DuckDB database, a symlink, or locked."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def catalogue_path(root: str | Path) -> Path:
    """The catalogue file of a runs folder (``root/catalogue.duckdb``)."""
    return Path(root) / CATALOGUE_NAME


def _rescan_hint(path: Path) -> str:
    return f"rebuild it from the run folders with `qnetai runs --rescan --root {path.parent}`"


def _refuse_symlinks(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        if p.is_symlink():
            raise CatalogueFileError(
                f"catalogue: {p} is a symbolic link; qnetai does not write "
                "through links (remove it, then rescan)",
                path,
            )


def _connect(path: Path, *, read_only: bool = False, timeout_s: float = 10.0) -> Any:
    """Open the DuckDB file, retrying while another process holds its lock."""
    import duckdb

    _refuse_symlinks(path)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise CatalogueFileError(
                    f"catalogue: {path} is not a readable DuckDB database ({text}); "
                    + _rescan_hint(path),
                    path,
                ) from exc
            if time.monotonic() > deadline:
                raise CatalogueFileError(
                    f"catalogue: {path} stayed locked by another process for {timeout_s:g} s "
                    f"({text})",
                    path,
                ) from exc
            time.sleep(0.05)


def _query(path: Path, con: Any, sql: str, params: list[Any] | None = None) -> Any:
    """Run ``sql``; a DuckDB error here means a damaged file (reported with the rescan hint)."""
    import duckdb

    try:
        return con.execute(sql, params or [])
    except duckdb.Error as exc:
        raise CatalogueFileError(
            f"catalogue: {path} could not be read ({exc}); " + _rescan_hint(path),
            path,
        ) from exc


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def catalogue_row(meta: Mapping[str, Any], summary: Mapping[str, Any], path: Path) -> dict:
    """The catalogue row of a run from its ``run.json`` (``meta``) and ``summary.json``."""
    return {
        "run_id": meta.get("run_id"),
        "scenario": meta.get("scenario"),
        "seed": meta.get("seed"),
        "started_at": meta.get("started_at"),
        **{
            k: summary.get(k)
            for k in (
                "wall_time_s",
                "simulated_s",
                "requests_served",
                "pairs_delivered",
                "mean_fidelity",
            )
        },
        "path": str(path),
    }


def _values(row: Mapping[str, Any]) -> list[Any]:
    values = {name: _clean(row.get(name)) for name in COLUMN_NAMES}
    started = values["started_at"]
    if isinstance(started, str):
        started = datetime.fromisoformat(started)
    if isinstance(started, datetime) and started.tzinfo is not None:
        started = started.astimezone(UTC).replace(tzinfo=None)  # stored as naive UTC
    values["started_at"] = started
    return [values[name] for name in COLUMN_NAMES]


def _prepare(path: Path, con: Any) -> None:
    """Create the runs table if missing."""
    _query(path, con, _CREATE)


def _insert(path: Path, con: Any, row: Mapping[str, Any]) -> None:
    values = _values(row)
    _query(path, con, "DELETE FROM runs WHERE path = ? OR run_id = ?", [values[-1], values[0]])
    placeholders = ", ".join("?" for _ in COLUMN_NAMES)
    _query(
        path, con, f"INSERT INTO runs ({', '.join(COLUMN_NAMES)}) VALUES ({placeholders})", values
    )


def record_run(root: str | Path, row: Mapping[str, Any]) -> Path:
    """Insert (or replace, same ``path`` or ``run_id``) one run row; returns the catalogue path.

    ``row`` holds :data:`COLUMN_NAMES` (missing ones are stored as NULL); ``started_at``
    is a ``datetime`` (naive means UTC) or an ISO string.
    """
    path = catalogue_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(path)
    try:
        _prepare(path, con)
        _query(path, con, "BEGIN TRANSACTION")
        _insert(path, con, row)
        _query(path, con, "COMMIT")
    finally:
        con.close()
    return path


def replace_rows(root: str | Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Make ``rows`` the whole content of the catalogue of ``root`` (one transaction)."""
    path = catalogue_path(root)
    con = _connect(path)
    try:
        _prepare(path, con)
        _query(path, con, "BEGIN TRANSACTION")
        _query(path, con, "DELETE FROM runs")
        for row in rows:
            _insert(path, con, row)
        _query(path, con, "COMMIT")
    finally:
        con.close()
    return path


def catalogue_rows(root: str | Path) -> list[dict[str, Any]]:
    """Every row of the catalogue of ``root`` (empty without one); ``started_at`` as ISO text.

    Raises :class:`CatalogueFileError` if the file is not a readable DuckDB database.
    """
    path = catalogue_path(root)
    if not path.exists() and not path.is_symlink():
        return []
    con = _connect(path, read_only=True)
    try:
        tables = {
            r[0]
            for r in _query(
                path, con, "SELECT table_name FROM information_schema.tables"
            ).fetchall()
        }
        if "runs" not in tables:
            return []
        rows = _query(path, con, f"SELECT {', '.join(COLUMN_NAMES)} FROM runs").fetchall()
    finally:
        con.close()
    out = []
    for r in rows:
        d = dict(zip(COLUMN_NAMES, r, strict=True))
        if isinstance(d["started_at"], datetime):
            d["started_at"] = d["started_at"].replace(tzinfo=UTC).isoformat()
        out.append(d)
    return out
