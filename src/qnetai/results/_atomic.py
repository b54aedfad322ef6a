"""Run folders written in place: stage inside the folder, move the files in, write the marker last.

Nothing is written outside the run folder. Files are built in a staging folder
inside it (``.qnetai-tmp-<pid>-<tag>/``, see :mod:`qnetai.results._staging`), each
created exclusively without following symlinks and fsynced. Then, holding a lock
on the run folder and with SIGINT deferred, the files are renamed into the run
folder and the marker ``.qnetai-run`` is renamed in last: a folder holding the
marker is a complete run; one without it is not a run. An error or interrupt
before that removes the staging folder (and the run folder if it was created
for this run). A process killed mid-write leaves a staging folder that names
its dead owner; the next write into the folder removes it.

``overwrite`` replaces only a complete run folder that holds nothing but its own
files, and never the current directory or one of its parents. If the swap fails,
the replaced run is put back.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from qnetai.errors import InputError
from qnetai.results._staging import (
    MARKER_FILE,
    OLD_DIR,
    OWNER_FILE,
    clean_stale,
    is_staging,
    new_staging,
    set_owner_files,
    stagings,
    stale_names,
)

RUN_FILE = "run.json"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk (no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_file(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Create ``path`` (exclusively, not through a symlink), let ``write`` fill it, fsync it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` and fsync it."""
    return write_file(path, lambda f: f.write(data))


def read_marker(path: Path) -> dict | None:
    """The marker record of run folder ``path`` (None unless a regular, readable marker)."""
    marker = path / MARKER_FILE
    if marker.is_symlink() or not marker.is_file():
        return None
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_complete_run(path: Path, run_id: str | None = None) -> bool:
    """Whether ``path`` is a complete run folder (of run ``run_id``, if given)."""
    marker = read_marker(Path(path))
    return marker is not None and (run_id is None or marker.get("run_id") == run_id)


def run_folder_problem(path: Path, *, ignore: Path | None = None) -> str | None:
    """Why ``path`` is not a complete run folder holding only its own files (None if it is)."""
    marker = read_marker(path)
    if marker is None:
        return (
            f"holds no {MARKER_FILE} marker (not a run folder, or one from an older "
            "qnetai: delete it yourself if it is to go)"
        )
    try:
        meta = json.loads((path / RUN_FILE).read_text())
        own = {str(name) for name in meta["files"]} | {MARKER_FILE}
    except (OSError, ValueError, KeyError, TypeError):
        return f"has no readable {RUN_FILE}"
    if meta.get("run_id") != marker.get("run_id"):
        return f"has a {MARKER_FILE} that does not match its {RUN_FILE}"
    entries = [e for e in path.iterdir() if e != ignore and not is_staging(e)]
    foreign = sorted(e.name for e in entries if e.name not in own or e.is_dir())
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        return f"also holds files that are not part of its run ({shown})"
    return None


def _inside(a: Path, b: Path) -> bool:
    """Whether ``a`` is ``b`` or lies inside it (both resolved)."""
    a, b = a.resolve(), b.resolve()
    return a == b or b in a.parents


def _check_contents(
    out_dir: Path, *, overwrite: bool, ignore: Path | None, others_writing_ok: bool = False
) -> list[Path]:
    """The entries that a write would replace (raises :class:`InputError` if it may not).

    Another live writer's staging folder is refused unless ``others_writing_ok`` (at the
    swap, under the folder's lock, only what is in place matters: first come, first served).
    """
    live = [s for s in stagings(out_dir) if s.path != ignore and not s.stale]
    if live and not others_writing_ok:
        pid = live[0].pid
        who = f" (pid {pid})" if pid is not None else ""
        raise InputError(f"out_dir: {out_dir} is being written by another qnetai process{who}")
    stale = stale_names(out_dir)
    entries = [
        e for e in out_dir.iterdir() if e != ignore and e.name not in stale and not is_staging(e)
    ]
    if not entries:
        return []
    if not overwrite:
        raise InputError(
            f"out_dir: {out_dir} exists and is not empty; choose another folder or pass "
            "--overwrite (which replaces only a qnetai run folder)"
        )
    if _inside(Path.cwd(), out_dir):
        raise InputError(
            f"out_dir: --overwrite never replaces the current directory or a parent of it "
            f"({out_dir})"
        )
    problem = run_folder_problem(out_dir, ignore=ignore)
    if problem is not None:
        raise InputError(
            f"out_dir: --overwrite replaces only a qnetai run folder; {out_dir} {problem}"
        )
    return entries


