"""A small discrete-event kernel: a heap of ``(time, priority, sequence, callback, arg)``.

The kernel never prints or logs. Ties in time are broken by ``priority`` (lower
first) and then by the order of scheduling, so a run is deterministic. Events
are cancelled lazily: :meth:`Kernel.cancel` records the handle and the event is
dropped when it reaches the top of the heap, without any scan of the queue; the
heap is rebuilt without the dead entries when they outnumber the live ones.
Models that own many short-lived timers can also invalidate their own events by
passing a version token in ``arg`` and ignoring stale callbacks, which costs
nothing in the kernel at all. A timer can also be queued lazily: :meth:`Kernel.reserve`
takes its place in the order now and :meth:`Kernel.push` queues it later under that handle
(the engine's cut-offs, :meth:`qnetai.sim.swapping.Swapping.schedule_cutoff`), so events that
would find nothing to do need never enter the heap.

Example:
    >>> k = Kernel()
    >>> seen = []
    >>> _ = k.schedule(2.0, seen.append, "b")
    >>> h = k.schedule(1.0, seen.append, "a")
    >>> k.cancel(h)
    >>> k.run()
    >>> seen, k.now
    (['b'], 2.0)
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from typing import Any

from qnetai.errors import InputError


class Kernel:
    """Event heap, clock and step loop.

    ``schedule(time, callback, arg, priority=0)`` returns a handle (an int) that
    :meth:`cancel` accepts. Callbacks are called as ``callback(arg)`` with
    :attr:`now` set to the event time.
    """

    __slots__ = ("_cancelled", "_heap", "_seq", "events_processed", "now")

    def __init__(self, start_s: float = 0.0) -> None:
        self.now: float = float(start_s)
        self.events_processed: int = 0
        self._heap: list[tuple[float, int, int, Callable[[Any], Any], Any]] = []
        self._seq: int = 0
        self._cancelled: set[int] = set()

    def __len__(self) -> int:
        """Number of queued events that are not cancelled."""
        return len(self._heap) - len(self._cancelled)

    def schedule(
        self, time_s: float, callback: Callable[[Any], Any], arg: Any = None, priority: int = 0
    ) -> int:
        """Queue ``callback(arg)`` at absolute time ``time_s`` (not before :attr:`now`)."""
        if time_s < self.now:
            raise InputError(f"time_s must be >= now={self.now} (got {time_s})")
        seq = self._seq
        self._seq = seq + 1
        heapq.heappush(self._heap, (time_s, priority, seq, callback, arg))
        return seq

    def reserve(self) -> int:
        """A handle (sequence number) for an event to be queued later with :meth:`push`.

        The event then sorts exactly where :meth:`schedule` would have put it now: lazily
        queued timers (the engine's cut-offs) keep the order of the event stream unchanged.
        """
        seq = self._seq
        self._seq = seq + 1
        return seq

    def push(
        self, time_s: float, priority: int, handle: int, callback: Callable[[Any], Any], arg: Any
    ) -> None:
        """Queue ``callback(arg)`` under a handle from :meth:`reserve` (not before :attr:`now`)."""
        if time_s < self.now:
            raise InputError(f"time_s must be >= now={self.now} (got {time_s})")
        heapq.heappush(self._heap, (time_s, priority, handle, callback, arg))

    def cancel(self, handle: int) -> None:
        """Cancel a queued event by its handle; O(1), the entry is dropped when popped."""
        self._cancelled.add(handle)
        if len(self._cancelled) > 64 and 2 * len(self._cancelled) > len(self._heap):
            self._compact()

    def _compact(self) -> None:
        dead = self._cancelled
        self._heap[:] = [e for e in self._heap if e[2] not in dead]  # in place: run() holds it
        heapq.heapify(self._heap)
        dead.clear()

    def peek(self) -> float:
        """Time of the next live event (``inf`` if none)."""
        heap, dead = self._heap, self._cancelled
        while heap and heap[0][2] in dead:
            dead.discard(heapq.heappop(heap)[2])
        return heap[0][0] if heap else math.inf

    def step(self) -> bool:
        """Process one live event; False when the queue is empty."""
        heap, dead = self._heap, self._cancelled
        while heap:
            t, _, seq, cb, arg = heapq.heappop(heap)
            if dead and seq in dead:
                dead.discard(seq)
                continue
            self.now = t
            self.events_processed += 1
            cb(arg)
            return True
        return False

    def run(self, until: float = math.inf) -> None:
        """Process events with time <= ``until``; the clock then stands at ``until`` (if finite)."""
        heap, dead = self._heap, self._cancelled
        pop = heapq.heappop
        n = 0
        try:
            while heap and heap[0][0] <= until:
                t, _, seq, cb, arg = pop(heap)
                if dead and seq in dead:
                    dead.discard(seq)
                    continue
                self.now = t
                n += 1
                cb(arg)
        finally:
            self.events_processed += n
        if until != math.inf and until > self.now:
            self.now = until
