"""Report section: elementary-pair generation per link over simulated time.

Reads the run's ``link_timeseries`` table (pairs generated and attempt rounds per link and
time bin, :mod:`qnetai.sim.result`). The first figure is each link's generation rate; the
second, for links with a time-varying loss (free-space fades), compares the fraction of
attempt rounds that heralded with the engine's modelled round-success probability, so a fade
is visible even where demand, not the channel, limits the pair count.

Example:
    >>> from qnetai.results.synthetic import synthetic_result
    >>> 'id="link-generation"' in link_generation_section(synthetic_result())
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qnetai.report._html import figure_html, new_figure, section

#: Links drawn in the rate figure (the busiest; time-varying links always).
MAX_LINK_LINES = 12
#: Time bins pooled per point of the heralded-fraction figure (fewer, less noisy points).
POOL_BINS = 5


def _per_link(table: Any) -> dict[str, dict[str, np.ndarray]]:
    cols = table.to_pydict()
    out: dict[str, dict[str, list[float]]] = {}
    for i, name in enumerate(cols["link"]):
        d = out.setdefault(name, {k: [] for k in ("start", "end", "gen", "att")})
        d["start"].append(cols["bin_start_s"][i])
        d["end"].append(cols["bin_end_s"][i])
        d["gen"].append(cols["pairs_generated"][i])
        d["att"].append(cols["attempts"][i])
    return {n: {k: np.asarray(v, dtype=float) for k, v in d.items()} for n, d in out.items()}


def _varying_models(result: Any) -> dict[str, Any]:
    """The engine's link models of the links with a time-varying loss, by link name."""
    varying = {
        ln.name or f"{ln.endpoints[0]}-{ln.endpoints[1]}"
        for ln in result.scenario.links
        if ln.free_space is not None and ln.free_space.loss_variation is not None
    }
    if not varying:
        return {}
    from qnetai.control.engine_policies import engine_link_models

    models = engine_link_models(result.scenario)
    return {m.name: m for m in models.values() if m.name in varying and m.varying}


def link_generation_section(result: Any) -> str:
    """Pairs generated per second on each link, per time bin; heralded fraction on fades."""
    import plotly.graph_objects as go

    table = getattr(result, "link_timeseries", None)
    if table is None or table.num_rows == 0:
        return ""
    per = _per_link(table)
    models = _varying_models(result)
    busiest = sorted(per, key=lambda n: -float(per[n]["gen"].sum()))
    shown = [n for n in busiest if n in models]
    shown += [n for n in busiest if n not in models][: max(MAX_LINK_LINES - len(shown), 0)]
    fig = new_figure()
    for name in shown:
        d = per[name]
        width = np.where(d["end"] > d["start"], d["end"] - d["start"], np.nan)
        fig.add_trace(
            go.Scatter(
                x=(d["start"] + d["end"]) / 2,
                y=d["gen"] / width,
                mode="lines",
                name=name + (" (time-varying)" if name in models else ""),
                line={"width": 3 if name in models else 1.2},
            )
        )
    fig.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis_title="simulated time (s)",
        yaxis_title="pairs generated / s",
        legend={"orientation": "h", "y": -0.25},
        height=460,
    )
    note = (
        f'<p class="note">Elementary pairs heralded per second on each link, in '
        f"{len(per[shown[0]]['gen'])} time bins ({len(shown)} of {len(per)} links: the busiest, "
        "and every link with a time-varying loss). A link generates only while a request "
        "holds its memories, so the rate follows demand as well as the channel.</p>"
    )
    body = note + figure_html(fig, "fig-link-generation") + _fade_figure(per, models)
    return section("link-generation", "Pair generation per link over time", body)


#: ``scipy.special.ndtri(0.975)``: the two-sided 95 % normal quantile of the Wilson interval.
Z_95 = 1.959963984540054


def _wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson interval of ``k / n`` per point (NaN where ``n`` is 0).

    The formulas of ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
    (Newcombe 1998, no continuity correction), vectorised and without importing
    ``scipy.stats`` (about 0.5 s); equal bit for bit (tested).

    Example:
        >>> lo, hi = _wilson(np.array([0, 5, 10]), np.array([10, 10, 10]))
        >>> [round(float(x), 4) for x in lo], [round(float(x), 4) for x in hi]
        ([0.0, 0.2366, 0.7225], [0.2775, 0.7634, 1.0])
    """
    n_i = np.asarray(n).astype(int)
    k_i = np.minimum(np.asarray(k).astype(int), n_i)
    ok = n_i > 0
    lo = np.full(k_i.shape, np.nan)
    hi = np.full(k_i.shape, np.nan)
    kk, nn = k_i[ok], n_i[ok]
    z = Z_95
    with np.errstate(invalid="ignore", divide="ignore"):
        p = kk / nn
        denom = 2 * (nn + z**2)
        center = (2 * nn * p + z**2) / denom
        delta = z / denom * np.sqrt(4 * nn * p * (1 - p) + z**2)
    lo[ok] = np.where(kk == 0, 0.0, center - delta)
    hi[ok] = np.where(kk == nn, 1.0, center + delta)
    return lo, hi


def _fade_figure(per: dict[str, dict[str, np.ndarray]], models: dict[str, Any]) -> str:
    import plotly.graph_objects as go

    names = [n for n in models if n in per]
    if not names:
        return ""
    fig = new_figure()
    for name in names:
        d = per[name]
        n = len(d["gen"]) // POOL_BINS * POOL_BINS
        if n == 0:
            continue
        gen = d["gen"][:n].reshape(-1, POOL_BINS).sum(axis=1)
        att = d["att"][:n].reshape(-1, POOL_BINS).sum(axis=1)
        mid = (d["start"][:n:POOL_BINS] + d["end"][POOL_BINS - 1 : n : POOL_BINS]) / 2
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(att > 0, gen / att, np.nan)
        lo, hi = _wilson(gen, att)
        fig.add_trace(
            go.Scatter(
                x=mid,
                y=frac,
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": hi - frac,
                    "arrayminus": frac - lo,
                    "thickness": 1,
                },
                mode="markers",
                name=f"{name}: heralded / attempt rounds",
                customdata=np.stack([gen, att], axis=1),
                hovertemplate="%{y:.3g} (%{customdata[0]:.0f} / %{customdata[1]:.0f})"
                "<extra></extra>",
            )
        )
        model = models[name]
        t = np.linspace(float(d["start"][0]), float(d["end"][-1]), 400, endpoint=False)
        q = [model.round_success_at(float(x)) for x in t]
        fig.add_trace(
            go.Scatter(x=t, y=q, mode="lines", line={"shape": "hv"}, name=f"{name}: modelled")
        )
    fig.update_layout(
        margin={"l": 60, "r": 20, "t": 30, "b": 50},
        xaxis_title="simulated time (s)",
        yaxis_title="round success probability",
        legend={"orientation": "h", "y": -0.25},
        height=380,
    )
    return (
        "<h3>Fading links: heralded fraction of attempt rounds</h3>"
        f'<p class="note">Points: pairs heralded / attempt rounds, pooled over {POOL_BINS} '
        "bins (a process's rounds are counted in the bin of its herald), with 95% Wilson "
        "intervals; line: the engine's round-success probability for a round emitted at that "
        "time.</p>" + figure_html(fig, "fig-link-fade")
    )
