"""The engine's contract with the layers above: a policy object in, nothing imported upward."""

import subprocess
import sys

import pytest
from sim_helpers import policy_for

from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.sim import Simulation, simulate
from qnetai.sim.routing import NetworkState, RoutingPolicy


def two_nodes():
    return Scenario.model_validate(
        {
            "nodes": [{"name": "A"}, {"name": "B"}],
            "links": [{"endpoints": ["A", "B"], "length_km": 10}],
            "traffic": {"requests": [{"source": "A", "destination": "B", "count": 3}]},
        }
    )


def test_policy_is_a_required_object():
    s = two_nodes()
    with pytest.raises(TypeError):
        Simulation(s, seed=1)  # no default resolution of controller.routing in the engine
    with pytest.raises(InputError, match="routing policy object"):
        Simulation(s, seed=1, policy="shortest-path")
    policy = policy_for(s)
    assert isinstance(policy, RoutingPolicy)
    sim = Simulation(s, seed=1, policy=policy)
    assert isinstance(sim, NetworkState)
    assert sim.pairs_delivered == 0
    sim.run()
    r = sim.result()
    assert sim.pairs_delivered == r.summary["pairs_delivered"] == 3
    assert simulate(s, seed=1, policy=policy).summary["pairs_delivered"] == 3


def test_sim_imports_nothing_from_the_layers_above():
    code = (
        "import sys, qnetai.sim, qnetai.sim.engine;"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2] in"
        " (['qnetai', 'control'], ['qnetai', 'ai'], ['qnetai', 'qkd'], ['qnetai', 'plugins']));"
        "print(bad); assert not bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
