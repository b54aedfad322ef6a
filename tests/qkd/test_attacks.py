from __future__ import annotations

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qkd.attacks import AttackSpec
from qnetai.qkd.channel import ChannelModel
from qnetai.qkd.estimation import estimate_parameters
from qnetai.qkd.monitoring import block_features, labelled_block_features
from qnetai.qkd.pulses import BB84Setup, iter_blocks
from qnetai.qkd.sifting import SiftCounts, block_counts

#: The link these attack tests were designed on (not the GYS defaults): 0.2 dB/km, 10 %
#: efficiency, 1e-6 dark counts per detector, 0.5 % after-pulsing (blinding removes it).
LINK = ChannelModel(
    attenuation_db_per_km=0.2,
    eta_bob=0.1,
    y0=1 - (1 - 1e-6) ** 4,
    e_detector=0.01,
    afterpulse_probability=0.005,
)
SETUP = BB84Setup.from_distance(25.0, channel=LINK)


def _counts(attack, strength, pulses=1 << 23, seed=1, setup=SETUP):
    tot = SiftCounts()
    for b in iter_blocks(
        setup, pulses=pulses, rng=np.random.default_rng(seed), attack=AttackSpec(attack, strength)
    ):
        tot.add(block_counts(b))
    return tot


def test_intercept_resend_raises_qber_by_s_over_4():
    base = _counts(None, 0.0, seed=2)
    e0 = base.errors[0].sum() / base.sifted[0].sum()
    for s in (0.4, 1.0):
        tot = _counts("intercept-resend", s, seed=3)
        n = tot.sifted[0].sum()
        e = tot.errors[0].sum() / n
        expected = (1 - s) * e0 + s * (0.5 * e0 + 0.25)  # Eve's wrong basis -> random bit
        se = np.sqrt(expected * (1 - expected) / n) + np.sqrt(e0 / base.sifted[0].sum())
        assert abs(e - expected) < 4 * se
        assert abs((e - e0) - s / 4) < 0.02
        # gains unchanged
        assert abs(tot.detection_gains[0] / base.detection_gains[0] - 1) < 0.03


def test_pns_keeps_signal_gain_but_decoy_bound_collapses():
    honest = _counts(None, 0.0, seed=4)
    pns = _counts("pns", 1.0, seed=5)
    g_h, g_p = honest.detection_gains, pns.detection_gains
    se = np.sqrt(g_h[0] / honest.sent[0].sum())
    assert abs(g_p[0] - g_h[0]) < 4 * np.sqrt(2) * se  # signal gain looks normal
    assert g_p[1] < 0.8 * g_h[1]  # decoy gain does not
    est_h = estimate_parameters(honest, SETUP)
    est_p = estimate_parameters(pns, SETUP)
    assert est_h.abort_reason is None
    # sifted single-photon yield is about T * p_z (Bob's passive splitter)
    assert 0.8 * 0.5 * SETUP.transmittance < est_h.y1_lower[0] <= 0.51 * SETUP.transmittance
    # at 25 km Eve must forward some single photons (Bob's own efficiency is 10 %) without
    # learning them: the bound follows the true Y1 down (the key shrinks but stays secure)
    assert est_p.y1_lower[0] < 0.7 * est_h.y1_lower[0]
    assert est_p.s_z1_lower < 0.7 * est_h.s_z1_lower
    # at 80 km multi-photon pulses suffice, Eve blocks every single photon: Y1 bound collapses
    far = BB84Setup.from_distance(80.0, channel=LINK)
    est_h = estimate_parameters(_counts(None, 0.0, seed=8, setup=far), far)
    est_p = estimate_parameters(_counts("pns", 1.0, seed=9, setup=far), far)
    assert est_h.y1_lower[0] > 0.4 * far.transmittance
    assert est_p.y1_lower[0] < 0.1 * est_h.y1_lower[0]
    assert "Y1" in est_p.abort_reason or "key length" in est_p.abort_reason


def test_blinding_no_qber_rise_but_anomalous_statistics():
    honest = _counts(None, 0.0, seed=6)
    blind = _counts("blinding", 1.0, seed=7)
    e_h = honest.errors[0].sum() / honest.sifted[0].sum()
    e_b = blind.errors[0].sum() / blind.sifted[0].sum()
    assert e_b <= e_h  # QBER does not rise
    assert blind.detections[2] > 0  # vacuum decoys still click
    assert honest.multi_clicks > 50 and blind.multi_clicks == 0
    assert blind.afterpulse_events == 0 < honest.afterpulse_events
    det_h, det_b = honest.detections.sum(), blind.detections.sum()
    cons_h = honest.consecutive / det_h - det_h / honest.pulses
    cons_b = blind.consecutive / det_b - det_b / blind.pulses
    assert cons_b < 0.3 * cons_h  # after-pulse signature gone
    assert abs(blind.detection_gains[0] / honest.detection_gains[0] - 1) < 0.05


def test_block_labels_and_features():
    rows = labelled_block_features(
        SETUP,
        n_blocks=12,
        block_pulses=50_000,
        rng=np.random.default_rng(3),
        attack_probability=0.6,
    )
    assert len(rows) == 12
    labels = {r["label"] for r in rows}
    assert labels <= {"none", "intercept-resend", "pns", "blinding"} and len(labels) >= 2
    for r in rows:
        assert {
            "gain_signal",
            "gain_decoy",
            "gain_vacuum",
            "qber_z_signal",
            "qber_x_decoy",
            "double_click_rate",
            "afterpulse_rate",
            "attacked_fraction",
        } <= set(r)
        assert (r["attacked_fraction"] > 0) == (r["label"] != "none")
    blocks = list(
        iter_blocks(
            SETUP,
            pulses=100_000,
            rng=np.random.default_rng(0),
            block_pulses=50_000,
            block_attacks=[None, AttackSpec("intercept-resend", 1.0)],
        )
    )
    f = [block_features(b) for b in blocks]
    assert [x["label"] for x in f] == ["none", "intercept-resend"]
    assert f[1]["qber_z_signal"] > f[0]["qber_z_signal"] + 0.1


def test_attack_validation():
    with pytest.raises(InputError, match="attack must be one of"):
        AttackSpec("nope", 0.5)
    with pytest.raises(InputError, match="attack_strength"):
        AttackSpec("pns", 1.5)
    assert AttackSpec("pns", 0.0).label == "none"
