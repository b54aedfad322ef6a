from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest
from scipy import stats

from qnetai.errors import InputError
from qnetai.qkd.attacks import AttackSpec, build_pulse_model
from qnetai.qkd.channel import ChannelModel as RatesChannel
from qnetai.qkd.pulses import BB84Setup, bernoulli_positions, iter_blocks
from qnetai.qkd.sifting import SiftCounts, block_counts


def _setup(
    *,
    eta_bob: float,
    dark_count_probability: float,
    afterpulse_probability: float,
    e_detector: float = 0.01,
    **source: float,
) -> BB84Setup:
    """A setup whose channel has per-detector dark-count probability ``dark_count_probability``."""
    channel = RatesChannel(
        eta_bob=eta_bob,
        y0=1 - (1 - dark_count_probability) ** 4,
        e_detector=e_detector,
        afterpulse_probability=afterpulse_probability,
    )
    return BB84Setup(channel=channel, **source)


def naive_bb84(setup, n, rng, *, attack=None, strength=0.0, pns_f=(1.0, 0.0)):
    """Per pulse: Poisson photons, per-photon routing, dark counts, sequential after-pulses.

    Returns dict of per-event arrays (position, intensity, alice_basis, alice_bit, bob_basis,
    bob_bit, multi) sorted by position.
    """
    mus = np.array([setup.mu, setup.nu, 0.0])
    probs = np.array([setup.p_mu, setup.p_nu, setup.p_vacuum])
    k = rng.choice(3, n, p=probs)
    a = (rng.random(n) >= setup.p_z).astype(np.int64)
    x = rng.integers(0, 2, n)
    att = rng.random(n) < strength if attack else np.zeros(n, bool)
    nph = rng.poisson(mus[k])
    sb, sy = a.copy(), x.copy()
    t_ch = setup.channel_transmittance
    arrive = rng.binomial(nph, t_ch * setup.eta_bob)
    pd = setup.dark_count_probability
    blinded = np.zeros(n, bool)
    if attack == "intercept-resend":
        e = (rng.random(n) >= setup.p_z).astype(np.int64)
        y = np.where(e == a, x, rng.integers(0, 2, n))
        sb = np.where(att, e, sb)
        sy = np.where(att, y, sy)
    elif attack == "pns":
        fm, fs = pns_f
        fwd_single = (nph == 1) & (rng.random(n) < fs)
        fwd_multi = (nph >= 2) & (rng.random(n) < fm)
        n_fwd = np.where(fwd_single, 1, np.where(fwd_multi, nph - 1, 0))
        arrive = np.where(att, rng.binomial(n_fwd, setup.eta_bob), arrive)
    # route photons: passive splitter, then misalignment inside the pair
    pz = setup.p_z
    ed = setup.e_detector
    pv = np.zeros((n, 4))
    for j in range(4):
        jb, jy = divmod(j, 2)
        pair = pz if jb == 0 else 1 - pz
        pv[:, j] = pair * np.where(sb == jb, np.where(sy == jy, 1 - ed, ed), 0.5)
    counts = rng.multinomial(arrive, pv)
    clicks = (counts > 0) | (rng.random((n, 4)) < pd)
    if attack == "blinding":
        blinded = att
        q_norm = 1 - (1 - pd) ** 4 * np.exp(-setup.transmittance * setup.mu)
        g = min(1.0, q_norm / (1 - np.exp(-setup.mu)))
        g0 = 1 - (1 - pd) ** 4
        e = (rng.random(n) >= setup.p_z).astype(np.int64)
        has = nph >= 1
        trig = rng.random(n) < np.where(has, g, g0)
        y = np.where(has & (e == a), x, rng.integers(0, 2, n))
        forced = np.zeros((n, 4), bool)
        forced[np.arange(n), 2 * e + y] = True
        clicks = np.where(att[:, None], forced & trig[:, None], clicks)
    # after-pulses, sequentially in time
    p_ap = setup.afterpulse_probability
    if p_ap > 0:
        heap = list(np.flatnonzero(clicks.any(axis=1)))
        heapq.heapify(heap)
        seen = set(heap)
        while heap:
            i = heapq.heappop(heap)
            if blinded[i] or i + 1 >= n or blinded[i + 1]:
                continue
            for j in range(4):
                if clicks[i, j] and rng.random() < p_ap:
                    clicks[i + 1, j] = True
                    if i + 1 not in seen:
                        seen.add(i + 1)
                        heapq.heappush(heap, i + 1)
    ev = np.flatnonzero(clicks.any(axis=1))
    c = clicks[ev]
    zc = c[:, 0] | c[:, 1]
    xc = c[:, 2] | c[:, 3]
    bb = np.where(zc & xc, rng.integers(0, 2, ev.size), np.where(zc, 0, 1))
    d0 = np.where(bb == 0, c[:, 0], c[:, 2])
    d1 = np.where(bb == 0, c[:, 1], c[:, 3])
    bit = np.where(d0 & d1, rng.integers(0, 2, ev.size), np.where(d1, 1, 0))
    return {
        "position": ev,
        "intensity": k[ev],
        "alice_basis": a[ev],
        "alice_bit": x[ev],
        "bob_basis": bb,
        "bob_bit": bit,
        "multi": c.sum(axis=1) > 1,
        "sent_k": np.bincount(k, minlength=3),
    }


