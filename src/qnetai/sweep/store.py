"""A sweep folder: one record per point (the truth), Parquet tables and a DuckDB file from them.

Layout of ``OUT/``::

    sweep.json         the sweep file as validated, its hash, the engine that ran it
    points/<id>.json   one record per finished point, written atomically (temp file, fsync,
                       rename): a rerun skips every point whose record says "ok"
    points.parquet     one row per point: parameters, per metric mean / ci_low / ci_high
    runs.parquet       one row per (point, seed): parameters and every metric
    sweep.duckdb       tables ``points`` and ``runs`` (the same rows), for SQL

The tables are rebuilt from the records after each sweep (and after an interruption), so
they never disagree with them.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = write_json_atomic(Path(d) / "x.json", {"a": 1})
    ...     json.loads(path.read_text())
    {'a': 1}
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from qnetai._atomic_files import replace_atomic
from qnetai.errors import InputError

SPEC_FILE = "sweep.json"
POINTS_DIR = "points"
POINTS_TABLE = "points.parquet"
RUNS_TABLE = "runs.parquet"
DUCKDB_FILE = "sweep.duckdb"
_ID_RE = re.compile(r"^[0-9a-f]{16}$")


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def write_json_atomic(path: Path, obj: Any) -> Path:
    """Write ``obj`` as strict JSON (NaN -> null), atomically."""
    text = json.dumps(_clean(obj), indent=1, sort_keys=True)
    return replace_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def open_folder(out: str | Path, sweep_info: Mapping[str, Any]) -> Path:
    """Create or reopen sweep folder ``out`` for the sweep of ``sweep_info["sweep_hash"]``.

    A folder holding another sweep (another hash) is refused: its records could not be reused
    and mixing tables would mislead.
    """
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise InputError(f"--out {root}: exists and is not a folder")
    spec_path = root / SPEC_FILE
    if spec_path.exists():
        try:
            old = json.loads(spec_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{spec_path}: unreadable sweep record ({exc})") from None
        if old.get("sweep_hash") != sweep_info["sweep_hash"]:
            raise InputError(
                f"--out {root} holds another sweep ({old.get('name')!r}, hash "
                f"{old.get('sweep_hash')}); choose a new folder to run this one"
            )
    elif root.exists() and any(root.iterdir()):
        raise InputError(f"--out {root}: not empty and not a sweep folder")
    (root / POINTS_DIR).mkdir(parents=True, exist_ok=True)
    write_json_atomic(spec_path, dict(sweep_info))
    return root


def write_record(root: Path, record: Mapping[str, Any]) -> Path:
    """Write one point's record atomically (``points/<point_id>.json``)."""
    pid = str(record["point_id"])
    if not _ID_RE.match(pid):
        raise InputError(f"bad point id {pid!r}")
    return write_json_atomic(root / POINTS_DIR / f"{pid}.json", record)


def read_records(root: str | Path) -> dict[str, dict[str, Any]]:
    """Every readable point record of a sweep folder, by point id (a damaged one is skipped)."""
    out: dict[str, dict[str, Any]] = {}
    folder = Path(root) / POINTS_DIR
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        try:
            rec = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # the next run redoes that point
        if isinstance(rec, dict) and rec.get("point_id") == path.stem:
            out[path.stem] = rec
    return out


def _interval(values: list[float]) -> tuple[float, float, float]:
    from qnetai.sweep.worker import mean_interval

    return mean_interval(values)


def table_rows(
    records: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(points rows, runs rows)`` of the records (parameters as columns named by path)."""
    points: list[dict[str, Any]] = []
    runs: list[dict[str, Any]] = []
    for rec in sorted(records, key=lambda r: (int(r.get("index", 0)), str(r["point_id"]))):
        params = dict(rec.get("params", {}))
        base = {"point_id": rec["point_id"], "point_index": int(rec.get("index", 0)), **params}
        rows = list(rec.get("runs", []))
        metrics: list[str] = []
        for r in rows:
            metrics.extend(k for k in r if k not in ("seed", "run_wall_s") and k not in metrics)
            runs.append({**base, **r})
        row: dict[str, Any] = {
            **base,
            "status": rec.get("status"),
            "error": rec.get("error"),
            "seeds": len(rows),
            "stop_reason": rec.get("stop_reason"),
            "wall_s": rec.get("wall_s"),
            "cpu_s": rec.get("cpu_s"),
        }
        for m in metrics:
            mean, low, high = _interval([float(r[m]) for r in rows if r.get(m) is not None])
            row[m] = mean
            row[f"{m}_ci_low"] = low
            row[f"{m}_ci_high"] = high
        points.append(row)
    return points, runs


def _table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    if not rows:
        return pa.table({"point_id": pa.array([], pa.string())})
    names: list[str] = []
    for r in rows:
        names.extend(k for k in r if k not in names)
    columns = {}
    for name in names:
        values = [_clean(r.get(name)) for r in rows]
        try:
            columns[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            columns[name] = pa.array([None if v is None else str(v) for v in values])
    return pa.table(columns)


def write_tables(root: str | Path) -> dict[str, int]:
    """Rebuild ``points.parquet``, ``runs.parquet`` and ``sweep.duckdb`` from the records.

    Returns the row counts. Each file is replaced atomically.
    """
    import duckdb
    import pyarrow.parquet as pq

    folder = Path(root)
    points, runs = table_rows(read_records(folder).values())
    tables = {"points": _table(points), "runs": _table(runs)}
    for name, table in tables.items():

        def write_table(path: Path, table: Any = table) -> None:
            pq.write_table(table, path)

        replace_atomic(folder / f"{name}.parquet", write_table)

    def build(path: Path) -> None:
        path.unlink()  # duckdb wants to create the file itself
        con = duckdb.connect(str(path))
        try:
            for name in tables:
                con.execute(
                    f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)",
                    [str(folder / f"{name}.parquet")],
                )
        finally:
            con.close()
        wal = path.with_name(path.name + ".wal")
        wal.unlink(missing_ok=True)

    replace_atomic(folder / DUCKDB_FILE, build)
    return {"points": len(points), "runs": len(runs)}


def query(root: str | Path, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run ``sql`` on the sweep's DuckDB (tables ``points``, ``runs``); ``(columns, rows)``.

    Opened read-only: a query cannot change the sweep. Bad SQL is an InputError.
    """
    import duckdb

    path = Path(root) / DUCKDB_FILE
    if not path.is_file():
        raise InputError(f"{root}: no {DUCKDB_FILE} (not a finished sweep folder)")
    con = duckdb.connect(str(path), read_only=True)
    try:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description or []]
        return cols, cur.fetchall()
    except duckdb.Error as exc:
        raise InputError(f"query failed: {exc}") from None
    finally:
        con.close()


__all__ = [
    "DUCKDB_FILE",
    "POINTS_TABLE",
    "RUNS_TABLE",
    "SPEC_FILE",
    "open_folder",
    "query",
    "read_records",
    "replace_atomic",
    "table_rows",
    "write_json_atomic",
    "write_record",
    "write_tables",
]
