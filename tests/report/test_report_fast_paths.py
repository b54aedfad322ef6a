"""The report's fast paths give the same figures: Wilson intervals, template at construction."""

from __future__ import annotations

import numpy as np
import plotly.io as pio
import pytest

from qnetai.report import render_html
from qnetai.report._html import TEMPLATE, default_template, new_figure, new_subplots
from qnetai.report.link_generation import _wilson
from qnetai.results.synthetic import synthetic_result


def test_wilson_equals_scipy_binomtest_bit_for_bit() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(5)
    n = np.concatenate([rng.integers(0, 40, 400), rng.integers(1, 10**7, 400), [0, 1, 1, 7]])
    k = np.concatenate(
        [rng.integers(0, 41, 400), (rng.random(400) * n[400:800]).astype(int), [0, 0, 1, 7]]
    )
    k = np.where(rng.random(k.size) < 0.05, n, k)  # k == n edges
    lo, hi = _wilson(k, n)
    for i, (kk, nn) in enumerate(zip(k.tolist(), n.tolist(), strict=True)):
        if nn == 0:
            assert np.isnan(lo[i]) and np.isnan(hi[i])
            continue
        ci = stats.binomtest(min(kk, nn), nn).proportion_ci(0.95, method="wilson")
        assert (lo[i], hi[i]) == (ci.low, ci.high), (kk, nn)


def test_new_figure_has_the_template_update_layout_would_set() -> None:
    import plotly.graph_objects as go

    slow = go.Figure()
    slow.update_layout(template=TEMPLATE)
    assert new_figure().to_plotly_json() == slow.to_plotly_json()
    sub = new_subplots(rows=1, cols=2)
    assert sub.layout.template.to_plotly_json() == slow.layout.template.to_plotly_json()


def test_default_template_is_restored() -> None:
    before = pio.templates.default
    with default_template(TEMPLATE):
        assert pio.templates.default == TEMPLATE
        with default_template(TEMPLATE):
            pass
        assert pio.templates.default == TEMPLATE
    assert pio.templates.default == before
    with pytest.raises(RuntimeError), default_template(TEMPLATE):
        raise RuntimeError("boom")
    assert pio.templates.default == before


def test_every_report_figure_is_on_the_report_template() -> None:
    import json
    import re

    html = render_html(synthetic_result())
    white = pio.templates[TEMPLATE].layout.plot_bgcolor
    dec = json.JSONDecoder()
    n = 0
    for m in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', html):
        _, i = dec.raw_decode(html, m.end())
        i = html.index(",", i) + 1
        while html[i].isspace():
            i += 1
        layout, _ = dec.raw_decode(html, i)
        assert layout["template"]["layout"]["plot_bgcolor"] == white, m.group(1)
        n += 1
    assert n >= 3
