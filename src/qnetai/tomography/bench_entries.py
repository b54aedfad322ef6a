"""Leaderboard entry of :mod:`qnetai.tomography` for ``qnetai bench all``: neural vs ML.

Two-qubit state tomography of delivered network pairs: mean infidelity of the neural
estimator beside maximum likelihood (the strongest classical estimator) on the same
measured data, 95 % intervals over the trials. No model is shipped, so the neural
estimator is trained first (small in the quick profile).

Example:
    >>> [e.name for e in ENTRIES]
    ['tomography']
"""

from __future__ import annotations

from typing import Any

from qnetai.bench_entry import BenchEntry as Entry


def run_tomography(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Neural vs maximum-likelihood infidelity per shot count (two qubits, seed 0)."""
    from qnetai.tomography.bench import bench_state_tomography

    if quick:
        cfg: dict[str, Any] = {
            "shots": (100, 1000),
            "trials": 10,
            "neural_train": {"n_train": 4000, "steps": 400, "hidden": (64, 64)},
        }
    else:
        cfg = {"shots": (100, 1000, 10000), "trials": 30}
    res = bench_state_tomography(n_qubits=2, seed=0, estimators=("ml", "neural"), **cfg)
    rows = {(r["estimator"], r["shots_per_setting"]): r for r in res["rows"]}

    def side(name: str, shots: int) -> dict[str, Any]:
        r = rows[(name, shots)]
        return {
            "method": name,
            "value": float(r["mean"]),
            "ci": [float(r["ci_low"]), float(r["ci_high"])],
            "time_ms": 1e3 * float(r["cpu_s_per_estimate"]),
        }

    train = cfg.get("neural_train", {"n_train": 20_000, "steps": 1500})
    return [
        {
            "instance": f"2-qubit network pairs, {s} shots/setting, {cfg['trials']} states, "
            "readout error 0.01, seed 0",
            "metric": "infidelity",
            "higher_is_better": False,
            "ai": side("neural", s),
            "baseline": side("ml", s),
            "note": f"neural trained here ({train['n_train']} states, {train['steps']} steps); "
            "time_ms: CPU per estimate",
        }
        for s in cfg["shots"]
    ]


ENTRIES: tuple[Entry, ...] = (
    Entry("tomography", run_tomography, "two-qubit state tomography: neural vs ML", "1"),
)

__all__ = ["ENTRIES", "Entry", "run_tomography"]