def _run(setup, pulses, seed, **kw):
    tot = SiftCounts()
    blocks = list(iter_blocks(setup, pulses=pulses, rng=np.random.default_rng(seed), **kw))
    for b in blocks:
        tot.add(block_counts(b))
    return tot, blocks


def _independent_stats(setup, k, alice_basis):
    """Exact sifted gain and QBER of class k, Alice basis, by enumerating independent clicks."""
    m = setup.transmittance * setup.intensities[k]
    pd, pz, ed = setup.dark_count_probability, setup.p_z, setup.e_detector
    # Alice sends bit 0 in alice_basis; per-detector Poisson means (independent thinning)
    lam = []
    for j in range(4):
        jb, jy = divmod(j, 2)
        pair = pz if jb == 0 else 1 - pz
        frac = (1 - ed if jy == 0 else ed) if jb == alice_basis else 0.5
        lam.append(m * pair * frac)
    c = [1 - (1 - pd) * np.exp(-v) for v in lam]
    sift = err = multi = anyc = 0.0
    for pat in itertools.product([0, 1], repeat=4):
        p = np.prod([c[j] if pat[j] else 1 - c[j] for j in range(4)])
        if sum(pat) == 0:
            continue
        anyc += p
        multi += p * (sum(pat) > 1)
        for basis in (0, 1):
            pair = pat[2 * basis : 2 * basis + 2]
            other = pat[2 * (1 - basis) : 2 * (1 - basis) + 2]
            if not any(pair):
                continue
            pb = 0.5 if any(other) else 1.0
            if basis != alice_basis:
                continue
            p_one = 0.5 if all(pair) else float(pair[1])
            sift += p * pb
            err += p * pb * p_one
    return sift, err / sift, anyc, multi


