"""A throwaway PostgreSQL server for the KMS tests (initdb + pg_ctl on a unix socket).

Policy when PostgreSQL is missing: the tests FAIL in CI (environment variable ``CI`` set,
as ``.ci/run`` does) and when running as root (root can install it: ``.ci/run`` does so
with apt-get on a fresh Debian machine); a non-root developer without the binaries gets a
skip that says what to install. As root the server runs as the ``postgres`` user (PostgreSQL
refuses to run as root), with its data directory owned by that user.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest


def require_or_skip(what: str, hint: str) -> None:
    """Fail (CI or root) or skip (non-root developer) because ``what`` is missing."""
    msg = f"{what} is missing: {hint}"
    if os.environ.get("CI") or os.geteuid() == 0:
        pytest.fail(msg + " (required in CI and for root: .ci/run installs it)")
    pytest.skip(msg)


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class Postgres:
    """A PostgreSQL server in ``base`` listening only on a unix socket in ``base/sock``."""

    def __init__(self, base: Path) -> None:
        bindir = _bin_dir()
        if bindir is None:
            require_or_skip("PostgreSQL (initdb, pg_ctl)", "apt-get install postgresql")
        assert bindir is not None
        self.bindir, self.base = bindir, base
        self.data, self.sock = base / "data", base / "sock"
        self.sock.mkdir()
        self._as: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                require_or_skip("runuser", "apt-get install util-linux")
            self._as = ["runuser", "-u", "postgres", "--"]
            self._traversable()
            shutil.chown(base, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        opts = f"-k {self.sock} -c listen_addresses='' -c max_connections=40"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(base / "pg.log"), "-w", "start"
        )
        self._names = itertools.count()

    def _traversable(self) -> None:
        """Let the postgres user traverse (not list) the parents of ``base``.

        pytest makes /tmp/pytest-of-<user> mode 0700 at every session start (another
        session may do it while this one runs), so this is redone before each pg tool;
        the running server works in its data directory and root's clients need no access.
        """
        for parent in [self.base, *self.base.parents]:
            if parent == Path(parent.anchor):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)

    def _run(self, tool: str, *args: str) -> None:
        if self._as:
            self._traversable()
        proc = subprocess.run(
            [*self._as, str(self.bindir / tool), *args],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )
        if proc.returncode:
            log = self.base / "pg.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(
                f"{tool} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}\n{tail}"
            )

    def url(self, db: str = "postgres") -> str:
        """Connection URL of database ``db`` over the unix socket."""
        return f"postgresql://postgres@/{db}?host={self.sock}"

    def new_database(self) -> str:
        """Create an empty database; its URL."""
        import psycopg

        name = f"kms_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once (SIGQUIT: immediate shutdown); files stay in tmp_path.

        A missing pid file means there is nothing left to stop: another pytest session on the
        same machine may have removed this session's old temporary folders (pytest keeps the
        last three), taking the data directory with them.
        """
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
