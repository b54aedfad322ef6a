"""``qnetai sweep plot``: one metric against one parameter, 95 % intervals, a self-contained HTML.

Example:
    >>> import tempfile
    >>> from qnetai.sweep.runner import run_sweep
    >>> from qnetai.sweep.spec import sweep_from_dict
    >>> spec = sweep_from_dict({"base": "sequence-chain-3", "run": "simulate",
    ...     "params": [{"path": "duration_s", "values": [0.01, 0.02]}]})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = run_sweep(spec, d, engine="inline")
    ...     plot_sweep(d, x="duration_s", y="pairs_delivered").name
    'plot-pairs_delivered-vs-duration_s.html'
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from qnetai.errors import InputError
from qnetai.sweep.store import POINTS_TABLE, replace_atomic


def _rows(root: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    path = root / POINTS_TABLE
    if not path.is_file():
        raise InputError(f"{root}: no {POINTS_TABLE} (run the sweep first)")
    rows: list[dict[str, Any]] = pq.read_table(path).to_pylist()
    return rows


def plot_sweep(
    root: str | Path,
    *,
    x: str,
    y: str,
    color: str | None = None,
    out: str | Path | None = None,
) -> Path:
    """Write a plotly HTML page of metric ``y`` (mean, 95 % interval) against parameter ``x``.

    ``color`` names a second parameter: one line per value. The page embeds plotly.js (no
    network needed). Returns the page's path (default ``ROOT/plot-<y>-vs-<x>.html``).
    """
    import plotly.graph_objects as go

    folder = Path(root)
    rows = [r for r in _rows(folder) if r.get("status") == "ok"]
    if not rows:
        raise InputError(f"{root}: no finished points to plot")
    known = list(rows[0])
    for name, value in (("--x", x), ("--y", y), ("--color", color)):
        if value is not None and value not in known:
            raise InputError(f"{name} {value!r} is not a column (columns: {', '.join(known)})")
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get(color) if color else None, []).append(r)
    fig = go.Figure()
    for key, members in sorted(groups.items(), key=lambda kv: str(kv[0])):
        members.sort(key=lambda r: (r.get(x) is None, r.get(x)))
        ys = [r.get(y) for r in members]
        lo = [r.get(f"{y}_ci_low") for r in members]
        hi = [r.get(f"{y}_ci_high") for r in members]
        plus = [_diff(h, v) for h, v in zip(hi, ys, strict=True)]
        minus = [_diff(v, low) for low, v in zip(lo, ys, strict=True)]
        fig.add_trace(
            go.Scatter(
                x=[r.get(x) for r in members],
                y=ys,
                mode="lines+markers",
                name=f"{color} = {key}" if color else y,
                error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
            )
        )
    fig.update_layout(
        title=f"{y} against {x} (mean over seeds, 95 % interval)",
        xaxis_title=x,
        yaxis_title=y,
        template="plotly_white",
    )
    safe = re.sub(r"[^\w.-]+", "_", f"plot-{y}-vs-{x}")
    target = Path(out) if out is not None else folder / f"{safe}.html"
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    replace_atomic(target, lambda p: p.write_text(html, encoding="utf-8"))
    return target


def _diff(a: Any, b: Any) -> float | None:
    """``a - b`` when both are finite numbers, else None (no error bar)."""
    ok = all(isinstance(v, int | float) and math.isfinite(v) for v in (a, b))
    return float(a) - float(b) if ok else None


__all__ = ["plot_sweep"]
