"""Write a run to a run folder, atomically, and record it in the catalogue.

A run folder holds one Parquet file per table (``requests.parquet``,
``deliveries.parquet``, ``links.parquet``, ``nodes.parquet``,
``timeseries.parquet``, ``link_timeseries.parquet``), ``summary.json``, ``run.json`` (the
run's identity and file list), the resolved scenario as ``scenario.yaml``, ``report.html``
when the caller passes the report's HTML (composed by the caller, e.g. with
:func:`qnetai.report.render_html`; this module renders nothing), and the marker
``.qnetai-run`` (the run id; written last, so a folder holding it is complete). With a key
network (a :class:`qnetai.RunResult` from :func:`qnetai.run_scenario`, or ``qkd=``, from
:func:`qnetai.qkd.network.simulate_key_network`) it also holds ``qkd_<table>.parquet``
for each of its tables (``qkd_link_key_rates``, ``qkd_pool_levels``, ``qkd_relay``,
``qkd_entanglement_qkd``) and ``qkd_summary.json``.
"""

from __future__ import annotations

import functools
import json
import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from qnetai import __version__
from qnetai.errors import QnetaiError
from qnetai.results._atomic import (
    RUN_FILE,
    atomic_directory,
    check_out_dir,
    write_bytes,
    write_file,
)
from qnetai.results.catalogue import catalogue_path, catalogue_row, record_run
from qnetai.sim.result import TABLE_NAMES

SUMMARY_FILE = "summary.json"
SCENARIO_FILE = "scenario.yaml"
REPORT_FILE = "report.html"
QKD_SUMMARY_FILE = "qkd_summary.json"
QKD_PREFIX = "qkd_"


