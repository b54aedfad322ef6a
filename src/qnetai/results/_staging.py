"""Staging folders: where a run's files are built, inside the run folder, and who owns them.

A staging folder is ``<run folder>/.qnetai-tmp-<pid>-<tag>/`` holding ``owner.json``
(pid, host, process start time, whether the run folder was created for this run, and
the names of the files being moved into place). It is *stale* when the process that
made it is gone (same host, pid dead, a zombie, or the pid reused by a younger process).
A stale staging folder is removed by the next write into that run folder, by
:func:`qnetai.results.clean_stale_runs` and by ``qnetai runs --rescan``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TMP_PREFIX = ".qnetai-tmp-"
OWNER_FILE = "owner.json"
OLD_DIR = ".old"  # inside a staging folder: the replaced run's files during a swap
MARKER_FILE = ".qnetai-run"  # written last: a run folder holding it is complete


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks)`` of ``pid`` from ``/proc``, or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return fields[0], fields[19]


def process_alive(pid: int, start: str | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie) and, if ``start`` is given, started at ``start``."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        pass
    except OSError:  # pragma: no cover - e.g. pid out of range
        return False
    stat = _proc_stat(pid)
    if stat is None:
        return True  # no /proc: trust kill(0)
    state, started = stat
    return state != "Z" and (start is None or started == start)


@dataclass(frozen=True)
class Staging:
    """A staging folder and its owner record (``owner`` is {} when unreadable)."""

    path: Path
    owner: dict[str, Any]

    @property
    def stale(self) -> bool:
        """True when the owning process is known to be gone."""
        pid = self.owner.get("pid")
        if pid is None:  # no owner record: the pid is in the name
            try:
                pid = int(self.path.name[len(TMP_PREFIX) :].split("-")[0])
            except ValueError:
                return False
        host = self.owner.get("host")
        if host is not None and host != socket.gethostname():
            return False  # cannot tell for another machine's process
        return not process_alive(int(pid), self.owner.get("start"))

    @property
    def pid(self) -> int | None:
        """The owner's pid, if recorded."""
        pid = self.owner.get("pid")
        return int(pid) if pid is not None else None


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` via a temporary name in the same folder."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(json.dumps(obj).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def new_staging(run_dir: Path, *, created_dir: bool) -> Path:
    """Create a staging folder inside ``run_dir`` with its owner record."""
    pid = os.getpid()
    path = run_dir / f"{TMP_PREFIX}{pid}-{uuid.uuid4().hex[:12]}"
    path.mkdir()
    stat = _proc_stat(pid)
    owner = {
        "pid": pid,
        "host": socket.gethostname(),
        "start": stat[1] if stat else None,
        "created_dir": created_dir,
        "files": [],
    }
    write_json_atomic(path / OWNER_FILE, owner)
    return path


def read_owner(staging: Path) -> dict[str, Any]:
    """The owner record of a staging folder ({} if missing or unreadable)."""
    try:
        owner = json.loads((staging / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def set_owner_files(staging: Path, files: list[str], replacing: list[str]) -> None:
    """Record the names about to be moved into the run folder and those of the run replaced."""
    owner = {**read_owner(staging), "files": files, "replacing": replacing}
    write_json_atomic(staging / OWNER_FILE, owner)


def is_staging(entry: Path) -> bool:
    """Whether ``entry`` is a staging folder (a real directory named ``.qnetai-tmp-*``)."""
    return entry.name.startswith(TMP_PREFIX) and entry.is_dir() and not entry.is_symlink()


def stagings(run_dir: Path) -> list[Staging]:
    """The staging folders inside ``run_dir``."""
    try:
        entries = list(run_dir.iterdir())
    except OSError:
        return []
    return [Staging(e, read_owner(e)) for e in sorted(entries) if is_staging(e)]


def discard(run_dir: Path, staging: Path) -> None:
    """Remove ``staging``; if ``run_dir`` is incomplete, also the files it moved in.

    ``run_dir`` itself goes too when the staging created it and nothing else is left.
    """
    owner = read_owner(staging)
    if not (run_dir / MARKER_FILE).is_file():
        for name in [*owner.get("files", []), *owner.get("replacing", [])]:
            target = run_dir / str(name)
            if "/" not in str(name) and (target.is_symlink() or target.is_file()):
                target.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)
    if owner.get("created_dir"):
        try:
            run_dir.rmdir()  # only if empty
        except OSError:
            pass


def stale_names(run_dir: Path) -> set[str]:
    """Names in ``run_dir`` that cleaning its stale staging folders would remove."""
    names: set[str] = set()
    complete = (run_dir / MARKER_FILE).is_file()
    for st in stagings(run_dir):
        if st.stale:
            names.add(st.path.name)
            if not complete:
                names |= {
                    str(n) for n in [*st.owner.get("files", []), *st.owner.get("replacing", [])]
                }
    return names


def clean_stale(run_dir: Path) -> list[Path]:
    """Remove the stale staging folders of ``run_dir`` (see :func:`discard`); returns them."""
    removed = []
    for st in stagings(run_dir):
        if st.stale:
            discard(run_dir, st.path)
            removed.append(st.path)
    return removed
