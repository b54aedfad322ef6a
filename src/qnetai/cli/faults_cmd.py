"""``qnetai bench faults``: forecast link faults before the service level is lost."""

from __future__ import annotations

from typing import Any

import typer

#: ``--quick``: a smoke run of a few seconds (tests), not a measurement.
QUICK = {"train_episodes": 24, "test_episodes": 24, "episode_blocks": 80}
_SEVERITY = {
    "detector-decay": "-{:.0%} efficiency",
    "fibre-loss": "+{:g} dB",
    "memory-coherence": "T2 / {:g}",
    "weather-fade": "+{:g} dB fog/rain",
    "link-cut": "total",
}


def bench_faults_command(
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of every episode and model."),
    train_episodes: int = typer.Option(
        1000, "--train-episodes", min=8, max=20000, help="Training episodes (tuning: half)."
    ),
    test_episodes: int = typer.Option(
        600, "--test-episodes", min=8, max=20000, help="Test episodes, the same for each method."
    ),
    episode_blocks: int = typer.Option(
        240, "--episode-blocks", min=60, max=100000, help="Blocks of 10 s per episode."
    ),
    quick: bool = typer.Option(
        False, "--quick", help="A smoke run of seconds (24 + 24 episodes of 80 blocks)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Learned fault forecaster vs tuned static thresholds: precision, recall, lead time."""
    from qnetai.ai.security.faults import FaultOptions, bench_faults
    from qnetai.cli._common import exit_input_error, print_json
    from qnetai.errors import InputError

    def say(msg: str) -> None:
        typer.echo(f"[bench faults] {msg}", err=True)

    if quick:
        train_episodes, test_episodes = QUICK["train_episodes"], QUICK["test_episodes"]
        episode_blocks = QUICK["episode_blocks"]
    try:
        res = bench_faults(
            seed=seed,
            train_episodes=train_episodes,
            test_episodes=test_episodes,
            options=FaultOptions(episode_blocks=episode_blocks),
            progress=say,
        )
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        print_json(res)
        return
    _print(res)


def _ci(r: dict[str, Any], metric: str) -> str:
    lo, hi = r[f"{metric}_ci95"]
    return f"{r[metric]:.2f} [{lo:.2f}, {hi:.2f}]"


def _s(value: float) -> str:
    return "-" if value != value else f"{value:.0f}"


def _print(res: dict[str, Any]) -> None:
    from qnetai.cli._common import print_table

    st = res["settings"]
    rows = []
    for r in res["rows"]:
        sev = _SEVERITY.get(r["fault"], "{:g}").format(r["severity"])
        rows.append(
            [
                f"{r['fault']} ({sev})",
                r["method"],
                _ci(r, "precision"),
                _ci(r, "recall"),
                _s(r["median_lead_s"]),
                _s(r["median_detect_s"]),
            ]
        )
    print_table(
        f"Fault forecasting, {st['test_episodes']} test episodes (seed {st['seed']}); "
        f"service level: key rate >= {st['sla_key_fraction']:.0%} of commissioning, "
        f"pair fidelity drop <= {st['sla_fidelity_drop']}",
        [
            "fault (severity)",
            "method",
            "precision [95% CI]",
            "recall [95% CI]",
            "lead (s)",
            "detect (s)",
        ],
        rows,
        text_columns=2,
        caption="An alarm counts only if it names the right part after the fault began and "
        "before the service level was lost (a cut: at or after it); lead = median time from "
        "the alarm to that loss (none for a cut, which loses it at once); detect = median time "
        "from the fault's start (the cut's instant) to the end of the alarm's block.",
    )
    prow = []
    for fault, p in res["paired"].items():
        prow.append(
            [
                fault,
                f"{p['recall_only_a']} / {p['recall_only_b']} (p={p['recall_p']:.2g})",
                f"{p['false_alarms_only_a']} / {p['false_alarms_only_b']} "
                f"(p={p['false_alarms_p']:.2g})",
                str(p["both_caught"]),
                _s(p["lead_diff_s"]),
            ]
        )
    print_table(
        "Paired on the same test episodes: learned / baseline",
        [
            "fault",
            "caught by one only",
            "false alarms by one only",
            "both caught",
            "earlier by (s)",
        ],
        prow,
        caption="Exact McNemar sign tests; 'earlier by' = median of the baseline's alarm time "
        "minus the learned one's over episodes both caught.",
    )


def register(app: typer.Typer) -> None:
    """Attach ``qnetai bench faults``."""
    from qnetai.cli._registry import command_group

    command_group(app, "bench", "Benchmarks.").command("faults")(bench_faults_command)
