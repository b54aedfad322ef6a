"""What happens when a request's memory is released, as two small strategies.

This is the one real difference between one memory per node side and pooled memories.

Both receive the same five notifications from :mod:`qnetai.sim.swapping`:

* ``swapped(res, k, t)``: node ``k`` measured its two memories in a swap (any outcome);
* ``lost(res, i, j, learn)``: the live links ``i .. j - 1`` were lost in a failed swap (or a
  swap on a dead pair); ``learn(x)`` is when path node ``x`` hears of it;
* ``end_heard(res, k, right, t)``: an end of a dead pair, at node ``k``, heard of the failure;
* ``cut(res, pair, base)``: a stored pair was discarded by the cut-off at ``base``;
* ``delivered(res, t)``: an end-to-end pair left the end memories (delivered or discarded).

:class:`OnePairInFlight` (``memories = 1``): a link regenerates only once the pair containing
it is delivered or lost, when both its end nodes know (the model of :mod:`qnetai.sim.chain`).
:class:`Pooled` (``memories > 1``): each memory is free at once (a swapping node's memories
when it swaps, a pair's end memories at delivery, cut-off or news of a failure) and a link
starts a new generation process as soon as one memory at each of its ends is free.

Example:
    >>> OnePairInFlight.__name__, Pooled.__name__
    ('OnePairInFlight', 'Pooled')
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Protocol

from qnetai.sim.context import P_RESTART, Context
from qnetai.sim.generation import Generation
from qnetai.sim.state import SEG_BUSY, SEG_RESTART, Pair, Reservation


class Release(Protocol):
    """The release strategy of a reservation (see the module docstring)."""

    def swapped(self, res: Reservation, k: int, t: float) -> None:
        """Node ``k`` measured its two memories."""

    def lost(self, res: Reservation, i: int, j: int, learn: Callable[[int], float]) -> None:
        """Links ``i .. j - 1`` were lost; node ``x`` hears at ``learn(x)``."""

    def end_heard(self, res: Reservation, k: int, right: bool, t: float) -> None:
        """The end at node ``k`` of a dead pair heard of its loss."""

    def cut(self, res: Reservation, pair: Pair, base: float) -> None:
        """``pair`` was discarded by the cut-off at ``base``."""

    def delivered(self, res: Reservation, t: float) -> None:
        """An end-to-end pair left the end memories at ``t``."""


class OnePairInFlight:
    """One memory per node side: links restart when the pair holding them is resolved."""

    __slots__ = ("ctx", "gen")

    def __init__(self, ctx: Context, gen: Generation) -> None:
        self.ctx = ctx
        self.gen = gen

    def swapped(self, res: Reservation, k: int, t: float) -> None:
        """Nothing: the links stay held by the swapped pair."""

    def end_heard(self, res: Reservation, k: int, right: bool, t: float) -> None:
        """Nothing: the lost links were queued for restart when the loss happened."""

    def lost(self, res: Reservation, i: int, j: int, learn: Callable[[int], float]) -> None:
        """Queue restarts of links ``i .. j - 1``, each when both its ends have heard.

        A restart time may lie a hair before ``now`` (a cut-off acts at its nominal time,
        its event a tolerance later): the link then restarts from that nominal time.
        """
        self._restart(res, i, [learn(x) for x in range(i, j + 1)])

    def _restart(self, res: Reservation, i: int, heard: list[float]) -> None:
        """Restart links ``i, i + 1, ...``: ``heard[x - i]`` is when path node ``x`` knows."""
        seg = res.seg
        kernel = self.ctx.kernel
        now = kernel.now
        on_restart = self._on_restart
        heap = kernel._heap  # Kernel.schedule inlined (same handles, same entries)
        seq = kernel._seq
        for k in range(len(heard) - 1):
            s = i + k
            seg[s] = SEG_RESTART
            a, b = heard[k], heard[k + 1]
            t0 = b if b > a else a  # max(learn(s), learn(s + 1)), inlined
            heappush(heap, (t0 if t0 > now else now, P_RESTART, seq, on_restart, (res, s, t0)))
            seq += 1
        kernel._seq = seq

    def _on_restart(self, arg: tuple) -> None:
        res, s, t0 = arg
        if res.live and res.seg[s] == SEG_RESTART:
            res.seg[s] = SEG_BUSY
            self.gen.start(res, s, t0)

    def cut(self, res: Reservation, pair: Pair, base: float) -> None:
        """Restart the pair's links when each hears from the nearer end."""
        i, j = pair.i, pair.j
        pos = res.route.pos_km
        ctx = self.ctx
        speed, proc = ctx.speed_km_per_s, ctx.processing_delay_s
        pi, pj = pos[i], pos[j]
        heard = []
        for x in range(i, j + 1):  # base + min(ctx.delay(pos, i, x), ctx.delay(pos, j, x))
            px = pos[x]
            di = 0.0 if x == i else abs(pi - px) / speed + proc
            dj = 0.0 if x == j else abs(pj - px) / speed + proc
            heard.append(base + (dj if dj < di else di))
        self._restart(res, i, heard)

    def delivered(self, res: Reservation, t: float) -> None:
        """Every link restarts at once."""
        seg, start = res.seg, self.gen.start
        for s in range(res.route.hops):
            seg[s] = SEG_BUSY
            start(res, s, t)


class Pooled:
    """Pooled memories: every memory is free at once; a link runs one process per free pair."""

    __slots__ = ("gen",)

    def __init__(self, gen: Generation) -> None:
        self.gen = gen

    def _free_right(self, res: Reservation, k: int, t0: float) -> None:
        """A memory on the right side of path node ``k`` (link ``k``) is free from ``t0``."""
        fb = res.free_b
        if fb[k]:
            fb[k] -= 1
            self.gen.start(res, k, t0)
        else:
            res.free_a[k] += 1

    def _free_left(self, res: Reservation, k: int, t0: float) -> None:
        """A memory on the left side of path node ``k`` (link ``k - 1``) is free from ``t0``."""
        s = k - 1
        fa = res.free_a
        if fa[s]:
            fa[s] -= 1
            self.gen.start(res, s, t0)
        else:
            res.free_b[s] += 1

    def swapped(self, res: Reservation, k: int, t: float) -> None:
        """Both memories of node ``k`` are free."""
        self._free_left(res, k, t)
        self._free_right(res, k, t)

    def lost(self, res: Reservation, i: int, j: int, learn: Callable[[int], float]) -> None:
        """Nothing: inner memories were freed by their swaps, the ends free on news."""

    def end_heard(self, res: Reservation, k: int, right: bool, t: float) -> None:
        """That end memory is free."""
        if right:
            self._free_right(res, k, t)
        else:
            self._free_left(res, k, t)

    def cut(self, res: Reservation, pair: Pair, base: float) -> None:
        """Both end memories are free from ``base``."""
        self._free_right(res, pair.i, base)
        self._free_left(res, pair.j, base)

    def delivered(self, res: Reservation, t: float) -> None:
        """Both end memories are free."""
        self._free_right(res, 0, t)
        self._free_left(res, res.route.hops, t)
