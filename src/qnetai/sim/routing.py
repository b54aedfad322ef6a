"""What the engine asks of a routing policy, and what a policy may read of the engine.

The engine takes a policy *object* (``Simulation(scenario, policy=...)``); resolving a name
such as the scenario's ``controller.routing`` to an object happens above the engine
(:func:`qnetai.plugins.routing_policy`), so the engine imports nothing from the layers that
implement policies. :mod:`qnetai.control.policy` re-exports both protocols.

Example:
    >>> class Direct:
    ...     name = "direct"
    ...
    ...     def choose_path(self, graph, source, destination, *, state):
    ...         return [source, destination] if graph.has_edge(source, destination) else None
    >>> isinstance(Direct(), RoutingPolicy)
    True
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import networkx as nx


@runtime_checkable
class NetworkState(Protocol):
    """What a policy may read of the running network (the engine's ``Simulation`` provides it).

    ``now`` is the simulated time in s; ``free_memory(node)`` the number of
    unreserved memory qubits; ``queued_requests`` the number of requests waiting
    for memory.
    """

    now: float

    def free_memory(self, node: str) -> int:
        """Unreserved memory qubits at ``node``."""
        ...

    @property
    def queued_requests(self) -> int:
        """Requests waiting for memory."""
        ...


@runtime_checkable
class RoutingPolicy(Protocol):
    """Chooses the path of a request; ``None`` declines it (it is then counted unserved)."""

    name: str

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any
    ) -> list[str] | None:
        """A path ``[source, ..., destination]`` of adjacent nodes in ``graph``, or ``None``."""
        ...
