"""``qnetai dataset qec``, ``train qec`` and ``bench qec``: quantum error correction."""

from __future__ import annotations

from typing import Any

import typer

_CODE = typer.Option("surface", "--code", help="surface (rotated) or repetition.")
_NOISE = typer.Option("depolarizing", "--noise", help="depolarizing or si1000.")


def _experiment(code: str, distance: int, rounds: int | None, p: float, noise: str) -> Any:
    from qnetai.qec import MemoryExperiment

    return MemoryExperiment(
        code=code,  # type: ignore[arg-type]
        distance=distance,
        rounds=distance if rounds is None else rounds,
        p=p,
        noise=noise,  # type: ignore[arg-type]
    )


def dataset_qec_command(
    code: str = _CODE,
    distance: int = typer.Option(3, "--distance", help="Code distance."),
    rounds: int | None = typer.Option(None, "--rounds", help="Rounds (default: distance)."),
    p: float = typer.Option(0.001, "--p", help="Physical error rate."),
    noise: str = _NOISE,
    shots: str = typer.Option("100000", "--shots", help="Shots (e.g. 1e6)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Sampler seed."),
    out: str = typer.Option(..., "--out", help="Output .npz (only this file is written)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the metadata as JSON."),
) -> None:
    """Sample detection events and observable flips into a bit-packed .npz (no pickles)."""
    from qnetai.cli._common import console, parse_count, print_json
    from qnetai.qec import MAX_DATASET_BYTES, write_dataset

    n = parse_count(shots, "--shots")
    meta = write_dataset(
        _experiment(code, distance, rounds, p, noise),
        shots=n,
        seed=seed,
        out=out,
        overwrite=overwrite,
        max_bytes=MAX_DATASET_BYTES,
    )
    if as_json:
        print_json({**meta, "out": out})
    else:
        console.print(
            f"wrote {out}: {meta['shots']} shots, {meta['num_detectors']} detectors, "
            f"{meta['num_observables']} observable(s)"
        )


