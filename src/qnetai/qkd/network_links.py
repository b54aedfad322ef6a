"""Secret-key rates of the scenario's QKD links and the key they feed into their pools.

Every link with ``qkd: true`` runs prepare-and-measure decoy-state BB84 over its channel.
The channel is described by its loss in dB (fibre: ``attenuation_db_per_km * length_km``;
free space: ``-10 log10`` of :func:`qnetai.physics.free_space_transmittance` at the mean
loss), used as an equivalent length of 0.2 dB/km fibre so that the fibre-based rate models
apply unchanged. Bob's receiver comes from ``qkd.receiver``; the background probability
of his two-detector apparatus is ``Y0 = 2 p_dark``. Both modes use the same
:class:`~qnetai.qkd.channel.ChannelModel` (the pulse simulator spreads that ``Y0`` over
its four detectors).

* ``mode: analytic``: the optimised asymptotic rate (vacuum + weak decoys or infinite
  decoys, :func:`qnetai.qkd.optimise.rate_summary`) or, with ``finite_key``, the Lim et al.
  2014 finite-key rate per pulse; times ``pulse_rate_hz``. Key accrues continuously:
  ``floor(rate * t)`` bits by time ``t``.
* ``mode: simulate``: ``qkd.simulate.blocks`` blocks of ``block_pulses`` pulses are run
  through :func:`qnetai.qkd.pipeline.run_bb84` (sifting, estimation, error correction,
  verification, privacy amplification). Each block of pulses sent in simulated time
  (``block_pulses / pulse_rate_hz`` seconds) adds the final key of one simulated block to
  the pool, cycling through the simulated blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

EQUIVALENT_DB_PER_KM = 0.2

__all__ = ["KeySupply", "LinkKeyRate", "link_key_rates", "link_loss_db"]


@dataclass(frozen=True)
class LinkKeyRate:
    """Key-rate figures of one QKD link (``chunks_bits``: key per block in simulate mode)."""

    link: str
    a: str
    b: str
    kind: str
    length_km: float
    loss_db: float
    key_rate_per_pulse: float
    key_rate_bps: float
    qber: float
    mu: float | None
    nu: float | None
    chunks_bits: tuple[int, ...] = ()
    status: str = "ok"


def link_loss_db(link: Any) -> float:
    """Channel loss of a link in dB (free space at its mean loss, loss variation ignored)."""
    if link.kind == "free_space":
        from qnetai.topology.channels import link_transmittance

        return -10.0 * math.log10(max(float(link_transmittance(link)), 1e-300))
    return float(link.attenuation_db_per_km * link.length_km)


def _channel(spec: Any) -> Any:
    """The link's :class:`~qnetai.qkd.channel.ChannelModel`: both modes use this one object."""
    from qnetai.qkd.channel import ChannelModel

    r = spec.receiver
    return ChannelModel(
        attenuation_db_per_km=EQUIVALENT_DB_PER_KM,
        eta_bob=r.eta_bob,
        y0=min(2 * r.dark_count_probability, 0.5),
        e_detector=r.e_detector,
        afterpulse_probability=r.afterpulse_probability,
    )


def _analytic(distance_km: float, spec: Any) -> tuple[float, float, float | None, float | None]:
    """(key rate per pulse, QBER of the signal, mu, nu) from the rate models."""
    from qnetai.qkd.optimise import rate_summary

    kw: dict[str, Any] = {"channel": _channel(spec), "f_ec": spec.f_ec}
    if spec.finite_key:
        both = spec.mu is not None and spec.nu is not None
        d = rate_summary(
            distance_km,
            finite_key=True,
            block_size=spec.block_size,
            mu=spec.mu if both else None,
            nu=spec.nu if both else None,
            **kw,
        )
    elif spec.decoys == "infinite":
        d = rate_summary(distance_km, decoys="infinite", mu=spec.mu, **kw)
    else:
        d = rate_summary(distance_km, decoys="vacuum-weak", mu=spec.mu, nu=spec.nu, **kw)
    return float(d["key_rate_per_pulse"]), float(d["e_mu"]), d.get("mu"), d.get("nu")


