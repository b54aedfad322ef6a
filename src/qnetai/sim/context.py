"""The explicit context every engine component receives.

Kernel, random stream, telemetry, node noise, classical timing and the operation parameters
of the scenario.

Components (:mod:`qnetai.sim.generation`, :mod:`qnetai.sim.swapping`, the release strategies of
:mod:`qnetai.sim.release`) read what they need from one :class:`Context` built by the engine;
none of them reaches into the engine or into another request.

Example:
    >>> from qnetai.sim.kernel import Kernel
    >>> ctx = Context(Kernel(), None, None, rates=[0.0, 0.0], t1t2=[None, None],
    ...               speed_km_per_s=2e5, processing_delay_s=1e-5)
    >>> round(ctx.delay([0.0, 20.0], 0, 1), 6)
    0.00011
"""

from __future__ import annotations

import math
from collections.abc import Callable

from qnetai.physics import scalar as bf
from qnetai.sim.kernel import Kernel
from qnetai.sim.linklayer import Uniforms
from qnetai.sim.state import Pair
from qnetai.sim.telemetry import Telemetry

#: Relative tolerance of the cut-off age (an event at the nominal time still discards).
CUTOFF_RTOL = 1e-9

# Event priorities at equal times: links appear, then deliveries, then news of failures,
# then cut-off discards, then segment restarts, arrivals and timeouts.
P_GEN, P_DELIVER, P_DEAD, P_CUTOFF, P_RESTART, P_ARRIVAL, P_TIMEOUT = range(7)

Purify = Callable[[tuple, tuple, float, float], tuple[tuple, float]]


class Context:
    """Shared services and parameters of one simulation (no per-request state)."""

    __slots__ = (
        "confirm_swaps",
        "cutoff_s",
        "gate_fidelity",
        "kernel",
        "measurement_error",
        "nested",
        "p_swap",
        "processing_delay_s",
        "purification_rounds",
        "purify",
        "rates",
        "speed_km_per_s",
        "t1t2",
        "tel",
        "uni",
    )

    def __init__(
        self,
        kernel: Kernel,
        uni: Uniforms,
        tel: Telemetry,
        *,
        rates: list[float],
        t1t2: list[tuple[float | None, float | None] | None],
        speed_km_per_s: float,
        processing_delay_s: float,
        cutoff_s: float | None = None,
        p_swap: float = 1.0,
        gate_fidelity: float = 1.0,
        measurement_error: float = 0.0,
        nested: bool = False,
        purify: Purify = bf.bbpssw,
        purification_rounds: int = 0,
        confirm_swaps: bool = False,
    ) -> None:
        self.kernel = kernel
        self.uni = uni
        self.tel = tel
        self.rates = rates  # depolarising rate 1 / (2 t_coh) per node (0: none or T1/T2)
        self.t1t2 = t1t2  # (t1_s, t2_s) per node with T1/T2 memories, else None
        self.speed_km_per_s = speed_km_per_s
        self.processing_delay_s = processing_delay_s
        self.cutoff_s = cutoff_s
        self.p_swap = p_swap
        self.gate_fidelity = gate_fidelity
        self.measurement_error = measurement_error
        self.nested = nested
        self.purify = purify
        self.purification_rounds = purification_rounds
        self.confirm_swaps = confirm_swaps  # confirm with both partners before a swap

    def delay(self, pos_km: list[float], a: int, b: int) -> float:
        """Classical delay (s) between path nodes ``a`` and ``b`` (0 for the same node)."""
        if a == b:
            return 0.0
        return abs(pos_km[a] - pos_km[b]) / self.speed_km_per_s + self.processing_delay_s

    def decohere(self, nodes: list[int], pair: Pair, t: float) -> None:
        """Apply the memory noise of ``pair`` (ends at path nodes ``nodes``) up to ``t``."""
        dt = t - pair.t_ref
        if dt <= 0.0:
            return
        na, nb = nodes[pair.i], nodes[pair.j]
        s = pair.state
        ta, tb = self.t1t2[na], self.t1t2[nb]
        if ta is None and tb is None:
            r = self.rates[na] + self.rates[nb]
            if r > 0.0:
                s = bf.depolarise(s, math.exp(-dt * r))
        else:
            ends = []
            for n, tt in ((na, ta), (nb, tb)):
                if tt is not None:
                    gamma, coh = bf.t1_t2_factors(dt, tt[0], tt[1])
                    ends.append((coh, 1.0 - gamma, gamma))
                else:
                    e = math.exp(-dt * self.rates[n])
                    ends.append((e, e, 0.0))
            s = bf.memory_noise(s, ends[0], ends[1])
        pair.state = s
        pair.t_ref = t

    def discard(self, parts: list[int]) -> None:
        """Count the elementary pairs ``parts`` (link indices) as discarded."""
        d = self.tel.link_discarded
        for link in parts:
            d[link] += 1
