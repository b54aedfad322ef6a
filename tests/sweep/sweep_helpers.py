"""A tiny sweep over the 3-router chain (each run takes milliseconds), shared by the tests."""

from __future__ import annotations

from typing import Any


def tiny(**over: Any) -> dict[str, Any]:
    """A 2 x 2 grid over the 3-router chain, 2 seeds per point, simulation only."""
    data: dict[str, Any] = {
        "name": "tiny",
        "base": "sequence-chain-3",
        "run": "simulate",
        "seed": 5,
        "seeds": 2,
        "metrics": ["pairs_delivered", "mean_fidelity"],
        "params": [
            {"path": "links[*].length_km", "values": [10, 30]},
            {"path": "duration_s", "values": [0.01, 0.02]},
        ],
    }
    data.update(over)
    return data
