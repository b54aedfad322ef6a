import base64
import gzip
import re

import plotly.offline
import pytest

from qnetai.report import DEFAULT_SECTIONS, render_html, section
from qnetai.report.topology_plot import node_positions, topology_figure
from qnetai.results import read_run, write_run
from qnetai.results.synthetic import synthetic_result

SECTION_IDS = (
    "summary",
    "topology",
    "fidelity",
    "latency",
    "timeseries",
    "links",
    "memory",
    "scenario",
    "happened",
    "hardware",
    "pairs",
    "link-generation",
)
FIGURE_IDS = (
    "fig-topology",
    "fig-fidelity",
    "fig-latency",
    "fig-timeseries",
    "fig-memory",
    "fig-pair-fidelity",
    "fig-latency-cdf",
    "fig-link-generation",
)


@pytest.fixture(scope="module")
def result():
    return synthetic_result(nodes=5, deliveries=60, seed=1)


@pytest.fixture(scope="module")
def html(result):
    return render_html(result)


def test_sections_and_figures_present(html, result):
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html
    for fid in FIGURE_IDS:
        assert f'id="{fid}"' in html
    assert "<title>qnetai run — synthetic</title>" in html
    assert result.scenario.description in html
    for link in result.links.column("link").to_pylist():
        assert link in html  # per-link table (and hover text)
    assert html.count("Plotly.newPlot(") == len(FIGURE_IDS)


def _embedded_plotly(html: str) -> str:
    m = re.search(
        r'<script type="application/octet-stream" id="plotly-js-gzip">([^<]*)</script>', html
    )
    assert m, "no embedded plotly.js"
    return gzip.decompress(base64.b64decode(m.group(1))).decode("utf-8")


def test_self_contained_plotly_inlined_once_compressed(html):
    js = plotly.offline.get_plotlyjs()
    assert _embedded_plotly(html) == js  # the whole library, exactly, once
    assert html.count('id="plotly-js-gzip"') == 1
    assert html.index('id="plotly-js-gzip"') < html.index("Plotly.newPlot(")
    assert len(html) < 0.6 * len(js)  # compressed: well under plotly.js's own size
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, flags=re.I)
    assert not re.search(r"""<link[^>]*href\s*=\s*["']https?://""", html, flags=re.I)
    assert "cdn.plot.ly" not in html
    # every figure waits for the decompressed library and exports SVG from its camera button
    assert html.count("window.qnetaiPlotly.then(") == len(FIGURE_IDS)
    assert html.count('"format": "svg"') == len(FIGURE_IDS)


def test_tables_are_never_cut_off(html, result):
    assert 'class="scroll"' not in html and "max-height" not in html
    rows = re.findall(r"<tr>", html[html.index('<section id="links">') :].split("</section>")[0])
    assert len(rows) == result.links.num_rows + 1  # header + every link
    assert "@media print" in html


def test_what_happened_and_hardware_in_words(html, result):
    happened = html[html.index('<section id="happened">') :].split("</section>")[0]
    assert "requests were served" in happened and "Busiest memory" in happened
    hw = html[html.index('<section id="hardware">') :].split("</section>")[0]
    assert "t_coh (s)" in hw and "attenuation (dB/km)" in hw
    for node in result.scenario.nodes:
        assert node.name in hw


def test_summary_cards_show_figures(html, result):
    s = result.summary
    assert f"{s['requests_served']} / {s['requests_total']}" in html
    assert f"{s['mean_fidelity']:.4g}" in html


def test_deterministic(html, result):
    assert render_html(result) == html


def test_custom_sections_appended(result):
    def qkd_section(r):
        return section("qkd", "QKD", f"<p>{r.scenario.name} key rate</p>")

    def absent(r):
        return ""

    out = render_html(result, sections=(*DEFAULT_SECTIONS[:1], qkd_section, absent))
    assert '<section id="qkd">' in out and "synthetic key rate" in out
    assert out.index('id="summary"') < out.index('id="qkd"')
    assert '<section id="fidelity">' not in out


def test_positions_used_when_given(result):
    pos = node_positions(result)
    assert pos == {f"n{i}": (10.0 * i, 0.0) for i in range(5)}


def test_spring_layout_without_positions_is_seeded():
    r = synthetic_result(nodes=6, positions=False)
    p1, p2 = node_positions(r), node_positions(r)
    assert p1 == p2 and set(p1) == {f"n{i}" for i in range(6)}
    assert len({xy for xy in p1.values()}) == 6


def test_topology_edges_coloured_by_rate(result):
    fig = topology_figure(result)
    hover = next(t for t in fig.data if t.name == "links")
    rates = result.links.column("rate_hz").to_pylist()
    assert max(rates) > 1.1 * min(rates)  # the rates vary, so colour carries them
    assert list(hover.marker.color) == pytest.approx(rates)
    assert any("p per attempt" in h and "rate" in h for h in hover.hovertext)
    widths = [t.line.width for t in fig.data if t.mode == "lines"]
    assert len(widths) >= 1 and all(w > 0 for w in widths)


def test_identical_link_rates_get_one_colour_and_no_colour_bar():
    import dataclasses

    import pyarrow as pa

    r = synthetic_result(nodes=5, deliveries=20, seed=2)
    links = r.links.set_column(
        r.links.column_names.index("rate_hz"), "rate_hz", pa.array([20.0] * r.links.num_rows)
    )
    fig = topology_figure(dataclasses.replace(r, links=links))
    hover = next(t for t in fig.data if t.name == "links")
    assert hover.marker.showscale is False and isinstance(hover.marker.color, str)


def test_empty_deliveries_and_run_view(tmp_path):
    r = synthetic_result(deliveries=0)
    out = write_run(r, tmp_path / "r", catalogue=False)
    html = render_html(read_run(out), sections=DEFAULT_SECTIONS)
    assert "No data." in html
    assert '<section id="memory">' in html


def test_time_varying_link_loss_is_drawn(result):
    import dataclasses

    from qnetai.config.models import FreeSpaceSpec, LossVariationSpec

    sc = result.scenario
    fs = FreeSpaceSpec(loss_variation=LossVariationSpec(period_s=0.2, amplitude_db=1.0))
    link = sc.links[0].model_copy(update={"kind": "free_space", "free_space": fs})
    sc2 = sc.model_copy(update={"links": [link, *sc.links[1:]]})
    html = render_html(dataclasses.replace(result, scenario=sc2))
    assert 'id="fig-fading"' in html and "Time-varying links" in html
    assert 'id="fig-fading"' not in render_html(result)
