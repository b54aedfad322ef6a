"""The engine with the scenario's routing policy resolved here, for tests written before the
engine took a policy object (``Simulation(..., policy=...)`` is required; tests may import any
layer, the engine may not)."""

from qnetai.plugins import routing_policy
from qnetai.sim import Simulation as _Simulation
from qnetai.sim import simulate as _simulate


def policy_for(scenario):
    """The routing policy named by ``scenario.controller`` (routing name and path metric)."""
    ctl = scenario.controller
    return routing_policy(ctl.routing, options={"metric": ctl.path_metric})


class Simulation(_Simulation):
    """``qnetai.sim.Simulation`` whose ``policy`` defaults to the scenario's."""

    def __init__(self, scenario, *, seed=None, policy=None):
        super().__init__(scenario, seed=seed, policy=policy or policy_for(scenario))


def simulate(scenario, *, seed=None, policy=None, progress=None):
    """``qnetai.sim.simulate`` whose ``policy`` defaults to the scenario's."""
    return _simulate(scenario, seed=seed, policy=policy or policy_for(scenario), progress=progress)
