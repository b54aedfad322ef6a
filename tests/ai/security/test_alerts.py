"""Alerts in the main job: injected incidents caught on the right link, after their start."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from qnetai.ai.security.alerts import (
    ALERT_SCHEMA,
    check_incidents,
    cusum_path,
    monitor_key_network,
)
from qnetai.config import load_scenario
from qnetai.errors import InputError
from qnetai.qkd.network import simulate_key_network
from qnetai.topology import resolve

SCENARIO = """\
name: watched
seed: 5
duration_s: 0.2
nodes:
  - {name: a, kind: end_user}
  - {name: r}
  - {name: s}
  - {name: b, kind: end_user}
links:
  - {endpoints: [a, r], length_km: 10, qkd: true}
  - {endpoints: [r, s], length_km: 15, qkd: true}
  - {endpoints: [s, b], length_km: 5, qkd: true}
traffic:
  requests: [{source: a, destination: b, count: 5}]
incidents:
  - {kind: attack, family: intercept-resend, strength: 0.08, link: a-r, start_s: 0.08}
  - {kind: fault, fault: detector-decay, severity: 0.1, link: s-b, start_s: 0.12}
monitoring: {blocks: 40, block_pulses: 50000, calibration_blocks: 40}
"""


def _scenario(tmp_path, text=SCENARIO):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return resolve(load_scenario(str(path)))


def _monitor(sc, seed=0):
    keys = simulate_key_network(sc, rng=np.random.default_rng(1))
    return monitor_key_network(sc, keys, rng=np.random.default_rng(seed))


def test_incidents_caught_on_their_links_after_their_start_and_none_elsewhere(tmp_path):
    sc = _scenario(tmp_path)
    for seed in (0, 1):
        m = _monitor(sc, seed)
        assert [i["detected"] for i in m.incidents] == [True, True]
        by_link = {a.link: a for a in m.alerts}
        assert set(by_link) == {"a-r", "s-b"}  # nothing on the honest link r-s
        attack, fault = by_link["a-r"], by_link["s-b"]
        assert (attack.kind, attack.cause, attack.true_cause) == (
            "attack",
            "intercept-resend",
            "intercept-resend",
        )
        assert fault.kind == "fault" and fault.true_cause == "detector-decay"
        for a, start in ((attack, 0.08), (fault, 0.12)):
            assert a.time_s > start and a.delay_s == pytest.approx(a.time_s - start)
            assert 0.5 < a.confidence <= 1.0
        # the stealthy attack stays below the 11 % abort rule
        assert m.incidents[0]["qber_rule_delay_s"] is None
        # costs: attack key withheld from the alert on at the link's rate; a fault loses key
        withheld = attack.key_rate_bps * (0.2 - attack.time_s)
        assert attack.key_bits_withheld == pytest.approx(withheld)
        assert attack.key_bits_lost == 0.0 and fault.key_bits_withheld == 0.0
        # a 10 % efficiency loss costs about 10 % of the key after the onset
        lost_fraction = fault.key_bits_lost / (fault.key_rate_bps * (0.2 - fault.onset_estimate_s))
        assert 0.03 < lost_fraction < 0.2
        assert m.summary["false_alarms"] == 0


def test_table_schema_json_and_determinism(tmp_path):
    sc = _scenario(tmp_path)
    a, b = _monitor(sc, 3), _monitor(sc, 3)
    assert a.table().schema == ALERT_SCHEMA
    assert a.table().equals(b.table())
    doc = json.loads(json.dumps(a.to_dict()))
    assert doc["alerts"][0]["alert_id"] == 1 and len(doc["incidents"]) == 2
    assert [r["time_s"] for r in doc["alerts"]] == sorted(r["time_s"] for r in doc["alerts"])


def test_incident_after_the_end_of_a_shortened_run_is_reported_not_in_run(tmp_path):
    m = _monitor(_scenario(tmp_path, SCENARIO.replace("start_s: 0.12", "start_s: 0.5")))
    assert [(i["in_run"], i["detected"]) for i in m.incidents] == [(True, True), (False, False)]
    assert {a.link for a in m.alerts} == {"a-r"}


def test_qber_rule_misses_the_stealthy_attack_and_catches_a_loud_one(tmp_path):
    text = SCENARIO.replace("monitoring: {", "monitoring: {detector: qber-threshold, ")
    m = _monitor(_scenario(tmp_path, text))
    assert m.alerts == ()
    loud = text.replace("strength: 0.08", "strength: 0.6")
    m = _monitor(_scenario(tmp_path, loud))
    assert [(a.link, a.statistic) for a in m.alerts] == [("a-r", "qber-abort")]
    assert m.alerts[0].time_s > 0.08


def test_cusum_path_matches_the_sklearn_style_detector():
    from qnetai.ai.security.detectors import CusumDetector

    z = np.random.default_rng(0).normal(size=200)
    det = CusumDetector(drift=0.5).fit(np.array([[0.0], [2.0]]))  # mean 1, std 1
    np.testing.assert_allclose(cusum_path(z - 1.0, 0.5), det.statistic(z[:, None]))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("link: a-r", "link: a-x"), "incidents[0].link: 'a-x' is not a QKD link"),
        (("link: s-b", "link: r"), "incidents[1].link: 'r' is not a QKD link"),
    ],
)
def test_bad_incident_link_or_time_names_the_field(tmp_path, edit, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_incidents(_scenario(tmp_path, SCENARIO.replace(*edit)))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("strength: 0.08", "strength: 1.5"), "incidents[0].strength"),
        (("family: intercept-resend, ", ""), "an attack needs family and strength"),
        (("family: intercept-resend", "family: bogus"), "incidents[0].family"),
        (("severity: 0.1", "severity: 1.0"), "detector-decay severity must be < 1"),
        (("blocks: 40", "blocks: 5"), "monitoring.blocks"),
    ],
)
def test_bad_incident_config_is_refused_with_its_field_path(tmp_path, edit, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        _scenario(tmp_path, SCENARIO.replace(*edit))


def test_run_reports_alerts_in_json_parquet_and_report(tmp_path, capsys):
    from qnetai.cli.main import main

    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    out_dir = tmp_path / "run"
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "-o", str(out_dir), "--json"])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    doc = json.loads(out)
    mon = doc["monitoring"]
    assert mon["summary"]["incidents_detected"] == 2
    assert {a["link"] for a in mon["alerts"]} == {"a-r", "s-b"}
    table = pq.read_table(out_dir / "alerts.parquet")
    assert table.schema == ALERT_SCHEMA and table.num_rows == len(mon["alerts"])
    assert 'id="alerts"' in (out_dir / "report.html").read_text()
    summary = json.loads((out_dir / "summary.json").read_text())
    assert (summary["alerts"], summary["alerts_false"], summary["incidents_detected"]) == (2, 0, 2)
    with pytest.raises(SystemExit) as info:
        main(["run", str(path), "-o", str(tmp_path / "run2")])
    out, err = capsys.readouterr()
    assert info.value.code == 0, err
    assert "alerts (cusum: 2 raised, 0 false)" in out and "injected incidents" in out
