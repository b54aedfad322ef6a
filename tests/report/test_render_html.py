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
)
FIGURE_IDS = ("fig-topology", "fig-fidelity", "fig-latency", "fig-timeseries", "fig-memory")


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


def test_self_contained_plotly_inlined_once(html):
    js = plotly.offline.get_plotlyjs()
    assert html.count(js) == 1
    assert html.index(js) < html.index("Plotly.newPlot(")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, flags=re.I)
    assert not re.search(r"""<link[^>]*href\s*=\s*["']https?://""", html, flags=re.I)
    assert "cdn.plot.ly" not in html.replace(js, "")


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
    assert list(hover.marker.color) == pytest.approx(result.links.column("rate_hz").to_pylist())
    assert any("p_success" in h and "rate" in h for h in hover.hovertext)
    widths = [t.line.width for t in fig.data if t.mode == "lines"]
    assert len(widths) >= 1 and all(w > 0 for w in widths)


def test_empty_deliveries_and_run_view(tmp_path):
    r = synthetic_result(deliveries=0)
    out = write_run(r, tmp_path / "r", catalogue=False)
    html = render_html(read_run(out), sections=DEFAULT_SECTIONS)
    assert "No data." in html
    assert '<section id="memory">' in html
