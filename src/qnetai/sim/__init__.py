"""Discrete-event simulation of quantum networks (and the batched repeater-chain model).

The engine: :func:`simulate` runs a scenario and returns a :class:`SimulationResult`;
:class:`Simulation` is the lower-level, steppable object behind it; :class:`Kernel`
is the small event heap underneath. :func:`simulate_chain` is the vectorised Monte
Carlo of the abstract repeater chain, the engine's correctness oracle.
"""

from qnetai.sim.chain import (
    ChainResult,
    exact_mean_fidelity,
    exact_mean_waiting_time_s,
    simulate_chain,
)
from qnetai.sim.engine import Simulation, simulate
from qnetai.sim.kernel import Kernel
from qnetai.sim.result import SimulationResult

__all__ = [
    "ChainResult",
    "Kernel",
    "Simulation",
    "SimulationResult",
    "exact_mean_fidelity",
    "exact_mean_waiting_time_s",
    "simulate",
    "simulate_chain",
]
