"""Where tasks run: this process, a local process pool, or Ray; all hand back ``Future``s.

Every engine has ``submit(fn, arg) -> concurrent.futures.Future``, ``slots`` (how many tasks
to keep in flight) and ``abort()`` (stop what is running, after Ctrl-C). The sweep runner
waits on the futures with :func:`concurrent.futures.wait`, whichever engine made them, so a
sweep runs the same code on one machine and on a Ray cluster: Ray's own scheduler places the
tasks (``ObjectRef.future()``), there is no scheduler of ours.

Example:
    >>> with make_engine("inline") as eng:
    ...     eng.submit(abs, -3).result()
    3
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Any

from qnetai.errors import InputError

#: Most local worker processes.
MAX_WORKERS = 256


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the parent, which stops them (no tracebacks from each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Engine:
    """Base: an engine is a context manager that makes futures."""

    name = "engine"
    slots = 1

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future[Any]:
        """Start ``fn(arg)``; its future."""
        raise NotImplementedError

    def abort(self) -> None:
        """Stop running tasks (their results are lost; done ones are kept by the caller)."""

    def close(self) -> None:
        """Release the engine's resources."""

    def describe(self) -> dict[str, Any]:
        """What ran the work (for the sweep's record)."""
        return {"engine": self.name, "slots": self.slots}


class InlineEngine(Engine):
    """Runs each task at once in this process (debugging, tests, one-core machines)."""

    name = "inline"

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future[Any]:
        """Run ``fn(arg)`` now; a finished future."""
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(arg))
        except Exception as exc:
            fut.set_exception(exc)
        return fut


class LocalEngine(Engine):
    """A pool of ``workers`` processes on this machine (spawned: no state leaks in)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise InputError(f"workers must be in [1, {MAX_WORKERS}] (got {workers})")
        import multiprocessing

        self.slots = workers
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_sigint,
        )

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future[Any]:
        """Queue ``fn(arg)`` on the pool."""
        return self._pool.submit(fn, arg)

    def abort(self) -> None:
        """Cancel queued tasks and terminate the worker processes."""
        processes = dict(getattr(self._pool, "_processes", None) or {})
        self._pool.shutdown(wait=False, cancel_futures=True)
        for proc in processes.values():
            if proc.is_alive():
                proc.terminate()
        for proc in processes.values():
            proc.join(timeout=5)

    def close(self) -> None:
        """Shut the pool down."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) nobody listens on, in seconds.

    Ray itself retries an unreachable address for minutes. ``auto`` and other forms are
    left to Ray.
    """
    import socket

    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        with socket.create_connection((host, int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        raise InputError(f"--address {address}: no Ray cluster reachable there ({exc})") from None


class RayEngine(Engine):
    """Ray as the engine: a local instance (``address=None``) or an existing cluster.

    If Ray is already initialised in this process (a notebook, a test fixture), that
    instance is used and left running; otherwise it is started (locally with ``num_cpus``,
    or connected to ``address``: ``"auto"``, ``"ray://host:10001"``) and shut down at close.
    """

    name = "ray"

    def __init__(self, *, address: str | None = None, num_cpus: int | None = None) -> None:
        from qnetai._optional import require

        ray = require("ray", extra="sweep")
        self._ray = ray
        self._owned = False
        self._refs: list[Any] = []
        self._remotes: dict[Any, Any] = {}
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:
                kwargs["num_cpus"] = num_cpus or os.cpu_count() or 1
            else:
                _check_reachable(address)
                kwargs["address"] = address
            try:
                ray.init(**kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = address or "a local instance"
                raise InputError(f"cannot start or reach Ray at {where}: {exc}") from None
            self._owned = True
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.slots = max(1, cpus)
        self.address = address

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> cf.Future[Any]:
        """Submit ``fn(arg)`` as a Ray task (one CPU, no retries); its future."""
        remote = self._remotes.get(fn)
        if remote is None:
            remote = self._remotes[fn] = self._ray.remote(num_cpus=1, max_retries=0)(fn)
        ref = remote.remote(arg)
        self._refs.append(ref)
        if len(self._refs) > 4 * self.slots:
            self._refs = self._refs[-4 * self.slots :]
        future: cf.Future[Any] = ref.future()
        return future

    def abort(self) -> None:
        """Cancel (force) the recent tasks."""
        for ref in self._refs:
            try:
                self._ray.cancel(ref, force=True)
            except Exception:
                pass

    def close(self) -> None:
        """Shut Ray down if this engine started it."""
        if self._owned:
            self.describe()  # remember the node count for describe() after the shutdown
            self._ray.shutdown()
            self._owned = False

    def describe(self) -> dict[str, Any]:
        """Engine, slots (cluster CPUs) and live nodes (as last seen, once Ray is shut down)."""
        if self._ray.is_initialized():
            self._nodes = len([n for n in self._ray.nodes() if n.get("Alive")])
        return {"engine": "ray", "slots": self.slots, "nodes": getattr(self, "_nodes", None)}


def make_engine(
    kind: str = "local", *, workers: int | None = None, address: str | None = None
) -> Engine:
    """``"inline"``, ``"local"`` (``workers`` processes, default: CPU count) or ``"ray"``."""
    if kind == "inline":
        return InlineEngine()
    if kind == "local":
        return LocalEngine(workers or os.cpu_count() or 1)
    if kind == "ray":
        return RayEngine(address=address, num_cpus=workers)
    raise InputError(f"engine must be inline, local or ray (got {kind!r})")


__all__ = ["Engine", "InlineEngine", "LocalEngine", "RayEngine", "make_engine"]
