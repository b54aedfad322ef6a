"""``qnetai kms``: the ETSI GS QKD 014 key-management service (``[service]`` extra).

- ``qnetai kms init-pki --sae A --sae B --out DIR``: test CA, KME and SAE certificates;
- ``qnetai kms serve SCENARIO --pki DIR --sae A=NODE --sae B=NODE [--db PATH|URL]``: serve keys
  over HTTPS with mutual TLS; prints the URL once it accepts connections;
- ``qnetai kms audit --db PATH|URL``: check the key store's invariants (SQLite file or
  ``postgresql://`` URL);
- ``qnetai kms openapi``: print the OpenAPI document of the API.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from qnetai.cli._common import exit_input_error, print_json

kms_app = typer.Typer(
    help="ETSI GS QKD 014 key-management service over the simulated network.",
    no_args_is_help=True,
)


def _no_secret(exc: BaseException) -> str:
    """The first line of a database error (never the URL's password: drivers omit it)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _sae_nodes(items: list[str]) -> dict[str, str]:
    from qnetai.errors import InputError
    from qnetai.kms.pki import PkiError, check_sae_id

    out: dict[str, str] = {}
    for item in items:
        sae, sep, node = item.partition("=")
        if not sep or not node:
            raise InputError(f"--sae {item!r}: expected SAE_ID=NODE")
        try:
            check_sae_id(sae)
        except PkiError as exc:
            raise InputError(str(exc)) from None
        if sae in out:
            raise InputError(f"--sae: SAE {sae!r} given twice")
        out[sae] = node
    return out


@kms_app.command("init-pki")
def init_pki_command(
    sae: Annotated[list[str], typer.Option("--sae", help="SAE ID (repeat for each SAE).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the CA, KME and SAE files.")],
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Validity (days).")] = 30,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print the written files as JSON.")
    ] = False,
) -> None:
    """Create a test CA, the KME's server certificate and one client certificate per SAE."""
    from qnetai.kms.pki import PkiError, init_pki

    try:
        files = init_pki(out, sae, days=days)
    except PkiError as exc:
        exit_input_error(exc)
    if json_out:
        print_json({"out": str(out), "files": files})
    else:
        for name, path in files.items():
            typer.echo(
                f"wrote {path}" + (" (private key, mode 0600)" if name.endswith(".key") else "")
            )


@kms_app.command("serve")
def serve_command(
    scenario: Annotated[
        str, typer.Argument(help="Scenario file or built-in name (e.g. metro-6g).")
    ],
    pki: Annotated[Path, typer.Option("--pki", help="Folder written by `qnetai kms init-pki`.")],
    sae: Annotated[list[str], typer.Option("--sae", help="SAE_ID=NODE (repeat for each SAE).")],
    db: Annotated[
        str, typer.Option("--db", help="SQLite file (WAL) or postgresql:// connection URL.")
    ] = "kms.sqlite",
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="0: an ephemeral port.")
    ] = 0,
    time_scale: Annotated[
        float,
        typer.Option("--time-scale", min=0, help="Simulated seconds of key generation per second."),
    ] = 1.0,
    key_size: Annotated[
        int, typer.Option("--key-size", min=8, help="Default key size (bits).")
    ] = 256,
    pool_capacity_bits: Annotated[
        int | None,
        typer.Option(
            "--pool-capacity-bits", min=1, help="Pool capacity (default: the scenario's)."
        ),
    ] = None,
    initial_pool_bits: Annotated[
        int | None,
        typer.Option(
            "--initial-pool-bits", min=0, help="Initial pool level (default: scenario's)."
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Override the scenario seed.")
    ] = None,
    synchronous: Annotated[
        str, typer.Option("--synchronous", help="SQLite: full or normal.")
    ] = "full",
    engine: Annotated[
        bool,
        typer.Option("--engine", help="Rates from a full run (engine + key network)."),
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "warning",
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log requests (no keys).")
    ] = False,
) -> None:
    """Serve ETSI 014 keys from the scenario's simulated key network (mutual TLS)."""
    from qnetai.errors import InputError
    from qnetai.kms.service import build_service, run_service

    try:
        service = build_service(
            scenario,
            _sae_nodes(sae),
            db_path=db,
            time_scale=time_scale,
            key_size=key_size,
            pool_capacity_bits=pool_capacity_bits,
            initial_pool_bits=initial_pool_bits,
            seed=seed,
            synchronous=synchronous,
            engine=engine,
        )
    except (InputError, ValueError) as exc:
        exit_input_error(exc)
    except Exception as exc:  # the database refused the connection (psycopg/sqlite3 errors)
        exit_input_error(InputError(f"--db: cannot open the key store: {_no_secret(exc)}"))
    for name in ("ca.pem", "kme.pem", "kme.key"):
        if not (pki / name).is_file():
            exit_input_error(InputError(f"--pki {pki}: {name} missing (run `qnetai kms init-pki`)"))
    info = service.describe()
    for p in info["pairs"]:
        path = ">".join(p["path"]) if p["path"] else "no QKD path"
        typer.echo(f"pair {p['saes'][0]}-{p['saes'][1]}: {p['rate_bps']:.4g} bit/s ({path})")

    def ready(url: str) -> None:
        typer.echo(f"KMS listening on {url}")
        sys.stdout.flush()

    run_service(
        service,
        pki_dir=pki,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        on_ready=ready,
    )


@kms_app.command("audit")
def audit_command(
    db: Annotated[str, typer.Option("--db", help="SQLite file or postgresql:// URL.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Check the key store's invariants (exit 1 if one fails)."""
    from qnetai.errors import InputError
    from qnetai.kms.store import KeyStore, is_postgres_url

    if not is_postgres_url(db) and not Path(db).is_file():
        exit_input_error(InputError(f"--db {db}: no such file"))
    try:
        store = KeyStore(db)
    except Exception as exc:  # psycopg / sqlite3 connection errors
        exit_input_error(InputError(f"--db: cannot open the key store: {_no_secret(exc)}"))
    try:
        result = store.audit()
    finally:
        store.close()
    if json_out:
        print_json(result)
    else:
        for k, v in result.items():
            typer.echo(f"{k}: {v}")
    if not result["ok"]:
        raise typer.Exit(1)


@kms_app.command("openapi")
def openapi_command() -> None:
    """Print the OpenAPI document of the ETSI 014 API."""
    from qnetai.kms.app import KMSConfig, create_app
    from qnetai.kms.store import KeyStore

    print_json(create_app(KeyStore(":memory:"), KMSConfig(sae_kme={})).openapi())


def register(app: typer.Typer) -> None:
    """Attach ``qnetai kms``."""
    app.add_typer(kms_app, name="kms")
