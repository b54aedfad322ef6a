"""``qnetai bench qml``: quantum models beside classical baselines (needs the ``[qml]`` extra)."""

from __future__ import annotations

import math
from typing import Any

import typer


def _names(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def qml_command(
    quick: bool = typer.Option(False, "--quick", help="The quick profile (a few minutes)."),
    seed: int = typer.Option(0, "--seed", min=0, help="First seed of data, folds and models."),
    seeds: int = typer.Option(0, "--seeds", min=0, max=100, help="Seeds (0: the profile's)."),
    tasks: str = typer.Option("", "--tasks", help="Comma-separated tasks (default: profile's)."),
    models: str = typer.Option("", "--models", help="Comma-separated models (default: all)."),
    samples: int = typer.Option(0, "--samples", min=0, help="Rows per data set (0: profile's)."),
    qubits: int = typer.Option(0, "--qubits", min=0, max=20, help="Qubits (0: profile's)."),
    no_born: bool = typer.Option(False, "--no-born", help="Skip the Born machine section."),
    no_qaoa: bool = typer.Option(False, "--no-qaoa", help="Skip the QAOA max-cut section."),
    scaling: str = typer.Option(
        "auto", "--scaling", help="Comma-separated qubit counts for speed, '' for none."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Accuracy (95% CI), CPU time, qubits and parameters of every model on every task."""
    from qnetai.cli._common import (
        ProgressReporter,
        exit_input_error,
        exit_interrupted,
        print_json,
    )
    from qnetai.errors import InputError

    try:
        from qnetai.qml.benchmark import FULL_PROFILE, QUICK_PROFILE, run_qml_benchmark

        kwargs: dict[str, Any] = dict(QUICK_PROFILE if quick else FULL_PROFILE)
        n_seeds = seeds or len(kwargs["seeds"])
        kwargs["seeds"] = tuple(range(seed, seed + n_seeds))
        if tasks:
            kwargs["tasks"] = tuple(_names(tasks))
        if models:
            kwargs["models"] = tuple(_names(models))
        if samples:
            kwargs["n_samples"] = samples
        if qubits:
            kwargs["n_qubits"] = qubits
        if no_born:
            kwargs["born"] = False
        if no_qaoa:
            kwargs["qaoa"] = False
        if scaling != "auto":
            try:
                kwargs["scaling"] = tuple(int(x) for x in _names(scaling))
            except ValueError:
                raise InputError(f"--scaling must be integers (got {scaling!r})") from None
        with ProgressReporter("bench qml", "steps") as rep:
            try:
                out = run_qml_benchmark(**kwargs, progress=lambda _s, d, t: rep.update(d, t))
            except KeyboardInterrupt:
                exit_interrupted(rep.summary())
    except (InputError, ImportError) as exc:
        exit_input_error(exc)
    if as_json:
        print_json(out)
        return
    print(format_qml_tables(out))


def _f(x: Any, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, spec)


def format_qml_tables(out: dict[str, Any]) -> str:
    """Markdown tables of :func:`qnetai.qml.benchmark.run_qml_benchmark` output."""
    lines: list[str] = []
    for task, res in out["tasks"].items():
        lines += [
            "",
            f"{task} ({res['kind']}, {res['n_samples']} rows, {res['n_features']} features, "
            f"{res['n_qubits']} qubits): winner {res['winner']} ({res['winner_kind']})",
            "",
            "| model | kind | accuracy | 95% CI | fit CPU s | predict CPU s | params |",
            "|---|---|---|---|---|---|---|",
        ]
        for m, r in sorted(res["models"].items(), key=lambda kv: -kv[1]["accuracy"]):
            mark = " **(winner)**" if m == res["winner"] else ""
            lines.append(
                f"| {m}{mark} | {r['kind']} | {r['accuracy']:.3f} | +-{_f(r['ci95'])} | "
                f"{r['fit_cpu_s']:.2f} | {r['predict_cpu_s']:.3f} | {r['n_params']} |"
            )
        if "classical_minus_quantum" in res:
            lines.append(
                f"\nbest classical {res['best_classical']} - best quantum {res['best_quantum']}"
                f" = {res['classical_minus_quantum']:+.3f}; no-entanglement minus full: "
                + ", ".join(f"{k} {v:+.3f}" for k, v in res["ablation_minus_full"].items())
            )
    if "born" in out:
        b = out["born"]
        lines += [
            "",
            f"Born machine on {b['pixels']}-pixel bars and stripes ({b['patterns']} patterns):",
            "",
            "| model | TV distance | KL(target||model) | mass on valid | params | fit CPU s |",
            "|---|---|---|---|---|---|",
        ]
        for m, r in b["models"].items():
            lines.append(
                f"| {m} | {r['tv']:.3f} | {r['kl']:.3f} | {r['valid_mass']:.3f} | "
                f"{r['n_params']} | {r['fit_cpu_s']:.1f} |"
            )
    if "qaoa" in out:
        lines += [
            "",
            "Max-cut on Waxman topologies (ratios to the brute-force optimum):",
            "",
            "| nodes | edges | depth | QAOA <cut> | QAOA top string | P(optimal) | "
            "product ansatz <cut> | local search | random | QAOA CPU s |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in out["qaoa"]:
            q = r["qaoa"]
            lines.append(
                f"| {r['n_nodes']} | {r['n_edges']} | {q['depth']} | {q['expected_ratio']:.3f} "
                f"| {q['best_of_state_ratio']:.3f} | {q['p_optimal']:.3f} | "
                f"{r['product_ansatz']['expected_ratio']:.3f} | {r['local_search']['ratio']:.3f}"
                f" | {r['random_cut_ratio']:.3f} | {q['cpu_s']:.1f} |"
            )
    if out.get("scaling"):
        lines += [
            "",
            "Simulation speed, 2-layer re-uploading circuit, one sample (CPU time):",
            "",
            "| qubits | device | evaluations / s | gradients / s |",
            "|---|---|---|---|",
        ]
        for r in out["scaling"]:
            lines.append(
                f"| {r['n_qubits']} | {r['device']} | {r['evals_per_s']:.1f} | "
                f"{r['gradients_per_s']:.1f} |"
            )
    if "training_16q" in out:
        t = out["training_16q"]
        lines.append(
            f"\n{t['n_qubits']}-qubit VQC on {t['task']} ({t['n_samples']} rows, "
            f"{t['steps']} steps, {t['device']}): {t['cpu_s']:.0f} CPU s, {t['wall_s']:.0f} s "
            f"wall, training accuracy {t['train_accuracy']:.3f}"
        )
    s = out["summary"]
    lines += [
        "",
        f"tasks won: {s['tasks_won']}; no-entanglement ablation as good or better in "
        f"{s['ablation_not_worse']} of {s['ablation_pairs']} model-task pairs; "
        f"total {out['cpu_s']:.0f} CPU s",
    ]
    return "\n".join(lines).lstrip("\n")


def register(app: typer.Typer) -> None:
    """Add ``bench qml`` (to the existing ``bench`` group, or a new one)."""
    from qnetai.cli._registry import command_group

    command_group(app, "bench", "Benchmarks.").command("qml")(qml_command)