def _simulated(
    distance_km: float, spec: Any, rng: np.random.Generator
) -> tuple[tuple[int, ...], float, str]:
    """Final key bits of each simulated block, the mean key QBER and a status."""
    from qnetai.qkd.pipeline import run_bb84

    channel = _channel(spec)
    chunks, qbers, statuses = [], [], set()
    for _ in range(spec.simulate.blocks):
        out = run_bb84(
            distance_km=distance_km,
            pulses=spec.simulate.block_pulses,
            rng=rng,
            channel=channel,
            reconciliation=spec.simulate.reconciliation,
            block_pulses=min(spec.simulate.block_pulses, 1 << 20),
        )
        chunks.append(int(out.final_key_length) if out.status == "ok" else 0)
        qbers.append(float(out.qber_key))
        statuses.add(out.status if out.status == "ok" else f"aborted: {out.abort_reason}")
    status = "ok" if statuses == {"ok"} else "; ".join(sorted(statuses))
    return tuple(chunks), float(np.nanmean(qbers)) if qbers else float("nan"), status


def link_key_rates(links: list[Any], spec: Any, *, rng: np.random.Generator) -> list[LinkKeyRate]:
    """Key rates of ``links`` (LinkSpecs with ``qkd: true``) under ``spec`` (QKDNetworkSpec).

    Analytic rates are computed once per distinct loss (links of equal loss share them).
    """
    cache: dict[float, tuple[float, float, float | None, float | None]] = {}
    out = []
    for link in links:
        a, b = link.endpoints
        loss = link_loss_db(link)
        d_eq = loss / EQUIVALENT_DB_PER_KM
        name = link.name or f"{a}-{b}"
        if spec.mode == "simulate":
            chunks, qber, status = _simulated(d_eq, spec, rng)
            per_pulse = sum(chunks) / (len(chunks) * spec.simulate.block_pulses)
            out.append(
                LinkKeyRate(
                    name,
                    a,
                    b,
                    link.kind,
                    float(link.length_km),
                    loss,
                    per_pulse,
                    per_pulse * spec.pulse_rate_hz,
                    qber,
                    None,
                    None,
                    chunks,
                    status,
                )
            )
            continue
        key = round(loss, 9)
        if key not in cache:
            cache[key] = _analytic(d_eq, spec)
        rpp, qber, mu, nu = cache[key]
        out.append(
            LinkKeyRate(
                name,
                a,
                b,
                link.kind,
                float(link.length_km),
                loss,
                rpp,
                rpp * spec.pulse_rate_hz,
                qber,
                mu,
                nu,
            )
        )
    return out


class KeySupply:
    """Cumulative key bits each link has produced by time ``t`` (a callable).

    Example:
        >>> s = KeySupply(np.array([1000.0]), pulse_rate_hz=1e9)
        >>> s(0.0123).tolist()
        [12]
    """

    def __init__(
        self,
        rates_bps: NDArray[np.float64],
        *,
        pulse_rate_hz: float,
        chunks_bits: NDArray[np.int64] | None = None,
        block_pulses: int | None = None,
    ) -> None:
        self.rates_bps = np.asarray(rates_bps, dtype=float)
        self.pulse_rate_hz = float(pulse_rate_hz)
        self.chunks = None if chunks_bits is None else np.asarray(chunks_bits, dtype=np.int64)
        self.block_pulses = block_pulses
        if self.chunks is not None:
            if block_pulses is None:
                raise ValueError("block_pulses is needed with chunks_bits")
            zero = np.zeros((self.chunks.shape[0], 1), np.int64)
            self._prefix = np.concatenate([zero, np.cumsum(self.chunks, axis=1)], axis=1)

    def __call__(self, t_s: float) -> NDArray[np.int64]:
        """Bits generated on every link in ``[0, t_s]``."""
        if self.chunks is None:
            return np.floor(self.rates_bps * t_s + 1e-9).astype(np.int64)
        assert self.block_pulses is not None
        blocks = math.floor(t_s * self.pulse_rate_hz / self.block_pulses + 1e-9)
        n = self.chunks.shape[1]
        full, rest = divmod(blocks, n)
        return full * self._prefix[:, n] + self._prefix[:, rest]
