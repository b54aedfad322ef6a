"""The memory-allocation seam of the engine: how many qubits a request holds, and when.

An allocator is passed to :class:`qnetai.sim.engine.Simulation` (``allocator=``); without one
the engine is first come, first served: every request reserves the memories it asks for as
soon as they are free. Implementations live in :mod:`qnetai.control.memory_allocation`;
:func:`qnetai.plugins.memory_allocator` resolves them by name. The engine calls, per request:

* ``grant(state, request, route) -> int`` once, when the request is routed: the memory
  qubits it may hold per node side along ``route`` (``request.mem`` is what it asked for);
* ``admit(state, reservation) -> bool`` each time the memory it needs is free: ``True`` lets
  it reserve now (the allocator then counts it as holding ``route.need[i] * request.mem``
  qubits at ``route.nodes[i]``), ``False`` keeps it waiting in its source node's FIFO queue,
  retried whenever memory is freed at a node of its path;
* ``release(state, reservation)`` when an admitted request ends (served or expired).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["MemoryAllocator"]


@runtime_checkable
class MemoryAllocator(Protocol):
    """What the engine needs of a memory allocator (see the module docstring)."""

    @property
    def name(self) -> str:
        """The allocator's label in results."""
        ...

    def grant(self, state: Any, request: Any, route: Any) -> int:
        """Memory qubits per node side the request may hold (>= 1)."""
        ...

    def admit(self, state: Any, reservation: Any) -> bool:
        """Whether the reservation may take its memory now (and is then counted)."""
        ...

    def release(self, state: Any, reservation: Any) -> None:
        """The admitted reservation has ended; its memory is free again."""
        ...
