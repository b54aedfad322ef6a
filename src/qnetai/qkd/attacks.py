"""Eavesdropping attacks on decoy-state BB84 and the channel each one presents to Bob.

A :class:`PulseTypeModel` describes, for every *pulse type* (intensity class x attacked or
not), the probability that Bob sees any click and, given a click, the exact distribution of
the click pattern. :mod:`qnetai.qkd.pulses` draws the clicks from it. The attacks act on a
random fraction ``strength`` of the pulses (independently per pulse):

* ``intercept-resend``: Eve (at Alice's output) measures the pulse in a random basis
  (``p_z`` biased like Alice) and resends its photons, unchanged in number, in the state she
  found; in sifted bits where her basis was wrong Bob's bit is random, so the QBER rises by
  about ``strength / 4``. Gains are unchanged.
* ``pns`` (photon-number splitting): Eve counts photons (QND); she blocks single photons,
  keeps one photon of each multi-photon pulse and forwards the rest over a lossless channel,
  with probabilities chosen so that the expected *signal* gain equals the normal one (if
  multi-photon pulses do not suffice she forwards some single photons too, losslessly). The
  decoy gain then falls below what the signal gain implies, and the decoy bound on ``Y1``
  collapses.
* ``blinding``: Eve blinds Bob's detectors (no dark counts, no after-pulses, no
  single-photon sensitivity), measures the pulse in a random basis and sends a bright trigger
  that makes exactly the detector of her basis and bit click (with a passive receiver the
  trigger picks Bob's basis; half-intensity light in the other pair stays under threshold).
  She triggers with probability ``g`` after a detection, tuned to the normal signal gain,
  and with probability ``g0`` (the normal vacuum yield) when she saw nothing, so vacuum
  decoys still click. The QBER does not rise (it falls), but double clicks and after-pulses
  vanish and the gain ratios between intensities change.
* ``trojan-horse``: Eve injects bright probe light into Alice's transmitter and reads the
  back-reflection from the phase/intensity modulator (Gisin et al. 2006, Vakhitov, Makarov,
  Hjelme 2001). Bob's statistics change only through the probe's side effect on the
  source: attacked pulses leave with their intensity raised by
  :data:`TROJAN_INTENSITY_SHIFT` (relative; photorefractive and thermal drift of the
  modulator under the injected power). Alice's monitor photodiode sees the probe light:
  :data:`TROJAN_MONITOR_NW` per unit strength (read by
  :func:`qnetai.qkd.monitoring.telemetry_features`).
* ``time-shift`` (Qi, Fung, Lo, Ma 2007; Zhao et al. 2008): Bob's detectors for bit 0 and
  bit 1 have efficiency curves offset in time; shifting a pulse early makes the bit-0
  detectors relatively efficient (efficiency ratio :data:`TIME_SHIFT_MISMATCH` for bit 1),
  shifting late the bit-1 detectors. Eve shifts each attacked pulse early or late at random
  and, to keep the gain, replaces part of the fibre by a lossless line (gain factor
  ``2 / (1 + r)``, capped by the fibre loss). She learns the bit of a click with
  probability ``1 / (1 + r)``. QBER and mean gain barely move; the arrival-time histogram
  widens by :data:`TIME_SHIFT_PS` (read by :func:`qnetai.qkd.monitoring.telemetry_features`).
  Exact for ``p_z = 0.5`` (then the click probability is the same for all four states);
  other ``p_z`` are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from qnetai.errors import InputError
from qnetai.qkd.detectors import detector_fractions, pattern_probabilities

if TYPE_CHECKING:
    from qnetai.qkd.pulses import BB84Setup

__all__ = [
    "ATTACKS",
    "BOB_SIDE_ATTACKS",
    "TIME_SHIFT_MISMATCH",
    "TIME_SHIFT_PS",
    "TROJAN_INTENSITY_SHIFT",
    "TROJAN_MONITOR_NW",
    "AttackSpec",
    "PulseTypeModel",
    "build_pulse_model",
]

#: Names of the attacks that can be simulated.
ATTACKS: tuple[str, ...] = ("intercept-resend", "pns", "blinding", "trojan-horse", "time-shift")
#: The attacks that act on Bob's statistics alone (no side channel): the default mix of
#: :func:`qnetai.qkd.monitoring.labelled_block_features`.
BOB_SIDE_ATTACKS: tuple[str, ...] = ("intercept-resend", "pns", "blinding")
#: Relative intensity increase of pulses under the Trojan-horse probe.
TROJAN_INTENSITY_SHIFT = 0.05
#: Extra back-reflected probe power at Alice's monitor photodiode per unit attack strength (nW).
TROJAN_MONITOR_NW = 1.0
#: Efficiency ratio of the disfavoured detector at the shifted arrival time.
TIME_SHIFT_MISMATCH = 0.25
#: Arrival-time shift of a time-shifted pulse (ps), either sign.
TIME_SHIFT_PS = 150.0
#: Click-pattern laws (first index of the pattern CDF rows).
_LAW_HONEST, _LAW_PNS, _LAW_TROJAN, _LAW_EARLY, _LAW_LATE = range(5)
_N_LAWS = 5


@dataclass(frozen=True)
class AttackSpec:
    """An attack on a fraction ``strength`` of the pulses (``kind=None``: no attack)."""

    kind: str | None = None
    strength: float = 0.0

    def __post_init__(self) -> None:
        if self.kind is not None and self.kind not in ATTACKS:
            raise InputError(f"attack must be one of {', '.join(ATTACKS)} (got {self.kind!r})")
        s = float(self.strength)
        if not np.isfinite(s) or not 0.0 <= s <= 1.0:
            raise InputError(f"attack_strength must be in [0, 1] (got {self.strength})")

    @property
    def active(self) -> bool:
        """Whether any pulse is attacked."""
        return self.kind is not None and self.strength > 0.0

    @property
    def label(self) -> str:
        """Label of blocks under this attack (``"none"`` when inactive)."""
        return self.kind if self.active and self.kind is not None else "none"


def _pns_forward_probabilities(setup: BB84Setup) -> tuple[float, float]:
    """Eve's forwarding probabilities ``(f_multi, f_single)`` in the PNS attack.

    Multi-photon pulses (``n - 1`` photons, lossless) are forwarded first, with probability
    ``f_multi``; if they cannot reach the normal signal gain alone, a fraction ``f_single`` of
    the single photons is forwarded losslessly too (without Eve learning those bits).
    """
    mu, eta_b = setup.mu, setup.eta_bob
    target = -np.expm1(-setup.transmittance * mu)  # normal signal gain without dark counts
    z1 = 1.0 - eta_b
    p_multi = 1.0 - np.exp(-mu) * (1.0 + mu)
    undetected = np.exp(-mu) * (np.expm1(mu * z1) - mu * z1) / z1 if z1 > 0 else 0.0
    g_multi = p_multi - undetected  # gain if every multi-photon pulse is forwarded
    if g_multi >= target:
        return float(target / g_multi), 0.0
    g_single = mu * np.exp(-mu) * eta_b
    return 1.0, float(min(1.0, (target - g_multi) / g_single))


def _pns_no_photon(mu: float, eta_b: float, f_multi: float, f_single: float):
    """``x -> E[(1 - eta_b x)^N']`` for the photons Eve forwards in a PNS attack."""

    def fn(x: NDArray[np.float64]) -> NDArray[np.float64]:
        z = 1.0 - eta_b * x
        p0, p1 = np.exp(-mu), mu * np.exp(-mu)
        p_multi = 1.0 - p0 - p1
        with np.errstate(divide="ignore", invalid="ignore"):
            fwd = np.where(z > 0, p0 * (np.expm1(mu * z) - mu * z) / z, 0.0)
        single = p1 * ((1.0 - f_single) + f_single * z)
        return p0 + single + (1.0 - f_multi) * p_multi + f_multi * fwd

    return fn


@dataclass(frozen=True, eq=False)
class PulseTypeModel:
    """Per-pulse-type click probabilities and click-pattern samplers (see module doc).

    Built by :func:`build_pulse_model` from a :class:`~qnetai.qkd.pulses.BB84Setup` (whose
    :class:`~qnetai.qkd.channel.ChannelModel` gives the honest link) and an attack; the
    simulator's internal sampling table, not a channel description of its own.
    """

    attack: AttackSpec
    type_intensity: NDArray[np.intp]
    type_attacked: NDArray[np.bool_]
    type_prior: NDArray[np.float64]
    type_click: NDArray[np.float64]
    type_blinded: NDArray[np.bool_]
    p_z: float
    cdf: NDArray[np.float64]  # (rows, 15) conditional CDF of patterns 1..15 given a click
    blind_photon_given_click: NDArray[np.float64]  # (3,)
    pns_forward_probabilities: tuple[float, float]
    #: P(early shift | click) per (intensity, basis, bit) of time-shifted pulses.
    early_given_click: NDArray[np.float64] = field(default_factory=lambda: np.full((3, 2, 2), 0.5))

    @property
    def n_types(self) -> int:
        """Number of pulse types."""
        return int(self.type_prior.size)

    def sample_patterns(
        self,
        types: NDArray[np.intp],
        alice_basis: NDArray[np.uint8],
        alice_bit: NDArray[np.uint8],
        rng: np.random.Generator,
    ) -> NDArray[np.uint8]:
        """Click patterns (non-zero masks) of pulses known to produce a primary click."""
        n = types.size
        k = self.type_intensity[types]
        att = self.type_attacked[types]
        s = alice_basis.astype(np.intp)
        y = alice_bit.astype(np.intp)
        law = np.zeros(n, dtype=np.intp)
        kind = self.attack.kind
        if kind == "intercept-resend":
            m = int(att.sum())
            e = (rng.random(m) >= self.p_z).astype(np.intp)
            rand = rng.integers(0, 2, m)
            s[att] = e
            y[att] = np.where(e == alice_basis[att], alice_bit[att], rand)
        elif kind == "pns":
            law = att.astype(np.intp) * _LAW_PNS
        elif kind == "trojan-horse":
            law = att.astype(np.intp) * _LAW_TROJAN
        elif kind == "time-shift":
            p_early = self.early_given_click[k[att], s[att], y[att]]
            early = rng.random(int(att.sum())) < p_early
            law[att] = np.where(early, _LAW_EARLY, _LAW_LATE)
        row = ((law * 3 + k) * 2 + s) * 2 + y
        u = rng.random(n)
        out = (1 + (u[:, None] > self.cdf[row]).sum(axis=1)).astype(np.uint8)
        if kind == "blinding":
            m = int(att.sum())
            if m:
                photon = rng.random(m) < self.blind_photon_given_click[k[att]]
                e = (rng.random(m) >= self.p_z).astype(np.uint8)
                rand = rng.integers(0, 2, m, dtype=np.uint8)
                bit = np.where(photon & (e == alice_basis[att]), alice_bit[att], rand)
                out[att] = (1 << (2 * e + bit)).astype(np.uint8)
        return out


def build_pulse_model(setup: BB84Setup, attack: AttackSpec | None = None) -> PulseTypeModel:
    """What Bob sees, per pulse type, for ``setup`` under ``attack`` (``None``: honest).

    Example:
        >>> from qnetai.qkd.pulses import BB84Setup
        >>> m = build_pulse_model(BB84Setup.from_distance(25.0), AttackSpec("pns", 0.5))
        >>> m.n_types, m.attack.label
        (6, 'pns')
    """
    attack = attack if attack is not None else AttackSpec()
    intens = setup.intensities
    pd = setup.dark_count_probability
    s_att = attack.strength if attack.active else 0.0
    if attack.kind == "time-shift" and abs(setup.p_z - 0.5) > 1e-12:
        raise InputError(f"the time-shift attack is modelled for p_z = 0.5 (got {setup.p_z})")
    y0_all = 1.0 - (1.0 - pd) ** 4
    honest_click = 1.0 - (1.0 - pd) ** 4 * np.exp(-setup.transmittance * intens)
    f = _pns_forward_probabilities(setup)
    r = TIME_SHIFT_MISMATCH
    ts_gain = min(2.0 / (1.0 + r), 1.0 / setup.channel_transmittance)
    # detector efficiency weights (Z0, Z1, X0, X1) of an early / late arriving pulse
    eff = {_LAW_EARLY: np.array([1.0, r, 1.0, r]), _LAW_LATE: np.array([r, 1.0, r, 1.0])}
    # conditional pattern CDFs, rows ((law*3 + k)*2 + s)*2 + y
    cdf = np.zeros((_N_LAWS * 3 * 2 * 2, 15))
    no_click = np.ones((_N_LAWS, 3, 2, 2))
    for law in range(_N_LAWS):
        for k in range(3):
            if law == _LAW_PNS:
                no_photon = _pns_no_photon(float(intens[k]), setup.eta_bob, *f)
            else:
                m = setup.transmittance * intens[k]
                if law == _LAW_TROJAN:
                    m *= 1.0 + TROJAN_INTENSITY_SHIFT
                elif law in eff:
                    m *= ts_gain

                def no_photon(x, m=m):
                    return np.exp(-m * x)

            for s in range(2):
                for y in range(2):
                    frac = detector_fractions(s, y, p_z=setup.p_z, e_detector=setup.e_detector)
                    if law in eff:
                        frac = frac * eff[law]
                    all_probs = pattern_probabilities(no_photon, frac, pd)
                    no_click[law, k, s, y] = all_probs[0]
                    probs = all_probs[1:]
                    tot = probs.sum()
                    c = np.cumsum(probs) / tot if tot > 0 else np.linspace(1 / 15, 1, 15)
                    c[-1] = 1.0
                    cdf[((law * 3 + k) * 2 + s) * 2 + y] = c
    attacked_click = honest_click.copy()
    blind_photon = np.zeros(3)
    early_given_click = np.full((3, 2, 2), 0.5)
    if attack.kind == "pns":
        for k in range(3):
            fn = _pns_no_photon(float(intens[k]), setup.eta_bob, *f)
            attacked_click[k] = 1.0 - (1.0 - pd) ** 4 * float(fn(np.array(1.0)))
    elif attack.kind == "trojan-horse":
        attacked_click = 1.0 - (1.0 - pd) ** 4 * np.exp(
            -setup.transmittance * intens * (1.0 + TROJAN_INTENSITY_SHIFT)
        )
    elif attack.kind == "time-shift":
        c_early = 1.0 - no_click[_LAW_EARLY]
        c_late = 1.0 - no_click[_LAW_LATE]
        both = c_early + c_late
        # with p_z = 1/2 the shift-averaged click probability is the same for every state
        attacked_click = 0.5 * both.mean(axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            early_given_click = np.where(both > 0, c_early / both, 0.5)
    elif attack.kind == "blinding":
        p_photon = -np.expm1(-intens)
        g = min(1.0, honest_click[0] / p_photon[0])
        g0 = y0_all
        attacked_click = p_photon * g + (1.0 - p_photon) * g0
        with np.errstate(divide="ignore", invalid="ignore"):
            blind_photon = np.where(attacked_click > 0, p_photon * g / attacked_click, 0.0)
    t_int = np.array([0, 1, 2, 0, 1, 2], dtype=np.intp)
    t_att = np.array([False] * 3 + [True] * 3)
    prior = np.concatenate([setup.probabilities * (1 - s_att), setup.probabilities * s_att])
    click = np.concatenate([honest_click, attacked_click])
    blinded = t_att & (attack.kind == "blinding")
    return PulseTypeModel(
        attack=attack,
        type_intensity=t_int,
        type_attacked=t_att,
        type_prior=prior,
        type_click=click,
        type_blinded=blinded,
        p_z=setup.p_z,
        cdf=cdf,
        blind_photon_given_click=blind_photon,
        pns_forward_probabilities=f,
        early_given_click=early_given_click,
    )
