"""The list of command modules; each exposes ``register(app)``."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import typer

#: Modules under ``qnetai.cli`` that add commands. Order is the order in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "run_cmd",
    "scenario_cmd",
    "chain_cmd",
    "physics_cmd",
    "qkd_cmd",
    "train_cmd",
    "bench_cmd",
    "security_cmd",
    "faults_cmd",
    "qec_cmd",
    "kms_cmd",
    "tomography_cmd",
    "optimise_cmd",
    "serve_cmd",
    "demo_cmd",
    "sweep_cmd",
    "qml_cmd",
    "report_cmd",
)


def register_all(app: typer.Typer, *, modules: Sequence[str] | None = None) -> None:
    """Import every command module that exists and let it register its commands.

    ``modules``: only these (still in :data:`COMMAND_MODULES` order); None: all.
    """
    for name in COMMAND_MODULES:
        if modules is not None and name not in modules:
            continue
        try:
            module = importlib.import_module(f"qnetai.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"qnetai.cli.{name}":
                continue  # not built yet
            raise
        module.register(app)


def command_group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-app ``name`` of ``app`` (``bench``, ``train`` ...), attached now if missing.

    Several command modules add commands to one group; whichever registers first creates it.
    """
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    sub = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub
