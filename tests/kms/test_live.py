"""The running network: QBER abort rule, CUSUM drift alerts, link restore, pool re-planning."""

from __future__ import annotations

import pytest

from qnetai.kms.live import QBER_ABORT, LiveNetwork
from qnetai.kms.store import KeyStore

pytest.importorskip("sklearn")

SAES = {"A": "metro-east", "B": "metro-west", "C": "bs-harbour"}
LINK = "metro-central-metro-east"


@pytest.fixture
def live(metro_key_network):
    store = KeyStore(":memory:")
    return LiveNetwork.build("metro-6g", SAES, store, time_scale=1.0, key_network=metro_key_network)


def test_strong_eavesdropper_aborts_the_link_and_its_pairs_stop_filling(live):
    rate_ab = live.plan.rates_bps[("A", "B")]
    assert rate_ab > 0
    live.set_eavesdropper(LINK, 0.8)  # intercept-resend on 80 %: QBER ~ 0.2 + baseline
    alerts = live.monitor_step()
    assert alerts[0]["kind"] == "qber" and alerts[0]["qber"] > QBER_ABORT
    snap = live.snapshot()
    assert {lk["name"]: lk["up"] for lk in snap["links"]}[LINK] is False
    rates = {tuple(p["saes"]): p["rate_bps"] for p in snap["pools"]}
    assert rates[("A", "B")] == 0.0 and rates[("A", "C")] > 0  # A-C avoids metro-central
    live.set_eavesdropper(LINK, 0.0)
    restored = live.monitor_step()
    assert [a["kind"] for a in restored] == ["restored"]
    assert live.plan.rates_bps[("A", "B")] == pytest.approx(rate_ab)
    assert live.store.audit()["ok"]


def test_stealthy_eavesdropper_is_caught_by_cusum_not_by_the_abort_rule(live):
    """15 % intercept-resend adds ~3.75 points of QBER: below 11 %, so no abort; the
    CUSUM calibrated on honest blocks alarms within a few blocks (seeded: deterministic)."""
    live.set_eavesdropper(LINK, 0.15)
    kinds = []
    for _ in range(6):
        kinds += [(a["kind"], a["link"]) for a in live.monitor_step()]
    assert ("cusum", LINK) in kinds
    assert all(k != "qber" for k, _ in kinds)
    assert all(lk["up"] for lk in live.snapshot()["links"])
    # honest links raise nothing
    assert {link for _, link in kinds} == {LINK}
