"""``qnetai sweep run|validate|query|plot|tune chain`` and ``qnetai bench all``."""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

sweep_app = typer.Typer(
    help="Parameter sweeps: local processes or Ray, resumable, results in Parquet and DuckDB.",
    no_args_is_help=True,
)

_OUT = typer.Option(..., "--out", help="Sweep folder (created; rerun to resume).")
_WORKERS = typer.Option(
    None, "--workers", min=1, max=256, help="Local worker processes (default: CPU count)."
)
_RAY = typer.Option(False, "--ray", help="Run on a local Ray instance.")
_ADDRESS = typer.Option(
    None, "--address", help="Run on an existing Ray cluster (auto, ray://host:10001)."
)
_JSON = typer.Option(False, "--json", help="Print one JSON document.")
_METHOD = typer.Option(
    [],
    "--method",
    help="Your own method beside a benchmark's baselines, BENCH=METHOD (repeatable): "
    "routing=pkg.module:Class (a slot policy) or chain=PATH/MODEL.npz.",
)


def _engine(ray: bool, address: str | None) -> str:
    return "ray" if ray or address else "local"


class _Lines:
    """Progress on stderr: one line at most every few seconds (terminal or pipe), with ETA."""

    def __init__(self, label: str) -> None:
        from qnetai.cli._common import _progress_interval_s

        self.label = label
        self.interval_s = _progress_interval_s()
        self._last = 0.0
        self.last: Any = None

    def __call__(self, p: Any) -> None:
        self.last = p
        now = time.monotonic()
        if now - self._last < self.interval_s and p.done < p.total:
            return
        self._last = now
        eta = "-" if p.eta_s is None else f"{p.eta_s:.0f} s"
        failed = f", {p.failed} failed" if p.failed else ""
        print(
            f"{self.label}: {p.done} of {p.total} points{failed}, {p.elapsed_s:.0f} s, "
            f"about {eta} left",
            file=sys.stderr,
            flush=True,
        )


