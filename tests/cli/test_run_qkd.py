"""``qnetai run`` reports the key network (metro-6g, shortened) and refuses bad qkd config."""

import json

import pytest

import qnetai.sim
from qnetai.cli.main import main
from qnetai.qkd.network import QKD_TABLE_NAMES
from qnetai.results import read_run

TINY = """\
name: tiny-qkd
seed: 3
duration_s: 0.1
nodes:
  - {name: a, kind: end_user}
  - {name: r}
  - {name: b, kind: end_user}
links:
  - {endpoints: [a, r], length_km: 5, qkd: true}
  - {endpoints: [r, b], length_km: 5, qkd: true}
qkd:
  relay:
    requests: [{source: a, destination: %s, key_bits: %s}]
"""


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return info.value.code, out, err


def test_metro_6g_reports_the_key_network(tmp_path, capsys):
    out_dir = tmp_path / "runs" / "m"
    code, out, _ = _run(
        ["run", "metro-6g", "--duration-s", "0.05", "-o", str(out_dir), "--json"], capsys
    )
    assert code == 0
    qkd = json.loads(out)["qkd"]
    assert {"summary", "links", "pools", "relay", "entanglement"} <= set(qkd)
    s = qkd["summary"]
    assert s["mode"] == "analytic" and s["qkd_links"] == len(qkd["links"]) == 4
    assert s["pools_conserved"] and s["relay_keys_all_match"]
    assert s["relay_served"] > 0 and s["bits_generated"] > 0
    assert {(r["source"], r["destination"]) for r in qkd["relay"]} == {
        ("metro-east", "metro-west"),
        ("bs-harbour", "bs-oldtown"),
    }
    assert all(r["key_rate_bps"] >= 0 for r in qkd["relay"])
    assert (
        sum(r["pairs_delivered"] for r in qkd["entanglement"]) == s["entanglement_pairs_measured"]
    )
    assert {"link", "bits_left", "pool_mean_bits"} <= set(qkd["pools"][0])
    view = read_run(out_dir)
    for name in QKD_TABLE_NAMES:
        assert f"qkd_{name}" in view.extra_tables
    assert view.extra_tables["qkd_relay"].num_rows == 2
    assert view.qkd_summary["relay_served"] == s["relay_served"]
    html = (out_dir / "report.html").read_text()
    assert '<section id="qkd">' in html and "fig-qkd-pools" in html and "fig-qkd-pairs" in html


def test_human_output_has_qkd_tables(tmp_path, capsys):
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY % ("b", 128))
    code, out, _ = _run(["run", str(f), "-o", str(tmp_path / "t"), "--no-report"], capsys)
    assert code == 0
    for text in ("QKD links and key pools", "trusted-node relay", "a – b"):
        assert text in out


@pytest.fixture
def no_engine(monkeypatch):
    def simulate(*args, **kwargs):
        raise AssertionError("the engine must not run on a bad scenario")

    monkeypatch.setattr(qnetai.sim, "simulate", simulate)


@pytest.mark.parametrize(
    ("dest", "bits", "message"),
    [
        ("b", 0, "qkd.relay.requests[0].key_bits"),
        ("zz", 128, "qkd.relay.requests[0].destination: unknown node 'zz'"),
    ],
)
def test_bad_qkd_config_exits_2(tmp_path, capsys, no_engine, dest, bits, message):
    f = tmp_path / "bad.yaml"
    f.write_text(TINY % (dest, bits))
    code, _, err = _run(["run", str(f), "-o", str(tmp_path / "o"), "--json"], capsys)
    assert code == 2
    assert message in err
    assert not (tmp_path / "o").exists()
