"""``qnetai dataset qkd-monitoring`` and ``qnetai bench security``: QKD attack detection."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

dataset_app = typer.Typer(help="Labelled data sets from the simulator.", no_args_is_help=True)


def _check_out(out: Path, *, overwrite: bool) -> Path:
    """The target file; refuses directories, links, missing folders and other suffixes."""
    from qnetai.errors import InputError

    if out.suffix != ".parquet":
        raise InputError(f"--out must name a .parquet file (got {str(out)!r})")
    if out.is_symlink():
        raise InputError(f"--out {str(out)!r} is a symbolic link; name a plain file")
    if out.exists() and not out.is_file():
        raise InputError(f"--out {str(out)!r} exists and is not a file")
    if out.exists() and not overwrite:
        raise InputError(f"--out {str(out)!r} exists; pass --overwrite to replace it")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"the folder of --out does not exist: {str(parent)!r}")
    return out


def write_monitoring_parquet(
    out: Path,
    *,
    blocks: int,
    seed: int,
    episode_blocks: int,
    block_pulses: int,
    progress: Any = None,
) -> dict[str, Any]:
    """Write the data set to ``out`` atomically; returns a summary.

    Episodes stream into a temporary file beside ``out`` (bounded memory), which is then
    renamed over ``out``; nothing else is written.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from qnetai.ai.security.datasets import DatasetOptions, iter_episodes, rows_to_arrays

    opts = DatasetOptions(episode_blocks=episode_blocks, block_pulses=block_pulses)
    n_episodes = -(-blocks // episode_blocks)
    parent = out.parent if str(out.parent) else Path(".")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
    tmp = Path(tmp_name)
    written = 0
    labels: dict[str, int] = {}
    try:
        with os.fdopen(fd, "wb") as fh:
            writer = None
            rng = np.random.default_rng(seed)
            for rows in iter_episodes(n_episodes, rng=rng, options=opts):
                rows = rows[: blocks - written]
                cols = rows_to_arrays(rows)
                table = pa.table({k: pa.array(v) for k, v in cols.items()})
                if writer is None:
                    writer = pq.ParquetWriter(fh, table.schema)
                writer.write_table(table)
                written += len(rows)
                for lab in cols["label"]:
                    labels[str(lab)] = labels.get(str(lab), 0) + 1
                if progress is not None:
                    progress(written, blocks)
            if writer is not None:
                writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return {
        "out": str(out),
        "blocks": written,
        "episodes": n_episodes,
        "seed": seed,
        "block_pulses": block_pulses,
        "label_counts": labels,
    }


@dataset_app.command("qkd-monitoring")
def qkd_monitoring_command(
    blocks: int = typer.Option(2000, "--blocks", min=1, max=10_000_000, help="Rows (blocks)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the generator."),
    out: str = typer.Option(..., "--out", help="Output file (.parquet), written atomically."),
    episode_blocks: int = typer.Option(20, "--episode-blocks", min=2, help="Blocks per link."),
    block_pulses: int = typer.Option(2_000_000, "--block-pulses", help="Pulses per block."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing file."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Labelled per-block QKD telemetry: honest links and five attack families."""
    from qnetai.cli._common import (
        ProgressReporter,
        exit_input_error,
        exit_interrupted,
        print_json,
    )
    from qnetai.errors import InputError

    try:
        target = _check_out(Path(out), overwrite=overwrite)
        with ProgressReporter("qkd-monitoring", "blocks") as rep:
            try:
                summary = write_monitoring_parquet(
                    target,
                    blocks=blocks,
                    seed=seed,
                    episode_blocks=episode_blocks,
                    block_pulses=block_pulses,
                    progress=rep.update,
                )
            except KeyboardInterrupt:
                exit_interrupted(rep.summary() + f"; {str(out)!r} left unchanged")
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        print_json(summary)
        return
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["label_counts"].items()))
    print(f"wrote {summary['blocks']} blocks ({summary['episodes']} links) to {out}: {counts}")


def security_command(
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of every data set and model."),
    quick: bool = typer.Option(False, "--quick", help="A small run (smoke test, ~10 s)."),
    block_pulses: str = typer.Option(
        "2e6", "--block-pulses", help="Pulses per block (2e6 = 2 ms at 1 GHz; up to 1e8)."
    ),
    train_links: int = typer.Option(160, "--train-links", min=2, help="Training links."),
    calib_links: int = typer.Option(
        160, "--calib-links", min=2, help="Honest calibration links (thresholds)."
    ),
    test_links: int = typer.Option(400, "--test-links", min=2, help="Test links."),
    link_window: int | None = typer.Option(
        None, "--link-window", min=1, help="K: blocks of the per-link window (default 5)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Attack detectors beside the QBER and decoy baselines, per family and strength.

    Per block: TPR at 1 % false alarms per block.
    Per link: detection among the attack's first K blocks, at 1 % false alarms
    per honest K-block window.
    """
    from qnetai.ai.security.benchmark import run_security_benchmark
    from qnetai.cli._common import (
        ProgressReporter,
        exit_input_error,
        exit_interrupted,
        parse_count,
        print_json,
        print_table,
    )
    from qnetai.errors import InputError

    try:
        kwargs: dict[str, Any] = {
            "seed": seed,
            "block_pulses": parse_count(block_pulses, "--block-pulses"),
            "train_episodes": train_links,
            "calib_episodes": calib_links,
            "test_episodes": test_links,
            "link_window_blocks": link_window,
        }
        if quick:
            kwargs.update(QUICK_PROFILE)
        with ProgressReporter("bench security", "stages") as rep:
            try:
                out = run_security_benchmark(**kwargs, progress=lambda _s, d, t: rep.update(d, t))
            except KeyboardInterrupt:
                exit_interrupted(rep.summary())
    except InputError as exc:
        exit_input_error(exc)
    if as_json:
        print_json(out)
        return
    for title, headers, rows, caption, text_columns in security_tables(out):
        print_table(title, headers, rows, caption=caption, text_columns=text_columns)


#: ``qnetai bench security --quick``: a smoke test of every method (~10-20 s).
QUICK_PROFILE: dict[str, Any] = {
    "train_episodes": 30,
    "calib_episodes": 20,
    "test_episodes": 30,
    "episode_blocks": 12,
    "reference_blocks": 3,
    "block_pulses": 500_000,
    "cost_pulses": 10_000_000,
    "gbm_iter": 30,
    "mlp_iter": 30,
}


def security_tables(
    out: dict[str, Any],
) -> list[tuple[str, list[str], list[list[str]], str | None, int]]:
    """(title, headers, rows, caption, text columns) of each table of the benchmark output."""
    from qnetai.ai.security.benchmark import METHODS

    def f(x: Any, spec: str = ".2f") -> str:
        return "-" if x is None or (isinstance(x, float) and x != x) else format(x, spec)

    cfg = out["config"]
    k = cfg["link_window_blocks"]
    block = f"{cfg['block_pulses']:.0e} pulses ({cfg['block_ms']:g} ms)"
    tables: list[tuple[str, list[str], list[list[str]], str | None, int]] = []
    tables.append(
        (
            f"Operating points (blocks of {block}; link window K = {k} blocks)",
            [
                "method",
                "false alarms / block",
                "key kept (block)",
                "false alarms / link window",
                "key kept (link)",
            ],
            [
                [
                    m,
                    f(out["methods"][m]["false_alarm_rate"], ".3f"),
                    f(out["methods"][m]["key_kept"], ".3f"),
                    f(out["methods"][m]["link_false_alarm_rate"], ".3f"),
                    f(out["methods"][m]["link_key_kept"], ".3f"),
                ]
                for m in METHODS
            ],
            "thresholds calibrated on honest links at 1 % per block / per honest K-block window",
            1,
        )
    )
    head = ["family", "strength", "key cost", "mean QBER", "QBER abort"]
    for title, key, abort in (
        ("ROC AUC per block", "auc", "qber_abort_tpr"),
        ("TPR per block at 1 % false alarms per block", "tpr", "qber_abort_tpr"),
        (
            f"Per link: detected among the attack's first {k} blocks, at 1 % false alarms "
            f"per honest {k}-block window",
            "link_detected",
            "qber_abort_link",
        ),
    ):
        rows = [
            [
                c["family"],
                f"{c['strength']:g}",
                f(c.get("cost")),
                f(c["mean_qber"], ".3f"),
                f(c[abort]),
                *(f(c[m][key]) for m in METHODS),
            ]
            for c in out["cells"]
        ]
        tables.append((title, [*head, *METHODS], rows, None, 2))
    rows = [
        [
            c["family"],
            f"{c['strength']:g}",
            str(c["episodes"]),
            *(f(c[m]["link_delay_blocks"], ".1f") for m in METHODS),
        ]
        for c in out["cells"]
    ]
    tables.append(
        (
            f"Per link: mean delay in blocks after the onset (no alarm within {k} blocks "
            f"counts as {k}), at the per-link thresholds",
            ["family", "strength", "links", *METHODS],
            rows,
            None,
            2,
        )
    )
    fams = list(out["summary"][METHODS[0]]["families"])
    rows, rows_delay = [], []
    for m in METHODS:
        sm = out["summary"][m]
        vals = []
        for v in sm["families"].values():
            ci = v.get("link_detected_costly_ci95")
            band = f" [{ci[0]:.2f}-{ci[1]:.2f}]" if ci else ""
            vals.append(f"{f(v['min_tpr_costly'])} / {f(v.get('link_detected_costly'))}{band}")
        rows.append([m, *vals])
        rows_delay.append(
            [
                m,
                *(f(v["link_delay_blocks"], ".1f") for v in sm["families"].values()),
                f(sm["link_delay_blocks"], ".2f"),
                f(sm["link_delay_ratio"], ".2f"),
            ]
        )
    links = [str(v.get("links_costly", "-")) for v in out["summary"]["qber"]["families"].values()]
    tables.append(
        (
            "Per family, at strengths costing >= 10 % of the key: worst TPR per block / "
            "per-link detection pooled over those links [95 % Wilson interval]",
            ["method", *(f"{fam} ({n} links)" for fam, n in zip(fams, links, strict=True))],
            rows,
            None,
            1,
        )
    )
    tables.append(
        (
            f"Mean per-link delay in blocks, all strengths (no alarm within {k} blocks "
            f"counts as {k}); ratio = the QBER score's mean delay / this method's",
            ["method", *fams, "all", "QBER delay / delay"],
            rows_delay,
            f"data {out['timing_s']['data']:.0f} s, total {out['timing_s']['total']:.0f} s",
            1,
        )
    )
    return tables


def format_security_table(out: dict[str, Any]) -> str:
    """The tables of :func:`security_tables` as Markdown (for ``benchmarks/README.md``)."""
    lines: list[str] = []
    for title, headers, rows, caption, _ in security_tables(out):
        lines += ["", f"{title}:", ""]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|---" * len(headers) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        if caption:
            lines += ["", caption]
    return "\n".join(lines).lstrip("\n")


def qkd_params_command(
    seed: int = typer.Option(2, "--seed", min=0, help="Seed of the held-out conditions."),
    conditions: int = typer.Option(
        60, "--conditions", min=1, max=10_000, help="Held-out conditions (~0.1-0.4 s each)."
    ),
    polish: int = typer.Option(
        60, "--polish", min=0, help="Nelder-Mead evaluations after the network (0: none)."
    ),
    retune: bool = typer.Option(
        False, "--retune", help="Add fading links: fixed vs re-tuned parameters per block."
    ),
    retune_blocks: int = typer.Option(
        40, "--retune-blocks", min=1, max=2000, help="Blocks per fading link (with --retune)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """The shipped decoy-parameter network against the finite-key optimiser."""
    from qnetai.ai.qkd_params import format_qkd_params, run_qkd_params_benchmark
    from qnetai.cli._common import ProgressReporter, print_json

    with ProgressReporter("optimiser", "conditions") as rep:
        out = run_qkd_params_benchmark(
            seed=seed,
            n_conditions=conditions,
            polish_evaluations=polish,
            retune_blocks=retune_blocks if retune else 0,
            progress=rep.update,
        )
    if as_json:
        print_json(out)
        return
    print(format_qkd_params(out))


def register(app: typer.Typer) -> None:
    """Add ``dataset qkd-monitoring``, ``bench security`` and ``bench qkd-params``."""
    app.add_typer(dataset_app, name="dataset")
    commands: dict[str, Callable[..., Any]] = {
        "security": security_command,
        "qkd-params": qkd_params_command,
    }
    from qnetai.cli._registry import command_group

    bench_app = command_group(app, "bench", "Benchmarks.")
    for name, fn in commands.items():
        bench_app.command(name)(fn)
