"""``qnetai train routing|allocation|chain``: train a learned policy, save it (npz + json).

The saved files are inert data (weights and a JSON description, :mod:`qnetai.control.model_files`)
and are written only inside the folder the user names.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer


def train_command(
    kind: str = typer.Argument(..., help="routing or allocation."),
    topology: str = typer.Option("waxman", "--topology", help="waxman or a built-in scenario."),
    nodes: int = typer.Option(50, "--nodes", min=3, max=2000, help="Waxman nodes."),
    requests: int = typer.Option(10, "--requests", min=1, max=200, help="Requests per slot."),
    timesteps: int = typer.Option(20_000, "--timesteps", min=1, help="PPO environment steps."),
    imitation_slots: int = typer.Option(
        32,
        "--imitation-slots",
        min=0,
        help="MILP-solved slots for behaviour-cloning pre-training (routing; 0 = none).",
    ),
    eval_every: int = typer.Option(2048, "--eval-every", min=0, help="Evaluate every N steps."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed (also the first topology seed)."),
    out: str = typer.Option(..., "--out", help="Output path: writes OUT.npz and OUT.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the saved configuration as JSON."),
) -> None:
    """Train with MaskablePPO (after optional imitation of the MILP); load with rl:OUT."""
    from qnetai.ai.training import train
    from qnetai.control.model_files import check_model_name
    from qnetai.errors import InputError

    if out.endswith(("/", "\\")) or Path(out).name in ("", ".", ".."):
        raise InputError(
            f"--out must end in a file name: writes OUT.npz and OUT.json (got {out!r})"
        )
    check_model_name(Path(out).name, field="--out (its file name)")
    run = functools.partial(
        train,
        kind,
        topology=topology,
        nodes=nodes,
        requests=requests,
        timesteps=timesteps,
        seed=seed,
        out=out,
        eval_every=eval_every,
        imitation_slots=imitation_slots,
    )
    if as_json:
        from qnetai.cli._common import print_json

        print_json(run())
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from qnetai.cli._common import console

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("training", total=timesteps)

        def progress(done: int, total: int, info: dict) -> None:
            desc = "training"
            if "eval" in info:
                desc = f"eval {info['eval']:.2f} pairs/slot (q-cast {info['q_cast']:.2f})"
            bar.update(task, completed=done, description=desc)

        cfg = run(progress=progress)
    console.print(
        f"saved {cfg['model_path']} (final eval {cfg['final_eval']:.2f} expected "
        f"pairs/slot, q-cast {cfg['q_cast_eval']:.2f}); use --methods rl:{out}"
    )


def train_chain_command(
    timesteps: int = typer.Option(150_000, "--timesteps", min=1, help="PPO environment steps."),
    seed: int = typer.Option(0, "--seed", min=0, help="Training seed."),
    name: str = typer.Option(
        "custom",
        "--name",
        help="Model name (letters, digits, '.', '_', '-'): writes "
        "chain-NAME.npz and chain-NAME.json in --out.",
    ),
    out: str = typer.Option(".", "--out", help="Output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the saved metadata as JSON."),
) -> None:
    """Train MaskablePPO on qnetai/RepeaterChain-v0 (the shipped model's chain settings)."""
    from qnetai.ai.chain_training import train_chain
    from qnetai.control.model_files import check_model_name

    check_model_name(name, field="--name")
    if as_json:
        from qnetai.cli._common import print_json

        print_json(train_chain(name=name, timesteps=timesteps, seed=seed, out_dir=out))
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from qnetai.cli._common import console

    with Progress(
        TextColumn("training chain policy"), BarColumn(), TimeRemainingColumn(), console=console
    ) as bar:
        task = bar.add_task("train", total=1.0)
        meta = train_chain(
            name=name,
            timesteps=timesteps,
            seed=seed,
            out_dir=out,
            progress=lambda f: bar.update(task, completed=f),
        )
    console.print(f"saved {', '.join(meta['paths'])}")


def register(app: typer.Typer) -> None:
    """Attach ``qnetai train routing|allocation|chain``."""
    train_app = typer.Typer(help="Train learned control policies.", no_args_is_help=True)

    def routing(**kwargs: Any) -> None:
        train_command("routing", **kwargs)

    def allocation(**kwargs: Any) -> None:
        train_command("allocation", **kwargs)

    # routing and allocation share train_command's options, less its ``kind`` argument
    for name, fn in (("routing", routing), ("allocation", allocation)):
        # typeshed does not declare __signature__ on functions; inspect.signature reads it
        fn.__signature__ = _without_kind(train_command)  # type: ignore[attr-defined]
        fn.__doc__ = f"Train the {name} policy (MaskablePPO after optional MILP imitation)."
        train_app.command(name)(fn)
    train_app.command("chain")(train_chain_command)
    app.add_typer(train_app, name="train")


def _without_kind(fn: Callable[..., object]) -> inspect.Signature:
    """``fn``'s signature without ``kind``, annotations resolved (typer reads them)."""
    import typing

    hints = typing.get_type_hints(fn)
    sig = inspect.signature(fn)
    return sig.replace(
        parameters=[
            p.replace(annotation=hints[p.name]) for p in sig.parameters.values() if p.name != "kind"
        ]
    )
