"""Printing of a run's verification (``verification`` block): estimates beside the truth."""

from __future__ import annotations

from typing import Any


def print_verification(ver: Any, *, shown: int = 15) -> None:
    """Print the pooled figure, the user pairs (most verified first) and the links."""
    from qnetai.cli._common import count, fixed, print_table

    s = ver.summary

    def interval(lo: Any, hi: Any) -> str:
        return f"[{fixed(lo)}, {fixed(hi)}]"

    print_table(
        f"verification ({100 * s['verification_fraction']:g} % of pairs measured)",
        ["figure", "value"],
        [
            [
                "pairs verified / to application",
                f"{count(s['pairs_verified'])} / {count(s['pairs_to_application'])}",
            ],
            [
                "fidelity estimated (pooled)",
                f"{fixed(s['verified_fidelity'])} "
                f"{interval(s['verified_fidelity_low'], s['verified_fidelity_high'])}",
            ],
            ["fidelity true (verified pairs)", fixed(s["verified_true_fidelity"])],
            ["controllers fed", "estimates" if s["verification_feeds_controllers"] else "truth"],
        ],
        show_header=False,
    )
    pairs = sorted(ver.pairs.to_pylist(), key=lambda r: -r["pairs_verified"])
    rows = [
        [
            f"{r['source']} → {r['destination']}",
            f"{count(r['pairs_verified'])} / {count(r['pairs_delivered'])}",
            fixed(r["estimated_fidelity"]),
            interval(r["fidelity_low"], r["fidelity_high"]),
            fixed(r["true_mean_fidelity"]),
        ]
        for r in pairs[:shown]
    ]
    caption = "intervals: Wilson, per user pair; true: mean fidelity of all delivered pairs."
    if len(pairs) > shown:
        caption += f" {shown} of {len(pairs)} pairs; all in verification_pairs.parquet."
    print_table(
        "verified end-to-end fidelity",
        ["user pair", "verified / delivered", "estimate", "interval", "true"],
        rows,
        caption=caption,
    )
    links = ver.links.to_pylist()
    print_table(
        "verified link fidelity (heralded)",
        ["link", "verified", "estimate", "interval", "true"],
        [
            [
                str(r["link"]),
                count(r["pairs_verified"]),
                fixed(r["estimated_fidelity"]),
                interval(r["fidelity_low"], r["fidelity_high"]),
                fixed(r["true_fidelity"]),
            ]
            for r in links[:shown]
        ],
        caption=(
            f"{shown} of {len(links)} links; all in verification_links.parquet."
            if len(links) > shown
            else None
        ),
    )
