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


def _print_qkd(qkd: Any) -> None:
    """Rich tables: link key pools, relay and entanglement-based key rates per user pair."""
    from rich.table import Table

    from qnetai.cli._common import console
    from qnetai.report import fmt

    s = qkd.summary
    if not s.get("enabled", True):
        return
    shown = 25
    links = sorted(qkd.link_key_rates.to_pylist(), key=lambda r: -(r["key_rate_bps"] or 0.0))
    if links:
        t = Table(title=f"QKD links and key pools ({s.get('mode')} decoy BB84)")
        t.add_column("link", overflow="fold")
        for col in (
            "km",
            "key bit/s",
            "QBER",
            "generated",
            "consumed",
            "overflow",
            "pool now",
            "pool mean",
        ):
            t.add_column(col, justify="right")
        for r in links[:shown]:
            t.add_row(
                str(r["link"]),
                fmt(r["length_km"]),
                fmt(r["key_rate_bps"]),
                fmt(r["qber"]),
                fmt(r["bits_generated"]),
                fmt(r["bits_consumed"]),
                fmt(r["bits_overflow"]),
                fmt(r["bits_left"]),
                fmt(r["pool_mean_bits"]),
            )
        if len(links) > shown:
            t.caption = f"{shown} of {len(links)} QKD links; all in qkd_link_key_rates.parquet"
        console.print(t)
    relay = qkd.relay.to_pylist()
    if relay:
        t = Table(title="end-to-end keys: trusted-node relay")
        t.add_column("user pair", overflow="fold")
        for col in (
            "hops",
            "served / requests",
            "blocked",
            "key bit/s",
            "mean wait ms",
            "keys match",
        ):
            t.add_column(col, justify="right")
        for r in relay:
            wait = r["mean_wait_s"]
            t.add_row(
                f"{r['source']} – {r['destination']}",
                fmt(r["hops"]),
                f"{fmt(r['served'])} / {fmt(r['requests'])}",
                fmt(r["blocked"]),
                fmt(r["key_rate_bps"]),
                fmt(wait * 1e3 if wait is not None else None),
                f"{fmt(r['keys_matched'])} / {fmt(r['served'])}",
            )
        console.print(t)
    ent = sorted(qkd.entanglement_qkd.to_pylist(), key=lambda r: -r["pairs_delivered"])
    if ent:
        t = Table(title="end-to-end keys: entanglement-based (BBM92 on delivered pairs)")
        t.add_column("user pair", overflow="fold")
        for col in ("pairs", "mean F", "QBER Z / X", "key bit/s sampled", "key bit/s expected"):
            t.add_column(col, justify="right")
        for r in ent[:shown]:
            t.add_row(
                f"{r['source']} – {r['destination']}",
                fmt(r["pairs_delivered"]),
                fmt(r["mean_fidelity"]),
                f"{fmt(r['qber_z'])} / {fmt(r['qber_x'])}",
                fmt(r["key_rate_bps_sampled"]),
                fmt(r["key_rate_bps_expected"]),
            )
        if len(ent) > shown:
            t.caption = f"{shown} of {len(ent)} user pairs; all in qkd_entanglement_qkd.parquet"
        console.print(t)


def _print_summary(result: Any, out_dir: Path, report: bool, qkd: Any = None) -> None:
    from rich.table import Table

    from qnetai.cli._common import console
    from qnetai.report import fmt

    s = result.summary

    def ms(key: str) -> str:
        v = s.get(key)
        return f"{fmt(v * 1e3)} ms" if v is not None else "—"

    table = Table(title=f"{result.scenario.name} (seed {result.scenario.seed})", show_header=False)
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    rows = [
        ("requests served", f"{fmt(s.get('requests_served'))} / {fmt(s.get('requests_total'))}"),
        ("pairs delivered", fmt(s.get("pairs_delivered"))),
        ("pairs per second", fmt(s.get("pairs_per_s"))),
        ("fidelity mean", fmt(s.get("mean_fidelity"))),
        (
            "fidelity p05 / p50 / p95",
            " / ".join(fmt(s.get(k)) for k in ("fidelity_p05", "fidelity_p50", "fidelity_p95")),
        ),
        ("latency mean / p95", f"{ms('mean_latency_s')} / {ms('latency_p95_s')}"),
        ("memory utilisation", fmt(s.get("mean_memory_utilisation"))),
        ("simulated / wall time", f"{fmt(s.get('simulated_s'))} s / {fmt(s.get('wall_time_s'))} s"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    console.print(table)

    links = sorted(_link_rows(result), key=lambda r: -(r.get("rate_hz") or 0.0))
    shown = 25
    lt = Table(title="links")
    lt.add_column("link", overflow="fold")
    for col in ("length km", "p_success", "pairs generated", "rate Hz"):
        lt.add_column(col, justify="right")
    for r in links[:shown]:
        name = str(r["link"])
        if name != f"{r['a']}-{r['b']}":
            name += f" ({r['a']}–{r['b']})"
        lt.add_row(
            name,
            fmt(r.get("length_km")),
            fmt(r.get("p_success")),
            fmt(r.get("pairs_generated")),
            fmt(r.get("rate_hz")),
        )
    if len(links) > shown:
        lt.caption = f"{shown} of {len(links)} links (highest rate first); all in links.parquet"
    console.print(lt)
    if qkd is not None:
        _print_qkd(qkd)
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
        _print_summary(run.simulation, path, report=not no_report, qkd=run.key_network)
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
