"""Report section of a run's verification (scenario ``verification``): estimates beside truth.

Reads the ``verification_pairs`` and ``verification_links`` tables (``extra_tables`` of a
:class:`qnetai.RunResult` or of a run folder read back); without them the section is left out.
"""

from __future__ import annotations

from typing import Any

from qnetai.report._html import card, section, table_html

MAX_ROWS = 500


def verification_section(result: Any) -> str:
    """Estimated end-to-end and link fidelities with intervals next to the true values."""
    extra = getattr(result, "extra_tables", None) or {}
    pairs, links = extra.get("verification_pairs"), extra.get("verification_links")
    if pairs is None or links is None:
        return ""
    s = getattr(result, "summary", {}) or {}
    cards = ""
    if "pairs_verified" in s:
        cards = (
            '<div class="cards">'
            + card(
                "pairs verified",
                f"{s['pairs_verified']:,}",
                f"{100 * s['verification_fraction']:g} % of delivered pairs",
            )
            + card("pairs to the application", f"{s['pairs_to_application']:,}")
            + card(
                "fidelity estimated (pooled)",
                f"{s['verified_fidelity']:.4f}",
                f"[{s['verified_fidelity_low']:.4f}, {s['verified_fidelity_high']:.4f}]; "
                f"true {s['verified_true_fidelity']:.4f}",
            )
            + card(
                "controllers fed",
                "estimates" if s.get("verification_feeds_controllers") else "truth",
            )
            + "</div>"
        )
    prow = sorted(pairs.to_pylist(), key=lambda r: -r["pairs_verified"])[:MAX_ROWS]
    pcols = [
        "source",
        "destination",
        "pairs_delivered",
        "pairs_verified",
        "estimated_fidelity",
        "fidelity_low",
        "fidelity_high",
        "true_mean_fidelity",
    ]
    lcols = [
        "link",
        "pairs_generated",
        "pairs_verified",
        "estimated_fidelity",
        "fidelity_low",
        "fidelity_high",
        "true_fidelity",
    ]
    if any(v is not None for v in links.column("calibration_fidelity").to_pylist()):
        lcols += ["calibration_fidelity", "calibration_s"]
    lrow = links.to_pylist()[:MAX_ROWS]
    body = (
        cards
        + "<h3>End to end, per user pair</h3>"
        + table_html(pcols, ([r[c] for c in pcols] for r in prow))
        + "<h3>Links (pairs measured right after heralding)</h3>"
        + table_html(lcols, ([r[c] for c in lcols] for r in lrow))
        + '<p class="note">One random XX/YY/ZZ shot per measured pair; Wilson intervals at the '
        "scenario's confidence. Verified end-to-end pairs are not given to the application. "
        "calibration_*: the per-link estimates a controller was fed (measured before the "
        "run; that time is reported, not simulated).</p>"
    )
    return section("verification", "Verification: estimates beside the truth", body)
