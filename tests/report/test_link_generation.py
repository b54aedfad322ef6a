"""The report's per-link generation section (rates per bin; fade against the link model)."""

import json
import re

from qnetai.config.models import Scenario
from qnetai.control.policy import ShortestPathPolicy
from qnetai.report import render_html
from qnetai.report.link_generation import link_generation_section
from qnetai.results.synthetic import synthetic_result
from qnetai.sim import simulate


def _fading() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "fade",
            "duration_s": 0.1,
            "nodes": [{"name": "A", "memory_qubits": 2}, {"name": "B", "memory_qubits": 2}],
            "links": [
                {
                    "endpoints": ["A", "B"],
                    "length_km": 10,
                    "kind": "free_space",
                    "attempt_rate_hz": 1e5,
                    "free_space": {
                        "loss_variation": {
                            "period_s": 0.1,
                            "amplitude_db": 6.0,
                            "update_s": 0.005,
                        }
                    },
                }
            ],
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "B",
                        "pairs_per_request": 1_000_000,
                        "min_fidelity": 0.0,
                        "arrival": {"process": "at_once"},
                    }
                ]
            },
        }
    )


def _traces(html: str, div_id: str) -> list[dict]:
    m = re.search(rf'Plotly\.newPlot\(\s*"{div_id}",\s*(\[.*?\]),\s*\{{', html, re.S)
    assert m, div_id
    return json.loads(m.group(1))


def test_section_in_default_report():
    html = render_html(synthetic_result(nodes=4, deliveries=30, seed=2))
    assert '<section id="link-generation">' in html
    assert 'id="fig-link-generation"' in html
    assert 'id="fig-link-fade"' not in html  # no time-varying link


def test_fading_link_drawn_with_its_model():
    r = simulate(_fading(), seed=1, policy=ShortestPathPolicy())
    frag = link_generation_section(r)
    assert 'id="fig-link-generation"' in frag and 'id="fig-link-fade"' in frag
    traces = _traces(frag, "fig-link-fade")
    names = [t["name"] for t in traces]
    assert names == ["A-B: heralded / attempt rounds", "A-B: modelled"]
    model = traces[1]["y"]
    if isinstance(model, dict):  # plotly may encode arrays as typed-array dicts
        import base64

        import numpy as np

        model = np.frombuffer(base64.b64decode(model["bdata"]), dtype=model["dtype"]).tolist()
    assert max(model) > 2 * min(model)  # a +-6 dB fade shows in the modelled probability


def test_no_table_no_section():
    class Old:
        link_timeseries = None

    assert link_generation_section(Old()) == ""
