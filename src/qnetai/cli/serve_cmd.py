"""``qnetai serve SCENARIO``: the KMS and its operator dashboard on one application.

Runs the scenario (engine and key network), fills the key pools of the given SAEs at its
key rates, monitors the QBER of every QKD link, and prints the dashboard's URL.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from qnetai.cli._common import exit_input_error

#: SAEs used when none is given: two per metro end node pair of metro-6g.
DEFAULT_SAES = ("A=metro-east", "B=metro-west", "C=bs-harbour", "D=bs-oldtown")


def serve_command(
    scenario: Annotated[
        str, typer.Argument(help="Scenario file or built-in name (e.g. metro-6g).")
    ],
    sae: Annotated[
        list[str] | None,
        typer.Option("--sae", help="SAE_ID=NODE (repeat; default: four SAEs of metro-6g)."),
    ] = None,
    db: Annotated[
        str, typer.Option("--db", help="SQLite file or postgresql:// URL of the key store.")
    ] = "kms.sqlite",
    pki: Annotated[
        Path | None,
        typer.Option("--pki", help="Serve HTTPS with these certificates (kms init-pki)."),
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0: ephemeral.")] = 8014,
    time_scale: Annotated[
        float,
        typer.Option("--time-scale", min=0, help="Simulated seconds of key generation per second."),
    ] = 1.0,
    interval_s: Annotated[
        float, typer.Option("--interval", min=0.05, help="Dashboard update period (s).")
    ] = 1.0,
    monitor_s: Annotated[
        float, typer.Option("--monitor-interval", min=0.05, help="QBER monitor period (s).")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Override the seed.")] = None,
    no_engine: Annotated[
        bool, typer.Option("--no-engine", help="Key network only (no entanglement figures).")
    ] = False,
) -> None:
    """Serve the ETSI 014 KMS and the operator dashboard; prints the dashboard URL."""
    from qnetai.cli.kms_cmd import _no_secret, _sae_nodes
    from qnetai.errors import InputError
    from qnetai.kms.service import build_operator_service, run_operator_service

    if pki is not None:
        for name in ("ca.pem", "kme.pem", "kme.key"):
            if not (pki / name).is_file():
                exit_input_error(InputError(f"--pki {pki}: {name} missing"))
    try:
        service = build_operator_service(
            scenario,
            _sae_nodes(list(sae or DEFAULT_SAES)),
            db_path=db,
            time_scale=time_scale,
            seed=seed,
            engine=not no_engine,
            interval_s=interval_s,
        )
    except (InputError, ValueError) as exc:
        exit_input_error(exc)
    except Exception as exc:  # the database refused the connection
        exit_input_error(InputError(f"--db: cannot open the key store: {_no_secret(exc)}"))

    def ready(url: str) -> None:
        typer.echo(f"dashboard: {url}")
        sys.stdout.flush()

    try:
        run_operator_service(
            service,
            pki_dir=pki,
            host=host,
            port=port,
            monitor_interval_s=monitor_s,
            on_ready=ready,
        )
    except OSError as exc:  # port in use, address not available
        exit_input_error(InputError(f"--host/--port: {exc.strerror or exc}"))


def register(app: typer.Typer) -> None:
    """Attach ``qnetai serve``."""
    app.command("serve")(serve_command)