class CatalogueError(QnetaiError):
    """The run folder was written but its catalogue row could not be recorded."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def table_file(name: str) -> str:
    """The file name of table ``name`` inside a run folder."""
    return f"{name}.parquet"


def jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays turned into Python values and NaN/inf into None."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, str):  # numpy scalar or array
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n").encode()


def scenario_yaml(scenario: Any) -> str:
    """The scenario as YAML text that :func:`qnetai.config.load_scenario` reads back."""
    from qnetai.config import scenario_to_yaml

    header = f"# resolved scenario written by qnetai {__version__}\n"
    return header + scenario_to_yaml(scenario, include_defaults=True)


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return slug or "scenario"


def qkd_tables(qkd: Any) -> dict[str, Any]:
    """The key-network tables under their run-folder names (``qkd_<table>``)."""
    return {f"{QKD_PREFIX}{name}": table for name, table in qkd.tables().items()}


def default_run_dir(
    scenario_name: str,
    seed: int,
    *,
    root: str | Path = "runs",
    now: datetime | None = None,
    tag: str | None = None,
) -> Path:
    """``root/<scenario-name>-<UTC timestamp>-seed<K>-<tag>``, unique even within one second.

    ``tag`` (default: 6 random hex digits; the CLI passes the start of the run id) keeps
    runs started in the same second apart; a ``-2``, ``-3``... suffix avoids any clash left.

    Example:
        >>> default_run_dir("metro-6g", 3, now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        ...                 tag="a1b2c3")
        PosixPath('runs/metro-6g-20250102T030405Z-seed3-a1b2c3')
    """
    now = now or datetime.now(UTC)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    tag = _slug(tag) if tag else uuid.uuid4().hex[:6]
    base = Path(root) / f"{_slug(scenario_name)}-{stamp}-seed{int(seed)}-{tag}"
    path, k = base, 1
    while path.exists() or path.is_symlink():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    return path


def write_run(
    result: Any,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    report_html: str | None = None,
    catalogue: bool | str | Path | None = True,
    started_at: datetime | None = None,
    run_id: str | None = None,
    qkd: Any = None,
) -> Path:
    """Write ``result`` to ``out_dir``; returns its path.

    ``result`` is a :class:`qnetai.RunResult` (from :func:`qnetai.run_scenario`: the
    simulation and its key network) or a bare :class:`qnetai.sim.SimulationResult`.
    ``report_html`` is written as ``report.html`` when given (the caller renders it).

    Nothing is written outside ``out_dir`` except the catalogue row. The files are staged
    inside ``out_dir``, fsynced and moved into place, the marker ``.qnetai-run`` (holding
    the run id) last, so an error or interrupt leaves neither a partial run nor a
    catalogue row (see :mod:`qnetai.results._atomic`). ``qkd`` (a
    :class:`qnetai.qkd.network.KeyNetworkResult`; default: ``result.key_network`` when
    ``result`` has one) adds the key-network tables and its summary. A non-empty ``out_dir`` raises
    :class:`qnetai.errors.InputError` unless ``overwrite`` and it is a complete run folder
    holding only its own files, which is then replaced.

    ``catalogue`` names the runs folder whose ``catalogue.duckdb`` records the run;
    ``True`` means ``out_dir``'s parent, ``False``/``None`` no catalogue. If recording
    fails, :class:`CatalogueError` (carrying ``path``) is raised and the folder stays;
    ``qnetai runs --rescan`` adds it later.

    Example:
        >>> import qnetai
        >>> from qnetai.report import render_html
        >>> run = qnetai.run_scenario("metro-6g", seed=1)  # doctest: +SKIP
        >>> path = write_run(run, "runs/demo", report_html=render_html(run))  # doctest: +SKIP
    """
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir, overwrite=overwrite)  # fail before any work
    summary = dict(result.summary)
    scenario = result.scenario
    if started_at is None:
        wall = summary.get("wall_time_s") or 0.0
        started_at = datetime.now(UTC) - timedelta(seconds=float(wall))
    run_id = run_id or uuid.uuid4().hex[:16]
    if qkd is None:
        qkd = getattr(result, "key_network", None)
    extras = qkd_tables(qkd) if qkd is not None else {}
    extras.update(getattr(result, "verification_tables", None) or {})  # scenario.verification
    monitoring = getattr(result, "monitoring", None)  # scenario.incidents / monitoring
    if monitoring is not None:
        extras["alerts"] = monitoring.table()
    qkd_summary = dict(qkd.summary) if qkd is not None else None
    html = report_html

    files: list[str] = []
    marker = _json_bytes({"run_id": run_id, "qnetai_version": __version__})
    meta: dict[str, Any] = {}
    with atomic_directory(out_dir, overwrite=overwrite, marker=marker) as tmp:
        rows: dict[str, int] = {}
        for name in TABLE_NAMES:
            table = getattr(result, name)
            write_file(tmp / table_file(name), functools.partial(pq.write_table, table))
            files.append(table_file(name))
            rows[name] = table.num_rows
        for name, table in extras.items():
            write_file(tmp / table_file(name), functools.partial(pq.write_table, table))
            files.append(table_file(name))
            rows[name] = table.num_rows
        if qkd_summary is not None:
            write_bytes(tmp / QKD_SUMMARY_FILE, _json_bytes(qkd_summary))
            files.append(QKD_SUMMARY_FILE)
        write_bytes(tmp / SUMMARY_FILE, _json_bytes(summary))
        write_bytes(tmp / SCENARIO_FILE, scenario_yaml(scenario).encode())
        files += [SUMMARY_FILE, SCENARIO_FILE]
        if html is not None:
            write_bytes(tmp / REPORT_FILE, html.encode())
            files.append(REPORT_FILE)
        meta = {
            "run_id": run_id,
            "scenario": scenario.name,
            "seed": scenario.seed,
            "started_at": started_at.astimezone(UTC).isoformat(),
            "qnetai_version": __version__,
            "rows": rows,
            "files": [*files, RUN_FILE],
        }
        write_bytes(tmp / RUN_FILE, _json_bytes(meta))

    root = _catalogue_root(out_dir, catalogue)
    if root is not None:
        _record(root, out_dir, meta, summary)
    return out_dir


def _catalogue_root(out_dir: Path, catalogue: bool | str | Path | None) -> Path | None:
    if catalogue is None or catalogue is False:
        return None
    if catalogue is True:
        return out_dir.parent
    return Path(catalogue)


def _record(root: Path, out_dir: Path, meta: dict[str, Any], summary: dict[str, Any]) -> None:
    try:
        record_run(root, catalogue_row(meta, summary, out_dir))
    except Exception as exc:
        raise CatalogueError(
            f"run written to {out_dir}, but the catalogue {catalogue_path(root)} could not be "
            f"updated ({exc}); `qnetai runs --rescan --root {root}` adds it later",
            out_dir,
        ) from exc
