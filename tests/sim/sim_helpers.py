"""The engine with the scenario's routing policy resolved here, for tests written before the
engine took a policy object (``Simulation(..., policy=...)`` is required; tests may import any
layer, the engine may not)."""

from qnetai.sim import Simulation as _Simulation
from qnetai.sim import simulate as _simulate


def policy_for(scenario):
    """The routing policy named by ``scenario.controller`` (routing name and path metric)."""
    ctl = scenario.controller
    try:
        from qnetai.plugins import routing_policy
    except ImportError:
        routing_policy = None
    if routing_policy is not None:
        return routing_policy(ctl.routing, options={"metric": ctl.path_metric})
    try:
        from qnetai.control import policy as cp
    except ImportError:  # the control layer is mid-edit: tests/sim only use shortest paths
        assert ctl.routing == "shortest-path", ctl.routing
        return _ShortestPath(ctl.path_metric)
    if hasattr(cp, "policy_from_options"):
        return cp.policy_from_options(ctl.routing, {"metric": ctl.path_metric})
    return cp.builtin_routing_policies()[ctl.routing](metric=ctl.path_metric)


class _ShortestPath:
    """A minimal shortest-path policy (networkx), used only while qnetai.control is broken."""

    name = "shortest-path"

    def __init__(self, metric):
        self.weight = None if metric == "hops" else "length_km"

    def choose_path(self, graph, source, destination, *, state=None):
        import networkx as nx

        try:
            return nx.shortest_path(graph, source, destination, weight=self.weight)
        except nx.NetworkXNoPath:
            return None


class Simulation(_Simulation):
    """``qnetai.sim.Simulation`` whose ``policy`` defaults to the scenario's."""

    def __init__(self, scenario, *, seed=None, policy=None):
        super().__init__(scenario, seed=seed, policy=policy or policy_for(scenario))


def simulate(scenario, *, seed=None, policy=None, progress=None):
    """``qnetai.sim.simulate`` whose ``policy`` defaults to the scenario's."""
    return _simulate(scenario, seed=seed, policy=policy or policy_for(scenario), progress=progress)
