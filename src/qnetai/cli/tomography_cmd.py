"""``qnetai bench tomography`` and ``qnetai bench network-tomography``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer


def _shot_list(text: str) -> list[int]:
    from qnetai.cli._common import parse_count

    return [parse_count(s.strip(), "--shots") for s in text.split(",") if s.strip()]


def bench_tomography_command(
    qubits: int = typer.Option(2, "--qubits", help="Qubits (2: network pairs; 3-6: --state)."),
    shots: str = typer.Option("100,1000,10000", "--shots", help="Shots per setting, a list."),
    trials: int = typer.Option(10, "--trials", help="States (2 qubits) or repeats per shots."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of states, counts and training."),
    readout_error: float = typer.Option(0.01, "--readout-error", help="Readout flip prob."),
    state: str = typer.Option("ghz", "--state", help="ghz or graph (for --qubits > 2)."),
    estimators: str = typer.Option(
        "", "--estimators", help="Comma list of linear, ml, bayes, neural, qiskit-linear, dfe."
    ),
    model: str | None = typer.Option(None, "--model", help="Neural model STEM (else trained)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Infidelity (95% CI) vs shots and CPU time per estimate of each state estimator."""
    from qnetai.cli._common import ProgressReporter, check_finite, print_json
    from qnetai.tomography.bench import bench_state_tomography

    names = [e.strip() for e in estimators.split(",") if e.strip()] or None
    with ProgressReporter("tomography", "estimates") as rep:
        out = bench_state_tomography(
            n_qubits=qubits,
            shots=_shot_list(shots),
            trials=trials,
            seed=seed,
            readout_error=check_finite("--readout-error", readout_error),
            state=state,
            estimators=names,
            model=model,
            progress=rep.update,
        )
    if as_json:
        print_json(out)
        return
    _table(
        f"{out['family']}, readout error {out['readout_error']}, {out['trials']} trials",
        out["rows"],
        [
            "estimator",
            "shots_per_setting",
            "metric",
            "mean",
            "ci_low",
            "ci_high",
            "cpu_s_per_estimate",
        ],
    )


def bench_network_tomography_command(
    scenario: str = typer.Option("metro-6g", "--scenario", help="Built-in name or file."),
    shots: int = typer.Option(2000, "--shots", min=1, help="Shots per setting per path."),
    trials: int = typer.Option(20, "--trials", min=1, help="Random link states."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed."),
    paths_per_pair: int = typer.Option(3, "--paths-per-pair", help="Shortest paths per pair."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Link Werner parameters from end-to-end path fidelities: errors and fault localisation."""
    from qnetai.cli._common import ProgressReporter, print_json
    from qnetai.tomography.network import bench_network_tomography

    with ProgressReporter("network tomography", "trials") as rep:
        out = bench_network_tomography(
            scenario,
            shots=shots,
            trials=trials,
            seed=seed,
            paths_per_pair=paths_per_pair,
            progress=rep.update,
        )
    if as_json:
        print_json(out)
        return
    ident = out["identifiability"]
    _table(
        f"{out['scenario']}: {out['n_links']} links, {out['n_paths']} paths, rank "
        f"{ident['rank']}, unidentifiable: {', '.join(ident['unidentifiable']) or 'none'}",
        out["rows"],
        [
            "estimator",
            "rmse_w",
            "rmse_w_ci_low",
            "rmse_w_ci_high",
            "fault_top1",
            "cpu_s_per_estimate",
        ],
    )


#: Printed column titles of the result keys.
_HEADERS = {
    "shots_per_setting": "shots",
    "ci_low": "lo95",
    "ci_high": "hi95",
    "rmse_w_ci_low": "lo95",
    "rmse_w_ci_high": "hi95",
    "cpu_s_per_estimate": "cpu_s",
}
#: Keys holding names, not numbers (printed first, folded when narrow).
_TEXT_KEYS = ("estimator", "metric")


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value.replace("infidelity", "1-F")
    if isinstance(value, int):
        return str(value)
    return "—" if value is None else f"{value:.3g}"


def _table(title: str, rows: list[dict[str, Any]], keys: list[str]) -> None:
    """The result rows as one table (never truncated: stacked when too wide)."""
    from qnetai.cli._common import print_table

    text = [k for k in keys if k in _TEXT_KEYS]
    order = text + [k for k in keys if k not in _TEXT_KEYS]
    print_table(
        title,
        [_HEADERS.get(k, k) for k in order],
        [[_cell(r[k]) for k in order] for r in rows],
        text_columns=len(text),
    )


def register(app: typer.Typer) -> None:
    """Add ``bench tomography`` and ``bench network-tomography`` to the ``bench`` group."""
    commands: dict[str, Callable[..., Any]] = {
        "tomography": bench_tomography_command,
        "network-tomography": bench_network_tomography_command,
    }
    from qnetai.cli._registry import command_group

    bench_app = command_group(app, "bench", "Benchmarks.")
    for name, fn in commands.items():
        bench_app.command(name)(fn)
