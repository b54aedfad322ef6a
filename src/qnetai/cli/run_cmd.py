"""``qnetai run``: simulate a scenario, write its run folder, print a summary. ``qnetai runs``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

SCENARIO_HELP = "Scenario file (YAML/JSON) or built-in name (metro-6g, ...)."


def _prepare_scenario(
    name_or_path: str, seed: int | None, duration_s: float | None, qkd_mode: str | None = None
) -> Any:
    """Load the scenario and apply the command-line overrides (validated again)."""
    from qnetai.config import load_scenario, scenario_from_dict
    from qnetai.errors import InputError

    scenario = load_scenario(name_or_path)
    if duration_s is not None and not duration_s > 0:
        raise InputError(f"--duration-s must be > 0 (got {duration_s})")
    update: dict[str, Any] = {}
    if seed is not None:
        update["seed"] = seed
    if duration_s is not None:
        update["duration_s"] = duration_s
    if qkd_mode is not None:
        update["qkd"] = {**scenario.qkd.model_dump(mode="json"), "mode": qkd_mode}
    if update:
        data = scenario.model_dump(mode="json", exclude_unset=False)
        scenario = scenario_from_dict({**data, **update}, source="command line")
    return scenario


def _run(scenario: Any, *, allow_large: bool, allow_plugins: bool, show_progress: bool) -> Any:
    """:func:`qnetai.run_scenario` with a progress bar on the console (unless ``--json``)."""
    from qnetai.facade import run_scenario

    if not show_progress:
        return run_scenario(scenario, allow_large=allow_large, allow_plugins=allow_plugins)
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from qnetai.cli._common import console

    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(f"simulating {scenario.name}", total=1.0)

        def progress(fraction_done: float) -> None:
            bar.update(task, completed=min(max(float(fraction_done), 0.0), 1.0))

        run = run_scenario(
            scenario, allow_large=allow_large, allow_plugins=allow_plugins, progress=progress
        )
        bar.update(task, completed=1.0)
    return run


def _link_rows(result: Any) -> list[dict[str, Any]]:
    return result.links.to_pylist()


def _print_qkd(qkd: Any, initial_pool_bits: int = 0) -> None:
    """Link key pools, relay and entanglement-based key rates per user pair (never truncated).

    The key network's ``bits_generated`` counts a pool's pre-loaded bits
    (``qkd.initial_pool_bits``) too; the table shows them apart: pre-loaded + generated =
    consumed + overflow + pool at end.
    """
    from qnetai.cli._common import count, fixed, percent, print_table, si

    s = qkd.summary
    if not s.get("enabled", True):
        return
    shown = 25
    links = sorted(qkd.link_key_rates.to_pylist(), key=lambda r: -(r["key_rate_bps"] or 0.0))
    if links:
        rows = [
            [
                str(r["link"]),
                si(r["length_km"] * 1e3, "m"),
                si(r["key_rate_bps"], "bit/s"),
                percent(r["qber"]),
                si(initial_pool_bits, "bit"),
                si(r["bits_generated"] - initial_pool_bits, "bit"),
                si(r["bits_consumed"], "bit"),
                si(r["bits_overflow"], "bit"),
                si(r["bits_left"], "bit"),
                si(r["pool_mean_bits"], "bit"),
            ]
            for r in links[:shown]
        ]
        print_table(
            f"QKD links and key pools ({s.get('mode')} decoy BB84)",
            [
                "link",
                "length",
                "key rate",
                "QBER",
                "pre-loaded",
                "generated",
                "consumed",
                "overflow",
                "pool at end",
                "pool mean",
            ],
            rows,
            caption=(
                "pre-loaded + generated = consumed + overflow + pool at end; generated is "
                "key rate x duration, pre-loaded is qkd.initial_pool_bits."
                + (
                    f" {shown} of {len(links)} QKD links; all in qkd_link_key_rates.parquet."
                    if len(links) > shown
                    else ""
                )
            ),
        )
    relay = qkd.relay.to_pylist()
    if relay:
        rows = []
        for r in relay:
            wait = r["mean_wait_s"]
            rows.append(
                [
                    f"{r['source']} – {r['destination']}",
                    count(r["hops"]),
                    f"{count(r['served'])} / {count(r['requests'])}",
                    count(r["blocked"]),
                    si(r["key_rate_bps"], "bit/s"),
                    si(wait, "s"),
                    f"{count(r['keys_matched'])} / {count(r['served'])}",
                ]
            )
        print_table(
            "end-to-end keys: trusted-node relay",
            [
                "user pair",
                "hops",
                "served / requests",
                "blocked",
                "key rate",
                "mean wait",
                "keys match",
            ],
            rows,
        )
    ent = sorted(qkd.entanglement_qkd.to_pylist(), key=lambda r: -r["pairs_delivered"])
    if ent:
        rows = [
            [
                f"{r['source']} – {r['destination']}",
                count(r["pairs_delivered"]),
                fixed(r["mean_fidelity"]),
                f"{percent(r['qber_z'], 1)} / {percent(r['qber_x'], 1)}",
                si(r["key_rate_bps_sampled"], "bit/s"),
                si(r["key_rate_bps_expected"], "bit/s"),
            ]
            for r in ent[:shown]
        ]
        note = (
            "finite-size: from the sampled bases and errors, each basis' QBER replaced by its "
            "Clopper-Pearson upper bound; asymptotic: the infinite-key rate at the expected "
            "sifted counts and mean QBER. A finite-size key of 0 with an asymptotic key above 0 "
            "means too few pairs in this run for the upper bound to leave key, not a broken link."
        )
        if len(ent) > shown:
            note += f" {shown} of {len(ent)} user pairs; all in qkd_entanglement_qkd.parquet."
        print_table(
            "end-to-end keys: entanglement-based (BBM92 on delivered pairs)",
            [
                "user pair",
                "pairs",
                "mean fidelity",
                "QBER Z / X",
                "key rate finite-size",
                "key rate asymptotic",
            ],
            rows,
            caption=note,
        )


def _print_alerts(monitoring: Any) -> None:
    """Injected incidents and the monitor's alerts (link, time, cause, confidence, cost)."""
    from qnetai.cli._common import percent, print_table, si

    s = monitoring.summary
    if monitoring.incidents:
        rows = [
            [
                f"{i['kind']}: {i['cause']} ({i['strength']:g})",
                str(i["link"]),
                si(i["start_s"], "s"),
                f"alert {i['alert_id']} after {si(i['delay_s'], 's')}"
                if i["detected"]
                else ("missed" if i["in_run"] else "starts after the run"),
                "missed" if i["qber_rule_delay_s"] is None else si(i["qber_rule_delay_s"], "s"),
            ]
            for i in monitoring.incidents
        ]
        print_table(
            "injected incidents",
            ["incident", "link", "start", f"caught by {s['detector']}", "QBER 11 % rule"],
            rows,
            text_columns=2,
        )
    rows = [
        [
            str(a.alert_id),
            str(a.link),
            f"{a.kind}: {a.cause}",
            si(a.time_s, "s"),
            percent(a.confidence, 1),
            "false alarm" if a.delay_s is None else si(a.delay_s, "s"),
            si(a.key_bits_at_risk, "bit"),
            si(a.key_bits_withheld, "bit"),
            si(a.key_bits_lost, "bit"),
        ]
        for a in monitoring.alerts
    ]
    print_table(
        f"alerts ({s['detector']}: {s['alerts']} raised, {s['false_alarms']} false)",
        [
            "id",
            "link",
            "suspected cause",
            "time",
            "confidence",
            "delay",
            "key at risk",
            "key withheld",
            "key lost",
        ],
        rows or [["—", "none", "—", "—", "—", "—", "—", "—", "—"]],
        text_columns=3,
        caption=(
            "at risk: key distilled between the estimated onset and the alert (an attack may "
            "know it); withheld: the link's key from the alert to the end of the run (held "
            "until cleared); lost: key a fault's lower gain cost. All in alerts.parquet."
        ),
    )


