"""``qnetai qkd``: analytic QKD key rates (``rate``) and the pulse-level ``simulate``.

Both commands describe the link with the same flags and the same defaults: the distance
:data:`DEFAULT_DISTANCE_KM` and the fibre and receiver of
:data:`qnetai.qkd.channel.DEFAULT_CHANNEL` (the option factories below), and both print
the channel they used (``"channel"`` in ``--json``).
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from qnetai.errors import InputError

if TYPE_CHECKING:
    from qnetai.qkd.channel import ChannelModel

#: The five fields of :data:`qnetai.qkd.channel.DEFAULT_CHANNEL`, written out so that
#: ``qnetai --help`` does not import numpy (a test checks they are that channel's).
CHANNEL_DEFAULTS: dict[str, float] = {
    "attenuation_db_per_km": 0.21,
    "eta_bob": 0.045,
    "y0": 1.7e-6,
    "e_detector": 0.033,
    "afterpulse_probability": 0.0,
}

#: Fibre length of both ``qkd rate`` and ``qkd simulate`` when ``--distance-km`` is absent.
DEFAULT_DISTANCE_KM = 25.0


def distance_option() -> Any:
    """``--distance-km`` (default :data:`DEFAULT_DISTANCE_KM`)."""
    return typer.Option(DEFAULT_DISTANCE_KM, "--distance-km", min=0, help="Fibre length (km).")


def attenuation_option() -> Any:
    """``--attenuation-db-per-km`` (alias ``--alpha-db-per-km``)."""
    return typer.Option(
        CHANNEL_DEFAULTS["attenuation_db_per_km"],
        "--attenuation-db-per-km",
        "--alpha-db-per-km",
        min=0,
        help="Fibre attenuation (dB/km).",
    )


def eta_bob_option() -> Any:
    """``--eta-bob``."""
    return typer.Option(
        CHANNEL_DEFAULTS["eta_bob"],
        "--eta-bob",
        min=0,
        max=1,
        help="Bob's detection efficiency, optics included.",
    )


def y0_option() -> Any:
    """``--y0``."""
    return typer.Option(
        CHANNEL_DEFAULTS["y0"],
        "--y0",
        min=0,
        max=0.5,
        help="Background (dark-count) probability per pulse of Bob's whole apparatus.",
    )


def e_detector_option() -> Any:
    """``--e-detector``."""
    return typer.Option(
        CHANNEL_DEFAULTS["e_detector"],
        "--e-detector",
        min=0,
        max=0.5,
        help="Misalignment error probability e_d.",
    )


def afterpulse_option() -> Any:
    """``--afterpulse-probability``."""
    return typer.Option(
        CHANNEL_DEFAULTS["afterpulse_probability"],
        "--afterpulse-probability",
        min=0,
        max=1,
        help="After-pulse probability per click.",
    )


def build_channel(
    *,
    attenuation_db_per_km: float,
    eta_bob: float,
    y0: float,
    e_detector: float,
    afterpulse_probability: float,
) -> ChannelModel:
    """The :class:`ChannelModel` of the channel flags (validated: InputError on bad values)."""
    from qnetai.qkd.channel import ChannelModel

    return ChannelModel(
        attenuation_db_per_km=attenuation_db_per_km,
        eta_bob=eta_bob,
        y0=y0,
        e_detector=e_detector,
        afterpulse_probability=afterpulse_probability,
    )


qkd = typer.Typer(
    help="Quantum key distribution: analytic decoy-state/BBM92 key rates and simulation.",
    no_args_is_help=True,
)


#: Most distances a ``--sweep-km`` may give.
MAX_SWEEP_POINTS = 2000


def _parse_sweep(spec: str) -> list[float]:
    parts = spec.split(":")
    try:
        start, stop, step = (float(p) for p in parts) if len(parts) == 3 else (0.0, 0.0, 0.0)
    except ValueError:
        start = stop = step = float("nan")
    if len(parts) != 3 or not all(math.isfinite(v) for v in (start, stop, step)):
        raise InputError(
            f"--sweep-km must be START:STOP:STEP, three finite numbers in km (got {spec!r})"
        )
    if start < 0 or stop < start or step <= 0:
        raise InputError(f"--sweep-km needs 0 <= START <= STOP and STEP > 0 (got {spec!r})")
    points = (stop - start) / step + 1
    if not points <= MAX_SWEEP_POINTS:
        raise InputError(
            f"--sweep-km gives {points:.4g} points; at most {MAX_SWEEP_POINTS} (got {spec!r})"
        )
    n = int((stop - start) / step + 1e-9) + 1
    return [start + i * step for i in range(n)]


def _check_plot_path(plot: str) -> Path:
    """The ``--plot`` path, refused up front if its folder is missing or it is a folder."""
    path = Path(plot)
    parent = path.parent
    if path.name in ("", ".", "..") or path.is_dir():
        raise InputError(f"--plot must name a file, not a folder (got {plot!r})")
    if not parent.is_dir():
        raise InputError(f"--plot: folder {str(parent)!r} does not exist (create it first)")
    return path


def _write_plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import plotly.graph_objects as go

    d = [r["distance_km"] for r in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=d,
            y=[r["key_rate_per_pulse"] or None for r in rows],
            mode="lines+markers",
            name="key rate",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=d,
            y=[r["plob_bound"] for r in rows],
            mode="lines",
            name="PLOB bound (fibre)",
            line={"dash": "dash"},
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="distance (km)",
        yaxis_title="secret bits per pulse",
        yaxis_type="log",
    )
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    from qnetai._atomic_files import replace_atomic

    replace_atomic(path, lambda tmp: tmp.write_text(html, encoding="utf-8"))


def rate(
    distance_km: float = distance_option(),
    mu: float | None = typer.Option(
        None, "--mu", min=0, help="Signal intensity (or mean pair number); optimised if absent."
    ),
    nu: float | None = typer.Option(
        None, "--nu", min=0, help="Weak-decoy intensity; optimised if absent."
    ),
    decoys: str = typer.Option("vacuum-weak", "--decoys", help="vacuum-weak | infinite."),
    attenuation_db_per_km: float = attenuation_option(),
    eta_bob: float = eta_bob_option(),
    y0: float = y0_option(),
    e_detector: float = e_detector_option(),
    afterpulse_probability: float = afterpulse_option(),
    f_ec: float = typer.Option(1.22, "--f-ec", min=1, help="Error-correction inefficiency."),
    efficient: bool = typer.Option(False, "--efficient", help="Biased-basis BB84 (q = p_z^2)."),
    p_z: float | None = typer.Option(
        None, "--p-z", min=0.5, max=1, help="Key-basis probability with --efficient (default 0.9)."
    ),
    finite_key: bool = typer.Option(
        False, "--finite-key", help="Lim et al. 2014 finite-key rate (vacuum as mu3)."
    ),
    block_size: float = typer.Option(1e10, "--block-size", min=1, help="Pulses sent (N)."),
    eps_sec: float = typer.Option(1e-10, "--eps-sec", min=0, max=1, help="Secrecy parameter."),
    eps_cor: float = typer.Option(1e-15, "--eps-cor", min=0, max=1, help="Correctness parameter."),
    protocol: str = typer.Option("bb84", "--protocol", help="bb84 | bbm92 (source midway)."),
    sweep_km: str | None = typer.Option(None, "--sweep-km", help="START:STOP:STEP distances."),
    plot: str | None = typer.Option(None, "--plot", help="Write an HTML plot (needs --sweep-km)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Secret key rate per pulse of decoy-state BB84 or BBM92, with the PLOB/TGW bounds.

    The link (distance, fibre, receiver) has the same defaults as ``qkd simulate``.
    """
    from qnetai.cli._common import console, print_json
    from qnetai.qkd.optimise import rate_summary

    if decoys not in ("vacuum-weak", "infinite"):
        raise InputError(f"--decoys must be vacuum-weak or infinite (got {decoys!r})")
    if protocol not in ("bb84", "bbm92"):
        raise InputError(f"--protocol must be bb84 or bbm92 (got {protocol!r})")
    if p_z is not None and not efficient:
        raise InputError("--p-z needs --efficient")
    if plot is not None and sweep_km is None:
        raise InputError("--plot needs --sweep-km")
    plot_path = None if plot is None else _check_plot_path(plot)
    distances = None if sweep_km is None else _parse_sweep(sweep_km)
    channel = build_channel(
        attenuation_db_per_km=attenuation_db_per_km,
        eta_bob=eta_bob,
        y0=y0,
        e_detector=e_detector,
        afterpulse_probability=afterpulse_probability,
    )
    kwargs: dict[str, Any] = dict(
        protocol=protocol,
        decoys=decoys,
        mu=mu,
        nu=nu,
        channel=channel,
        f_ec=f_ec,
        efficient=efficient,
        p_z=p_z,
        finite_key=finite_key,
        block_size=block_size,
        eps_sec=eps_sec,
        eps_cor=eps_cor,
    )
    if distances is None:
        res = rate_summary(distance_km, **kwargs)
        if as_json:
            print_json({**res, "channel": channel.to_dict()})
            return
        console.print(
            f"[bold]{protocol}[/] at {res['distance_km']:g} km: "
            f"key rate {res['key_rate_per_pulse']:.4g} bits/pulse "
            f"(mu={res['mu']:.4g}"
            + (f", nu={res['nu']:.4g}" if res.get("nu") is not None else "")
            + f"); PLOB {res['plob_bound']:.4g}, TGW {res['tgw_bound']:.4g}, "
            f"eta {res['eta']:.4g}"
        )
        return
    rows = _sweep(distances, kwargs)
    if plot_path is not None:
        try:
            _write_plot(rows, plot_path, f"{protocol} key rate vs distance")
        except OSError as exc:
            raise InputError(f"--plot: cannot write {plot!r}: {exc.strerror or exc}") from None
    if as_json:
        print_json(rows)
        return
    from qnetai.cli._common import print_table

    def g(x: Any) -> str:
        return "—" if x is None else f"{x:.4g}"

    print_table(
        f"{protocol} key rate vs distance (bit per pulse)",
        ["distance", "key rate per pulse", "mu", "nu", "PLOB bound per pulse"],
        [
            [
                f"{r['distance_km']:g} km",
                g(r["key_rate_per_pulse"]),
                g(r["mu"]),
                g(r.get("nu")),
                g(r["plob_bound"]),
            ]
            for r in rows
        ],
        text_columns=0,
    )
    if plot is not None:
        console.print(f"plot written to {plot}", markup=False, highlight=False)


def _sweep(distances: list[float], kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """``rate_summary`` at every distance, with progress on stderr; Ctrl-C exits 130."""
    from qnetai.cli._common import ProgressReporter, exit_interrupted
    from qnetai.qkd.optimise import rate_summary

    rows: list[dict[str, Any]] = []
    reporter = ProgressReporter("qkd rate", "distances")
    try:
        with reporter:
            for d in distances:
                reporter.update(len(rows), len(distances))
                rows.append(rate_summary(d, **kwargs))
            reporter.update(len(rows), len(distances))
    except KeyboardInterrupt:
        exit_interrupted(f"after {reporter.summary()}; no figures printed")
    return rows


qkd.command("rate")(rate)


def register(app: typer.Typer) -> None:
    """Attach the ``qkd`` sub-app (``rate``; ``simulate`` when its module exists)."""
    name = "qnetai.cli.qkd_simulate_cmd"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
    else:
        if not any(c.name == "simulate" for c in qkd.registered_commands):
            qkd.command("simulate")(module.simulate_command)
    app.add_typer(qkd, name="qkd")
