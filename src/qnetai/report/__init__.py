"""Self-contained HTML reports of a run (plotly.js inlined once, compressed; no network needed).

The report is a list of sections (:data:`DEFAULT_SECTIONS`): functions that take
a result and return an HTML fragment. Add a feature's section by appending a
function to that tuple or passing ``sections=`` to :func:`render_html`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from qnetai.report._html import (
    TEMPLATE,
    card,
    default_template,
    esc,
    figure_html,
    fmt,
    page,
    section,
    table_html,
)
from qnetai.report.sections import DEFAULT_SECTIONS, Section


def render_html(
    result: Any, *, sections: Sequence[Section] | None = None, title: str | None = None
) -> str:
    """The HTML report of ``result`` (a ``SimulationResult`` or a ``RunView``) as a string.

    Example:
        >>> from qnetai.results.synthetic import synthetic_result
        >>> html = render_html(synthetic_result())
        >>> html.startswith("<!DOCTYPE html>") and 'id="fidelity"' in html
        True
    """
    import plotly.offline

    sc = result.scenario
    title = title or f"qnetai run — {sc.name}"
    subtitle = f"<p>{esc(sc.description)}</p>" if sc.description else ""
    subtitle += (
        f"<p>seed {esc(sc.seed)} · simulated {fmt(result.summary.get('simulated_s'))} s"
        f" · {len(sc.nodes)} nodes · {len(sc.links)} links</p>"
    )
    with default_template(TEMPLATE):  # set once: each setting validates the template
        parts = [
            frag
            for fn in (DEFAULT_SECTIONS if sections is None else sections)
            if (frag := fn(result))
        ]
    toc = (
        '<nav class="toc">'
        + " ".join(
            f'<a href="#{m.group(1)}">{m.group(2)}</a>'
            for part in parts
            if (m := _HEADING.search(part))
        )
        + "</nav>"
    )
    return page(title, subtitle, parts, plotly_js=plotly.offline.get_plotlyjs(), toc=toc)


_HEADING = re.compile(r'<section id="([^"]+)">\s*<h2>(.*?)</h2>')


__all__ = [
    "DEFAULT_SECTIONS",
    "Section",
    "card",
    "esc",
    "figure_html",
    "fmt",
    "render_html",
    "section",
    "table_html",
]
