"""Write one file so that a crash leaves the old file or the new one, never half of one.

The bytes go to a temporary file in the target's own folder, are flushed to disk, and the
temporary file is renamed over the target (then the folder entry is flushed). A target that
is a symbolic link or not a regular file is refused: qnetai writes only what it was asked
to, never through a link. Run folders (several files and a marker) use
:mod:`qnetai.results` instead; this is for single files.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> replace_atomic(d / "a.txt", lambda p: p.write_text("hi")).read_text()
    'hi'
    >>> write_stream_atomic(d / "b.bin", lambda f: f.write(b"x")).read_bytes()
    b'x'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from qnetai.errors import InputError

__all__ = ["fsync_dir", "replace_atomic", "write_stream_atomic"]


def fsync_dir(path: Path) -> None:
    """Flush a directory entry to disk (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _check_target(path: Path) -> None:
    if path.is_symlink():
        raise InputError(f"{path}: refusing to write through a symbolic link")
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: exists and is not a regular file")


def replace_atomic(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Fill a temporary file with ``write(tmp_path)``, then rename it over ``path``.

    The file gets the permissions ``open()`` would give it (``0o666`` less the umask).
    """
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    _check_target(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes it private
        _check_target(target)  # a link may have appeared meanwhile
        os.replace(tmp_path, target)  # replaces a name in this folder, follows no link
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    fsync_dir(parent)
    return target


def write_stream_atomic(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """:func:`replace_atomic` for writers that take an open binary file (``np.savez`` ...)."""

    def fill(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            write(fh)

    return replace_atomic(path, fill)
