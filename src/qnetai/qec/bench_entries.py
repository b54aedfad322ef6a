"""QEC entries for ``qnetai bench all`` (read by ``qnetai.sweep.suite`` from ``ENTRIES``).

``qec-d5``: the shipped learned decoder (``qec-surface-d5``, trained at p = 0.5 %) against
correlated matching, the strongest fast classical decoder at d = 5, on the same shots of the
rotated surface code memory (d = 5, 5 rounds, uniform depolarising p = 0.5 %, seed 0). The
metric is the logical error rate per round with 95 % Wilson intervals; the note carries the
paired (McNemar) comparison on the same shots, which separates decoders whose intervals
overlap. Quick profile: 50,000 shots (about a CPU minute, mostly the neural decoder);
full: 1,000,000 shots.

Example:
    >>> [e.name for e in ENTRIES]
    ['qec-d5']
"""

from __future__ import annotations

from typing import Any

from qnetai.bench_entry import BenchEntry as QecBenchEntry

QUICK_SHOTS = 50_000
FULL_SHOTS = 1_000_000


def _side(row: dict[str, Any]) -> dict[str, Any]:
    lo, hi = row["ler_per_round_ci"]
    return {
        "method": row["decoder"] if row["decoder"] != "neural" else f"neural:{row['model']}",
        "value": float(row["ler_per_round"]),
        "ci": [float(lo), float(hi)],
        "time_ms": 1e-3 * float(row["us_per_round"]),
    }


def run_qec_d5(quick: bool, methods: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Neural (shipped d = 5 model, and any model paths in ``methods``) vs correlated matching.

    Example:
        >>> rows = run_qec_d5(True)  # doctest: +SKIP
        >>> rows[0]["baseline"]["method"]  # doctest: +SKIP
        'matching-correlated'
    """
    from qnetai.qec._bench import bench_qec
    from qnetai.qec._codes import MemoryExperiment

    shots = QUICK_SHOTS if quick else FULL_SHOTS
    exp = MemoryExperiment(code="surface", distance=5, rounds=5, p=0.005)
    out: list[dict[str, Any]] = []
    for model in ("qec-surface-d5", *methods):
        res = bench_qec(
            exp, shots=shots, seed=0, decoders=["matching-correlated", "neural"], model=model
        )
        rows = {r["decoder"]: r for r in res["rows"]}
        cmp = next(c for c in res["comparisons"] if c["decoder"] == "neural")
        out.append(
            {
                "instance": f"surface d=5, 5 rounds, p=0.005 depolarizing, {shots} shots, seed 0",
                "metric": "logical errors/round",
                "higher_is_better": False,
                "ai": _side(rows["neural"]),
                "baseline": _side(rows["matching-correlated"]),
                "note": f"paired on the same shots: only neural wrong {cmp['only_decoder_wrong']}, "
                f"only correlated matching wrong {cmp['only_versus_wrong']}, "
                f"z = {cmp['paired_z']:.2f} (negative: neural better); time_ms per round "
                "(CPU, 1 torch thread; neural includes correlated matching)",
            }
        )
    return out


#: Entries read by ``qnetai bench all``.
ENTRIES: tuple[QecBenchEntry, ...] = (
    QecBenchEntry(
        "qec-d5",
        run_qec_d5,
        "surface-code d=5 decoding: learned vs correlated matching, p=0.5 %",
        "1",
    ),
)
