"""``qnetai bench routing|chain``: each policy beside its baselines on equal instances and seeds."""

from __future__ import annotations

import functools

import typer

bench_app = typer.Typer(help="Benchmarks of the control plane.", no_args_is_help=True)


def _ints(text: str, name: str, *, minimum: int | None = None) -> list[int]:
    from qnetai.errors import InputError

    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise InputError(f"{name} must be comma-separated integers (got {text!r})") from exc
    if minimum is not None and any(v < minimum for v in values):
        raise InputError(f"{name} must be integers >= {minimum} (got {text!r})")
    return values


@bench_app.command("routing")
def routing_command(
    topology: str = typer.Option(
        "waxman", "--topology", help="waxman or a built-in scenario name (metro-6g)."
    ),
    nodes: int = typer.Option(50, "--nodes", min=3, max=2000, help="Waxman nodes."),
    requests: int = typer.Option(10, "--requests", min=1, max=200, help="Requests per slot."),
    slots: int = typer.Option(200, "--slots", min=1, help="Slots per seed."),
    seeds: str = typer.Option("0,1,2", "--seeds", help="Comma-separated seeds."),
    methods: str = typer.Option(
        "",
        "--methods",
        help="Comma-separated methods (default: shortest-path, widest-path, "
        "q-cast, sa, de, ls, milp, rl:waxman-routing); also ga, pso, cma, ls-rl (ls "
        "warm-started from the learned model), rl:PATH (a routing model's MODEL.npz with "
        "MODEL.json beside it), pkg.module:Class (your own slot policy, by import path) or "
        "an entry point of group qnetai.slot_policies.",
    ),
    no_milp: bool = typer.Option(False, "--no-milp", help="Skip the MILP reference optimum."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Throughput (95% CI), fairness, decision time and gap to the MILP optimum per method."""
    from qnetai.control.slotted_bench import DEFAULT_METHODS
    from qnetai.plugins import bench_routing

    chosen = [m.strip() for m in methods.split(",") if m.strip()] or list(DEFAULT_METHODS)
    seed_list = _ints(seeds, "--seeds", minimum=0)
    run = functools.partial(
        bench_routing,
        topology=topology,
        nodes=nodes,
        requests=requests,
        slots=slots,
        seeds=seed_list,
        methods=chosen,
        milp_reference=not no_milp,
    )
    if as_json:
        from qnetai.cli._common import print_json

        print_json(run())
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from qnetai.cli._common import console

    with Progress(
        TextColumn("slots"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("bench", total=slots * len(seed_list))
        out = run(progress=lambda d, t: bar.update(task, completed=d))
    _print(out)


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{round(100 * x, 1) + 0.0:.1f}%"


def _print(out: dict) -> None:
    from rich.table import Table

    from qnetai.cli._common import console

    c = out["config"]
    table = Table(
        title=f"routing on {c['topology']} ({c['nodes']} nodes), {c['requests']} "
        f"requests/slot, {c['slots']} slots x seeds {c['seeds']}"
    )
    for col in (
        "method",
        "pairs/slot (95% CI)",
        "EXT/slot",
        "Jain",
        "ms/slot",
        "ms/step",
        "gap to MILP",
        "gap to union opt.",
    ):
        table.add_column(col, justify="left" if col == "method" else "right")
    for r in out["rows"]:
        table.add_row(
            r["method"],
            f"{r['throughput']:.2f} [{r['throughput_ci_low']:.2f}, {r['throughput_ci_high']:.2f}]",
            f"{r['expected_throughput']:.2f}",
            f"{r['fairness']:.3f}",
            f"{r['decision_time_ms']:.1f}",
            _fmt(r["decision_time_ms_per_step"], ".2f"),
            _pct(r.get("gap_to_milp")),
            _pct(r.get("gap_to_union_optimum")),
        )
    console.print(table)


@bench_app.command("chain")
def chain_command(
    episodes: int = typer.Option(1000, "--episodes", min=10, help="Episodes per policy."),
    seed: int = typer.Option(
        2024, "--seed", min=0, help="First episode seed (cut-offs: seed + 1)."
    ),
    model: str = typer.Option(
        "n3-short",
        "--model",
        help="Learned chain model: a shipped name or a path to MODEL.npz "
        "(with MODEL.json beside it).",
    ),
    cutoff_episodes: int = typer.Option(
        300, "--cutoff-episodes", min=10, help="Episodes per candidate in the cut-off search."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Repeater-chain policies (swap-asap, cut-offs, nested, purify, learned) on equal seeds."""
    from qnetai.ai.chain_training import bench_chain_policies

    rows = bench_chain_policies(
        model=model, episodes=episodes, seed=seed, cutoff_episodes=cutoff_episodes
    )
    if as_json:
        from qnetai.cli._common import print_json

        print_json({"rows": rows})
        return
    from rich.table import Table

    from qnetai.cli._common import console

    keys = [k for k in rows[0] if isinstance(rows[0][k], int | float) or k == "policy"]
    table = Table(title=f"repeater-chain policies, {episodes} episodes, seed {seed}")
    for k in keys:
        table.add_column(k, justify="left" if k == "policy" else "right")
    for r in rows:
        table.add_row(*(r[k] if isinstance(r[k], str) else f"{r[k]:.4g}" for k in keys))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``qnetai bench``."""
    app.add_typer(bench_app, name="bench")