def test_gains_and_qber_match_analytic_channel_model():
    setup = _setup(
        channel_transmittance=0.3,
        eta_bob=0.1,
        dark_count_probability=1e-4,
        afterpulse_probability=0.0,
        e_detector=0.02,
    )
    tot, _ = _run(setup, 1 << 23, 11)
    sent_k = tot.sent.sum(axis=1)
    pd = setup.dark_count_probability
    rates = RatesChannel(eta_bob=1.0, y0=1 - (1 - pd) ** 4, e_detector=0.02)
    for k in range(3):
        exact = 1 - (1 - pd) ** 4 * np.exp(-setup.transmittance * setup.intensities[k])
        se = np.sqrt(exact * (1 - exact) / sent_k[k])
        q = tot.detection_gains[k]
        assert abs(q - exact) < 4 * se
        # MQZL05 form Q = Y0 + 1 - exp(-eta mu) (additive approximation, tiny difference)
        approx = rates.gain_at(setup.intensities[k], setup.transmittance)
        assert abs(q - approx) < 4 * se + abs(approx - exact)
        for b in range(2):
            g_exp, e_exp, _, _ = _independent_stats(setup, k, b)
            n = tot.sent[k, b]
            assert abs(tot.gains[k, b] - g_exp) < 4 * np.sqrt(g_exp / n)
            ns = tot.sifted[k, b]
            assert abs(tot.qber[k, b] - e_exp) < 4 * np.sqrt(e_exp * (1 - e_exp) / ns)
    # signal QBER close to the MQZL05 E_mu (misalignment dominated)
    e_model = (
        rates.qber(0.5, 0.0)
        if False
        else (
            rates.error_gain_at(0.5, setup.transmittance) / rates.gain_at(0.5, setup.transmittance)
        )
    )
    assert abs(tot.qber[0, 0] - e_model) < 0.01


def test_double_click_rate_matches_expectation():
    setup = _setup(
        channel_transmittance=0.8,
        eta_bob=0.5,
        mu=0.8,
        nu=0.2,
        dark_count_probability=1e-3,
        afterpulse_probability=0.0,
    )
    tot, _ = _run(setup, 1 << 21, 5)
    det = mul = 0.0
    for k in range(3):
        for b in range(2):
            _, _, anyc, multi = _independent_stats(setup, k, b)
            w = setup.probabilities[k] * (setup.p_z if b == 0 else 1 - setup.p_z)
            det += w * anyc
            mul += w * multi
    exp_rate = mul / det
    n_det = tot.detections.sum()
    rate = tot.multi_clicks / n_det
    assert abs(rate - exp_rate) < 4 * np.sqrt(exp_rate * (1 - exp_rate) / n_det)


def test_afterpulse_rate_and_block_boundaries():
    p_ap = 0.2
    setup = _setup(
        channel_transmittance=0.5,
        eta_bob=0.2,
        dark_count_probability=1e-3,
        afterpulse_probability=p_ap,
    )
    tot, big = _run(setup, 1 << 20, 3, block_pulses=1 << 20)
    det = tot.detections.sum()
    pc = det / tot.pulses
    est = (tot.consecutive / det - pc) / (1 - pc)
    # a detection after-pulses with prob. 1 - (1 - p_ap)^clicks; the estimator subtracts the
    # whole click probability (after-pulse clicks included), so it sits slightly below p_ap
    multi = tot.multi_clicks / det
    se = np.sqrt(p_ap / det)
    assert p_ap * (1 - 2 * pc) - 4 * se < est < p_ap + multi * p_ap + 4 * se
    # ground truth: events caused by after-pulses ~ p_ap per detection (minus overlaps)
    assert abs(tot.afterpulse_events / det - p_ap * (1 - pc)) < 4 * se + p_ap * multi
    # the same statistics with tiny blocks: after-pulses carried across block boundaries
    _, small = _run(setup, 1 << 17, 4, block_pulses=97)
    rates = []
    for blocks in (big, small):
        pos = np.concatenate([b.position for b in blocks])
        rates.append((np.count_nonzero(np.diff(pos) == 1) / pos.size, pos.size))
    (ra, na), (rb, nb) = rates
    assert abs(ra - rb) < 4 * np.sqrt(ra / na + rb / nb)