def _print_summary(
    result: Any, out_dir: Path, report: bool, qkd: Any = None, monitoring: Any = None
) -> None:
    from qnetai.cli._common import console, count, fixed, print_table, si

    s = result.summary
    rows = [
        [
            "requests served",
            f"{count(s.get('requests_served'))} / {count(s.get('requests_total'))}",
        ],
        ["pairs delivered", count(s.get("pairs_delivered"))],
        ["pairs delivered per second", si(s.get("pairs_per_s"), "pairs/s")],
        ["fidelity mean", fixed(s.get("mean_fidelity"))],
        [
            "fidelity p05 / p50 / p95",
            " / ".join(fixed(s.get(k)) for k in ("fidelity_p05", "fidelity_p50", "fidelity_p95")),
        ],
        [
            "latency mean / p95",
            f"{si(s.get('mean_latency_s'), 's')} / {si(s.get('latency_p95_s'), 's')}",
        ],
        ["memory utilisation (mean)", fixed(s.get("mean_memory_utilisation"))],
        [
            "simulated / wall time",
            f"{si(s.get('simulated_s'), 's')} / {si(s.get('wall_time_s'), 's')}",
        ],
    ]
    print_table(
        f"{result.scenario.name} (seed {result.scenario.seed})",
        ["figure", "value"],
        rows,
        show_header=False,
    )
    for m in (s.get("logical_memory") or {}).get("memories", []):  # qnetai.qec.memory
        console.print(
            f"logical memory ({len(m['nodes'])} nodes): {m['code']} d={m['distance']} "
            f"{m['decoder']}, p={m['physical_error_rate']:g}: r_x {m['r_x']:.2e}, "
            f"r_z {m['r_z']:.2e} per round -> t_coh {si(m['t_coh_s'], 's')} "
            f"(bare qubit {si(m['physical_t_coh_s'], 's')})",
            highlight=False,
        )

    links = sorted(_link_rows(result), key=lambda r: -(r.get("rate_hz") or 0.0))
    shown = 25
    link_rows = []
    for r in links[:shown]:
        name = str(r["link"])
        if name != f"{r['a']}-{r['b']}":
            name += f" ({r['a']}–{r['b']})"
        link_rows.append(
            [
                name,
                si(
                    (r.get("length_km") or 0.0) * 1e3 if r.get("length_km") is not None else None,
                    "m",
                ),
                fixed(r.get("p_success")),
                count(r.get("pairs_generated")),
                si(r.get("rate_hz"), "pairs/s"),
            ]
        )
    caption = (
        "p per attempt: success probability of one attempt on one channel (mode), "
        "memory efficiencies included."
    )
    if len(links) > shown:
        caption += f" {shown} of {len(links)} links (highest rate first); all in links.parquet."
    print_table(
        "links",
        ["link", "length", "p per attempt", "pairs generated", "generation rate"],
        link_rows,
        caption=caption,
    )
    if qkd is not None:
        _print_qkd(qkd, int(result.scenario.qkd.initial_pool_bits))
    if monitoring is not None:
        _print_alerts(monitoring)
    console.print(f"run folder: [bold]{out_dir}[/]")
    if report:
        console.print(f"report:     [bold]{out_dir / 'report.html'}[/]")


