"""``qnetai chain``: the batched Monte Carlo of the abstract repeater chain."""

from __future__ import annotations

import time

import typer


def chain_command(
    segments: int = typer.Option(..., "--segments", help="Number of elementary segments N >= 1."),
    p_gen: float = typer.Option(..., "--p-gen", help="Success probability of one attempt, (0, 1]."),
    attempt_s: float = typer.Option(..., "--attempt-s", help="Duration of one attempt round (s)."),
    fidelity: float = typer.Option(..., "--fidelity", help="Werner fidelity of a fresh link."),
    t_coh_s: float = typer.Option(..., "--t-coh-s", help="Memory coherence time (s; may be inf)."),
    p_swap: float = typer.Option(1.0, "--p-swap", help="Success probability of a swap, (0, 1]."),
    cutoff_s: float | None = typer.Option(
        None, "--cutoff-s", help="Discard pairs whose oldest link is older than this (s)."
    ),
    samples: str = typer.Option(
        "100000", "--samples", help="Number of simulated chains (e.g. 1e6); memory stays bounded."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the random generator (>= 0)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Delivery-time distribution and fidelity of a swap-asap repeater chain (vectorised).

    Samples are simulated in fixed-size chunks and summarised on the fly, so memory does not
    grow with --samples; progress shows on stderr and Ctrl-C stops cleanly (exit 130).
    """
    import numpy as np

    from qnetai.cli._common import ProgressReporter, exit_interrupted, parse_count
    from qnetai.sim.chain import summarise_chain

    count = parse_count(samples, "samples")
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    reporter = ProgressReporter("chain", "samples")
    try:
        with reporter:
            result = summarise_chain(
                segments=segments,
                p_gen=p_gen,
                attempt_s=attempt_s,
                fidelity=fidelity,
                t_coh_s=t_coh_s,
                p_swap=p_swap,
                cutoff_s=cutoff_s,
                samples=count,
                rng=rng,
                progress=reporter.update,
            )
    except KeyboardInterrupt:
        exit_interrupted(f"after {reporter.summary()}; no figures printed")
    wall_s = time.perf_counter() - t0
    out = result.to_dict()
    out["seed"] = seed
    out["wall_time_s"] = wall_s
    out["samples_per_s"] = result.samples / wall_s if wall_s > 0 else float("inf")
    if as_json:
        from qnetai.cli._common import print_json

        print_json(out)
        return
    _print_table(out)


def _print_table(out: dict) -> None:
    from rich.table import Table

    from qnetai.cli._common import console

    cut = "none" if out["cutoff_s"] is None else f"{out['cutoff_s']:.6g} s"
    table = Table(
        title=(
            f"Repeater chain: {out['segments']} segments, p_gen={out['p_gen']:g}, "
            f"attempt={out['attempt_s']:g} s, F={out['fidelity']:g}, "
            f"t_coh={out['t_coh_s']:g} s, p_swap={out['p_swap']:g}, cut-off={cut}"
        )
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")

    def fmt(key: str, spec: str = ".6g") -> str:
        value = out[key]
        return "n/a" if value is None else format(value, spec)

    rows = [
        (
            "mean waiting time (s)",
            f"{fmt('mean_waiting_time_s')} ± {fmt('sem_waiting_time_s', '.2g')}",
        ),
        ("exact mean waiting time (s)", fmt("exact_mean_waiting_time_s")),
        ("std of waiting time (s)", fmt("std_waiting_time_s")),
        (
            "waiting time p50 / p90 / p99 (s)",
            " / ".join(
                fmt(k) for k in ("waiting_time_p50_s", "waiting_time_p90_s", "waiting_time_p99_s")
            ),
        ),
        ("mean fidelity", f"{fmt('mean_fidelity')} ± {fmt('sem_fidelity', '.2g')}"),
        ("exact mean fidelity", fmt("exact_mean_fidelity")),
        ("fidelity p05 / p50", f"{fmt('fidelity_p05')} / {fmt('fidelity_p50')}"),
        ("samples", fmt("samples", "d")),
        ("wall time (s)", fmt("wall_time_s", ".3g")),
        ("samples per second", fmt("samples_per_s", ".3g")),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``chain`` command to ``app``."""
    app.command("chain")(chain_command)
