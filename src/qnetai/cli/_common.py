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


# --- numbers and tables that never hide a digit ----------------------------------------------

_SI_PREFIXES: tuple[tuple[int, str], ...] = (
    (12, "T"),
    (9, "G"),
    (6, "M"),
    (3, "k"),
    (0, ""),
    (-3, "m"),
    (-6, "µ"),
    (-9, "n"),
    (-12, "p"),
)

#: Units that take milli/micro/nano/pico prefixes (others are printed as 0.234 bit/s).
_SUBUNIT_PREFIXED = frozenset({"s", "m", "W", "V", "Hz"})


def _as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def si(value: Any, unit: str = "", *, digits: int = 3) -> str:
    """``value`` with an SI prefix and ``digits`` significant digits, e.g. ``9.29 Mbit/s``.

    ``None``/NaN give ``—``; zero gives ``0 <unit>``. One format for a whole column: pass every
    cell of the column through the same call.

    >>> si(9.285e6, "bit/s")
    '9.29 Mbit/s'
    >>> si(3.42e-6, "s")
    '3.42 µs'
    """
    x = _as_float(value)
    if x is None:
        return "—"
    sep = " " if unit else ""
    if x == 0:
        return f"0{sep}{unit}"
    exp = math.floor(math.log10(abs(x)))
    if exp < 0 and unit not in _SUBUNIT_PREFIXED:  # 0.234 bit/s, not 234 mbit/s
        return f"{x:.{max(digits - 1 - exp, 0)}f}{sep}{unit}"
    for power, prefix in _SI_PREFIXES:
        if exp >= power or power == -12:
            scaled = x / 10.0**power
            decimals = max(digits - 1 - math.floor(math.log10(abs(scaled))), 0)
            text = f"{scaled:.{decimals}f}"
            if abs(float(text)) >= 1000 and power < 12:  # 999.7 k rounds to 1000 k -> 1.00 M
                return si(math.copysign(10.0 ** (power + 3), x), unit, digits=digits)
            return f"{text}{sep}{prefix}{unit}"
    return f"{x:g}{sep}{unit}"  # pragma: no cover


def fixed(value: Any, decimals: int = 4) -> str:
    """``value`` with a fixed number of decimals (fidelities, probabilities); ``—`` for None."""
    x = _as_float(value)
    return "—" if x is None else f"{x:.{decimals}f}"


def count(value: Any) -> str:
    """A whole number with thousands separators; ``—`` for None."""
    x = _as_float(value)
    return "—" if x is None else f"{round(x):,}"


def percent(value: Any, decimals: int = 2) -> str:
    """A fraction shown as a percentage, e.g. ``0.0123`` -> ``1.23 %``; ``—`` for None."""
    x = _as_float(value)
    return "—" if x is None else f"{100.0 * x:.{decimals}f} %"


#: Narrowest a text column (names) is folded to before the table is stacked instead.
_TEXT_MIN_WIDTH = 12


def print_table(
    title: str,
    headers: list[str] | tuple[str, ...],
    rows: list[list[str]] | list[tuple[str, ...]],
    *,
    caption: str | None = None,
    text_columns: int = 1,
    show_header: bool = True,
    out: Console | None = None,
) -> None:
    """Print a table whose numbers are never cut: stacked one record per block if too wide.

    The first ``text_columns`` columns hold names (folded onto more lines when narrow); the
    others hold formatted numbers, which are never wrapped or ellipsised. When the numbers do
    not fit the console's width (80 columns in a pipe), each row is printed as a block of
    ``header: value`` lines instead, so every digit stays visible.
    """
    from rich.cells import cell_len
    from rich.table import Table

    con = out if out is not None else console
    ncols = len(headers)
    border = 1 + 3 * ncols
    text_min: list[int] = []
    cell_max: list[int] = []
    word_max: list[int] = []
    for j, header in enumerate(headers):
        cells = [cell_len(str(r[j])) for r in rows]
        words = max((cell_len(w) for w in header.split()), default=0) if show_header else 0
        if j < text_columns:
            text_min.append(min(max([*cells, words]), _TEXT_MIN_WIDTH))
        else:
            cell_max.append(max(cells, default=0))
            word_max.append(max(words, cell_len(header) if show_header else 0))
    fixed_part = border + sum(text_min)
    widths = [max(c, w) for c, w in zip(cell_max, word_max, strict=True)]  # headers on one line
    if fixed_part + sum(widths) > con.width:  # headers wrap between words instead
        widths = [
            max(c, max((cell_len(x) for x in h.split()), default=0) if show_header else 0)
            for c, h in zip(cell_max, headers[text_columns:], strict=True)
        ]
    if fixed_part + sum(widths) <= con.width:
        table = Table(title=title, caption=caption, show_header=show_header)
        for j, header in enumerate(headers):
            if j < text_columns:
                table.add_column(header, overflow="fold", min_width=text_min[j])
            else:
                width = widths[j - text_columns]
                table.add_column(header, justify="right", width=width, overflow="fold")
        for r in rows:
            table.add_row(*(str(c) for c in r))
        con.print(table)
        return
    con.print(Text(title, style="bold"), overflow="fold")
    width = max(con.width - 4, 20)
    for r in rows:
        label = " ".join(str(c) for c in r[:text_columns])
        items = [
            f"{h} {c}" if show_header else str(c)
            for h, c in zip(headers[text_columns:], r[text_columns:], strict=True)
        ]
        lines: list[str] = []
        line = ""
        for item in items:
            if line and cell_len(line) + 3 + cell_len(item) > width:
                lines.append(line)
                line = ""
            line = f"{line} · {item}" if line else item
        lines.append(line)
        if label:
            con.print(Text(f"  {label}", style="bold"), overflow="fold")
        for text in lines:
            con.print(Text(f"    {text}"), overflow="fold", soft_wrap=False)
    if caption:
        con.print(Text(caption, style="dim"), overflow="fold")


def drop_flag_type_noise() -> None:
    """Stop typer's help from printing ``<bool>`` after every flag (patches the option class).

    A flag takes no value, so its type is noise; options with values keep their type.
    """
    from typer.core import TyperOption

    if getattr(TyperOption, "_qnetai_no_flag_type", False):
        return
    original = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        if self.is_flag:
            return None
        return original(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]
    TyperOption._qnetai_no_flag_type = True  # type: ignore[attr-defined]
