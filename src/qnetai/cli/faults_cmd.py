"""``qnetai bench faults``: forecast link faults before the service level is lost."""

from __future__ import annotations

from typing import Any

import typer


def bench_faults_command(
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of every episode and model."),
    train_episodes: int = typer.Option(
        400, "--train-episodes", min=8, max=20000, help="Training episodes (tuning: half)."
    ),
    test_episodes: int = typer.Option(
        400, "--test-episodes", min=8, max=20000, help="Test episodes, the same for each method."
    ),
    episode_blocks: int = typer.Option(
        240, "--episode-blocks", min=60, max=100000, help="Blocks of 10 s per episode."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Learned fault forecaster vs tuned static thresholds: precision, recall, lead time."""
    from qnetai.ai.security.faults import FaultOptions, bench_faults
    from qnetai.cli._common import console, print_json

    def say(msg: str) -> None:
        typer.echo(f"[bench faults] {msg}", err=True)

    res = bench_faults(
        seed=seed,
        train_episodes=train_episodes,
        test_episodes=test_episodes,
        options=FaultOptions(episode_blocks=episode_blocks),
        progress=say,
    )
    if as_json:
        print_json(res)
        return
    _print(console, res)


def _print(console: Any, res: dict[str, Any]) -> None:
    from rich.table import Table

    st = res["settings"]
    table = Table(
        title=(
            f"Fault forecasting, {st['test_episodes']} test episodes (seed {st['seed']}); "
            f"service level: key rate >= {st['sla_key_fraction']:.0%} of commissioning, "
            f"pair fidelity drop <= {st['sla_fidelity_drop']}"
        )
    )
    for col in ("fault (severity)", "method", "precision [95% CI]", "recall [95% CI]", "lead (s)"):
        table.add_column(col, overflow="fold", justify="left" if "(" in col else "right")
    for r in res["rows"]:
        lead = r["median_lead_s"]
        table.add_row(
            f"{r['fault']} ({r['severity']:g})",
            r["method"],
            f"{r['precision']:.2f} [{r['precision_ci95'][0]:.2f}, {r['precision_ci95'][1]:.2f}]",
            f"{r['recall']:.2f} [{r['recall_ci95'][0]:.2f}, {r['recall_ci95'][1]:.2f}]",
            "-" if lead != lead else f"{lead:.0f}",
        )
    console.print(table)
    console.print(
        "precision/recall count only alarms that name the right part after the fault began "
        "and before the service level was lost; lead = median time from alarm to that loss."
    )


def register(app: typer.Typer) -> None:
    """Attach ``qnetai bench faults``."""
    from qnetai.cli._registry import command_group

    command_group(app, "bench", "Benchmarks.").command("faults")(bench_faults_command)
