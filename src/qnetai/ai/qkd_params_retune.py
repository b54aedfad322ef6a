"""Online re-tuning of a fading QKD link's decoy parameters by the learned network.

A link whose loss changes block by block (a free-space link's weather fade, the engine's
sinusoidal ``loss_variation`` of :mod:`qnetai.sim.linklayer`) is run three ways:

* **fixed**: the parameters the optimiser chose at commissioning (at the mean loss), kept;
* **re-tuned**: before each block, :class:`~qnetai.ai.qkd_params.DecoyParameterNet` picks
  parameters for the loss measured on the previous block (``lag_blocks``); the new
  parameters replace the current ones only if they give more key at that measured loss
  (two rate evaluations), and where neither gives key the optimiser is asked
  (:meth:`DecoyParameterNet.tune`'s fallback). On a constant-loss link re-tuning therefore
  keeps the commissioning parameters unless the network's are better;
* **optimiser per block** (the ceiling): the optimiser run at each block's true loss.

The key of a block is its rate per pulse (:func:`qnetai.ai.qkd_params.rate_of`, the Lim14
finite-key rate at the block's *true* loss) times the pulses per block. Loss enters the
rate as equivalent GYS fibre: ``distance_km = loss_db / 0.21``.

Example:
    >>> link = FadingLink.sinusoid(mean_loss_db=20.0, amplitude_db=3.0, n_blocks=8,
    ...                            blocks_per_period=8)
    >>> [round(x, 2) for x in link.loss_db[:3]]
    [20.0, 22.12, 23.0]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from qnetai.ai.qkd_params import (
    CONDITION_NAMES,
    DecoyParameterNet,
    optimal_parameters,
    rate_of,
)
from qnetai.errors import InputError
from qnetai.qkd.channel import GYS

__all__ = ["FadingLink", "metro6g_fading_link", "retune_link", "run_retune_benchmark"]

#: dB per km of the equivalent fibre that a loss in dB is expressed as.
DB_PER_KM = GYS.attenuation_db_per_km
#: Longest equivalent distance the network was trained on (km): losses beyond are clipped.
MAX_DISTANCE_KM = 200.0


@dataclass(frozen=True)
class FadingLink:
    """A QKD link's channel loss per block (dB) and its detector and block figures."""

    loss_db: tuple[float, ...]
    eta_bob: float = 0.1
    y0: float = 1e-6
    e_detector: float = 0.015
    block_size: float = 1e10
    name: str = "fading link"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.loss_db) == 0:
            raise InputError("loss_db: at least one block is needed")
        arr = np.asarray(self.loss_db, dtype=float)
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise InputError("loss_db: every block's loss must be a finite number >= 0 dB")
        checks = (
            ("eta_bob", self.eta_bob, 0.02, 0.6),
            ("y0", self.y0, 1e-7, 1e-5),
            ("e_detector", self.e_detector, 0.005, 0.04),
            ("block_size", self.block_size, 1e9, 1e13),
        )
        for name, v, lo, hi in checks:  # the network's training ranges
            if not lo <= v <= hi:
                raise InputError(f"{name} must be in [{lo:g}, {hi:g}] (got {v})")

    @classmethod
    def sinusoid(
        cls,
        *,
        mean_loss_db: float,
        amplitude_db: float,
        n_blocks: int,
        blocks_per_period: float,
        phase_rad: float = 0.0,
        **kw: Any,
    ) -> FadingLink:
        """Loss ``mean + amplitude sin(2 pi j / blocks_per_period + phase)`` (>= 0) per block."""
        if n_blocks < 1 or blocks_per_period <= 0:
            raise InputError("n_blocks must be >= 1 and blocks_per_period > 0")
        j = np.arange(n_blocks)
        loss = mean_loss_db + amplitude_db * np.sin(2 * np.pi * j / blocks_per_period + phase_rad)
        return cls(tuple(np.maximum(loss, 0.0).tolist()), **kw)

    @classmethod
    def constant(cls, loss_db: float, n_blocks: int, **kw: Any) -> FadingLink:
        """A link whose loss never changes (the re-tuning control case)."""
        return cls(tuple([float(loss_db)] * int(n_blocks)), **kw)

    def conditions(self, loss_db: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """``(n, 5)`` network conditions (:data:`CONDITION_NAMES`) of each block."""
        loss = np.asarray(self.loss_db if loss_db is None else loss_db, dtype=float)
        d = np.clip(loss / DB_PER_KM, 0.0, MAX_DISTANCE_KM)
        n = len(d)
        return np.column_stack(
            [
                d,
                np.full(n, self.eta_bob),
                np.full(n, self.y0),
                np.full(n, self.e_detector),
                np.full(n, self.block_size),
            ]
        )


def metro6g_fading_link(
    *, n_blocks: int = 50, blocks_per_period: float = 50.0, **kw: Any
) -> FadingLink:
    """The built-in metro-6g scenario's free-space link (its loss and ±3 dB sinusoidal fade).

    The scenario's fade period is 0.5 s; QKD blocks of ``block_size`` pulses are far longer,
    so the fade is replayed with ``blocks_per_period`` blocks per period (its shape, not its
    clock). The extra loss is clipped as the engine does (transmittance <= 1).
    """
    from qnetai.config.builtin import builtin_scenario
    from qnetai.topology.channels import link_transmittance

    scen = builtin_scenario("metro-6g")
    links = [lk for lk in scen.links if lk.kind == "free_space"]
    if not links or links[0].free_space is None or links[0].free_space.loss_variation is None:
        raise InputError("metro-6g has no free-space link with a loss_variation")
    lk = links[0]
    lv = links[0].free_space.loss_variation
    j = np.arange(n_blocks)
    extra = lv.extra_loss_db(j * (lv.period_s / blocks_per_period))  # its shape, not its clock
    eta = np.asarray(link_transmittance(lk, extra_loss_db=extra), dtype=float)
    loss = -10.0 * np.log10(np.maximum(eta, 1e-300))
    name = f"metro-6g {lk.endpoints[0]}-{lk.endpoints[1]} (free space)"
    return FadingLink(tuple(np.maximum(loss, 0.0).tolist()), name=name, **kw)


def retune_link(
    net: DecoyParameterNet,
    link: FadingLink,
    *,
    lag_blocks: int = 1,
    ceiling: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Key over the link's blocks: fixed (commissioning) vs re-tuned vs optimiser per block.

    ``lag_blocks``: the loss the re-tuner sees is that of ``lag_blocks`` blocks earlier
    (the first blocks see the commissioning loss). Returns totals in bits, their ratios,
    the blocks without key, the network's query time and the per-block series.
    """
    if lag_blocks < 0:
        raise InputError(f"lag_blocks must be >= 0 (got {lag_blocks})")
    loss = np.asarray(link.loss_db, dtype=float)
    n = len(loss)
    true_c = link.conditions()
    commission_db = float(np.mean(loss))
    seen = np.array([loss[j - lag_blocks] if j >= lag_blocks else commission_db for j in range(n)])
    seen_c = link.conditions(seen)
    x_fixed, _ = optimal_parameters(link.conditions(np.array([commission_db]))[0])
    t0 = time.process_time()
    x_net = net.raw(seen_c)  # one batched query for the whole schedule
    net_cpu_s = (time.process_time() - t0) / n
    fixed_r, tuned_r, best_r = np.zeros(n), np.zeros(n), np.zeros(n)
    swaps = fallbacks = 0
    x_cur = x_fixed
    for j in range(n):
        cand = x_net[j]
        r_cand, r_cur = rate_of(seen_c[j], cand), rate_of(seen_c[j], x_cur)
        if r_cand > r_cur:
            x_cur, swaps = cand, swaps + 1
        elif r_cur <= 0:  # neither gives key at the measured loss: the optimiser decides
            x_opt, r_opt = optimal_parameters(seen_c[j])
            if r_opt > 0:
                x_cur, fallbacks = x_opt, fallbacks + 1
        fixed_r[j] = rate_of(true_c[j], x_fixed)
        tuned_r[j] = rate_of(true_c[j], x_cur)
        if ceiling:
            best_r[j] = max(optimal_parameters(true_c[j])[1], tuned_r[j])
        if progress is not None:
            progress(j + 1, n)
    bits = link.block_size
    out: dict[str, Any] = {
        "link": link.name,
        "blocks": n,
        "loss_db": {"min": float(loss.min()), "mean": commission_db, "max": float(loss.max())},
        "conditions": dict(zip(CONDITION_NAMES[1:], true_c[0, 1:].tolist(), strict=True)),
        "lag_blocks": lag_blocks,
        "fixed_params": x_fixed.tolist(),
        "key_bits": {
            "fixed": float(fixed_r.sum() * bits),
            "retuned": float(tuned_r.sum() * bits),
        },
        "blocks_without_key": {
            "fixed": int((fixed_r <= 0).sum()),
            "retuned": int((tuned_r <= 0).sum()),
        },
        "retuned_over_fixed": float(tuned_r.sum() / fixed_r.sum()) if fixed_r.sum() > 0 else None,
        "parameter_changes": swaps,
        "optimiser_fallbacks": fallbacks,
        "net_cpu_s_per_block": net_cpu_s,
        "series": {
            "loss_db": loss.tolist(),
            "fixed_rate": fixed_r.tolist(),
            "retuned_rate": tuned_r.tolist(),
        },
    }
    if ceiling:
        total = best_r.sum()
        out["key_bits"]["optimiser_per_block"] = float(total * bits)
        out["blocks_without_key"]["optimiser_per_block"] = int((best_r <= 0).sum())
        out["retuned_over_ceiling"] = float(tuned_r.sum() / total) if total > 0 else None
        out["fixed_over_ceiling"] = float(fixed_r.sum() / total) if total > 0 else None
        out["series"]["optimiser_rate"] = best_r.tolist()
    return out


def run_retune_benchmark(
    net: DecoyParameterNet,
    *,
    n_blocks: int = 40,
    ceiling: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """The ``retune`` section of ``qnetai bench qkd-params``: three links, one fade period.

    metro-6g's free-space link (2.2 dB, ±3 dB); a long fibre-like link at 26 dB with a
    ±5 dB fade (a weather fade towards the cut-off); and the same link at constant loss
    (the control: re-tuning must equal fixed).
    """
    links = [
        metro6g_fading_link(n_blocks=n_blocks, blocks_per_period=n_blocks),
        FadingLink.sinusoid(
            mean_loss_db=26.0,
            amplitude_db=5.0,
            n_blocks=n_blocks,
            blocks_per_period=n_blocks,
            name="26 dB link, ±5 dB fade",
        ),
        FadingLink.constant(26.0, n_blocks, name="26 dB link, constant"),
    ]
    return [retune_link(net, lk, ceiling=ceiling, progress=progress) for lk in links]
