"""Runs under a runs folder: the run folders are the truth, the catalogue their index.

:func:`list_runs` shows the catalogued runs plus any complete run folder under the
root that the catalogue misses (a run killed before its row was written, or one
written with ``--out``). :func:`rescan_catalogue` rebuilds the catalogue from the
folders (``qnetai runs --rescan``), setting a corrupt catalogue file aside, and
removes the staging folders that killed qnetai processes left behind
(:func:`clean_stale_runs`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qnetai.errors import InputError
from qnetai.results._atomic import RUN_FILE, read_marker
from qnetai.results._staging import TMP_PREFIX, clean_stale, stagings
from qnetai.results.catalogue import (
    CatalogueFileError,
    catalogue_path,
    catalogue_row,
    catalogue_rows,
    replace_rows,
)

SUMMARY_FILE = "summary.json"
_LEGACY_PREFIXES = (TMP_PREFIX, ".qnetai-old-")  # siblings left by qnetai before 0.x staging


def _children(root: Path) -> list[Path]:
    try:
        return sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []


def _iso(value: Any) -> str | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    return None


def folder_row(path: Path) -> dict[str, Any] | None:
    """The catalogue row of a complete run folder, or None if ``path`` is not one.

    Complete means holding the ``.qnetai-run`` marker, or (folders written before the
    marker existed) ``run.json`` and ``summary.json`` with no staging folder inside.
    """
    path = Path(path)
    marker = read_marker(path)
    if marker is None and stagings(path):
        return None
    try:
        meta = json.loads((path / RUN_FILE).read_text())
        summary = json.loads((path / SUMMARY_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not isinstance(summary, dict) or "run_id" not in meta:
        return None
    if marker is not None and marker.get("run_id") != meta["run_id"]:
        return None
    row = catalogue_row(meta, summary, path.absolute())
    row["started_at"] = _iso(row["started_at"])
    return row


def clean_stale_runs(root: str | Path) -> list[Path]:
    """Remove the staging folders of dead qnetai processes in the run folders under ``root``.

    A run folder created by the killed process, and left empty, goes too. Returns the
    staging folders removed.
    """
    removed: list[Path] = []
    for child in _children(Path(root)):
        removed += clean_stale(child)
    return removed


def _started(row: dict[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(row["started_at"]))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def list_runs(
    root: str | Path = "runs", *, limit: int | None = None, scan: bool = True
) -> list[dict[str, Any]]:
    """The runs under ``root``, newest first (empty if there are none).

    Each row holds the catalogue columns and ``catalogued`` (False for a complete run
    folder under ``root`` that the catalogue lacks; ``scan=False`` leaves those out).
    ``started_at`` is ISO-8601 in UTC. Raises :class:`CatalogueFileError` (an
    :class:`InputError`) if the catalogue file is damaged.

    Example:
        >>> list_runs("runs")  # doctest: +SKIP
        [{'run_id': '...', 'scenario': 'metro-6g', 'seed': 0, ..., 'catalogued': True}]
    """
    rows = [{**r, "catalogued": True} for r in catalogue_rows(root)]
    if scan:
        known = {r["path"] for r in rows} | {r["run_id"] for r in rows}
        for child in _children(Path(root)):
            if str(child.absolute()) in known:
                continue
            row = folder_row(child)
            if row is not None and row["run_id"] not in known:
                rows.append({**row, "catalogued": False})
    rows.sort(key=lambda r: str(r["run_id"]))
    rows.sort(key=_started, reverse=True)  # stable: ties stay in run-id order
    return rows[:limit] if limit is not None else rows


@dataclass(frozen=True)
class RescanReport:
    """What :func:`rescan_catalogue` did."""

    catalogue: Path
    runs: int
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    cleaned: list[Path] = field(default_factory=list)
    set_aside: Path | None = None
    leftovers: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        return {
            "catalogue": str(self.catalogue),
            "runs": self.runs,
            "added": self.added,
            "dropped": self.dropped,
            "cleaned": [str(p) for p in self.cleaned],
            "set_aside": str(self.set_aside) if self.set_aside else None,
            "leftovers": [str(p) for p in self.leftovers],
        }


def _set_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    path.rename(aside)
    wal = path.with_name(path.name + ".wal")
    if wal.exists() and not wal.is_symlink():
        wal.rename(aside.with_name(aside.name + ".wal"))
    return aside


def rescan_catalogue(root: str | Path = "runs") -> RescanReport:
    """Rebuild the catalogue of ``root`` from the run folders in it.

    Stale staging folders are removed first. Rows of folders under ``root`` come from
    the folders; rows pointing elsewhere stay while their folder is still a complete run.
    A catalogue file that is not a DuckDB database is renamed to
    ``catalogue.duckdb.corrupt-<time>`` and a new one is built. Folders named
    ``.qnetai-tmp-*``/``.qnetai-old-*`` directly under ``root`` (left by older qnetai
    versions, which staged beside the run folder) are reported in ``leftovers``, not removed.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"root: {root} is not a folder")
    cleaned = clean_stale_runs(root)
    path = catalogue_path(root)
    set_aside = None
    try:
        old = catalogue_rows(root)
    except CatalogueFileError:
        if path.is_symlink():
            raise
        set_aside, old = _set_aside(path), []
    folders: list[dict[str, Any]] = []
    for child in _children(root):
        row = folder_row(child)
        if row is not None:
            folders.append(row)
    here = {r["path"] for r in folders}
    root_abs = root.absolute()
    kept = []
    for r in old:
        p = Path(str(r["path"]))
        if p.parent != root_abs and str(p) not in here:
            row = folder_row(p)
            if row is not None and row["run_id"] == r["run_id"]:
                kept.append(r)
    rows = folders + kept
    old_ids, new_ids = {r["run_id"] for r in old}, {r["run_id"] for r in rows}
    replace_rows(root, rows)
    leftovers = [p for p in sorted(root.iterdir()) if p.name.startswith(_LEGACY_PREFIXES)]
    return RescanReport(
        catalogue=path,
        runs=len(new_ids),
        added=sorted(new_ids - old_ids),
        dropped=sorted(old_ids - new_ids),
        cleaned=cleaned,
        set_aside=set_aside,
        leftovers=leftovers,
    )
