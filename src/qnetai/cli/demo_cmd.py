"""``qnetai demo secure-fl``: federated learning with QKD one-time-pad masks (ETSI 014 keys)."""

from __future__ import annotations

from typing import Annotated

import typer

from qnetai.cli._common import exit_input_error, print_json

demo_app = typer.Typer(help="Demonstrations over the simulated network.", no_args_is_help=True)


@demo_app.command("secure-fl")
def secure_fl_command(
    rounds: Annotated[int, typer.Option("--rounds", min=1, max=1000)] = 10,
    local_epochs: Annotated[int, typer.Option("--local-epochs", min=1, max=1000)] = 20,
    round_s: Annotated[
        float, typer.Option("--round-s", min=1e-9, help="Simulated seconds per round.")
    ] = 1.0,
    on_missing_key: Annotated[
        str, typer.Option("--on-missing-key", help="proceed (drop clients) or wait.")
    ] = "proceed",
    max_wait_s: Annotated[
        float, typer.Option("--max-wait-s", min=0, help="wait: simulated seconds, then drop.")
    ] = 5.0,
    eve_link: Annotated[
        str | None, typer.Option("--eve-link", help="QKD link with an eavesdropper.")
    ] = None,
    eve_from: Annotated[int, typer.Option("--eve-from", min=0, help="First round of Eve.")] = 0,
    eve_until: Annotated[
        int, typer.Option("--eve-until", min=0, help="Round Eve leaves (exclusive).")
    ] = 10**9,
    eve_fraction: Annotated[
        float, typer.Option("--eve-fraction", min=0, max=1, help="Pulses intercepted.")
    ] = 0.8,
    pool_capacity_bits: Annotated[
        int | None, typer.Option("--pool-capacity-bits", min=1, help="Default: scenario's.")
    ] = None,
    initial_pool_bits: Annotated[
        int | None, typer.Option("--initial-pool-bits", min=0, help="Default: scenario's.")
    ] = None,
    ring_bits: Annotated[int, typer.Option("--ring-bits", help="32 or 64.")] = 32,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    kms_url: Annotated[
        str | None,
        typer.Option("--kms-url", help="A served KMS (qnetai kms serve): keys over mutual TLS."),
    ] = None,
    pki: Annotated[
        str | None, typer.Option("--pki", help="With --kms-url: the init-pki folder.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Federated learning with QKD one-time-pad masks drawn through the ETSI 014 API.

    Federated averaging of a logistic regression over 4 hospitals on metro-6g; key
    accounting; an eavesdropper on a link and key exhaustion (--on-missing-key).
    """
    from qnetai.errors import InputError
    from qnetai.kms.secure_fl import SecureFLConfig, run_secure_fl

    try:
        cfg = SecureFLConfig(
            rounds=rounds,
            local_epochs=local_epochs,
            round_s=round_s,
            on_missing_key=on_missing_key,  # type: ignore[arg-type]  # validated by the config
            max_wait_s=max_wait_s,
            eve_link=eve_link,
            eve_rounds=(eve_from, eve_until),
            eve_fraction=eve_fraction,
            pool_capacity_bits=pool_capacity_bits,
            initial_pool_bits=initial_pool_bits,
            ring_bits=ring_bits,
            seed=seed,
            kms_url=kms_url,
            pki_dir=pki,
        )
        result = run_secure_fl(cfg)
    except (InputError, ValueError, FileNotFoundError) as exc:
        exit_input_error(exc)
    except OSError as exc:  # requests' connection errors derive from OSError
        exit_input_error(ValueError(f"--kms-url {kms_url}: cannot reach the KMS ({exc})"))
    except RuntimeError as exc:  # a served KMS refused a call (e.g. an unregistered SAE: 401)
        if kms_url is None:
            raise
        exit_input_error(ValueError(f"--kms-url {kms_url}: {exc}"))
    if json_out:
        print_json(result.to_dict())
        return
    for r in result.rounds:
        line = f"round {r['round']:3d}: {len(r['participants'])} clients, acc {r['accuracy']:.3f}"
        if "max_abs_error_vs_plain_sum" in r:
            line += f", |sum error| {r['max_abs_error_vs_plain_sum']:.1e}"
        line += f", key {r['key_bits_used']} bits"
        if r["waited_s"]:
            line += f", waited {r['waited_s']:g} s"
        typer.echo(line)
        for who, why in r["dropped"].items():
            typer.echo(f"    dropped {who}: {why}")
        for alert in r["alerts"]:
            typer.echo(f"    alert: {alert}")
        if "skipped" in r:
            typer.echo(f"    {r['skipped']}")
    k = result.key_accounting
    typer.echo(
        f"key: {k['bits_per_parameter_per_pair_per_round']} bits per parameter per pair per "
        f"round, {k['parameters']} parameters: {k['bits_per_pair_per_round']} bits per pair, "
        f"{k['bits_per_round_all_pairs']} per round; drawn {k['key_bits_drawn']} bits"
    )
    typer.echo(
        f"slowest pair rate now {k['slowest_pair_rate_bps_now']:.4g} bit/s: "
        f"{k['rounds_per_s_sustainable_now']:.4g} rounds/s sustainable"
    )
    typer.echo(
        f"test accuracy: secure {result.accuracy_secure:.3f}, plain FedAvg "
        f"{result.accuracy_plain_fedavg:.3f}, centralised {result.accuracy_centralised:.3f}"
    )


def register(app: typer.Typer) -> None:
    """Attach ``qnetai demo``."""
    app.add_typer(demo_app, name="demo")
