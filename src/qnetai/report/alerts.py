"""Report section "Alerts": what the QKD link monitor caught, when, and what it cost.

Reads the ``alerts`` table (``alerts.parquet``, :data:`qnetai.ai.security.alerts.ALERT_SCHEMA`)
from ``result.extra_tables`` (a :class:`qnetai.RunResult` or a run folder read back) and the
scenario's injected ``incidents``; absent when the run had no monitoring.

Example:
    >>> from qnetai.results.synthetic import synthetic_result
    >>> alerts_section(synthetic_result())
    ''
"""

from __future__ import annotations

from typing import Any

from qnetai.report._html import card, esc, fmt, section, table_html

__all__ = ["ALERT_COLUMNS", "alerts_section"]

#: Columns of the alerts table in the report, in order.
ALERT_COLUMNS: tuple[str, ...] = (
    "alert_id",
    "link",
    "time_s",
    "kind",
    "cause",
    "statistic",
    "confidence",
    "onset_estimate_s",
    "true_cause",
    "delay_s",
    "key_bits_at_risk",
    "key_bits_withheld",
    "key_bits_lost",
)
_HEADERS = {
    "alert_id": "id",
    "time_s": "time (s)",
    "cause": "suspected cause",
    "statistic": "statistic",
    "onset_estimate_s": "estimated onset (s)",
    "true_cause": "injected",
    "delay_s": "delay (s)",
    "key_bits_at_risk": "key at risk (bits)",
    "key_bits_withheld": "key withheld (bits)",
    "key_bits_lost": "key lost (bits)",
}


def _missed(incident: Any, end_s: float) -> str:
    return "missed" if incident.start_s < end_s else "starts after the run"


def alerts_section(result: Any) -> str:
    """Cards (incidents caught, false alarms, key cost), the incidents and the alerts."""
    tables = getattr(result, "extra_tables", None) or {}
    if "alerts" not in tables:
        return ""
    alerts = tables["alerts"].to_pylist()
    incidents = list(getattr(result.scenario, "incidents", []) or [])
    first: dict[int, dict[str, Any]] = {}
    for k, inc in enumerate(incidents):
        hits = [
            a
            for a in alerts
            if a["link"] == inc.link
            and a["true_start_s"] == float(inc.start_s)
            and a["true_kind"] == inc.kind
        ]
        if hits:
            first[k] = min(hits, key=lambda a: a["time_s"])
    end_s = float(result.summary.get("simulated_s") or result.scenario.duration_s)
    false = sum(1 for a in alerts if a["true_kind"] is None)
    cost = sum(float(a[c] or 0.0) for a in alerts for c in ("key_bits_at_risk", "key_bits_lost"))
    withheld = sum(float(a["key_bits_withheld"] or 0.0) for a in alerts)
    cards = [
        card("incidents caught", f"{len(first)} / {len(incidents)}", "injected by the scenario"),
        card("alerts", fmt(len(alerts)), f"{fmt(false)} false alarms"),
        card(
            "key at risk or lost",
            f"{fmt(cost)} bits",
            f"{fmt(withheld)} bits withheld after alerts",
        ),
    ]
    body = [f'<div class="cards">{"".join(cards)}</div>']
    if incidents:
        body.append("<h3>Injected incidents</h3>")
        body.append(
            table_html(
                ("link", "kind", "cause", "strength", "start_s", "caught_s", "delay_s"),
                (
                    [
                        inc.link,
                        inc.kind,
                        inc.family or inc.fault,
                        inc.strength if inc.kind == "attack" else inc.severity,
                        inc.start_s,
                        first[k]["time_s"] if k in first else _missed(inc, end_s),
                        first[k]["delay_s"] if k in first else None,
                    ]
                    for k, inc in enumerate(incidents)
                ),
                headers=(
                    "link",
                    "kind",
                    "attack / fault",
                    "strength / severity",
                    "start (s)",
                    "caught at (s)",
                    "delay (s)",
                ),
            )
        )
    body.append("<h3>Alerts</h3>")
    body.append(
        table_html(
            ALERT_COLUMNS,
            ([a.get(c) if a.get(c) is not None else "—" for c in ALERT_COLUMNS] for a in alerts),
            headers=[_HEADERS.get(c, c) for c in ALERT_COLUMNS],
        )
        if alerts
        else "<p>No alerts.</p>"
    )
    detector = esc(alerts[0]["detector"]) if alerts else "the configured detector"
    body.append(
        f'<p class="note">Each QKD link\'s per-block telemetry is watched by {detector}, '
        "calibrated on honest blocks of the same link. Key at risk: key distilled between "
        "the estimated onset and the alert (an eavesdropper may know it); withheld: the "
        "link's key from the alert to the end of the run, held until an operator clears it; "
        "lost: key a fault's lower gain cost. Delay is from the injected start; an alert "
        "with no injected incident is a false alarm.</p>"
    )
    return section("alerts", "Alerts", "\n".join(body))
