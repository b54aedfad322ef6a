"""``qnetai physics``: JSON output agrees with the library; human table; bad input."""

from __future__ import annotations

import json

import numpy as np
import typer
from typer.testing import CliRunner

from qnetai.cli import physics_cmd
from qnetai.physics import (
    bbpssw,
    dejmps,
    double_click_herald,
    fibre_transmittance,
    plob_bound,
    single_click_herald,
    swap,
    werner,
)
from qnetai.physics.summary import link_figures


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    physics_cmd.register(app)
    return app


def test_json_output_matches_library():
    args = [
        "physics",
        "--json",
        "--length-km",
        "40",
        "--t-coh-s",
        "0.5",
        "--fidelity",
        "0.9",
        "--gate-fidelity",
        "0.99",
        "--dark-count-probability",
        "1e-5",
    ]
    res = CliRunner().invoke(make_app(), args)
    assert res.exit_code == 0, res.output
    figs = json.loads(res.stdout)
    eta_half = float(fibre_transmittance(20.0))
    assert np.isclose(figs["link"]["transmittance"], fibre_transmittance(40.0))
    dc = double_click_herald(
        eta_half, eta_half, detector_efficiency=0.9, dark_count_probability=1e-5
    )
    assert np.isclose(figs["double_click"]["p_success"], dc.p_success)
    assert np.isclose(figs["double_click"]["fidelity"], dc.state[0])
    sc = single_click_herald(
        eta_half,
        eta_half,
        bright_state_parameter=0.05,
        detector_efficiency=0.9,
        dark_count_probability=1e-5,
    )
    assert np.isclose(figs["single_click"]["fidelity"], sc.state[0])
    assert np.isclose(figs["bounds"]["plob_bits_per_use"], plob_bound(fibre_transmittance(40.0)))
    assert np.isclose(
        figs["swap"]["fidelity"], swap(werner(0.9), werner(0.9), gate_fidelity=0.99)[0]
    )
    out, p = bbpssw(werner(0.9), werner(0.9), gate_fidelity=0.99)
    assert np.isclose(figs["bbpssw"]["fidelity"], out[0])
    assert np.isclose(figs["bbpssw"]["p_success"], p)
    out, p = dejmps(werner(0.9), werner(0.9), gate_fidelity=0.99)
    assert np.isclose(figs["dejmps"]["p_success"], p)
    # the pair waits one round trip (40 km / 2e5 km/s) in a depolarising memory
    decay = np.exp(-2e-4 / 0.5)
    expect = decay * dc.state[0] + (1 - decay) / 4
    assert np.isclose(figs["double_click"]["fidelity_at_herald"], expect)


def test_human_table_and_errors():
    app = make_app()
    res = CliRunner().invoke(app, ["physics", "--length-km", "10"])
    assert res.exit_code == 0, res.output
    assert "PLOB" in res.stdout and "DEJMPS" in res.stdout
    res = CliRunner().invoke(app, ["physics", "--length-km", "-1"])
    assert res.exit_code == 2


def test_zero_length_gives_infinite_rates():
    figs = link_figures(length_km=0.0, t_coh_s=None)
    assert figs["link"]["transmittance"] == 1.0
    assert figs["double_click"]["rate_hz"] == float("inf")
    assert figs["double_click"]["fidelity_at_herald"] == 1.0
