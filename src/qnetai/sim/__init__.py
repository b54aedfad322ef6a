"""Discrete-event simulation of quantum networks (and the batched repeater-chain model).

The engine: :func:`simulate` runs a scenario and returns a :class:`SimulationResult`;
:class:`Simulation` is the lower-level, steppable object behind it; :class:`Kernel`
is the small event heap underneath.
"""

from qnetai.sim.engine import Simulation, simulate
from qnetai.sim.kernel import Kernel
from qnetai.sim.result import SimulationResult

__all__ = ["Kernel", "Simulation", "SimulationResult", "simulate"]
