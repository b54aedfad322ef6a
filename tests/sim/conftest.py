"""Shared scenarios of the engine tests."""

import pytest

from qnetai.config.models import Scenario


def _busy_network(*, memory_qubits=6, requests=80, pairs=3, memories=None, **ops):
    """A congested 25-node Waxman network with every feature on (delays, failures, cut-offs)."""
    per_request = {} if memories is None else {"memories": memories}
    flow = {} if memories is None else {"memories": 3}
    return Scenario.model_validate(
        {
            "seed": 3,
            "duration_s": 0.6,
            "topology": {
                "builder": "waxman",
                "nodes": 25,
                "area_km": 80.0,
                "end_user_fraction": 0.4,
                "seed": 2,
                "node": {"name": "n", "memory_qubits": memory_qubits, "memory": {"t_coh_s": 0.05}},
                "link": {"endpoints": ["a", "b"], "multiplexing": 3},
            },
            "classical": {"processing_delay_s": 2e-5},
            "operations": {"swap_success_probability": 0.8, "cutoff_s": 0.01, **ops},
            "controller": {"max_concurrent_requests": 6, "path_metric": "length_km"},
            "traffic": {
                "random": {
                    "count": requests,
                    "rate_hz": 400.0,
                    "pairs_per_request": pairs,
                    "timeout_s": 0.1,
                    "min_fidelity": 0.6,
                    **per_request,
                },
                "requests": [
                    {
                        "source": "n0",
                        "destination": "n7",
                        "count": 5,
                        "timeout_s": 0.1,
                        "arrival": {"process": "periodic", "rate_hz": 50.0},
                        **flow,
                    }
                ],
            },
        }
    )


@pytest.fixture
def busy_network():
    """Factory of the busy test network (keyword options: see ``_busy_network``)."""
    return _busy_network


@pytest.fixture
def policy_for():
    """``policy_for(scenario)``: the routing policy object the scenario names (tests only)."""
    from sim_helpers import policy_for

    return policy_for
