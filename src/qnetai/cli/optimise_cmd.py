"""``qnetai optimise purification``: evolve purification circuits beside BBPSSW and DEJMPS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

optimise_app = typer.Typer(
    name="optimise",
    help="Search protocols and gates (purification circuits).",
    no_args_is_help=True,
)


def _write_json_atomic(path: Path, obj: Any) -> None:
    """Write ``obj`` as JSON to ``path`` via a temporary file in the same folder."""
    from qnetai._atomic_files import replace_atomic

    replace_atomic(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=1)))


@optimise_app.command("purification")
def purification_command(
    pairs: int = typer.Option(3, "--pairs", help="Raw pairs per output pair (2-16)."),
    fidelity: float = typer.Option(0.9, "--fidelity", help="Werner fidelity of the raw pairs."),
    gate_fidelity: float = typer.Option(
        0.99, "--gate-fidelity", help="Two-qubit depolarising parameter of each side's CNOT."
    ),
    measurement_fidelity: float = typer.Option(
        0.99, "--measurement-fidelity", help="Probability a measurement reports the right bit."
    ),
    step_s: float = typer.Option(
        0.0, "--step-s", help="Duration of one circuit layer (s), for memory noise."
    ),
    t_coh_s: float | None = typer.Option(
        None, "--t-coh-s", help="Depolarising memory coherence time of a pair (s)."
    ),
    target: str = typer.Option(
        "fidelity", "--target", help="What to maximise: fidelity, yield or key-rate."
    ),
    registers: int | None = typer.Option(
        None, "--registers", help="Memory slots per side (default min(pairs, 3))."
    ),
    min_yield: float = typer.Option(
        0.0, "--min-yield", help="Yield-per-raw-pair floor of the fidelity target."
    ),
    min_fidelity: float = typer.Option(
        0.0, "--min-fidelity", help="Fidelity floor of the yield target."
    ),
    methods: str = typer.Option(
        "genetic,cma-es", "--methods", help="Comma-separated: genetic, cma-es, random."
    ),
    population: int = typer.Option(60, "--population", help="Genetic algorithm population."),
    generations: int = typer.Option(60, "--generations", help="Genetic algorithm generations."),
    budget: int | None = typer.Option(
        None, "--budget", help="Evaluations of CMA-ES / random (default population*generations)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the numpy Generator."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
    out: str | None = typer.Option(
        None, "--out", help="Save the best circuit as inert JSON (written atomically)."
    ),
) -> None:
    """Best circuits found (fidelity, success probability, depth) beside the textbook schemes."""
    import numpy as np

    from qnetai.ai.purification_search import SearchProblem, optimise_purification
    from qnetai.cli._common import ProgressReporter, exit_input_error, exit_interrupted
    from qnetai.errors import InputError
    from qnetai.physics.purification_circuits import NoiseModel

    with ProgressReporter("optimise purification", "evaluations") as bar:
        try:
            if not 0 <= seed < 2**63:
                raise InputError(f"--seed must be in [0, 2**63) (got {seed})")
            problem = SearchProblem(
                pairs=pairs,
                fidelity=fidelity,
                noise=NoiseModel(
                    gate_fidelity, measurement_fidelity, step_s=step_s, t_coh_s=t_coh_s
                ),
                registers=registers,
                target=target,
                min_yield=min_yield,
                min_fidelity=min_fidelity,
            )
            names = tuple(m.strip() for m in methods.split(",") if m.strip())
            report = optimise_purification(
                problem,
                np.random.default_rng(seed),
                methods=names,
                population=population,
                generations=generations,
                budget=budget,
                progress=lambda method, done, total, best: bar.update(
                    done, total, unit=f"{method} candidates"
                ),
            )
        except InputError as exc:
            exit_input_error(exc)
        except KeyboardInterrupt:
            exit_interrupted(f"{bar.done:,} evaluations")
    report["seed"] = seed
    if out is not None:
        best: dict[str, Any] = report["best"]  # type: ignore[assignment]
        doc = dict(best["circuit"])
        doc["meta"] = {k: v for k, v in best.items() if k not in ("circuit", "description")}
        doc["meta"]["problem"] = report["problem"]
        doc["meta"]["seed"] = seed
        try:
            _write_json_atomic(Path(out), doc)
        except OSError as exc:
            exit_input_error(InputError(f"--out: cannot write {out}: {exc.strerror or exc}"))
        report["out"] = str(out)
    if as_json:
        from qnetai.cli._common import print_json

        print_json(report)
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    from qnetai.cli._common import console, fixed, print_table

    rows = []
    for name, b in report["baselines"].items():
        rows.append(_row(name, b))
    for name, m in report["methods"].items():
        rows.append(_row(f"{name} (best)", m["best"]))
    print_table(
        "Purification circuits at equal raw-pair budget",
        ["protocol", "fidelity", "p success", "yield/pair", "key/pair", "depth", "pairs"],
        rows,
    )
    comp = []
    methods = list(report["methods"])
    for row in report["comparison"]:
        cells = [row["baseline"], fixed(row["baseline_fidelity"]), fixed(row["baseline_yield"])]
        for m in methods:
            f = row[f"{m}_fidelity"]
            cells.append("-" if f is None else fixed(f))
        comp.append(cells)
    print_table(
        "Best found at yield >= the baseline's",
        ["baseline", "fidelity", "yield/pair", *[f"{m} fidelity" for m in methods]],
        comp,
    )
    console.print(f"best: {report['best']['description']}", highlight=False, markup=False)
    if "out" in report:
        console.print(f"saved: {report['out']}", highlight=False, markup=False)


def _row(name: str, e: dict[str, Any]) -> list[str]:
    from qnetai.cli._common import fixed

    return [
        name,
        fixed(e["fidelity"], 5),
        fixed(e["success_probability"]),
        fixed(e["yield_per_pair"]),
        fixed(e["key_rate"]),
        str(e["depth"]),
        str(e["raw_pairs"]),
    ]


def register(app: typer.Typer) -> None:
    """Add the ``optimise`` command group to ``app``."""
    app.add_typer(optimise_app, name="optimise")
