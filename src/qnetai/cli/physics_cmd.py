"""``qnetai physics``: headline physics figures of one fibre link with a midpoint station."""

from __future__ import annotations

from typing import Any

import typer


def physics_command(
    length_km: float = typer.Option(50.0, "--length-km", min=0.0, help="Fibre length (km)."),
    t_coh_s: float = typer.Option(
        1.0, "--t-coh-s", help="Memory coherence time (s), > 0 (inf: no decay)."
    ),
    attenuation_db_per_km: float = typer.Option(
        0.2, "--attenuation-db-per-km", min=0.0, help="Fibre attenuation (dB/km)."
    ),
    detector_efficiency: float = typer.Option(
        0.9, "--detector-efficiency", min=0.0, max=1.0, help="Detector efficiency."
    ),
    dark_count_probability: float = typer.Option(
        0.0,
        "--dark-count-probability",
        min=0.0,
        max=1.0,
        help="Dark-count probability per detector and window.",
    ),
    bright_state_parameter: float = typer.Option(
        0.05,
        "--bright-state-parameter",
        min=0.0,
        max=1.0,
        help="Single-click bright-state parameter alpha.",
    ),
    fidelity: float = typer.Option(
        0.95, "--fidelity", min=0.0, max=1.0, help="Werner fidelity of the swapped/purified pairs."
    ),
    gate_fidelity: float = typer.Option(
        1.0, "--gate-fidelity", min=0.0, max=1.0, help="Two-qubit depolarising parameter g."
    ),
    measurement_error: float = typer.Option(
        0.0, "--measurement-error", min=0.0, max=1.0, help="Measurement bit-flip probability."
    ),
    speed_km_per_s: float = typer.Option(
        2.0e5, "--speed-km-per-s", help="Signal speed in fibre (km/s), > 0."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Transmittance, heralding (double/single click), PLOB bound, swap and purification."""
    from qnetai.cli._common import check_finite
    from qnetai.physics.summary import link_figures

    check_finite("--length-km", length_km)
    check_finite("--attenuation-db-per-km", attenuation_db_per_km)
    check_finite("--speed-km-per-s", speed_km_per_s)
    figs = link_figures(
        length_km=length_km,
        t_coh_s=t_coh_s,
        attenuation_db_per_km=attenuation_db_per_km,
        detector_efficiency=detector_efficiency,
        dark_count_probability=dark_count_probability,
        bright_state_parameter=bright_state_parameter,
        fidelity=fidelity,
        gate_fidelity=gate_fidelity,
        measurement_error=measurement_error,
        speed_km_per_s=speed_km_per_s,
    )
    if as_json:
        from qnetai.cli._common import print_json

        print_json(figs)
        return
    _print_table(figs)


def _print_table(figs: dict[str, Any]) -> None:
    from rich.table import Table

    from qnetai.cli._common import console

    inp = figs["inputs"]
    table = Table(
        title=f"Fibre link {inp['length_km']:g} km, midpoint station",
        caption=(
            f"{inp['attenuation_db_per_km']:g} dB/km, detector efficiency "
            f"{inp['detector_efficiency']:g}, dark counts {inp['dark_count_probability']:g}, "
            f"t_coh {inp['t_coh_s']:g} s; swap/purification on Werner F={inp['fidelity']:g}, "
            f"g={inp['gate_fidelity']:g}, measurement error {inp['measurement_error']:g}"
        ),
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    link, dc, sc, bounds = figs["link"], figs["double_click"], figs["single_click"], figs["bounds"]
    rows = [
        ("transmittance (whole fibre)", link["transmittance"]),
        ("transmittance to midpoint", link["transmittance_to_midpoint"]),
        ("heralding round trip (s)", link["round_trip_s"]),
        ("double click: p per attempt", dc["p_success"]),
        ("double click: fidelity", dc["fidelity"]),
        ("double click: fidelity at herald", dc["fidelity_at_herald"]),
        ("double click: rate (Hz)", dc["rate_hz"]),
        (f"single click (alpha={inp['bright_state_parameter']:g}): p per attempt", sc["p_success"]),
        ("single click: fidelity", sc["fidelity"]),
        ("single click: fidelity at herald", sc["fidelity_at_herald"]),
        ("single click: rate (Hz)", sc["rate_hz"]),
        ("PLOB bound (bits/use)", bounds["plob_bits_per_use"]),
        ("TGW bound (bits/use)", bounds["tgw_bits_per_use"]),
        ("swap of two Werner pairs: fidelity", figs["swap"]["fidelity"]),
        ("BBPSSW one round: fidelity", figs["bbpssw"]["fidelity"]),
        ("BBPSSW one round: p success", figs["bbpssw"]["p_success"]),
        ("DEJMPS one round: fidelity", figs["dejmps"]["fidelity"]),
        ("DEJMPS one round: p success", figs["dejmps"]["p_success"]),
    ]
    for name, value in rows:
        table.add_row(name, format(value, ".6g"))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``qnetai physics`` to ``app``."""
    app.command("physics")(physics_command)
