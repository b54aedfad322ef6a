"""``qnetai qkd simulate``: pulse-level decoy-state BB84 from pulses to the final key.

``simulate_command`` is registered by :mod:`qnetai.cli.qkd_cmd` as ``qkd simulate``;
``register(app)`` adds it to a bare typer app (tests). Its link flags and defaults are
those of ``qkd rate`` (:mod:`qnetai.cli.qkd_cmd`).
"""

from __future__ import annotations

import math

import typer

from qnetai.cli._common import parse_count
from qnetai.cli.qkd_cmd import (
    afterpulse_option,
    attenuation_option,
    build_channel,
    distance_option,
    e_detector_option,
    eta_bob_option,
    y0_option,
)

#: :data:`qnetai.config.models.RECONCILIATION_METHODS`, written out so that ``qnetai --help``
#: does not import the config models (a test checks they are that tuple).
RECONCILIATION_METHODS: tuple[str, ...] = ("cascade", "cascade-option7", "cascade-original", "ldpc")

__all__ = ["parse_count", "register", "simulate_command"]


def simulate_command(
    distance_km: float = distance_option(),
    pulses: str = typer.Option("1e7", "--pulses", help="Pulses sent (e.g. 1e8)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (>= 0)."),
    attack: str = typer.Option(
        None, "--attack", help="intercept-resend | pns | blinding (default: none)."
    ),
    attack_strength: float = typer.Option(
        0.0, "--attack-strength", help="Fraction of pulses attacked, in [0, 1]."
    ),
    reconciliation: str = typer.Option(
        RECONCILIATION_METHODS[0],
        "--reconciliation",
        help=" | ".join(RECONCILIATION_METHODS) + " | an import path 'package.module:Name'.",
    ),
    mu: float = typer.Option(0.5, "--mu", help="Signal intensity."),
    nu: float = typer.Option(0.1, "--nu", help="Decoy intensity."),
    p_mu: float = typer.Option(0.7, "--p-mu", help="Probability of the signal class."),
    p_nu: float = typer.Option(0.2, "--p-nu", help="Probability of the decoy class."),
    p_vacuum: float = typer.Option(0.1, "--p-vacuum", help="Probability of the vacuum class."),
    p_z: float = typer.Option(0.5, "--p-z", help="Z-basis probability (Alice and Bob)."),
    attenuation_db_per_km: float = attenuation_option(),
    eta_bob: float = eta_bob_option(),
    y0: float = y0_option(),
    e_detector: float = e_detector_option(),
    afterpulse_probability: float = afterpulse_option(),
    finite_key: bool = typer.Option(False, "--finite-key", help="Lim et al. finite-key length."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Simulate decoy-state BB84 pulse by pulse and print the key figures.

    Pulses are simulated in blocks in bounded memory (runs whose raw key would not fit are
    refused up front); progress shows on stderr and Ctrl-C stops cleanly (exit 130).
    """
    import numpy as np

    from qnetai.cli._common import (
        ProgressReporter,
        console,
        exit_input_error,
        exit_interrupted,
        print_json,
    )
    from qnetai.errors import InputError
    from qnetai.qkd.pipeline import run_bb84

    reporter = ProgressReporter("qkd simulate", "pulses")
    try:
        n = parse_count(pulses)
        channel = build_channel(
            attenuation_db_per_km=attenuation_db_per_km,
            eta_bob=eta_bob,
            y0=y0,
            e_detector=e_detector,
            afterpulse_probability=afterpulse_probability,
        )
        with reporter:
            result = run_bb84(
                distance_km=distance_km,
                pulses=n,
                rng=np.random.default_rng(seed),
                mu=mu,
                nu=nu,
                p_mu=p_mu,
                p_nu=p_nu,
                p_vacuum=p_vacuum,
                p_z=p_z,
                channel=channel,
                attack=attack or None,
                attack_strength=attack_strength,
                reconciliation=reconciliation,
                finite_key=finite_key,
                progress=lambda stage, done, total: reporter.update(done, total, unit=stage),
            )
    except InputError as exc:
        exit_input_error(exc)
    except KeyboardInterrupt:
        exit_interrupted(f"after {reporter.summary()}; no key produced")
    d = result.to_dict()
    d["seed"] = seed
    d["channel"] = channel.to_dict()
    if json_out:
        print_json(d)
        return
    _print_human(d, console)


def _fmt(x: object) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "nan"
        return f"{x:.4g}"
    return str(x)


def _print_human(d: dict, console) -> None:
    from rich.text import Text

    from qnetai.cli._common import print_table

    head = f"BB84 decoy-state simulation: {d['distance_km']} km, {d['pulses']:.3g} pulses"
    if d["attack"]:
        head += f", attack {d['attack']} (strength {d['attack_strength']})"
    console.print(Text(head, style="bold"))
    table_rows = []
    for name in ("signal", "decoy", "vacuum"):
        g, q = d["gains"][name], d["qber"][name]
        table_rows.append(
            [
                name,
                _fmt(d["detection_gains"][name]),
                _fmt(g["z"]),
                _fmt(g["x"]),
                _fmt(q["z"]),
                _fmt(q["x"]),
            ]
        )
    print_table(
        "Per intensity class (sifted)",
        ["class", "detection gain", "gain Z", "gain X", "QBER Z", "QBER X"],
        table_rows,
        out=console,
    )
    rows = [
        ("Y0 (Z / X)", f"{_fmt(d['y0']['z'])} / {_fmt(d['y0']['x'])}"),
        ("Y1 lower (Z / X)", f"{_fmt(d['y1_lower']['z'])} / {_fmt(d['y1_lower']['x'])}"),
        ("e1 upper (Z / X)", f"{_fmt(d['e1_upper']['z'])} / {_fmt(d['e1_upper']['x'])}"),
        ("phase error bound", _fmt(d["phase_error_upper"])),
        ("sifted bits", _fmt(d["sifted_bits"])),
        ("raw key bits (Z)", _fmt(d["key_bits"])),
        ("key QBER", _fmt(d["qber_key"])),
        ("double-click rate", _fmt(d["double_click_rate"])),
        ("after-pulse rate (est.)", _fmt(d["afterpulse_rate"])),
        ("leaked bits (EC)", _fmt(d["leaked_bits"])),
        ("EC efficiency f", _fmt(d["reconciliation_efficiency"])),
        ("verification bits", _fmt(d["verification_bits"])),
        ("final key length", _fmt(d["final_key_length"])),
        ("secret key rate / pulse", _fmt(d["secret_key_rate_per_pulse"])),
        ("keys identical", _fmt(d["keys_identical"])),
        ("status", d["status"] + (f" ({d['abort_reason']})" if d["abort_reason"] else "")),
    ]
    print_table(
        "Estimation and post-processing",
        ["figure", "value"],
        [list(r) for r in rows],
        show_header=False,
        out=console,
    )
    timing = ", ".join(f"{k} {v:.3f} s" for k, v in d["timing_s"].items())
    console.print(f"timing: {timing}")


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app`` (``qkd_cmd`` registers it under ``qkd``)."""
    app.command("simulate")(simulate_command)
