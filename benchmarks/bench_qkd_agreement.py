"""Simulated vs analytic asymptotic secret key rate of decoy-state BB84 (0-100 km).

Time budget: about 1-3 minutes with the defaults on the 2-core machine (pulse simulation
dominates; ``--quick`` divides the pulses by 10).

Run: ``.venv/bin/python benchmarks/bench_qkd_agreement.py [--seeds 8] [--quick]
[--distances 0,25,50,100] [--afterpulse 0.0] [--seed-offset 0] [--pulses N]``

For each distance the pulse-level simulator (:func:`qnetai.qkd.pulses.iter_blocks`, four
detectors with dark counts, misalignment and squashing) runs ``--seeds`` times; the counts are
sifted and passed to :func:`qnetai.qkd.estimation.estimate_parameters` (the pipeline's own
estimation), and the *observed* asymptotic key rate per pulse is
``asymptotic_key_length(est, leaked_bits=f n h(E), verification_bits=0) / pulses`` with
the model leak ``f = 1.16`` (no finite-size terms, no tag). The analytic rate is the same
formula at the *expected* statistics of the analytic channel model of ``qnetai.qkd.channel``
(MQZL05 additive model with ``Y0 = 1 - (1 - p_dc)^4``), via
:func:`qnetai.qkd.estimation.expected_statistics` and
:func:`qnetai.qkd.estimation.asymptotic_rate_from_statistics`, with the same intensities,
class and basis probabilities, transmittance, misalignment and ``f``. After-pulsing is 0 on
both sides by default; with ``--afterpulse p`` the analytic side treats the simulator's
after-pulses (a click repeats in the same detector in the next gate with probability ``p``)
as extra background ``p c / (1 - p)`` (``c`` the click rate per gate), not the Lim14
``(1 + p_ap)`` factor of ``qnetai.qkd.channel``, which describes a different detector.

Columns: simulated mean over seeds +- 2 standard errors (SE = sample std / sqrt(seeds)); the
delta-method SE of one run (first-order propagation of binomial count noise, the SE the fast
test uses) scaled to the mean of the seeds, for comparison; the analytic rate; the rate of the
exact four-detector receiver statistics (pattern probabilities with squashing, no additive
approximation), showing the analytic model's own approximation error; z = (sim - analytic)/SE;
agree when |z| < 3. The GLLP rate of :func:`qnetai.qkd.rates.bb84_decoy_rate` (key from
signal pulses only, sifting q = p_z^2, no vacuum term, decoy pulses taken as free, i.e. per
*signal* pulse) is printed as a reference: a different figure, not the comparison.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qnetai.qkd.channel import ChannelModel
from qnetai.qkd.detectors import detector_fractions, pattern_probabilities
from qnetai.qkd.estimation import (
    asymptotic_key_length,
    asymptotic_rate_from_statistics,
    estimate_parameters,
    expected_statistics,
)
from qnetai.qkd.pulses import BB84Setup, iter_blocks
from qnetai.qkd.rates import bb84_decoy_rate
from qnetai.qkd.sifting import SiftCounts, block_counts

F_EC = 1.16
DEFAULT_PULSES = {0.0: 2e8, 25.0: 5e8, 50.0: 1e9, 100.0: 1e10}


def simulate_counts(setup: BB84Setup, pulses: int, seed: int) -> SiftCounts:
    """Pulse simulation + sifting counts (no key material kept)."""
    counts = SiftCounts()
    rng = np.random.default_rng(seed)
    for block in iter_blocks(setup, pulses=pulses, rng=rng, block_pulses=1 << 22):
        counts.add(block_counts(block))
    return counts


def observed_rate(counts: SiftCounts, setup: BB84Setup, f_ec: float = F_EC) -> float:
    """Asymptotic key rate per pulse from the observed counts, model leak ``f n h(E)``."""
    from qnetai.physics import binary_entropy

    est = estimate_parameters(counts, setup, f_ec=f_ec, verification_bits=0)
    leak = f_ec * est.key_bits * float(binary_entropy(est.key_qber))
    return asymptotic_key_length(est, leaked_bits=leak, verification_bits=0) / counts.pulses


def delta_se(counts: SiftCounts, setup: BB84Setup, f_ec: float = F_EC) -> float:
    """First-order SE of the rate from binomial noise of the sifted gains and error rates."""
    g, e = np.nan_to_num(counts.gains), np.nan_to_num(counts.qber)
    var_g = g * (1 - g) / np.maximum(counts.sent, 1)
    var_e = e * (1 - e) / np.maximum(counts.sifted, 1)
    var = 0.0
    for arr, v, other, first in ((g, var_g, e, True), (e, var_e, g, False)):
        for idx in np.ndindex(arr.shape):
            h = 1e-4 * max(np.sqrt(v[idx]), 1e-12)
            up, dn = arr.copy(), arr.copy()
            up[idx] += h
            dn[idx] -= h
            args_up = (up, other) if first else (other, up)
            args_dn = (dn, other) if first else (other, dn)
            d = (
                asymptotic_rate_from_statistics(*args_up, setup, f_ec=f_ec)
                - asymptotic_rate_from_statistics(*args_dn, setup, f_ec=f_ec)
            ) / (2 * h)
            var += d * d * v[idx]
    return float(np.sqrt(var))


def exact_receiver_statistics(setup: BB84Setup) -> tuple[np.ndarray, np.ndarray]:
    """Expected sifted gains/QBERs of the simulator's four-detector receiver with squashing.

    Exact pattern probabilities (no additive approximation); after-pulses enter as extra
    dark counts (first order, as in :func:`expected_statistics`).
    """
    pats = np.arange(16)
    z, x = pats & 3, pats >> 2
    p_basis = np.zeros((16, 2))  # P(Bob's squashed basis = b | pattern)
    p_basis[(z > 0) & (x == 0), 0] = 1.0
    p_basis[(z == 0) & (x > 0), 1] = 1.0
    p_basis[(z > 0) & (x > 0)] = 0.5
    gains = np.zeros((3, 2))
    errs = np.zeros((3, 2))
    # after-pulses as extra dark counts, spread evenly over the four detectors
    y0 = 1 - (1 - setup.dark_count_probability) ** 4
    p_ap = setup.afterpulse_probability
    clicks = float(
        np.sum(setup.probabilities * (y0 - np.expm1(-setup.transmittance * setup.intensities)))
    )
    p_dark = 1 - (1 - setup.dark_count_probability) * (1 - p_ap * clicks / (1 - p_ap) / 4)
    for k, mu in enumerate(setup.intensities):
        m = setup.transmittance * mu
        for s in range(2):
            for y in range(2):
                frac = detector_fractions(s, y, p_z=setup.p_z, e_detector=setup.e_detector)
                probs = pattern_probabilities(lambda f, m=m: np.exp(-m * f), frac, p_dark)
                probs[0] = 0.0
                pair = (pats >> (2 * s)) & 3
                p_wrong = np.where(pair == 3, 0.5, (pair == (1 << (1 - y))).astype(float))
                gains[k, s] += 0.5 * float(np.sum(probs * p_basis[:, s]))
                errs[k, s] += 0.5 * float(np.sum(probs * p_basis[:, s] * p_wrong))
    return gains, errs / gains


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--distances", default="0,25,50,100")
    p.add_argument("--pulses", type=float, default=None, help="pulses per seed (all distances)")
    p.add_argument("--afterpulse", type=float, default=0.0)
    p.add_argument("--seed-offset", type=int, default=0, help="first seed (fresh data)")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    print(
        "| distance km | pulses/seed x seeds | simulated rate +- 2 SE | delta-method SE "
        "| analytic rate (channel model) | exact-receiver rate | GLLP reference "
        "| z | agree (|z| < 3) | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dist in (float(d) for d in args.distances.split(",")):
        n = int(args.pulses or DEFAULT_PULSES.get(dist, 1e9) / (10 if args.quick else 1))
        # the link of the README figures (0.2 dB/km, 10 %, 1e-6 per detector, e_d 1 %)
        link = ChannelModel(
            attenuation_db_per_km=0.2,
            eta_bob=0.1,
            y0=1 - (1 - 1e-6) ** 4,
            e_detector=0.01,
            afterpulse_probability=args.afterpulse,
        )
        setup = BB84Setup.from_distance(dist, channel=link)
        t0 = time.perf_counter()
        rates, dses = [], []
        for seed in range(args.seeds):
            c = simulate_counts(setup, n, 10_000 * int(dist) + args.seed_offset + seed)
            rates.append(observed_rate(c, setup))
            dses.append(delta_se(c, setup))
        dt = time.perf_counter() - t0
        mean = float(np.mean(rates))
        se = float(np.std(rates, ddof=1) / np.sqrt(args.seeds))
        dse = float(np.mean(dses) / np.sqrt(args.seeds))
        analytic = asymptotic_rate_from_statistics(*expected_statistics(setup), setup, f_ec=F_EC)
        exact = asymptotic_rate_from_statistics(*exact_receiver_statistics(setup), setup, f_ec=F_EC)
        gllp = float(
            bb84_decoy_rate(
                dist, mu=setup.mu, nu=setup.nu, channel=link, f_ec=F_EC, q=setup.p_z**2
            ).key_rate_per_pulse
        )
        z = (mean - analytic) / se
        print(
            f"| {dist:g} | {n:.1e} x {args.seeds} | {mean:.5e} +- {2 * se:.1e} | {dse:.1e} "
            f"| {analytic:.5e} | {exact:.5e} | {gllp:.3e} | {z:+.2f} "
            f"| {'yes' if abs(z) < 3 else 'NO'} | {dt:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
