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
    from qnetai.cli._common import ProgressReporter, print_error

    total = slots * len(seed_list)
    if total * len(chosen) >= 2000:
        print_error(
            f"{total} slots x {len(chosen)} methods"
            + (" plus the MILP reference per slot" if not no_milp else "")
            + "; this can take minutes (progress on stderr)",
            label="note",
        )
    with ProgressReporter("bench routing", "slots") as reporter:
        out = run(progress=reporter.update)
    _print(out)


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{round(100 * x, 1) + 0.0:.1f}%"


def _interval(mean: float, low: float, high: float, n: int) -> str:
    """A 95% interval of a non-negative mean, or why there is none (too few samples)."""
    if n < 10:
        return f"{mean:.2f} (n={n}: too few for an interval)"
    return f"{mean:.2f} [{max(low, 0.0):.2f}, {high:.2f}]"


def _print(out: dict) -> None:
    from qnetai.cli._common import print_table

    c = out["config"]
    rows = [
        [
            r["method"],
            _interval(
                r["throughput"],
                r["throughput_ci_low"],
                r["throughput_ci_high"],
                int(r.get("samples", 0)),
            ),
            f"{r['expected_throughput']:.2f}",
            f"{r['fairness']:.3f}",
            f"{r['decision_time_ms']:.1f} ms",
            "—"
            if r["decision_time_ms_per_step"] is None
            else f"{r['decision_time_ms_per_step']:.2f} ms",
            _pct(r.get("gap_to_milp")),
            _pct(r.get("gap_to_union_optimum")),
        ]
        for r in out["rows"]
    ]
    print_table(
        f"routing on {c['topology']} ({c['nodes']} nodes), {c['requests']} "
        f"requests/slot, {c['slots']} slots x seeds {c['seeds']}",
        [
            "method",
            "pairs/slot [95% CI]",
            "EXT/slot",
            "Jain fairness",
            "time/slot",
            "time/step",
            "gap to MILP",
            "gap to union optimum",
        ],
        rows,
        caption=(
            "pairs/slot: delivered pairs per slot (Monte Carlo, same random numbers for every "
            "method), mean with a 95% t-interval over slots x seeds, cut at 0 (pairs are never "
            "negative). EXT/slot: the expected pairs of the allocation (Q-CAST's EXT). gap to "
            "MILP: 1 - EXT / the MILP optimum over the MILP's own candidate paths (k = 4 "
            "shortest + Q-CAST's), so a method choosing paths outside that set can be below 0. "
            "gap to union optimum: against the MILP over that set plus every path any method "
            "chose in the slot; never below 0 up to solver tolerance."
        ),
    )


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
        "(with MODEL.json beside it); none: baselines only. The chain is the model's unless "
        "changed below; a changed chain leaves the model out (it plays only on its own).",
    ),
    cutoff_episodes: int = typer.Option(
        300, "--cutoff-episodes", min=10, help="Episodes per candidate in the cut-off search."
    ),
    segments: int | None = typer.Option(None, "--segments", help="Elementary segments (1-16)."),
    p_gen: float | None = typer.Option(
        None, "--p-gen", help="Link success probability per slot, (0, 1]."
    ),
    fidelity: float | None = typer.Option(
        None, "--fidelity", help="Werner fidelity of a fresh link."
    ),
    t_coh_slots: float | None = typer.Option(
        None, "--t-coh-slots", help="Memory coherence time in slots (may be inf)."
    ),
    p_swap: float | None = typer.Option(None, "--p-swap", help="Swap success probability."),
    memories: int | None = typer.Option(None, "--memories", help="Memories per side (1-4)."),
    threshold: float | None = typer.Option(
        None, "--target-fidelity", help="Fidelity a delivered pair must reach to count."
    ),
    max_slots: int | None = typer.Option(None, "--max-slots", help="Slots per episode (cap)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Repeater-chain policies (swap-asap, cut-offs, nested, purify, learned) on equal seeds."""
    from qnetai.ai.chain_bench import bench_chain_config, describe_chain
    from qnetai.ai.chain_training import bench_chain_policies
    from qnetai.cli._common import exit_input_error
    from qnetai.errors import InputError

    try:
        cfg, used, note = bench_chain_config(
            model,
            segments=segments,
            p_gen=p_gen,
            fidelity=fidelity,
            t_coh_slots=t_coh_slots,
            p_swap=p_swap,
            memories=memories,
            threshold=threshold,
            max_slots=max_slots,
        )
        rows = bench_chain_policies(
            cfg, model=used, episodes=episodes, seed=seed, cutoff_episodes=cutoff_episodes
        )
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        from qnetai.cli._common import print_json

        print_json({"chain": cfg.to_dict(), "model": used, "note": note or None, "rows": rows})
        return
    ran = describe_chain(cfg) + (f" (model {used})" if used else " (no learned model)")
    _print_chain(rows, ran, note, episodes, seed)


def _valid_fraction(row: dict) -> str:
    """Valid deliveries / deliveries with a 95% Wilson interval (it stays inside [0, 1]).

    Every episode ends on its first valid delivery unless truncated, so the valid count is
    ``episodes - truncated`` and the deliveries ``valid / fraction_valid``.
    """
    from scipy.stats import binomtest

    frac = row.get("fraction_valid")
    valid = int(row["episodes"]) - int(row.get("truncated") or 0)
    if frac is None or frac != frac or frac <= 0 or valid <= 0:
        return "—"
    n = max(round(valid / frac), valid)
    ci = binomtest(valid, n).proportion_ci(confidence_level=0.95, method="wilson")
    return f"{valid / n:.3f} [{ci.low:.3f}, {ci.high:.3f}]"


def _print_chain(rows: list[dict], ran: str, note: str, episodes: int, seed: int) -> None:
    from qnetai.cli._common import console, print_table

    def ci(r: dict, key: str, ci_key: str, spec: str) -> str:
        half = r.get(ci_key)
        value = r.get(key)
        if value is None or value != value:
            return "—"
        return f"{value:{spec}}" + ("" if half is None else f" ± {half:{spec}}")

    console.print(f"ran: {ran}", markup=False, highlight=False)
    if note:
        console.print(note, markup=False, highlight=False)
    print_table(
        f"repeater-chain policies, {episodes} episodes, seed {seed}",
        [
            "policy",
            "deliveries per slot",
            "slots to a valid pair",
            "delivered fidelity",
            "valid fraction",
            "cut-off (slots)",
            "decision time",
        ],
        [
            [
                str(r["policy"]),
                ci(r, "delivery_rate_per_slot", "delivery_rate_ci95", ".4f"),
                ci(r, "mean_slots_to_valid", "mean_slots_ci95", ".2f"),
                ci(r, "mean_delivered_fidelity", "mean_delivered_fidelity_ci95", ".4f"),
                _valid_fraction(r),
                "—" if r.get("cutoff_slots") is None else str(r["cutoff_slots"]),
                f"{r['decision_ms_mean'] * 1e3:.1f} µs",
            ]
            for r in rows
        ],
        caption=(
            "± half-width of a 95% normal interval of a mean; valid fraction: deliveries above "
            "the target fidelity / all deliveries, with a 95% Wilson interval."
        ),
    )


@bench_app.command("schedules")
def schedules_command(
    regimes: str = typer.Option(
        "",
        "--regimes",
        help="Comma-separated regimes (default: all of qnetai.ai.schedule_search.REGIMES: "
        "homogeneous, het-links, het-memory, het-memory-far, het-both, het-3x2).",
    ),
    episodes: int = typer.Option(1000, "--episodes", min=2, help="Episodes per policy."),
    seed: int = typer.Option(2024, "--seed", min=0, help="First episode seed (searches: +1)."),
    search_episodes: int = typer.Option(
        200, "--search-episodes", min=2, help="Episodes per candidate in Monte Carlo searches."
    ),
    search_budget: int = typer.Option(
        30, "--search-budget", min=1, help="Evaluations of the nevergrad cut-off search."
    ),
    model: str = typer.Option(
        "het-memory=het-memory",
        "--models",
        help="Comma-separated REGIME=MODEL: a learned chain model (shipped name or MODEL.npz "
        "path) per regime; 'none' for no learned policy.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Swap schedules against swap-asap with its optimal cut-off, per regime, on equal seeds.

    Rows: swap-asap, its optimal cut-off, per-segment cut-offs, the exact MDP optimum (two
    segments) and learned models; exact rates where the MDP applies.
    """
    from qnetai.ai.schedule_search import DEFAULT_REGIMES, bench_schedules
    from qnetai.errors import InputError

    models: dict[str, str] = {}
    for item in (x.strip() for x in model.split(",")):
        if not item or item.lower() == "none":
            continue
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise InputError(f"--models must be REGIME=MODEL pairs or none (got {item!r})")
        models[key.strip()] = val.strip()
    chosen = [r.strip() for r in regimes.split(",") if r.strip()] or list(DEFAULT_REGIMES)
    out = bench_schedules(
        chosen,
        episodes=episodes,
        seed=seed,
        search_episodes=search_episodes,
        search_budget=search_budget,
        models=models,
    )
    if as_json:
        from qnetai.cli._common import print_json

        print_json(out)
        return
    from rich.table import Table

    from qnetai.cli._common import console

    table = Table(title=f"swap schedules, {episodes} episodes per policy, seed {seed}")
    for col in ("regime", "policy", "valid pairs/slot (95% CI)", "exact", "mean F", "gain"):
        table.add_column(col, justify="left" if col in ("regime", "policy") else "right")
    for r in out["rows"]:
        base = next(
            x for x in out["rows"] if x["regime"] == r["regime"] and "cutoff" in x["policy"]
        )
        ex = r["exact_rate_per_slot"]
        table.add_row(
            r["regime"],
            r["policy"],
            f"{r['delivery_rate_per_slot']:.4f} ± {r['delivery_rate_ci95']:.4f}",
            "-" if ex is None else f"{ex:.4f}",
            f"{r['mean_delivered_fidelity']:.3f}",
            f"{r['delivery_rate_per_slot'] / base['delivery_rate_per_slot'] - 1:+.1%}",
        )
    console.print(table)


@bench_app.command("memory")
def memory_command(
    seeds: int = typer.Option(10, "--seeds", min=1, help="Test seeds 0..N-1."),
    budget: int = typer.Option(24, "--budget", min=1, help="nevergrad evaluations."),
    duration_s: float = typer.Option(
        1.0, "--duration-s", min=0.01, help="Simulated time per run (s)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Memory allocators (fcfs, static partitions, optimised) where memory is the bottleneck."""
    from qnetai.control.memory_allocation import bench_memory_allocation, bottleneck_scenario

    out = bench_memory_allocation(
        bottleneck_scenario(duration_s=duration_s), seeds=tuple(range(seeds)), budget=budget
    )
    if as_json:
        from qnetai.cli._common import print_json

        print_json(out)
        return
    from rich.table import Table

    from qnetai.cli._common import console

    table = Table(title=f"memory allocation on {out['scenario']}, {seeds} seeds (95% CI)")
    for col in ("allocator", "served", "pairs", "mean F", "Jain", "served per class"):
        table.add_column(col, justify="left" if col == "allocator" else "right")
    for r in out["rows"]:
        table.add_row(
            r["allocator"],
            f"{r['served']:.1f} ± {r['served_ci95']:.1f}",
            f"{r['pairs_delivered']:.1f} ± {r['pairs_delivered_ci95']:.1f}",
            f"{r['mean_fidelity']:.4f}",
            f"{r['jain']:.3f} ± {r['jain_ci95']:.3f}",
            ", ".join(f"{c} {v:.2f}" for c, v in r["served_fraction"].items()),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``qnetai bench``."""
    app.add_typer(bench_app, name="bench")
