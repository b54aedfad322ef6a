"""Atomic directory writes: build a run folder in a temporary sibling, then rename it into place.

A run folder is either complete or absent. Files are written into a temporary
directory next to the target (same filesystem, so ``os.rename`` is atomic),
each file is fsynced, the directory is renamed into place and the parent is
fsynced. Any exception (``KeyboardInterrupt`` included) removes the temporary
directory and leaves the target untouched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from qnetai.errors import InputError

TMP_PREFIX = ".qnetai-tmp-"
TRASH_PREFIX = ".qnetai-old-"


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
    """Create ``path``, let ``write(fileobj)`` fill it, flush and fsync it."""
    with open(path, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return path


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` and fsync it."""
    return write_file(path, lambda f: f.write(data))


def _is_nonempty_dir(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def check_out_dir(out_dir: Path, *, overwrite: bool) -> None:
    """Raise :class:`InputError` if ``out_dir`` cannot receive a run folder."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"out_dir: {out_dir} exists and is not a directory")
    if _is_nonempty_dir(out_dir) and not overwrite:
        raise InputError(
            f"out_dir: {out_dir} exists and is not empty; choose another folder or pass --overwrite"
        )


@contextlib.contextmanager
def atomic_directory(out_dir: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``out_dir`` when the block ends without error.

    If ``out_dir`` exists and is non-empty, :class:`InputError` is raised unless
    ``overwrite``; then the old folder is moved aside, the new one renamed into
    place, and the old one deleted (the old folder is restored if the rename fails).

    Example:
        >>> with atomic_directory(Path("runs/x")) as tmp:  # doctest: +SKIP
        ...     write_bytes(tmp / "a.txt", b"hi")
    """
    out_dir = Path(out_dir).absolute()
    check_out_dir(out_dir, overwrite=overwrite)
    parent = out_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:12]
    tmp = parent / f"{TMP_PREFIX}{out_dir.name}-{tag}"
    tmp.mkdir()
    try:
        yield tmp
        fsync_dir(tmp)
        check_out_dir(out_dir, overwrite=overwrite)  # it may have appeared meanwhile
        if _is_nonempty_dir(out_dir):
            trash = parent / f"{TRASH_PREFIX}{out_dir.name}-{tag}"
            os.rename(out_dir, trash)
            try:
                os.rename(tmp, out_dir)
            except BaseException:
                os.rename(trash, out_dir)
                raise
            shutil.rmtree(trash, ignore_errors=True)
        else:
            # rename onto a missing or empty directory is atomic on POSIX
            os.replace(tmp, out_dir)
        fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
