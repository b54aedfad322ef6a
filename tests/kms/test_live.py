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


@pytest.fixture(scope="module")
def fso_scenario():
    """metro-6g with QKD also on its free-space link (loss +-3 dB, period 0.5 s, 10 ms steps)."""
    from qnetai import facade

    sc = facade.load("metro-6g")
    links = [
        ln.model_copy(update={"qkd": True}) if ln.kind == "free_space" else ln for ln in sc.links
    ]
    return sc.model_copy(update={"links": links})


FSO = "gs-hilltop-bs-island"


def test_a_fading_link_fills_its_pool_slower_during_the_fade(fso_scenario):
    """The pool of the SAE pair across the free-space link fills at the fade's rate: in the
    window of the fade's deepest loss (t = 0.10-0.15 s: about +2.9 dB) against the clearest
    (0.35-0.40 s: the channel's loss clipped at 0 dB) the fills' ratio matches the ratio
    of mean transmittances (decoy BB84's key rate is close to linear in the transmittance
    at these losses: 15 % tolerance); a fibre pair fills at its constant rate throughout."""
    import numpy as np

    from qnetai.topology.channels import link_transmittance

    now = [0.0]
    store = KeyStore(":memory:", clock=lambda: now[0])
    saes = {"A": "metro-east", "B": "metro-west", "H": "gs-hilltop", "I": "bs-island"}
    live = LiveNetwork.build(
        fso_scenario,
        saes,
        store,
        time_scale=1.0,
        engine=False,
        pool_capacity_bits=10**9,
        calibrate=False,
    )
    live.started_s = 0.0
    assert live.varying_links == [FSO]
    fills = {}
    for name, (t0, t1) in {"fade": (0.10, 0.15), "clear": (0.35, 0.40)}.items():
        now[0] = t0
        rates = live.follow_schedule(t0, horizon_s=t1 - t0)
        before = {p: store.pool_status(*p)[0] for p in [("H", "I"), ("A", "B")]}
        now[0] = t1
        fills[name] = {p: store.pool_status(*p)[0] - before[p] for p in before}
        snap = {lk["name"]: lk for lk in live.snapshot()["links"]}
        assert snap[FSO]["key_rate_bps"] == pytest.approx(rates[FSO])
        assert snap[FSO]["fading"] and not snap[LINK]["fading"]
    assert store.audit()["ok"]
    # the fibre pair: the same fill in both windows (whole bits: +-1)
    assert abs(fills["fade"][("A", "B")] - fills["clear"][("A", "B")]) <= 1
    spec = next(ln for ln in live.scenario.links if ln.kind == "free_space")
    lv = spec.free_space.loss_variation

    def mean_eta(t0: float, t1: float) -> float:
        t = np.arange(round(t0 / lv.update_s), round(t1 / lv.update_s)) * lv.update_s
        extra = lv.amplitude_db * np.sin(2 * np.pi * t / lv.period_s + lv.phase_rad)
        return float(link_transmittance(spec, extra_loss_db=extra).mean())

    ratio = fills["fade"][("H", "I")] / fills["clear"][("H", "I")]
    expected = mean_eta(0.10, 0.15) / mean_eta(0.35, 0.40)
    assert ratio < 0.5
    assert ratio == pytest.approx(expected, rel=0.15)
