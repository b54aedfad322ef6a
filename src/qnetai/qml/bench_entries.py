"""Leaderboard entry of :mod:`qnetai.qml` for ``qnetai bench all``: best quantum vs classical.

Per classification task, the most accurate quantum model (or its no-entanglement ablation)
beside the most accurate classical baseline, same data, folds, seeds and tuning budget
(:func:`qnetai.qml.benchmark.run_qml_benchmark`); Student-t 95 % intervals over outer folds
and seeds. The quick profile is a subset of ``qnetai bench qml --quick`` (the entanglement task,
no Born machine, QAOA or scaling sections) to stay under a minute.

Example:
    >>> [e.name for e in ENTRIES]
    ['qml']
"""

from __future__ import annotations

from typing import Any

from qnetai.bench_entry import BenchEntry as Entry


def run_qml(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Best quantum vs best classical accuracy per task."""
    from qnetai.qml.benchmark import FULL_PROFILE, QUICK_PROFILE, run_qml_benchmark

    if quick:
        cfg = dict(QUICK_PROFILE)
        cfg.update(tasks=("entanglement",), born=False, qaoa=False, scaling=())
    else:
        cfg = dict(FULL_PROFILE)
        cfg.update(born=False, qaoa=False, scaling=())
    res = run_qml_benchmark(**cfg)
    out = []
    for task, t in res["tasks"].items():
        if "best_quantum" not in t:
            continue

        def side(m: str, t: dict[str, Any] = t) -> dict[str, Any]:
            r = t["models"][m]
            return {
                "method": m,
                "value": float(r["accuracy"]),
                "ci": [float(r["accuracy"] - r["ci95"]), float(r["accuracy"] + r["ci95"])],
                "time_ms": 1e3 * float(r["predict_cpu_s"]),
            }

        out.append(
            {
                "instance": f"{task}, {t['n_samples']} samples, {t['n_qubits']} qubits, "
                f"seeds {list(cfg.get('seeds', (0, 1)))}",
                "metric": "accuracy",
                "higher_is_better": True,
                "ai": side(t["best_quantum"]),
                "baseline": side(t["best_classical"]),
                "note": "best of each side by mean accuracy; folds share data, so intervals "
                "are optimistic; time_ms: CPU per prediction call on a held-out fold",
            }
        )
    return out


ENTRIES: tuple[Entry, ...] = (
    Entry("qml", run_qml, "quantum vs classical classifiers on network data", "1"),
)

__all__ = ["ENTRIES", "Entry", "run_qml"]
