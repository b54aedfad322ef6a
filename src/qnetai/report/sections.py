"""Report sections: each takes a result and returns an HTML fragment ("" to leave it out).

A result is a :class:`qnetai.sim.SimulationResult` or a :class:`qnetai.results.RunView`
(same attributes). Later features add their own section functions and append them
to :data:`DEFAULT_SECTIONS` (or pass ``sections=`` to :func:`qnetai.report.render_html`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qnetai.report._html import (
    card,
    figure_html,
    fmt,
    new_figure,
    new_subplots,
    section,
    table_html,
)
from qnetai.report.alerts import alerts_section
from qnetai.report.insights import happened_section, hardware_section, pairs_section
from qnetai.report.link_generation import link_generation_section
from qnetai.report.verification import verification_section

Section = Callable[[Any], str]

MAX_TABLE_ROWS = 500
MAX_BARS = 100


def _col(table: Any, name: str) -> np.ndarray:
    """A numeric column as a float array (nulls -> NaN)."""
    if table.num_rows == 0:
        return np.zeros(0)
    return table.column(name).to_numpy(zero_copy_only=False).astype(float)


def _layout(fig: Any, x: str, y: str) -> Any:
    """Margins and axis titles of a figure made by ``new_figure``/``new_subplots``."""
    fig.update_layout(
        margin={"l": 50, "r": 20, "t": 30, "b": 50},
        xaxis_title=x,
        yaxis_title=y,
        bargap=0.05,
    )
    return fig


def summary_section(result: Any) -> str:
    """Summary cards: requests, throughput, fidelity, latency, memory, timing."""
    s = result.summary
    lat_ms = {
        k: (s.get(k) * 1e3 if s.get(k) is not None else None)
        for k in ("mean_latency_s", "latency_p95_s")
    }
    cards = [
        card(
            "requests served", f"{fmt(s.get('requests_served'))} / {fmt(s.get('requests_total'))}"
        ),
        card(
            "pairs delivered", fmt(s.get("pairs_delivered")), f"{fmt(s.get('pairs_per_s'))} pairs/s"
        ),
        card(
            "mean fidelity",
            fmt(s.get("mean_fidelity")),
            f"p05 {fmt(s.get('fidelity_p05'))} · p50 {fmt(s.get('fidelity_p50'))} · "
            f"p95 {fmt(s.get('fidelity_p95'))}",
        ),
        card(
            "mean latency",
            f"{fmt(lat_ms['mean_latency_s'])} ms",
            f"p95 {fmt(lat_ms['latency_p95_s'])} ms",
        ),
        card("memory utilisation", fmt(s.get("mean_memory_utilisation"))),
        card(
            "simulated time",
            f"{fmt(s.get('simulated_s'))} s",
            f"wall {fmt(s.get('wall_time_s'))} s · {fmt(s.get('events'))} events",
        ),
    ]
    return section("summary", "Summary", f'<div class="cards">{"".join(cards)}</div>')


def topology_section(result: Any) -> str:
    """The network drawing with links coloured and sized by their pair rate."""
    from qnetai.report.topology_plot import topology_figure

    fig = topology_figure(result)
    if fig is None:
        body = '<p class="note">Network too large to lay out without node positions.</p>'
    else:
        body = (
            '<p class="note">Link colour and width: entanglement generation rate; hover a '
            "link's diamond for its figures.</p>" + figure_html(fig, "fig-topology")
        )
    return section("topology", "Topology", body)


def _histogram(values: np.ndarray, *, bins: int, x: str, div_id: str, colour: str) -> str:
    import plotly.graph_objects as go

    values = values[np.isfinite(values)]
    if values.size == 0:
        return '<p class="note">No data.</p>'
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        lo, hi = lo - 0.5 * max(abs(lo), 1e-6) * 0.01, hi + 0.5 * max(abs(hi), 1e-6) * 0.01
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    fig = new_figure(
        go.Bar(
            x=centres,
            y=counts,
            width=np.diff(edges),
            marker_color=colour,
            hovertemplate="%{x:.4g}: %{y}<extra></extra>",
        )
    )
    return figure_html(_layout(fig, x, "count"), div_id)


def fidelity_section(result: Any) -> str:
    """Histogram of delivered-pair fidelities."""
    f = _col(result.deliveries, "fidelity")
    body = _histogram(f, bins=40, x="fidelity", div_id="fig-fidelity", colour="#4c72b0")
    return section("fidelity", "Fidelity of delivered pairs", body)


def latency_section(result: Any) -> str:
    """Histogram of delivery latencies (ms)."""
    lat = _col(result.deliveries, "latency_s") * 1e3
    body = _histogram(lat, bins=40, x="latency (ms)", div_id="fig-latency", colour="#dd8452")
    return section("latency", "Latency of delivered pairs", body)


def timeseries_section(result: Any) -> str:
    """Deliveries per second and mean fidelity over simulated time."""
    import plotly.graph_objects as go

    ts = result.timeseries
    if ts.num_rows == 0:
        return section("timeseries", "Deliveries over time", '<p class="note">No data.</p>')
    start, end = _col(ts, "bin_start_s"), _col(ts, "bin_end_s")
    width = np.where(end > start, end - start, np.nan)
    rate = _col(ts, "deliveries") / width
    fig = new_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=(start + end) / 2,
            y=rate,
            width=width,
            name="deliveries / s",
            marker_color="#4c72b0",
            opacity=0.75,
        ),
        secondary_y=False,
    )
    if "pairs_generated" in ts.column_names:
        fig.add_trace(
            go.Scatter(
                x=(start + end) / 2,
                y=_col(ts, "pairs_generated") / width,
                name="elementary pairs generated / s (all links)",
                mode="lines",
                line={"color": "#55a868", "dash": "dot"},
            ),
            secondary_y=False,
        )
    fig.add_trace(
        go.Scatter(
            x=(start + end) / 2,
            y=_col(ts, "mean_fidelity"),
            name="mean fidelity",
            mode="lines+markers",
            line={"color": "#c44e52"},
        ),
        secondary_y=True,
    )
    _layout(fig, "simulated time (s)", "per second")
    fig.update_yaxes(title_text="mean fidelity", secondary_y=True)
    fig.update_layout(legend={"orientation": "h", "y": 1.1})
    body = figure_html(fig, "fig-timeseries") + _fading_links_figure(result, float(end.max()))
    return section("timeseries", "Deliveries over time", body)


def _fading_links_figure(result: Any, end_s: float) -> str:
    """Channel loss over the run of each link with a time-varying loss (free-space fades).

    This draws the loss each varying link's attempts saw (the same piecewise-constant schedule the
    engine uses), from :func:`qnetai.topology.channels.link_transmittance`.
    """
    import plotly.graph_objects as go

    from qnetai.topology.channels import link_transmittance

    varying = [
        ln
        for ln in result.scenario.links
        if ln.free_space is not None and ln.free_space.loss_variation is not None
    ]
    if not varying or not np.isfinite(end_s) or end_s <= 0:
        return ""
    fig = new_figure()
    for ln in varying[:MAX_POOL_LINES]:
        lv = ln.free_space.loss_variation
        steps = min(int(end_s / lv.update_s) + 1, 5000)
        t = np.arange(steps) * max(lv.update_s, end_s / 5000)
        extra = lv.extra_loss_db(t)
        loss = -10.0 * np.log10(np.maximum(link_transmittance(ln, extra_loss_db=extra), 1e-300))
        name = ln.name or f"{ln.endpoints[0]}-{ln.endpoints[1]}"
        fig.add_trace(go.Scatter(x=t, y=loss, mode="lines", line={"shape": "hv"}, name=name))
    _layout(fig, "simulated time (s)", "channel loss (dB)")
    fig.update_layout(height=300, legend={"orientation": "h", "y": 1.15})
    return (
        "<h3>Time-varying links</h3>"
        '<p class="note">Channel loss of each link with a time-varying loss (free-space '
        "fades), as its attempts saw it: the heralding probability falls with it. Where the "
        "swing would take the loss below 0 dB it stays at 0 dB (a transmittance above 1 is "
        "clipped, in the engine too).</p>" + figure_html(fig, "fig-fading")
    )


LINK_COLUMNS = (
    "link",
    "a",
    "b",
    "kind",
    "length_km",
    "p_success",
    "attempt_s",
    "pairs_generated",
    "pairs_consumed",
    "pairs_discarded",
    "rate_hz",
)

LINK_HEADERS = {
    "link": "link",
    "a": "end a",
    "b": "end b",
    "kind": "kind",
    "length_km": "length (km)",
    "p_success": "p per attempt",
    "attempt_s": "attempt period (s)",
    "pairs_generated": "pairs generated",
    "pairs_consumed": "pairs used",
    "pairs_discarded": "pairs discarded",
    "rate_hz": "generation rate (pairs/s)",
}


def links_section(result: Any) -> str:
    """Per-link table (highest rate first)."""
    rows = sorted(result.links.to_pylist(), key=lambda r: -(r.get("rate_hz") or 0.0))
    note = ""
    if len(rows) > MAX_TABLE_ROWS:
        note = f'<p class="note">Top {MAX_TABLE_ROWS} of {len(rows)} links by rate.</p>'
        rows = rows[:MAX_TABLE_ROWS]
    cols = [c for c in LINK_COLUMNS if c in result.links.column_names]
    body = note + table_html(
        cols, ([r[c] for c in cols] for r in rows), headers=[LINK_HEADERS[c] for c in cols]
    )
    body += (
        '<p class="note">p per attempt: success probability of one attempt on one channel '
        "(mode), memory efficiencies included; discarded: pairs lost to cut-offs, failed swaps "
        "or expiry.</p>"
    )
    return section("links", "Links", body)


def memory_section(result: Any) -> str:
    """Bar chart of the mean memory utilisation of every node."""
    import plotly.graph_objects as go

    nodes = result.nodes
    if nodes.num_rows == 0:
        return section("memory", "Memory utilisation", '<p class="note">No data.</p>')
    names = [str(n) for n in nodes.column("node").to_pylist()]
    util = _col(nodes, "mean_memory_utilisation")
    peak = _col(nodes, "peak_memory_used")
    qubits = _col(nodes, "memory_qubits")
    order = np.arange(len(names))
    note = ""
    if len(names) > MAX_BARS:
        order = np.argsort(-np.nan_to_num(util))[:MAX_BARS]
        note = f'<p class="note">The {MAX_BARS} busiest of {len(names)} nodes.</p>'
    fig = new_figure(
        go.Bar(
            x=[names[i] for i in order],
            y=util[order],
            marker_color="#55a868",
            customdata=np.stack([peak[order], qubits[order]], axis=1),
            hovertemplate="%{x}: %{y:.3f}<br>peak %{customdata[0]} of %{customdata[1]} qubits"
            "<extra></extra>",
        )
    )
    peak_frac = np.where(qubits > 0, peak / np.maximum(qubits, 1.0), 0.0)
    fig.data[0].name = "mean utilisation"
    fig.add_trace(
        go.Scatter(
            x=[names[i] for i in order],
            y=peak_frac[order],
            mode="markers",
            name="peak (fraction of qubits)",
            marker={"color": "#1d2433", "symbol": "line-ew-open", "size": 14, "line": {"width": 2}},
        )
    )
    _layout(fig, "node", "fraction of the node's memory qubits")
    top = float(np.nanmax(np.concatenate([util, peak_frac]))) if util.size else 1.0
    fig.update_yaxes(range=[0, min(1.05, max(top * 1.15, 0.01))])
    fig.update_layout(legend={"orientation": "h", "y": 1.1})
    note += (
        '<p class="note">Bars: time-averaged fraction of the node\'s memory qubits in use; '
        "marks: the peak. The axis is scaled to the data, not to 1.</p>"
    )
    return section("memory", "Memory utilisation", note + figure_html(fig, "fig-memory"))


def scenario_section(result: Any) -> str:
    """Key scenario settings (the full resolved scenario is in scenario.yaml)."""
    sc = result.scenario
    ops = sc.operations
    rows = [
        ("name", sc.name),
        ("seed", sc.seed),
        ("duration_s", sc.duration_s),
        ("nodes", len(sc.nodes)),
        ("links", len(sc.links)),
        ("routing", sc.controller.routing),
        ("path metric", sc.controller.path_metric),
        ("swapping policy", ops.swapping_policy),
        ("purification", ops.purification.protocol),
        ("cutoff_s", ops.cutoff_s if ops.cutoff_s is not None else "none"),
    ]
    return section("scenario", "Scenario", table_html(("setting", "value"), rows))


MAX_POOL_LINES = 20
QKD_LINK_COLUMNS = (
    "link",
    "length_km",
    "loss_db",
    "key_rate_bps",
    "qber",
    "mu",
    "bits_generated",
    "bits_consumed",
    "bits_overflow",
    "bits_left",
    "pool_mean_bits",
)
QKD_RELAY_COLUMNS = (
    "source",
    "destination",
    "hops",
    "requests",
    "served",
    "blocked",
    "pending",
    "key_bits_per_request",
    "key_rate_bps",
    "mean_wait_s",
    "p95_wait_s",
    "keys_matched",
)
QKD_ENT_COLUMNS = (
    "source",
    "destination",
    "pairs_delivered",
    "mean_fidelity",
    "sifted_bits",
    "qber_z",
    "qber_x",
    "expected_qber",
    "key_rate_bps_sampled",
    "key_rate_bps_expected",
)

QKD_HEADERS = {
    "link": "link",
    "length_km": "length (km)",
    "loss_db": "loss (dB)",
    "key_rate_bps": "key rate (bit/s)",
    "qber": "QBER",
    "mu": "mu",
    "bits_generated": "generated (bit)",
    "bits_consumed": "consumed (bit)",
    "bits_overflow": "overflow (bit)",
    "bits_left": "pool at end (bit)",
    "pool_mean_bits": "pool mean (bit)",
    "source": "source",
    "destination": "destination",
    "hops": "hops",
    "requests": "requests",
    "served": "served",
    "blocked": "blocked",
    "pending": "pending",
    "key_bits_per_request": "bits per request",
    "mean_wait_s": "mean wait (s)",
    "p95_wait_s": "p95 wait (s)",
    "keys_matched": "keys match",
    "pairs_delivered": "pairs",
    "mean_fidelity": "mean fidelity",
    "sifted_bits": "sifted bits",
    "qber_z": "QBER Z",
    "qber_x": "QBER X",
    "expected_qber": "expected QBER",
    "key_rate_bps_sampled": "key rate finite-size (bit/s)",
    "key_rate_bps_expected": "key rate asymptotic (bit/s)",
}


def _pool_figure(levels: Any, rates: list[dict[str, Any]]) -> str:
    import plotly.graph_objects as go

    if levels.num_rows == 0:
        return '<p class="note">No QKD links.</p>'
    order = [r["link"] for r in sorted(rates, key=lambda r: -(r.get("key_rate_bps") or 0.0))]
    note = ""
    if len(order) > MAX_POOL_LINES:
        note = (
            f'<p class="note">The {MAX_POOL_LINES} fastest of {len(order)} QKD links; all in '
            "qkd_pool_levels.parquet.</p>"
        )
        order = order[:MAX_POOL_LINES]
    link = np.asarray([str(x) for x in levels.column("link").to_pylist()])
    t, lv = _col(levels, "time_s"), _col(levels, "level_bits")
    fig = new_figure()
    for name in order:
        m = link == name
        fig.add_trace(
            go.Scatter(
                x=t[m],
                y=lv[m],
                mode="lines",
                name=name,
                hovertemplate="%{x:.3f} s: %{y:.4g} bits<extra>" + name + "</extra>",
            )
        )
    _layout(fig, "simulated time (s)", "key in pool (bits)")
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return note + figure_html(fig, "fig-qkd-pools")


def _pair_rate_figure(relay: list[dict[str, Any]], ent: list[dict[str, Any]]) -> str:
    import plotly.graph_objects as go

    if not relay and not ent:
        return ""

    def label(r: dict[str, Any]) -> str:
        return f"{r['source']}–{r['destination']}"

    fig = new_figure()
    if relay:
        fig.add_trace(
            go.Bar(
                x=[label(r) for r in relay],
                y=[r["key_rate_bps"] for r in relay],
                name="trusted relay",
                marker_color="#4c72b0",
            )
        )
    if ent:
        ent = ent[:MAX_BARS]
        fig.add_trace(
            go.Bar(
                x=[label(r) for r in ent],
                y=[r["key_rate_bps_sampled"] for r in ent],
                name="entanglement, finite-size",
                marker_color="#55a868",
            )
        )
        fig.add_trace(
            go.Bar(
                x=[label(r) for r in ent],
                y=[r["key_rate_bps_expected"] for r in ent],
                name="entanglement, asymptotic",
                marker_color="#8c8c8c",
            )
        )
    _layout(fig, "user pair", "end-to-end key rate (bit/s)")
    fig.update_yaxes(type="log")
    fig.update_layout(barmode="group", legend={"orientation": "h", "y": 1.1})
    return figure_html(fig, "fig-qkd-pairs")


def qkd_section(result: Any) -> str:
    """QKD on the network: link key pools over time and end-to-end key rates per user pair.

    Present when the result carries the key network's tables (``extra_tables`` named
    ``qkd_*``, as :func:`qnetai.results.write_run` passes them and ``read_run`` loads them).
    """
    tables = getattr(result, "extra_tables", None) or {}
    if "qkd_link_key_rates" not in tables:
        return ""
    s = getattr(result, "qkd_summary", None) or {}
    rates = tables["qkd_link_key_rates"].to_pylist()
    # the key network's bits_generated counts the pools' pre-loaded bits too: show them apart
    pre_link = int(result.scenario.qkd.initial_pool_bits)
    preloaded = pre_link * len(rates)
    fresh = (s.get("bits_generated") or 0) - preloaded
    relay = tables["qkd_relay"].to_pylist() if "qkd_relay" in tables else []
    ent = tables["qkd_entanglement_qkd"].to_pylist() if "qkd_entanglement_qkd" in tables else []
    cards = [
        card(
            "QKD links",
            fmt(s.get("qkd_links", len(rates))),
            f"{s.get('mode', '—')} · {fmt(s.get('link_key_rate_bps_total'))} bit/s in all",
        ),
        card(
            "key generated in the run",
            f"{fmt(fresh)} bits",
            f"pre-loaded {fmt(preloaded)} · consumed {fmt(s.get('bits_consumed'))} · "
            f"left {fmt(s.get('bits_left'))} · overflow {fmt(s.get('bits_overflow'))}",
        ),
        card(
            "relay requests served",
            f"{fmt(s.get('relay_served'))} / {fmt(s.get('relay_requests'))}",
            f"blocked {fmt(s.get('relay_blocked'))} · {fmt(s.get('relay_key_rate_bps'))} bit/s",
        ),
        card(
            "entanglement-based key (finite-size)",
            f"{fmt(s.get('entanglement_key_rate_bps_sampled'))} bit/s",
            f"asymptotic {fmt(s.get('entanglement_key_rate_bps_expected'))} bit/s from "
            f"{fmt(s.get('entanglement_pairs_measured'))} pairs",
        ),
    ]
    body = [
        f'<div class="cards">{"".join(cards)}</div>',
        "<h3>Key pool levels</h3>",
        _pool_figure(tables["qkd_pool_levels"], rates) if "qkd_pool_levels" in tables else "",
        table_html(
            QKD_LINK_COLUMNS,
            (
                [
                    r.get(c) if c != "bits_generated" else (r.get(c) or 0) - pre_link
                    for c in QKD_LINK_COLUMNS
                ]
                for r in rates
            ),
            headers=[QKD_HEADERS.get(c, c) for c in QKD_LINK_COLUMNS],
        ),
        f'<p class="note">Each pool started with {fmt(pre_link)} pre-loaded bits '
        "(qkd.initial_pool_bits); generated counts only key produced during the run.</p>",
    ]
    body.append("<h3>End-to-end key rates per user pair</h3>")
    body.append(_pair_rate_figure(relay, ent))
    if relay:
        body.append(
            '<p class="note">Trusted-node relay over QKD links (hop-by-hop XOR; '
            "intermediate nodes learn the key).</p>"
        )
        body.append(
            table_html(
                QKD_RELAY_COLUMNS,
                ([r.get(c) for c in QKD_RELAY_COLUMNS] for r in relay),
                headers=[QKD_HEADERS.get(c, c) for c in QKD_RELAY_COLUMNS],
            )
        )
    if ent:
        body.append(
            '<p class="note">BBM92 on delivered pairs, treated as Werner pairs: QBER '
            "2(1-F)/3 in both bases. Finite-size: sampled bases and errors with each basis' "
            "QBER replaced by its Clopper-Pearson upper bound; asymptotic: the Shor-Preskill "
            "rate at the expected counts. A finite-size key of 0 beside a positive asymptotic "
            "one means too few pairs in this run, not a failure.</p>"
        )
        shown = ent[:MAX_TABLE_ROWS]
        body.append(
            table_html(
                QKD_ENT_COLUMNS,
                ([r.get(c) for c in QKD_ENT_COLUMNS] for r in shown),
                headers=[QKD_HEADERS.get(c, c) for c in QKD_ENT_COLUMNS],
            )
        )
    return section("qkd", "QKD on the network", "\n".join(b for b in body if b))


#: The report, in order. Append new section functions here (or pass ``sections=``).
DEFAULT_SECTIONS: tuple[Section, ...] = (
    summary_section,
    happened_section,
    topology_section,
    timeseries_section,
    link_generation_section,
    pairs_section,
    fidelity_section,
    latency_section,
    memory_section,
    links_section,
    verification_section,
    qkd_section,
    alerts_section,
    hardware_section,
    scenario_section,
)