def train_qec_command(
    code: str = _CODE,
    distance: int = typer.Option(3, "--distance", help="Code distance."),
    rounds: int | None = typer.Option(None, "--rounds", help="Rounds (default: distance)."),
    p: float = typer.Option(0.005, "--p", help="Physical error rate of the training data."),
    noise: str = _NOISE,
    out: str = typer.Option(..., "--out", help="Checkpoint STEM (writes STEM.npz, STEM.json)."),
    steps: int = typer.Option(2000, "--steps", min=1, help="Optimiser steps."),
    batch_size: int = typer.Option(512, "--batch-size", min=1, help="Shots per step."),
    chunk_shots: int = typer.Option(65536, "--chunk-shots", min=1, help="Shots drawn at once."),
    channels: str = typer.Option("16,16", "--channels", help="Conv channels per layer."),
    hidden: int = typer.Option(128, "--hidden", min=1, help="Hidden units of the dense layer."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate."),
    lr_schedule: str = typer.Option("constant", "--lr-schedule", help="constant or cosine."),
    max_cpu_s: float | None = typer.Option(
        None, "--max-cpu-s", help="Stop after this many CPU seconds (s)."
    ),
    max_wall_s: float | None = typer.Option(
        None, "--max-wall-s", help="Stop after this many wall-clock seconds (s)."
    ),
    device: str = typer.Option("cpu", "--device", help="cpu, or cuda for an optional GPU."),
    workers: int = typer.Option(
        0, "--workers", min=0, help="Processes drawing and pre-decoding data ahead (0: inline)."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Data and initialisation seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the checkpoint at --out."),
    as_json: bool = typer.Option(False, "--json", help="Print the final info as JSON."),
) -> None:
    """Train the learned decoder (3D conv net over detection events, residual over matching)."""
    from pathlib import Path

    from qnetai.cli._common import console, print_json
    from qnetai.errors import InputError
    from qnetai.qec import TrainConfig, train_decoder

    stem = Path(out)
    if not resume and (stem.with_suffix(".npz").exists() or stem.with_suffix(".json").exists()):
        raise InputError(f"{out}.npz/.json exists; pass --resume to continue it")
    try:
        chans = tuple(int(c) for c in channels.split(",") if c.strip())
    except ValueError:
        raise InputError(f"--channels={channels!r} must be comma-separated integers") from None
    cfg = TrainConfig(
        steps=steps,
        batch_size=batch_size,
        chunk_shots=chunk_shots,
        channels=chans,
        hidden=hidden,
        lr=lr,
        lr_schedule=lr_schedule,
        seed=seed,
        max_cpu_s=max_cpu_s,
        max_wall_s=max_wall_s,
        device=device,
        workers=workers,
    )

    def show(info: dict[str, Any]) -> None:
        if not as_json:
            console.print(f"step {info['step']}: loss {info['loss']:.4f}, {info['cpu_s']} CPU s")

    model = train_decoder(
        _experiment(code, distance, rounds, p, noise),
        out=stem,
        config=cfg,
        resume=resume,
        progress=show,
    )
    if as_json:
        print_json(model.info)


def bench_qec_command(
    code: str = _CODE,
    distance: int = typer.Option(3, "--distance", help="Code distance."),
    rounds: int | None = typer.Option(None, "--rounds", help="Rounds (default: distance)."),
    p: float = typer.Option(0.005, "--p", help="Physical error rate."),
    noise: str = _NOISE,
    shots: str = typer.Option("100000", "--shots", help="Shots, the same for every decoder."),
    seed: int = typer.Option(0, "--seed", min=0, help="Sampler seed."),
    decoders: str = typer.Option(
        "",
        "--decoders",
        help="Comma-separated (default: all that apply): " + "matching, "
        "matching-correlated, lookup, bposd, neural, neural-gated (the network only where "
        "plain and correlated matching disagree).",
    ),
    model: str | None = typer.Option(None, "--model", help="Learned model name or STEM.npz."),
    lookup_train_shots: str = typer.Option("2e6", "--lookup-train-shots", help="Lookup table."),
    bposd_shots: str = typer.Option("2000", "--bposd-shots", help="Shots BP+OSD decodes."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Logical error rate per round (95% Wilson CI) and throughput of each decoder, same shots."""
    from qnetai.cli._common import parse_count, print_json
    from qnetai.qec import bench_qec

    chosen = [d.strip() for d in decoders.split(",") if d.strip()] or None
    out = bench_qec(
        _experiment(code, distance, rounds, p, noise),
        shots=parse_count(shots, "--shots"),
        seed=seed,
        decoders=chosen,
        model=model,
        lookup_train_shots=parse_count(lookup_train_shots, "--lookup-train-shots"),
        bposd_shots=parse_count(bposd_shots, "--bposd-shots"),
    )
    if as_json:
        print_json(out)
        return
    _print(out)


def _print(out: dict[str, Any]) -> None:
    from qnetai.cli._common import console, print_table

    c = out["config"]
    rows = []
    for r in out["rows"]:
        lo, hi = r["ler_per_shot_ci"]
        rlo, rhi = r["ler_per_round_ci"]
        ratio = r.get("us_per_round_vs_matching")
        rows.append(
            [
                r["decoder"],
                str(r["shots"]),
                str(r["errors"]),
                f"{r['ler_per_shot']:.3e} [{lo:.2e}, {hi:.2e}]",
                f"{r['ler_per_round']:.3e} [{rlo:.2e}, {rhi:.2e}]",
                f"{r['shots_per_s']:.3g}",
                f"{r['us_per_round']:.3g}",
                "-" if ratio is None else f"{ratio:.3g}",
            ]
        )
    print_table(
        f"{c['code']} d={c['distance']}, {c['rounds']} rounds, p={c['p']} ({c['noise']}), "
        f"seed {c['seed']}; 95% Wilson intervals",
        [
            "decoder",
            "shots",
            "errors",
            "LER/shot [CI]",
            "LER/round [CI]",
            "shots/s",
            "µs/round",
            "x matching time",
        ],
        rows,
        caption="µs/round: CPU time (time.process_time) per shot and round; x matching time: "
        "that over plain matching's on the same shots",
    )
    for cmp in out["comparisons"]:
        verdict = "intervals separate" if cmp["intervals_separate"] else "intervals overlap"
        ratio = "-" if cmp["ratio"] is None else f"{cmp['ratio']:.3f}"
        console.print(
            f"{cmp['decoder']} / {cmp['versus']}"
            f"{' (best classical)' if cmp['versus_is_best_classical'] else ''}: ratio {ratio}, "
            f"{verdict}; "
            f"paired: only {cmp['decoder']} wrong {cmp['only_decoder_wrong']}, only "
            f"{cmp['versus']} wrong {cmp['only_versus_wrong']} (z = {cmp['paired_z']:.2f})"
        )


def _floats(text: str, option: str) -> list[float]:
    from qnetai.errors import InputError

    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{option}={text!r} must be comma-separated numbers") from None
    if not out:
        raise InputError(f"{option} is empty")
    return out


def _ints(text: str, option: str) -> list[int]:
    from qnetai.errors import InputError

    try:
        out = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{option}={text!r} must be comma-separated integers") from None
    if not out:
        raise InputError(f"{option} is empty")
    return out


def bench_qec_threshold_command(
    code: str = _CODE,
    noise: str = _NOISE,
    profile: str = typer.Option(
        "quick", "--profile", help="quick (about 2 CPU min) or full; explicit options override."
    ),
    distances: str | None = typer.Option(None, "--distances", help="e.g. 3,5,7."),
    sweep_p: str | None = typer.Option(None, "--sweep-p", help="e.g. 0.004,0.006,0.008."),
    decoders: str = typer.Option(
        "matching,matching-correlated",
        "--decoders",
        help="Comma-separated: matching, matching-correlated, neural, neural-gated (where a "
        "model fits d).",
    ),
    max_shots: str | None = typer.Option(None, "--max-shots", help="Shots per point at most."),
    max_errors: str | None = typer.Option(
        None, "--max-errors", help="Stop a point once every decoder has this many errors."
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="Sampler and bootstrap seed."),
    engine: str = typer.Option("inline", "--engine", help="inline (same shots, seeded) or sinter."),
    method: str = typer.Option("crossing", "--method", help="crossing or ansatz."),
    bootstrap: int = typer.Option(200, "--bootstrap", min=0, help="Bootstrap resamples."),
    plot: str | None = typer.Option(
        None, "--plot", help="Write a self-contained plotly HTML here (only this file)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Logical error rate per round vs p over distances, and a threshold estimate per decoder."""
    import numpy as np

    from qnetai.cli._common import console, parse_count, print_json
    from qnetai.errors import InputError
    from qnetai.qec._threshold import (
        PROFILES,
        check_plot_target,
        sweep_threshold,
        threshold_plot_html,
        threshold_table,
        write_threshold_plot,
    )

    if profile not in PROFILES:
        raise InputError(f"--profile={profile!r} is not one of {', '.join(PROFILES)}")
    prof = PROFILES[profile]
    if plot is not None:  # check the target before the (long) sweep
        check_plot_target(plot)
    sweep = sweep_threshold(
        distances=prof["distances"] if distances is None else _ints(distances, "--distances"),
        ps=prof["ps"] if sweep_p is None else _floats(sweep_p, "--sweep-p"),
        decoders=[d.strip() for d in decoders.split(",") if d.strip()],
        noise=noise,
        code=code,
        max_shots=prof["max_shots"] if max_shots is None else parse_count(max_shots, "--max-shots"),
        max_errors=(
            prof["max_errors"] if max_errors is None else parse_count(max_errors, "--max-errors")
        ),
        seed=seed,
        engine=engine,
        progress=None if as_json else (lambda msg: console.print(msg)),
    )
    sweep["thresholds"] = threshold_table(
        sweep, method=method, bootstrap=bootstrap, rng=np.random.default_rng(seed)
    )
    if plot is not None:
        write_threshold_plot(plot, threshold_plot_html(sweep, sweep["thresholds"]))
        sweep["plot"] = plot
    if as_json:
        print_json(sweep)
        return
    _print_threshold(sweep)


def _print_threshold(sweep: dict[str, Any]) -> None:
    from qnetai.cli._common import console, print_table

    c = sweep["config"]
    rows = []
    for r in sweep["points"]:
        lo, hi = r["ler_per_round_ci"]
        rows.append(
            [
                r["decoder"],
                str(r["distance"]),
                f"{r['p']:g}",
                str(r["shots"]),
                str(r["errors"]),
                f"{r['ler_per_round']:.3e} [{lo:.2e}, {hi:.2e}]",
            ]
        )
    print_table(
        f"{c['code']} code, rounds = d, {c['noise']} noise; LER per round, 95% Wilson",
        ["decoder", "d", "p", "shots", "errors", "LER/round [CI]"],
        rows,
    )
    for s in sweep["skipped"]:
        console.print(f"skipped {s['decoder']} at d={s['distance']}: {s['reason']}")
    for name, th in sweep["thresholds"].items():
        if th["p_th"] is None:
            console.print(f"{name}: no threshold estimate ({th.get('note', '')})")
            continue
        ci = th["ci"]
        ci_txt = "" if ci is None else f", 95% bootstrap [{ci[0]:.5f}, {ci[1]:.5f}]"
        console.print(f"{name}: threshold ≈ {th['p_th']:.5f} ({th['method']}{ci_txt})")
    if "plot" in sweep:
        console.print(f"wrote {sweep['plot']}")
    console.print(f"{c['cpu_s']:.1f} CPU s, load average {c['loadavg'][0]:.2f}")


def register(app: typer.Typer) -> None:
    """Attach ``qnetai dataset qec``, ``qnetai train qec`` and ``qnetai bench qec``."""
    from qnetai.cli._registry import command_group

    command_group(app, "dataset", "Training data sets.").command("qec")(dataset_qec_command)
    command_group(app, "train", "Train learned policies.").command("qec")(train_qec_command)
    bench = command_group(app, "bench", "Benchmarks.")
    bench.command("qec")(bench_qec_command)
    bench.command("qec-threshold")(bench_qec_threshold_command)
