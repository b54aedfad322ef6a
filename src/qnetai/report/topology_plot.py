"""The network drawing: nodes at ``position_km`` (or a seeded spring layout), links by rate."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qnetai.report._html import new_figure

#: above this many nodes without positions the spring layout is skipped (too slow)
MAX_LAYOUT_NODES = 2000
RATE_BINS = 6


def node_positions(result: Any, *, seed: int = 0) -> dict[str, tuple[float, float]] | None:
    """Node name -> (x, y): ``NodeSpec.position_km`` where given, else a spring layout (fixed seed).

    Returns None when the graph is too large to lay out without positions.
    """
    import networkx as nx

    specs = {n.name: n for n in result.scenario.nodes}
    names = list(specs) or [str(x) for x in result.nodes.column("node").to_pylist()]
    graph: nx.Graph[str] = nx.Graph()
    graph.add_nodes_from(names)
    links = result.links
    graph.add_edges_from(
        zip(links.column("a").to_pylist(), links.column("b").to_pylist(), strict=True)
    )
    fixed = {n: tuple(s.position_km) for n, s in specs.items() if s.position_km is not None}
    if len(fixed) == graph.number_of_nodes():
        return {n: (float(x), float(y)) for n, (x, y) in fixed.items()}
    if graph.number_of_nodes() - len(fixed) > MAX_LAYOUT_NODES:
        return None
    if fixed:
        pos = nx.spring_layout(
            graph,
            pos={n: np.asarray(p, float) for n, p in fixed.items()},
            fixed=list(fixed),
            seed=seed,
        )
    else:
        pos = nx.spring_layout(graph, seed=seed)
    return {str(n): (float(p[0]), float(p[1])) for n, p in pos.items()}


def _edge_hover(row: dict[str, Any]) -> str:
    from qnetai.report._html import fmt

    return (
        f"<b>{row['link']}</b> ({row['a']}–{row['b']}, {row['kind']})<br>"
        f"length {fmt(row['length_km'])} km<br>p per attempt {fmt(row['p_success'])}<br>"
        f"pairs generated {fmt(row['pairs_generated'])}<br>rate {fmt(row['rate_hz'])} Hz"
    )


def topology_figure(result: Any) -> Any | None:
    """A plotly figure of the network, or None if it cannot be laid out."""
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    from qnetai.report._html import fmt

    pos = node_positions(result)
    if pos is None:
        return None
    rows = [r for r in result.links.to_pylist() if r["a"] in pos and r["b"] in pos]
    rates = np.array([r["rate_hz"] if r["rate_hz"] is not None else 0.0 for r in rows], float)
    rates = np.nan_to_num(rates, nan=0.0)
    log_rate = np.log10(rates + 1e-12) if len(rates) else rates
    lo, hi = (float(log_rate.min()), float(log_rate.max())) if len(rows) else (0.0, 1.0)
    # rates within 10 % of each other carry no information in colour: one colour, no bar
    varies = hi - lo > math.log10(1.1)
    frac = (log_rate - lo) / (hi - lo) if varies else np.ones_like(log_rate)
    bins = np.minimum((frac * RATE_BINS).astype(int), RATE_BINS - 1)
    colours = sample_colorscale("Viridis", [(b + 0.5) / RATE_BINS for b in range(RATE_BINS)])
    fig = new_figure()
    for b in range(RATE_BINS):
        sel = [i for i in range(len(rows)) if bins[i] == b]
        if not sel:
            continue
        xs: list[float | None] = []
        ys: list[float | None] = []
        for i in sel:
            (x0, y0), (x1, y1) = pos[rows[i]["a"]], pos[rows[i]["b"]]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                hoverinfo="skip",
                showlegend=False,
                line={"color": colours[b], "width": 1.5 + 4.5 * (b + 0.5) / RATE_BINS},
            )
        )
    if rows:  # invisible-ish midpoints carry the link hover text and the colour bar
        mid = np.array([[(pos[r["a"]][k] + pos[r["b"]][k]) / 2 for k in (0, 1)] for r in rows])
        fig.add_trace(
            go.Scatter(
                x=mid[:, 0],
                y=mid[:, 1],
                mode="markers",
                name="links",
                showlegend=False,
                hovertext=[_edge_hover(r) for r in rows],
                hoverinfo="text",
                marker={
                    "size": 7,
                    "color": rates if varies else colours[-1],
                    "colorscale": "Viridis" if varies else None,
                    "opacity": 0.6,
                    "colorbar": (
                        {"title": {"text": "pairs generated / s"}, "len": 0.8} if varies else None
                    ),
                    "showscale": varies,
                    "symbol": "diamond",
                },
            )
        )
    util = {}
    if result.nodes.num_rows:
        util = dict(
            zip(
                result.nodes.column("node").to_pylist(),
                result.nodes.column("mean_memory_utilisation").to_pylist(),
                strict=True,
            )
        )
    kinds: dict[str, list[str]] = {}
    specs = {n.name: n for n in result.scenario.nodes}
    for name in pos:
        kind = specs[name].kind if name in specs else "node"
        kinds.setdefault(kind, []).append(name)
    symbols = {
        "end_user": "circle",
        "repeater": "square",
        "qkd_terminal": "star",
        "ground_station": "triangle-up",
        "satellite": "star-diamond",
    }
    big = len(pos) > 60
    cx = float(np.mean([xy[0] for xy in pos.values()])) if pos else 0.0
    cy = float(np.mean([xy[1] for xy in pos.values()])) if pos else 0.0

    def label_side(name: str) -> str:
        """Put a label on the side away from the centre, so neighbours' labels rarely meet."""
        x, y = pos[name]
        vertical = "top" if y >= cy else "bottom"
        horizontal = "right" if x > cx + 1e-9 else ("left" if x < cx - 1e-9 else "center")
        return f"{vertical} {horizontal}"

    for kind, names in kinds.items():
        hover = []
        for n in names:
            mem = specs[n].memory_qubits if n in specs else "?"
            hover.append(
                f"<b>{n}</b> ({kind})<br>memory qubits {mem}<br>mean utilisation {fmt(util.get(n))}"
            )
        fig.add_trace(
            go.Scatter(
                x=[pos[n][0] for n in names],
                y=[pos[n][1] for n in names],
                mode="markers" if big else "markers+text",
                text=None if big else names,
                textposition=[label_side(n) for n in names],
                textfont={"size": 11},
                cliponaxis=False,
                name=kind,
                hovertext=hover,
                hoverinfo="text",
                marker={
                    "size": 8 if big else 13,
                    "symbol": symbols.get(kind, "circle"),
                    "line": {"width": 1, "color": "#1d2433"},
                },
            )
        )
    has_pos = all(s.position_km is not None for s in specs.values()) and bool(specs)
    unit = " (km)" if has_pos else ""
    fig.update_layout(
        margin={"l": 40, "r": 20, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.12},
        hovermode="closest",
        xaxis={
            "title": {"text": f"x{unit}"},
            "showgrid": False,
            "zeroline": False,
            "constrain": "domain",  # equal scales without stretching the axis past the network
        },
        yaxis={
            "title": {"text": f"y{unit}"},
            "showgrid": False,
            "zeroline": False,
            "scaleanchor": "x" if has_pos else None,
        },
    )
    return fig
