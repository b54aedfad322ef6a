"""Helpers shared by the CLI commands: JSON output, errors, progress, consoles."""

from __future__ import annotations

import json
import math
import os
import sys
import time
from types import TracebackType
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

console = Console()
err_console = Console(stderr=True, soft_wrap=True)

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Seconds between plain progress lines when stderr is not a terminal (env override for tests).
PROGRESS_INTERVAL_ENV = "QNETAI_PROGRESS_INTERVAL_S"
_DEFAULT_PROGRESS_INTERVAL_S = 5.0


def print_error(message: object, *, label: str = "error") -> None:
    """Print ``label: message`` on stderr; the message is shown verbatim (no rich markup)."""
    text = Text(f"{label}:", style="bold red")
    text.append(f" {message}")
    err_console.print(text, highlight=False)


def exit_input_error(exc: BaseException) -> NoReturn:
    """Print a user error (verbatim) and exit with status 2."""
    print_error(exc)
    raise typer.Exit(2)


def exit_interrupted(done: str) -> NoReturn:
    """After Ctrl-C: print ``interrupted`` with what was ``done`` and exit with status 130."""
    print_error(done, label="interrupted")
    raise typer.Exit(EXIT_INTERRUPTED)


#: Largest count ``parse_count`` accepts.
MAX_COUNT = 10**13


def parse_count(text: str, name: str = "pulses") -> int:
    """Parse a positive integer given as ``100000``, ``1e8``, ``2.5e6`` or ``2_000``.

    Raises :class:`qnetai.errors.InputError` naming ``name`` when it is not a whole number in
    ``[1, 1e13]``.
    """
    from qnetai.errors import InputError

    try:
        value = float(text.replace("_", ""))
    except ValueError:
        raise InputError(
            f"{name} must be a positive integer such as 1000000 or 1e8 (got {text!r})"
        ) from None
    if not math.isfinite(value) or value < 1 or value != math.floor(value) or value > MAX_COUNT:
        raise InputError(f"{name} must be a whole number in [1, 1e13] (got {text!r})")
    return int(value)


def check_finite(option: str, value: float) -> float:
    """``value`` if it is a finite number, else an ``InputError`` naming the ``option``."""
    from qnetai.errors import InputError

    if not math.isfinite(value):
        raise InputError(f"{option} must be a finite number (got {value})")
    return value


def _progress_interval_s() -> float:
    raw = os.environ.get(PROGRESS_INTERVAL_ENV)
    try:
        value = float(raw) if raw is not None else _DEFAULT_PROGRESS_INTERVAL_S
    except ValueError:
        return _DEFAULT_PROGRESS_INTERVAL_S
    return value if math.isfinite(value) and value >= 0 else _DEFAULT_PROGRESS_INTERVAL_S


class ProgressReporter:
    """Progress of long work on stderr: a rich bar on a terminal, else periodic plain lines.

    Use as a context manager and pass :meth:`update` (``done, total``) as the library's progress
    callback. When stderr is not a terminal (piped, logged) one line is printed at most every
    ``interval_s`` (default 5 s, ``QNETAI_PROGRESS_INTERVAL_S`` overrides), so short runs print
    nothing. ``done`` and ``total`` keep the last figures, for an interruption message.
    """

    def __init__(self, description: str, unit: str, *, interval_s: float | None = None) -> None:
        self.description = description
        self.unit = unit
        self.interval_s = _progress_interval_s() if interval_s is None else interval_s
        self.done = 0
        self.total = 0
        self._bar: Any = None
        self._task: Any = None
        self._t0 = self._last = 0.0

    def __enter__(self) -> ProgressReporter:
        self._t0 = self._last = time.monotonic()
        if err_console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.description, total=None, unit=self.unit)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)
            self._bar = None

    def update(self, done: int, total: int, *, unit: str | None = None) -> None:
        """Record that ``done`` of ``total`` units (``unit``, if it changes) are finished."""
        self.done, self.total = int(done), int(total)
        new_stage = unit is not None and unit != self.unit
        if new_stage:
            self.unit = str(unit)
            self._last = self._t0  # a new stage shows at once once the run has taken a while
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, total=self.total, unit=self.unit)
            return
        now = time.monotonic()
        if now - self._last >= self.interval_s and (self.done > 0 or new_stage):
            self._last = now
            pct = 100.0 * self.done / self.total if self.total else 100.0
            print(
                f"{self.description}: {self.done:,} of {self.total:,} {self.unit} "
                f"({pct:.1f}%), {now - self._t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )

    def summary(self) -> str:
        """``"<done> of <total> <unit>"`` for an interruption message."""
        return f"{self.done:,} of {self.total:,} {self.unit} done"


class _NoPandas:
    """A ``sys.meta_path`` finder that refuses ``pandas`` (see :func:`skip_pandas_probe`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "pandas":
            raise ImportError("pyarrow's pandas probe skipped by qnetai")


def skip_pandas_probe() -> None:
    """Keep pyarrow's first ``pa.array``/``pa.table`` from importing pandas (~0.3 s).

    pyarrow probes once, on the first array it builds, whether pandas is importable (to
    recognise pandas objects). A command that builds tables from lists and numpy arrays only
    (``qnetai run``) makes that probe fail while pandas is not imported yet; pyarrow imports
    pandas again when it needs it (``to_pandas``), so nothing is lost. No-op once pandas
    is imported.
    """
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)


def _default(obj: Any) -> Any:
    import numpy as np  # here, not at the top: ``qnetai --help`` imports this module

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def _finite(obj: Any) -> Any:
    """Replace non-finite floats by None so the output is strict JSON."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def to_json(obj: Any) -> str:
    """Serialise ``obj`` (dicts, numpy scalars/arrays, pydantic models) to strict JSON."""
    return json.dumps(_finite(json.loads(json.dumps(obj, default=_default))), indent=2)


def print_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout, with nothing else around it."""
    print(to_json(obj))
