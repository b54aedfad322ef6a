"""Report sections that read the run for a researcher: what happened, hardware, per-pair figures.

- :func:`happened_section`: a few sentences: requests lost, the busiest memories, the links
  that discarded most pairs, where fidelity was lost (per user pair and per hop);
- :func:`hardware_section`: the hardware parameters of every node and link, with units;
- :func:`pairs_section`: mean fidelity against hops and distance per user pair, and the
  latency CDF of each flow.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from qnetai.report._html import esc, figure_html, fmt, new_figure, new_subplots, section, table_html

#: Flows drawn in the latency CDF (the busiest ones).
MAX_CDF_FLOWS = 8
#: Rows of the hardware tables (larger networks: see scenario.yaml).
MAX_HARDWARE_ROWS = 60


def _pairs(result: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """Per unordered user pair: fidelities, latencies (s) and hops of its deliveries."""
    d = result.deliveries
    out: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"fidelity": [], "latency_s": [], "hops": []}
    )
    if d.num_rows == 0:
        return {}
    cols = {c: d.column(c).to_pylist() for c in ("source", "destination", "fidelity", "hops")}
    lat = d.column("latency_s").to_pylist()
    for s, t, f, h, la in zip(
        cols["source"], cols["destination"], cols["fidelity"], cols["hops"], lat, strict=True
    ):
        key = (str(s), str(t)) if str(s) <= str(t) else (str(t), str(s))
        rec = out[key]
        rec["fidelity"].append(f)
        rec["latency_s"].append(la)
        rec["hops"].append(h)
    return dict(out)


def _distance_km(result: Any, a: str, b: str) -> float | None:
    pos = {n.name: n.position_km for n in result.scenario.nodes}
    pa, pb = pos.get(a), pos.get(b)
    if pa is None or pb is None:
        return None
    return float(np.hypot(pa[0] - pb[0], pa[1] - pb[1]))


def happened_section(result: Any) -> str:
    """What happened, in words: lost requests, bottlenecks, where fidelity was lost."""
    s = result.summary
    items: list[str] = []
    total, served = s.get("requests_total") or 0, s.get("requests_served") or 0
    expired, unserved = s.get("requests_expired") or 0, s.get("requests_unserved") or 0
    lost = total - served
    line = f"{fmt(served)} of {fmt(total)} requests were served"
    if lost:
        line += (
            f"; expired (timed out): {fmt(expired)}; still waiting or declined at the end: "
            f"{fmt(unserved)}"
        )
        req = result.requests
        if req.num_rows:
            per: dict[str, int] = defaultdict(int)
            for src, dst, st in zip(
                req.column("source").to_pylist(),
                req.column("destination").to_pylist(),
                req.column("status").to_pylist(),
                strict=True,
            ):
                if st != "served":
                    per[f"{src}–{dst}"] += 1
            worst = sorted(per.items(), key=lambda kv: -kv[1])[:3]
            line += " (most from " + ", ".join(f"{esc(k)}: {v}" for k, v in worst) + ")"
    items.append(line + ".")
    nodes = result.nodes
    if nodes.num_rows:
        q = np.asarray(nodes.column("memory_qubits").to_pylist(), float)
        peak = np.asarray(nodes.column("peak_memory_used").to_pylist(), float)
        frac = np.where(q > 0, peak / np.maximum(q, 1), 0.0)
        i = int(np.argmax(frac))
        name = nodes.column("node").to_pylist()[i]
        items.append(
            f"Busiest memory: <b>{esc(name)}</b> peaked at {fmt(int(peak[i]))} of "
            f"{fmt(int(q[i]))} qubits ({100 * frac[i]:.0f} %)"
            + (
                "; requests waited for memory there."
                if frac[i] >= 0.999
                else "; no node ran out of memory qubits."
            )
        )
    links = result.links.to_pylist()
    if links:
        disc = [
            (r["link"], r.get("pairs_discarded") or 0, r.get("pairs_generated") or 0) for r in links
        ]
        disc.sort(key=lambda x: -(x[1] / x[2] if x[2] else 0.0))
        name, dropped, gen = disc[0]
        if gen and dropped:
            items.append(
                f"Most pairs discarded (cut-off, failed swaps or too old) on <b>{esc(name)}</b>: "
                f"{fmt(dropped)} of {fmt(gen)} generated ({100 * dropped / gen:.0f} %)."
            )
        slow = min(links, key=lambda r: r.get("rate_hz") or 0.0)
        items.append(
            f"Slowest link: <b>{esc(slow['link'])}</b> ({fmt(slow.get('length_km'))} km, "
            f"{fmt(slow.get('rate_hz'))} pairs generated per second)."
        )
    pairs = _pairs(result)
    if pairs:
        means = {k: float(np.nanmean(np.asarray(v["fidelity"], float))) for k, v in pairs.items()}
        (a, b), f_low = min(means.items(), key=lambda kv: kv[1])
        hops = float(np.mean(pairs[(a, b)]["hops"]))
        items.append(
            f"Lowest mean fidelity: <b>{esc(a)}–{esc(b)}</b>, {f_low:.4f} over "
            f"{len(pairs[(a, b)]['fidelity'])} pairs on {hops:.1f} hops on average."
        )
        h = np.concatenate([np.asarray(v["hops"], float) for v in pairs.values()])
        f = np.concatenate([np.asarray(v["fidelity"], float) for v in pairs.values()])
        ok = np.isfinite(h) & np.isfinite(f)
        if ok.sum() > 2 and np.ptp(h[ok]) > 0:
            slope = float(np.polyfit(h[ok], f[ok], 1)[0])
            items.append(
                f"Fidelity falls by {abs(slope):.4f} per extra hop on average (least-squares fit "
                "over all delivered pairs): swapping noise and storage while the other links "
                "wait add up along a path."
            )
    body = '<ul class="findings">' + "".join(f"<li>{x}</li>" for x in items) + "</ul>"
    return section("happened", "What happened", body)


def hardware_section(result: Any) -> str:
    """The hardware parameters of the nodes and links, with units (a table for a paper)."""
    sc = result.scenario
    node_rows = []
    for n in sc.nodes[:MAX_HARDWARE_ROWS]:
        m = n.memory
        node_rows.append(
            [
                n.name,
                n.kind.replace("_", " "),
                n.memory_qubits,
                "—" if m.t1_s is not None or m.t2_s is not None else m.t_coh_s,
                "—" if m.t1_s is None else m.t1_s,
                "—" if m.t2_s is None else m.t2_s,
                m.efficiency,
            ]
        )
    link_rows = []
    for ln in sc.links[:MAX_HARDWARE_ROWS]:
        link_rows.append(
            [
                ln.name or f"{ln.endpoints[0]}-{ln.endpoints[1]}",
                ln.kind.replace("_", " "),
                ln.length_km,
                ln.attenuation_db_per_km,
                ln.scheme.replace("_", "-"),
                ln.multiplexing,
                "round trip" if ln.attempt_rate_hz is None else ln.attempt_rate_hz,
                ln.source_efficiency * ln.coupling_efficiency,
                ln.detector_efficiency,
                ln.dark_count_probability,
                ln.raw_fidelity,
            ]
        )
    ops = sc.operations
    note = (
        f'<p class="note">Operations: swap gate fidelity {fmt(ops.swap_gate_fidelity)}, '
        f"measurement error {fmt(ops.measurement_error)}, swap success probability "
        f"{fmt(ops.swap_success_probability)}, {esc(ops.swapping_policy)}, purification "
        f"{esc(ops.purification.protocol)}, cut-off "
        f"{'none' if ops.cutoff_s is None else fmt(ops.cutoff_s) + ' s'}; classical signals at "
        f"{fmt(sc.classical.speed_km_per_s)} km/s. t_coh is the decay time of a stored pair's "
        "Werner parameter; T1/T2 are per qubit.</p>"
    )
    more = (
        f'<p class="note">First {MAX_HARDWARE_ROWS} nodes and links; all in scenario.yaml.</p>'
        if max(len(sc.nodes), len(sc.links)) > MAX_HARDWARE_ROWS
        else ""
    )
    body = (
        "<h3>Nodes</h3>"
        + table_html(
            [
                "node",
                "kind",
                "memory qubits",
                "t_coh (s)",
                "T1 (s)",
                "T2 (s)",
                "retrieval efficiency",
            ],
            node_rows,
        )
        + "<h3>Links</h3>"
        + table_html(
            [
                "link",
                "kind",
                "length (km)",
                "attenuation (dB/km)",
                "heralding",
                "modes",
                "attempt rate (Hz)",
                "source x coupling efficiency",
                "detector efficiency",
                "dark counts per window",
                "raw fidelity",
            ],
            link_rows,
        )
        + note
        + more
        + _logical_memory_note(result.summary.get("logical_memory"))
    )
    return section("hardware", "Hardware parameters", body)


def _logical_memory_note(logical: dict[str, Any] | None) -> str:
    """The error-corrected memories (``qnetai.qec.memory``): settings and measured rates."""
    if not logical:
        return ""
    rows = [
        [
            f"{m['code']} d={m['distance']}",
            m["decoder"],
            m["physical_error_rate"],
            m["cycle_time_s"],
            f"{fmt(m['r_x'])} [{fmt(m['r_x_ci'][0])}, {fmt(m['r_x_ci'][1])}]",
            f"{fmt(m['r_z'])} [{fmt(m['r_z_ci'][0])}, {fmt(m['r_z_ci'][1])}]",
            "∞" if m["t_coh_s"] is None else m["t_coh_s"],
            m["physical_t_coh_s"],
            len(m["nodes"]),
        ]
        for m in logical["memories"]
    ]
    heads = ["code", "decoder", "p", "cycle (s)", "r_x per round [95% CI]", "r_z [95% CI]"]
    heads += ["t_coh (s)", "bare qubit t_coh (s)", "nodes"]
    return (
        "<h3>Error-corrected memories</h3>"
        + table_html(heads, rows)
        + f'<p class="note">Rates measured with stim before the run; model: '
        f"{esc(logical['model'])}.</p>"
    )


def pairs_section(result: Any) -> str:
    """Mean fidelity against hops and distance per user pair; latency CDF per flow."""
    import plotly.graph_objects as go

    pairs = _pairs(result)
    if not pairs:
        return section("pairs", "Per user pair", '<p class="note">No deliveries.</p>')
    keys = sorted(pairs, key=lambda k: -len(pairs[k]["fidelity"]))
    label = [f"{a}–{b}" for a, b in keys]
    mean_f = [float(np.nanmean(np.asarray(pairs[k]["fidelity"], float))) for k in keys]
    hops = [float(np.mean(pairs[k]["hops"])) for k in keys]
    dist = [_distance_km(result, *k) for k in keys]
    count = [len(pairs[k]["fidelity"]) for k in keys]
    size = 8 + 18 * np.sqrt(np.asarray(count) / max(count))
    with_dist = all(x is not None for x in dist)
    fig = new_subplots(
        rows=1,
        cols=2 if with_dist else 1,
        shared_yaxes=True,
        subplot_titles=["vs hops", "vs straight-line distance"] if with_dist else None,
    )
    hover = [
        f"{lb}<br>{c} pairs<br>mean F {f:.4f}"
        for lb, c, f in zip(label, count, mean_f, strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=hops,
            y=mean_f,
            mode="markers",
            marker={"size": size, "color": "#4c72b0"},
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    if with_dist:
        fig.add_trace(
            go.Scatter(
                x=dist,
                y=mean_f,
                mode="markers",
                marker={"size": size, "color": "#dd8452"},
                hovertext=hover,
                hoverinfo="text",
                showlegend=False,
            ),
            row=1,
            col=2,
        )
        fig.update_xaxes(title_text="distance between the users (km)", row=1, col=2)
    fig.update_xaxes(title_text="hops (mean over the pair's deliveries)", row=1, col=1)
    fig.update_yaxes(title_text="mean fidelity", row=1, col=1)
    fig.update_layout(margin={"l": 60, "r": 20, "t": 40, "b": 50})
    cdf = new_figure()
    for k in keys[:MAX_CDF_FLOWS]:
        lat = np.sort(np.asarray(pairs[k]["latency_s"], float) * 1e3)
        lat = lat[np.isfinite(lat)]
        if lat.size == 0:
            continue
        if lat.size > 400:  # enough points to draw the curve, not every delivery
            idx = np.unique(np.linspace(0, lat.size - 1, 400).astype(int))
            x, y = lat[idx], (idx + 1) / lat.size
        else:
            x, y = lat, np.arange(1, lat.size + 1) / lat.size
        cdf.add_trace(
            go.Scatter(
                x=x, y=y, mode="lines", line={"shape": "hv"}, name=f"{k[0]}–{k[1]} ({lat.size})"
            )
        )
    cdf.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis={"title": {"text": "latency (ms)"}, "rangemode": "tozero"},
        yaxis={
            "title": {"text": "fraction of the flow's pairs delivered within"},
            "range": [0, 1.02],
        },
        legend={"orientation": "h", "y": -0.25},
    )
    note = (
        f'<p class="note">Marker area: number of pairs delivered. Latency CDF of the '
        f"{min(len(keys), MAX_CDF_FLOWS)} busiest flows (pairs delivered in brackets).</p>"
    )
    body = (
        "<h3>Fidelity per user pair</h3>"
        + figure_html(fig, "fig-pair-fidelity")
        + "<h3>Latency per flow</h3>"
        + figure_html(cdf, "fig-latency-cdf")
        + note
    )
    return section("pairs", "Per user pair", body)