def catalogue_sweep(folder: str, root: str) -> int:
    """Record every finished seed-run of sweep ``folder`` in ``root/catalogue.duckdb``.

    One row per (point, seed): run_id ``sweep-<sweep hash>-<point id>-s<seed>``, the base
    scenario's name with the point's parameters, the time its record was written (as
    ``started_at``), the run's metrics, and path ``<folder>#<point id>/seed-<seed>`` (rows
    are replaced on rerun). The sweep folder stays the truth: ``qnetai runs --rescan``
    rebuilds the catalogue from run folders only and drops these rows (rerun with
    ``--catalogue`` to add them again). Here in the CLI because the sweep and results
    packages are one layer and may not import each other.
    """
    import json
    from datetime import UTC, datetime
    from pathlib import Path

    from qnetai.errors import InputError
    from qnetai.results.catalogue import record_run
    from qnetai.sweep import read_records

    base = Path(folder).absolute()
    try:
        info = json.loads((base / "sweep.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{base}: not a sweep folder ({exc})") from None
    spec = info.get("spec") if isinstance(info.get("spec"), dict) else {}
    n = 0
    for pid, rec in read_records(base).items():
        if rec.get("status") != "ok":
            continue
        point_file = base / "points" / f"{pid}.json"
        finished = datetime.fromtimestamp(point_file.stat().st_mtime, UTC)  # record written
        for run in rec.get("runs", []):
            seed = run.get("seed")
            record_run(
                root,
                {
                    "run_id": f"sweep-{info.get('sweep_hash')}-{pid}-s{seed}",
                    "scenario": f"{spec.get('base')} {json.dumps(rec.get('params'))}",
                    "seed": seed,
                    "started_at": finished,
                    "wall_time_s": run.get("run_wall_s"),
                    "simulated_s": run.get("simulated_s"),
                    "requests_served": run.get("requests_served"),
                    "pairs_delivered": run.get("pairs_delivered"),
                    "mean_fidelity": run.get("mean_fidelity"),
                    "path": f"{base}#{pid}/seed-{seed}",
                },
            )
            n += 1
    return n


@sweep_app.command("run")
def run_command(
    sweep_file: str = typer.Argument(..., help="Sweep file (YAML or JSON)."),
    out: str = _OUT,
    workers: int | None = _WORKERS,
    ray: bool = _RAY,
    address: str | None = _ADDRESS,
    as_json: bool = _JSON,
    catalogue: str | None = typer.Option(
        None,
        "--catalogue",
        help="Runs folder whose catalogue.duckdb also records every finished seed-run.",
    ),
) -> None:
    """Run (or resume) a sweep: every point's seeds, records, Parquet tables and DuckDB."""
    from qnetai.cli._common import exit_input_error, exit_interrupted, print_json
    from qnetai.errors import InputError
    from qnetai.sweep import SweepInterrupted, load_sweep, run_sweep

    progress = _Lines("sweep")
    try:
        report = run_sweep(
            load_sweep(sweep_file),
            out,
            engine=_engine(ray, address),
            workers=workers,
            address=address,
            progress=progress,
        )
    except SweepInterrupted as exc:
        exit_interrupted(str(exc))
    except InputError as exc:
        exit_input_error(exc)
    if catalogue is not None:
        try:
            n = catalogue_sweep(out, catalogue)
        except InputError as exc:
            exit_input_error(exc)
        print(f"catalogued {n} runs in {catalogue}", file=sys.stderr)
    if as_json:
        print_json(report.to_dict())
    else:
        print(
            f"{report.done} points run, {report.skipped} already done, {report.failed} failed "
            f"({report.rows.get('runs', 0)} runs) in {report.elapsed_s:.1f} s -> {report.out}"
        )
        for f in report.failures[:20]:
            print(f"  failed {f['params']}: {f['error']}", file=sys.stderr)
    if report.failed:
        raise typer.Exit(1)


@sweep_app.command("validate")
def validate_command(sweep_file: str = typer.Argument(..., help="Sweep file.")) -> None:
    """Check a sweep file and every point's scenario without running anything."""
    from qnetai.cli._common import exit_input_error
    from qnetai.errors import InputError
    from qnetai.sweep import check_sweep

    try:
        info = check_sweep(sweep_file)
    except InputError as exc:
        exit_input_error(exc)
    print(f"ok: {info['points']} points x up to {info['seeds']} seeds ({info['mode']})")


@sweep_app.command("query")
def query_command(
    folder: str = typer.Argument(..., help="Sweep folder."),
    sql: str = typer.Argument(..., help="SQL on the tables points and runs."),
    as_json: bool = _JSON,
) -> None:
    """Run SQL on a sweep's DuckDB (tables ``points`` and ``runs``)."""
    from qnetai.cli._common import exit_input_error, print_json
    from qnetai.errors import InputError
    from qnetai.sweep import query

    try:
        cols, rows = query(folder, sql)
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        print_json([dict(zip(cols, r, strict=True)) for r in rows])
        return
    print("\t".join(cols))
    for r in rows:
        print("\t".join("" if v is None else str(v) for v in r))


@sweep_app.command("plot")
def plot_command(
    folder: str = typer.Argument(..., help="Sweep folder."),
    x: str = typer.Option(..., "--x", help="Parameter on the x axis (its path)."),
    y: str = typer.Option("pairs_delivered", "--y", help="Metric on the y axis."),
    color: str | None = typer.Option(None, "--color", help="A parameter: one line per value."),
    out: str | None = typer.Option(None, "--out", help="HTML file (default: in the folder)."),
) -> None:
    """A plotly HTML page: metric against parameter, 95 % intervals."""
    from qnetai.cli._common import exit_input_error
    from qnetai.errors import InputError
    from qnetai.sweep import plot_sweep

    try:
        path = plot_sweep(folder, x=x, y=y, color=color, out=out)
    except InputError as exc:
        exit_input_error(exc)
    print(f"wrote {path}")


tune_app = typer.Typer(
    help="Hyperparameter searches for learned controllers (optuna TPE on the sweep engines).",
    no_args_is_help=True,
)
sweep_app.add_typer(tune_app, name="tune")


@tune_app.command("chain")
def tune_chain_command(
    out: str = typer.Option(..., "--out", help="Search folder (created; rerun to resume)."),
    trials: int = typer.Option(6, "--trials", min=1, max=1000, help="Trials in all."),
    timesteps: int = typer.Option(
        32_768, "--timesteps", min=256, help="Training budget per trial (timesteps)."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Sampler and training seed."),
    val_episodes: int = typer.Option(300, "--val-episodes", min=2, help="Scoring episodes."),
    test_episodes: int = typer.Option(1000, "--test-episodes", min=2, help="Final episodes."),
    cutoff_episodes: int = typer.Option(
        300, "--cutoff-episodes", min=2, help="Episodes per cut-off candidate (baselines)."
    ),
    workers: int | None = _WORKERS,
    ray: bool = _RAY,
    address: str | None = _ADDRESS,
    as_json: bool = _JSON,
) -> None:
    """Search the chain policy's PPO hyperparameters; compare the best with chain-n3-short."""
    from qnetai.cli._common import exit_input_error, exit_interrupted, print_json
    from qnetai.errors import InputError
    from qnetai.sweep.tune import format_tune_report, tune_chain

    t0 = time.monotonic()

    def progress(res: dict[str, Any], done: int, total: int) -> None:
        what = res.get("error") or f"validation rate {res['value']:.4f}"
        print(
            f"tune chain: trial {res['number']} ({done} of {total}): {what}, "
            f"{time.monotonic() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    try:
        rep = tune_chain(
            out,
            trials=trials,
            timesteps=timesteps,
            seed=seed,
            val_episodes=val_episodes,
            test_episodes=test_episodes,
            cutoff_episodes=cutoff_episodes,
            engine=_engine(ray, address),
            workers=workers,
            address=address,
            progress=progress,
        )
    except KeyboardInterrupt:
        exit_interrupted(f"finished trials are kept in {out}; rerun to resume")
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        print_json(rep)
    else:
        print(format_tune_report(rep))


def bench_all_command(
    quick: bool = typer.Option(False, "--quick", help="The quick profile (minutes)."),
    out: str = typer.Option("bench-all", "--out", help="Folder for leaderboard.json/.html."),
    only: str = typer.Option("", "--only", help="Comma-separated benchmark names."),
    method: list[str] = _METHOD,
    workers: int | None = _WORKERS,
    ray: bool = _RAY,
    address: str | None = _ADDRESS,
    as_json: bool = _JSON,
) -> None:
    """Every benchmark, each AI method beside its strongest classical baseline: one leaderboard."""
    from qnetai.cli._common import exit_input_error, exit_interrupted, print_json
    from qnetai.errors import InputError
    from qnetai.sweep.suite import format_leaderboard, run_suite

    names = [n.strip() for n in only.split(",") if n.strip()] or None
    methods: dict[str, list[str]] = {}
    for item in method:
        bench, sep, value = item.partition("=")
        if not sep or not bench.strip() or not value.strip():
            exit_input_error(InputError(f"--method must be BENCH=METHOD (got {item!r})"))
        methods.setdefault(bench.strip(), []).append(value.strip())
    done: list[str] = []

    def progress(name: str, finished: int, total: int) -> None:
        done.append(name)
        print(f"bench all: {name} done ({finished} of {total})", file=sys.stderr, flush=True)

    try:
        board = run_suite(
            quick=quick,
            out=out,
            only=names,
            methods=methods,
            engine=_engine(ray, address),
            workers=workers,
            address=address,
            progress=progress,
        )
    except KeyboardInterrupt:
        exit_interrupted(f"{len(done)} benchmarks finished; nothing written")
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        print_json(board)
        return
    print(format_leaderboard(board))


def register(app: typer.Typer) -> None:
    """Attach ``qnetai sweep`` and ``qnetai bench all``."""
    app.add_typer(sweep_app, name="sweep")
    from qnetai.cli._registry import command_group

    command_group(app, "bench", "Benchmarks.").command("all")(bench_all_command)