@pytest.mark.parametrize("attack", [None, "intercept-resend", "pns", "blinding"])
def test_fast_sampler_matches_naive_reference(attack):
    setup = _setup(
        channel_transmittance=0.4,
        eta_bob=0.3,
        mu=0.6,
        nu=0.15,
        dark_count_probability=5e-3,
        afterpulse_probability=0.15,
        e_detector=0.05,
        p_z=0.6,
    )
    n = 400_000
    strength = 0.6 if attack else 0.0
    spec = AttackSpec(attack, strength)
    ch = build_pulse_model(setup, spec)
    fast = list(
        iter_blocks(setup, pulses=n, rng=np.random.default_rng(1), attack=spec, block_pulses=50_000)
    )
    ref = naive_bb84(
        setup,
        n,
        np.random.default_rng(2),
        attack=attack,
        strength=strength,
        pns_f=ch.pns_forward_probabilities,
    )

    def cells(k, a, x, bb, bit, multi):
        return ((((k * 2 + a) * 2 + x) * 2 + bb) * 2 + bit) * 2 + multi.astype(int)

    cf = np.concatenate(
        [
            cells(
                b.intensity.astype(int),
                b.alice_basis.astype(int),
                b.alice_bit.astype(int),
                b.bob_basis.astype(int),
                b.bob_bit.astype(int),
                b.multi_click,
            )
            for b in fast
        ]
    )
    cr = cells(
        ref["intensity"],
        ref["alice_basis"],
        ref["alice_bit"],
        ref["bob_basis"],
        ref["bob_bit"],
        ref["multi"],
    )
    hf = np.bincount(cf, minlength=96)
    hr = np.bincount(cr, minlength=96)
    keep = (hf + hr) > 0
    table = np.vstack([hf[keep], hr[keep]])
    # total events: two-sample Poisson-like check; joint law: chi-square homogeneity
    nf, nr = hf.sum(), hr.sum()
    assert abs(nf - nr) < 4 * np.sqrt(nf + nr)
    p = stats.chi2_contingency(table)[1]
    assert p > 1e-4, (p, attack)
    # consecutive-gate detections (after-pulsing)
    pos_f = np.concatenate([b.position for b in fast])
    kf = np.count_nonzero(np.diff(pos_f) == 1)
    kr = np.count_nonzero(np.diff(ref["position"]) == 1)
    assert abs(kf - kr) < 4 * np.sqrt(kf + kr + 1)
    # pulses sent per class
    sent = sum(b.sent for b in fast).sum(axis=1)
    assert sent.sum() == n
    assert abs(sent[0] / n - setup.p_mu) < 4 * np.sqrt(setup.p_mu * (1 - setup.p_mu) / n)


def test_seeded_determinism_and_validation():
    setup = BB84Setup(channel_transmittance=0.3)
    a = [
        b.position
        for b in iter_blocks(
            setup, pulses=300_000, rng=np.random.default_rng(9), block_pulses=100_000
        )
    ]
    b = [
        b.position
        for b in iter_blocks(
            setup, pulses=300_000, rng=np.random.default_rng(9), block_pulses=100_000
        )
    ]
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    with pytest.raises(InputError, match="nu"):
        BB84Setup(channel_transmittance=0.3, nu=0.6)
    with pytest.raises(InputError, match="p_mu"):
        BB84Setup(channel_transmittance=0.3, p_mu=0.5)
    with pytest.raises(InputError, match="pulses"):
        next(iter_blocks(setup, pulses=0, rng=np.random.default_rng(0)))
    with pytest.raises(InputError, match="distance_km"):
        BB84Setup.from_distance(-1.0)


def test_bernoulli_positions_uniform_and_exact_count():
    rng = np.random.default_rng(0)
    n, p = 100_000, 0.01
    counts = np.array([bernoulli_positions(n, p, rng).size for _ in range(200)])
    assert abs(counts.mean() - n * p) < 4 * np.sqrt(n * p * (1 - p) / 200)
    pos = np.concatenate([bernoulli_positions(n, p, rng) for _ in range(50)])
    assert stats.kstest(pos / n, "uniform").pvalue > 1e-3
    big = bernoulli_positions(1000, 0.5, rng)
    assert np.all(np.diff(big) > 0) and big.max() < 1000
