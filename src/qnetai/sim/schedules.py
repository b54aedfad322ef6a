"""Swapping schedules: which two stored pairs a node swaps, if any.

A schedule is one small object with ``pick(res, k, left, right, now)`` returning the two pairs
that path node ``k`` swaps now (removed from its stores) or ``None``, and
``wait_for(res, pair, now)`` returning the times at which the ends of a newly stored swapped
pair should look again (a schedule that waits for news). A new schedule is written here, and
only here; :mod:`qnetai.sim.swapping` calls it.

* :class:`SwapAsap`: swap as soon as the node holds a pair on each side, the first-arrived on
  each side (arrival order, as SeQUeNCe pairs memories as they become entangled).
* :class:`Nested`: node ``k`` swaps only a left pair spanning exactly its left half-span with a
  right pair spanning its right half-span of a balanced binary tree (doubling for ``2**n``
  links), the first-arrived eligible pair on each side. With pooled memories, a node uses
  a swapped pair only once it has heard of every swap inside it (so it never swaps on a
  pair that a failed swap killed); with one memory per side a node keeps the historical
  rule of acting on the spans at once (a dead pair is then merged and its loss travels on,
  see :mod:`qnetai.sim.swapping`).

Example:
    >>> SwapAsap().pick(None, 1, [], [], 0.0) is None
    True
"""

from __future__ import annotations

from typing import Protocol

from qnetai.sim.state import Pair, Reservation


class SwapSchedule(Protocol):
    """Which pairs a node swaps (see the module docstring).

    ``waits``: whether :meth:`wait_for` can ever ask for a later look (False skips the call).
    """

    waits: bool

    def pick(
        self, res: Reservation, k: int, left: list[Pair], right: list[Pair], now: float
    ) -> tuple[Pair, Pair] | None:
        """The two pairs node ``k`` swaps now, removed from ``left`` / ``right``, or None."""
        ...

    def wait_for(self, res: Reservation, pair: Pair, now: float) -> tuple[float, float]:
        """When the ends of the stored swapped ``pair`` should try again (``-1``: never)."""
        ...


class SwapAsap:
    """Swap the first-arrived pair of each side as soon as both sides hold one."""

    __slots__ = ()
    waits = False

    def pick(
        self, res: Reservation, k: int, left: list[Pair], right: list[Pair], now: float
    ) -> tuple[Pair, Pair] | None:
        """The first pair of each store."""
        if left and right:
            return left.pop(0), right.pop(0)
        return None

    def wait_for(self, res: Reservation, pair: Pair, now: float) -> tuple[float, float]:
        """Never: the ends act on a pair as soon as it is stored."""
        return -1.0, -1.0


class Nested:
    """Balanced nested swapping (see the module docstring)."""

    __slots__ = ()
    waits = True

    def pick(
        self, res: Reservation, k: int, left: list[Pair], right: list[Pair], now: float
    ) -> tuple[Pair, Pair] | None:
        """The first left pair over ``[span_l[k], k]`` and right pair over ``[k, span_r[k]]``."""
        if not (left and right):
            return None
        route = res.route
        a, b = route.span_l[k], route.span_r[k]
        if res.req.mem > 1:  # wait for news
            x = next((p for p in left if p.i == a and p.known_j <= now), None)
            y = next((p for p in right if p.j == b and p.known_i <= now), None)
        else:
            x = next((p for p in left if p.i == a), None)
            y = next((p for p in right if p.j == b), None)
        if x is None or y is None:
            return None
        left.remove(x)
        right.remove(y)
        return x, y

    def wait_for(self, res: Reservation, pair: Pair, now: float) -> tuple[float, float]:
        """When each inner end hears of every swap inside ``pair`` (if it waits for news)."""
        if res.req.mem == 1:
            return -1.0, -1.0
        hops = res.route.hops
        ti = pair.known_i if pair.i > 0 and pair.known_i > now else -1.0
        tj = pair.known_j if pair.j < hops and pair.known_j > now else -1.0
        return ti, tj