def check_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    """Raise :class:`InputError` if ``out_dir`` cannot receive a run folder.

    It may be missing, empty (stale staging folders aside), or, with ``overwrite``, a
    complete qnetai run folder holding only its own files. A symlink is refused.
    """
    out_dir = Path(out_dir)
    if out_dir.is_symlink():
        target = os.readlink(out_dir)
        if not out_dir.exists():
            raise InputError(
                f"out_dir: {out_dir} is a symbolic link to a missing folder ({target})"
            )
        raise InputError(
            f"out_dir: {out_dir} is a symbolic link (to {target}); name the folder itself"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"out_dir: {out_dir} exists and is not a directory")
    if out_dir.is_dir():
        _check_contents(out_dir, overwrite=overwrite, ignore=None)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on directory ``path`` (released if the process dies)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Defer SIGINT (delivered on exit) around a short critical section, where possible."""
    main = threading.current_thread() is threading.main_thread()
    can = main and hasattr(signal, "pthread_sigmask")
    if can:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if can:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _swap(out_dir: Path, staging: Path, files: list[str], *, overwrite: bool) -> None:
    """Move ``files`` and then the marker from ``staging`` into ``out_dir``; old run aside."""
    clean_stale(out_dir)
    old = _check_contents(out_dir, overwrite=overwrite, ignore=staging, others_writing_ok=True)
    old_names = [e.name for e in old if e.name != MARKER_FILE]
    set_owner_files(staging, files, old_names)
    aside = staging / OLD_DIR
    moved_in: list[str] = []
    try:
        if old:
            aside.mkdir()
            if (out_dir / MARKER_FILE).exists():
                os.rename(out_dir / MARKER_FILE, aside / MARKER_FILE)  # incomplete from here
            for name in old_names:
                os.rename(out_dir / name, aside / name)
        for name in files:
            os.rename(staging / name, out_dir / name)
            moved_in.append(name)
        fsync_dir(out_dir)
        os.rename(staging / MARKER_FILE, out_dir / MARKER_FILE)  # complete from here
    except BaseException:
        for name in moved_in:
            (out_dir / name).unlink(missing_ok=True)
        if aside.is_dir():
            restore = sorted(aside.iterdir(), key=lambda p: p.name == MARKER_FILE)
            for entry in restore:  # the marker last
                with contextlib.suppress(OSError):
                    os.rename(entry, out_dir / entry.name)
        raise
    fsync_dir(out_dir)


@contextlib.contextmanager
def atomic_directory(
    out_dir: Path, *, overwrite: bool = False, marker: bytes = b"{}"
) -> Iterator[Path]:
    """Yield a staging folder whose files become the run folder ``out_dir`` on success.

    ``marker`` is the content of ``.qnetai-run``, renamed in after every other file. See the
    module docstring for what happens on errors, interrupts and ``overwrite``.

    Example:
        >>> with atomic_directory(Path("runs/x")) as tmp:  # doctest: +SKIP
        ...     write_bytes(tmp / "a.txt", b"hi")
    """
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir, overwrite=overwrite)
    if out_dir.is_dir():
        clean_stale(out_dir)  # may remove out_dir, if a killed run had created it
    created = False
    if not out_dir.is_dir():
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            out_dir.mkdir()
            created = True
        except FileExistsError:
            check_out_dir(out_dir, overwrite=overwrite)  # it appeared meanwhile
    staging = new_staging(out_dir, created_dir=created)
    try:
        yield staging
        files = sorted(p.name for p in staging.iterdir() if p.name != OWNER_FILE)
        write_bytes(staging / MARKER_FILE, marker)
        fsync_dir(staging)
        with _sigint_deferred(), _locked(out_dir):
            _swap(out_dir, staging, files, overwrite=overwrite)
            shutil.rmtree(staging, ignore_errors=True)
            fsync_dir(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):
                out_dir.rmdir()
        raise
