"""The public face of ``qnetai.qkd``: one channel model, one set of defaults, a flat lazy API."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import qnetai.qkd as qkd
from qnetai.cli.main import app
from qnetai.errors import InputError
from qnetai.qkd.channel import DEFAULT_CHANNEL, GYS, ChannelModel


def _json(argv: list[str]) -> dict:
    res = CliRunner().invoke(app, ["qkd", *argv, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_rate_and_simulate_describe_the_same_link_by_default():
    rate = _json(["rate"])
    sim = _json(["simulate", "--pulses", "1e6"])  # pulses are not a property of the link
    assert rate["channel"] == sim["channel"] == DEFAULT_CHANNEL.to_dict()
    assert rate["distance_km"] == sim["distance_km"]
    assert rate["eta"] == pytest.approx(sim["transmittance"], rel=1e-12)
    for name, value in DEFAULT_CHANNEL.to_dict().items():
        assert sim["setup"][name] == value


def test_channel_flags_reach_both_commands():
    flags = ["--attenuation-db-per-km", "0.2", "--eta-bob", "0.1", "--y0", "4e-6"]
    flags += ["--e-detector", "0.01", "--afterpulse-probability", "0.005", "--distance-km", "10"]
    rate = _json(["rate", *flags])
    sim = _json(["simulate", "--pulses", "1e6", *flags])
    assert rate["channel"] == sim["channel"]
    assert rate["channel"]["eta_bob"] == 0.1 and rate["channel"]["afterpulse_probability"] == 0.005
    assert rate["eta"] == pytest.approx(sim["transmittance"], rel=1e-12)
    assert _json(["rate", "--alpha-db-per-km", "0.3"])["channel"]["attenuation_db_per_km"] == 0.3


def test_defaults_are_the_gys_link_everywhere():
    assert ChannelModel() == DEFAULT_CHANNEL == GYS
    assert (DEFAULT_CHANNEL.attenuation_db_per_km, DEFAULT_CHANNEL.eta_bob) == (0.21, 0.045)
    assert (DEFAULT_CHANNEL.y0, DEFAULT_CHANNEL.e_detector) == (1.7e-6, 0.033)
    for fn in (qkd.run_bb84, qkd.BB84Setup.from_distance):
        assert inspect.signature(fn).parameters["channel"].default is DEFAULT_CHANNEL
    # the simulator's four detectors together have the channel's background y0
    assert 1 - (1 - DEFAULT_CHANNEL.dark_count_probability) ** 4 == pytest.approx(1.7e-6)
    setup = qkd.BB84Setup.from_distance(25.0)
    assert setup.transmittance == pytest.approx(float(DEFAULT_CHANNEL.transmittance(25.0)))


def test_one_class_named_channel_model():
    import importlib
    import pkgutil

    owners = set()
    for info in pkgutil.iter_modules(qkd.__path__):
        mod = importlib.import_module(f"qnetai.qkd.{info.name}")
        for obj in vars(mod).values():
            if inspect.isclass(obj) and obj.__name__ == "ChannelModel":
                owners.add(obj.__module__)
    assert owners == {"qnetai.qkd.channel"}


def test_flat_api_resolves_every_name():
    assert qkd.__all__ == sorted(qkd.__all__)
    for name in qkd.__all__:
        assert getattr(qkd, name) is not None, name
    assert set(qkd.__all__) <= set(dir(qkd))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        qkd.nope  # noqa: B018


@pytest.mark.parametrize("first", ["attacks", "pulses", "monitoring", "reconciliation"])
def test_each_module_imports_first_without_a_cycle(first):
    code = f"import qnetai.qkd.{first}; import qnetai.qkd.pipeline"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_package_import_is_lazy():
    code = (
        "import sys, qnetai; before = set(sys.modules); import qnetai.qkd as q; "
        "new = [m for m in set(sys.modules) - before if m.startswith('qnetai.qkd.')]; "
        "assert not new, new; q.run_bb84; assert 'qnetai.qkd.pipeline' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_monitoring_feature_table():
    rows = qkd.labelled_block_features(
        qkd.BB84Setup.from_distance(5.0),
        n_blocks=3,
        block_pulses=20_000,
        rng=np.random.default_rng(4),
        attack_probability=1.0,
    )
    x, y = qkd.feature_matrix(rows)
    assert x.shape == (3, len(qkd.FEATURE_NAMES)) and x.dtype == np.float64
    assert [r["gain_signal"] for r in rows] == list(x[:, qkd.FEATURE_NAMES.index("gain_signal")])
    assert set(y) <= set(qkd.LABELS) and "none" not in set(y)
    assert not {"label", "attacked_fraction", "block"} & set(qkd.FEATURE_NAMES)
    with pytest.raises(InputError, match="lack the feature columns"):
        qkd.feature_matrix([{"gain_signal": 0.1}])