def run_command(
    scenario: Annotated[str, typer.Argument(help=SCENARIO_HELP)] = "metro-6g",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Run folder (default: runs/<scenario>-<UTC time>-seed<K>-<id>). "
            "Nothing is written outside it; it is catalogued only with --catalogue.",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's).")
    ] = None,
    duration_s: Annotated[
        float | None,
        typer.Option("--duration-s", help="Simulated seconds (default: the scenario's)."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document only.")] = False,
    no_report: Annotated[bool, typer.Option("--no-report", help="Skip report.html.")] = False,
    qkd_mode: Annotated[
        str | None,
        typer.Option(
            "--qkd-mode",
            help="QKD link model: analytic (fast) or simulate (pulse level); "
            "default: the scenario's qkd.mode.",
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Replace an existing qnetai run folder (one holding its "
            ".qnetai-run marker and only its own files; never the current directory).",
        ),
    ] = False,
    catalogue: Annotated[
        Path | None,
        typer.Option(
            "--catalogue",
            help="Runs folder whose catalogue.duckdb records the run (default: "
            "runs/ without --out; none with --out).",
        ),
    ] = None,
    allow_large: Annotated[
        bool,
        typer.Option(
            "--allow-large",
            help="Run a scenario whose estimated work is above the limits "
            "(qnetai.topology.runnable.WORK_LIMITS).",
        ),
    ] = False,
    allow_plugins: Annotated[
        bool,
        typer.Option(
            "--allow-plugins",
            help="Let the scenario name an import-path routing policy (pkg.module:Class); "
            "importing it runs that module's code, so only for scenarios you trust.",
        ),
    ] = False,
) -> None:
    """Simulate a scenario and write its run folder (Parquet, summary, scenario, report).

    The scenario's ``qkd`` section then runs on the result: link key pools, trusted-node
    key relay and entanglement-based QKD (tables ``qkd_*.parquet``, ``qkd`` in ``--json``).
    """
    import uuid
    from datetime import UTC, datetime

    from qnetai.cli._common import err_console, print_json, skip_pandas_probe
    from qnetai.facade import check_runnable
    from qnetai.results import (
        CatalogueError,
        catalogue_path,
        check_out_dir,
        clean_stale_runs,
        default_run_dir,
        write_run,
    )
    from qnetai.results.writer import jsonable

    skip_pandas_probe()  # the run builds its tables from lists and arrays only
    sc = _prepare_scenario(scenario, seed, duration_s, qkd_mode)
    # the checks of `qnetai scenario validate`
    check_runnable(sc, allow_large=allow_large, allow_plugins=allow_plugins)
    run_id = uuid.uuid4().hex[:16]
    runs_root = Path("runs")
    cat_root: Path | None
    if out is None:
        clean_stale_runs(runs_root)  # staging folders of killed runs
        out_dir = default_run_dir(sc.name, sc.seed, root=runs_root, tag=run_id[:6])
        cat_root = catalogue if catalogue is not None else runs_root
    else:
        out_dir, cat_root = out, catalogue
    check_out_dir(out_dir.absolute(), overwrite=overwrite)  # refuse before simulating
    _check_catalogue(cat_root)
    started_at = datetime.now(UTC)
    try:
        run = _run(
            sc, allow_large=allow_large, allow_plugins=allow_plugins, show_progress=not json_out
        )
        html = None
        if not no_report:
            from qnetai.report import render_html

            html = render_html(run)
        path = write_run(
            run,
            out_dir,
            overwrite=overwrite,
            report_html=html,
            catalogue=cat_root if cat_root is not None else False,
            started_at=started_at,
            run_id=run_id,
        )
    except KeyboardInterrupt:
        err_console.print(
            f"[bold red]interrupted:[/] {_interrupted(out_dir, run_id, cat_root)}", highlight=False
        )
        sys.exit(130)
    except CatalogueError as exc:  # the run folder is complete; only the listing missed it
        err_console.print(f"[bold yellow]warning:[/] {exc}", highlight=False)
        path = exc.path
    if json_out:
        print_json(
            jsonable(
                {
                    "run_id": run_id,
                    "scenario": sc.name,
                    "seed": sc.seed,
                    "out_dir": str(path),
                    "catalogue": (
                        str(catalogue_path(cat_root).absolute()) if cat_root is not None else None
                    ),
                    "report": str(path / "report.html") if not no_report else None,
                    **run.to_dict(),
                }
            )
        )
    else:
        _print_summary(
            run.simulation,
            path,
            report=not no_report,
            qkd=run.key_network,
            monitoring=getattr(run, "monitoring", None),
        )
        if run.verification is not None:  # scenario.verification
            from qnetai.cli._verify_print import print_verification

            print_verification(run.verification)
        if cat_root is None:
            err_console.print(
                f"note: not catalogued (--out without --catalogue); `qnetai runs --root "
                f"{path.parent}` lists it, `--rescan` records it",
                highlight=False,
            )


def _check_catalogue(root: Path | None) -> None:
    """Refuse a symlinked catalogue file before simulating (it is never written through)."""
    from qnetai.errors import InputError
    from qnetai.results import catalogue_path

    if root is not None and catalogue_path(root).is_symlink():
        raise InputError(
            f"--catalogue: {catalogue_path(root)} is a symbolic link; qnetai does "
            "not write through links"
        )


def _interrupted(out_dir: Path, run_id: str, cat_root: Path | None) -> str:
    """What an interrupt left: the run folder is the truth, whatever the catalogue says."""
    from qnetai.results import is_complete_run

    path = out_dir.absolute()
    if not is_complete_run(path, run_id):
        return "no run folder written"
    text = f"the run folder {path} was written completely"
    if cat_root is not None:
        text += (
            f", but it may be missing from the catalogue; `qnetai runs --rescan --root "
            f"{cat_root}` records it"
        )
    return text


def runs_command(
    root: Annotated[Path, typer.Option("--root", help="Folder holding the run folders.")] = Path(
        "runs"
    ),
    limit: Annotated[int, typer.Option("--limit", min=1, help="Show at most this many.")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document only.")] = False,
    rescan: Annotated[
        bool,
        typer.Option(
            "--rescan",
            help="Rebuild the catalogue from the run folders under --root (setting a "
            "corrupt catalogue aside) and remove temporary folders of killed runs.",
        ),
    ] = False,
) -> None:
    """List the runs under a runs folder (newest first).

    The run folders are the truth: a complete folder missing from the catalogue is listed
    too (marked ``*``); ``--rescan`` records it.
    """
    from rich.table import Table

    from qnetai.cli._common import console, err_console, print_json
    from qnetai.report import fmt
    from qnetai.results import list_runs, rescan_catalogue

    report = rescan_catalogue(root) if rescan else None
    rows = list_runs(root, limit=limit)
    if json_out:
        doc: dict[str, Any] = {"root": str(root), "runs": rows}
        if report is not None:
            doc["rescan"] = report.to_dict()
        print_json(doc)
        return
    if report is not None:
        _print_rescan(report, err_console)
    if not rows:
        console.print(f"no runs under {root}")
        return
    table = Table(title=f"runs under {root} (newest first)")
    for col in ("started (UTC)", "scenario", "seed", "pairs", "fidelity"):
        table.add_column(col, no_wrap=True)
    table.add_column("folder", overflow="fold")
    for r in rows:
        mark = "" if r.get("catalogued", True) else " *"
        table.add_row(
            str(r["started_at"])[:19].replace("T", " "),
            str(r["scenario"]),
            str(r["seed"]),
            fmt(r["pairs_delivered"]),
            fmt(r["mean_fidelity"]),
            Path(str(r["path"])).name + mark,
        )
    if any(not r.get("catalogued", True) for r in rows):
        table.caption = f"* not in the catalogue yet; `qnetai runs --rescan --root {root}` adds it"
    console.print(table)


def _print_rescan(report: Any, out: Any) -> None:
    """One line per thing ``--rescan`` did."""
    out.print(
        f"rescanned: {report.runs} runs in {report.catalogue} (added "
        f"{len(report.added)}, dropped {len(report.dropped)})",
        highlight=False,
    )
    if report.cleaned:
        out.print(
            f"removed {len(report.cleaned)} temporary folders of killed runs", highlight=False
        )
    if report.set_aside is not None:
        out.print(f"the damaged catalogue was renamed to {report.set_aside}", highlight=False)
    for p in report.leftovers:
        out.print(
            f"left alone: {p} (a temporary folder of an older qnetai; delete it by "
            "hand once no qnetai run is writing)",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``runs`` to the app."""
    app.command("run")(run_command)
    app.command("runs")(runs_command)
