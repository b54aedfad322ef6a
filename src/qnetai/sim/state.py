"""Plain records of the event engine (``__slots__``): routes, requests, pairs, reservations.

A :class:`Request` is static (what was asked, and its outcome); everything that changes while
it holds memory lives in its :class:`Reservation`: one memory store per node side (a list of
stored pairs, capacity ``memories``, the same operations whatever the capacity), the pairs
being purified, and the per-link counters of the release strategy. Nothing points back from a
pair or a request to its reservation, so finished requests are freed by reference counting.

Example:
    >>> Route(["A", "B"], [0, 1], [None], [0.0, 10.0], [1, 1], [-1, -1], [-1, -1]).path_str
    'A>B'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from qnetai.sim.linklayer import LinkModel
    from qnetai.sim.release import Release

# Request status values.
WAITING = "waiting"  # arrived, held back by the concurrency limit
QUEUED = "queued"  # admitted, waiting for memory along its path
ACTIVE = "active"  # holds its memory, generating pairs
SERVED = "served"
EXPIRED = "expired"
UNSERVED = "unserved"  # no path (or still pending when the simulation ended)

# Segment states (used by the one-pair-in-flight release strategy).
SEG_BUSY = 1  # generating (or purifying) its elementary pair, or holding it
SEG_RESTART = 3  # its pair was lost; a restart event is queued


class Route:
    """A path with everything the engine needs precomputed."""

    __slots__ = (
        "hops",
        "links",
        "names",
        "need",
        "nodes",
        "path_str",
        "pos_km",
        "span_l",
        "span_r",
    )

    def __init__(
        self,
        names: list[str],
        nodes: list[int],
        links: list[LinkModel],
        pos_km: list[float],
        need: list[int],
        span_l: list[int],
        span_r: list[int],
    ) -> None:
        self.names = names
        self.nodes = nodes
        self.links = links
        self.pos_km = pos_km
        self.need = need
        self.span_l = span_l
        self.span_r = span_r
        self.hops = len(links)
        self.path_str = ">".join(names)


def nested_spans(segments: int) -> tuple[list[int], list[int]]:
    """For each path index ``k``: the span ``[span_l[k], span_r[k]]`` that node ``k`` joins.

    Balanced binary recursion (doubling for ``2**n`` segments): the span ``[a, b]`` is split
    at ``(a + b) // 2``; ends get ``-1``.

    Example:
        >>> nested_spans(4)
        ([-1, 0, 0, 2, -1], [-1, 2, 4, 4, -1])
    """
    left = [-1] * (segments + 1)
    right = [-1] * (segments + 1)
    stack = [(0, segments)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        m = (a + b) // 2
        left[m], right[m] = a, b
        stack.append((a, m))
        stack.append((m, b))
    return left, right


class Pair:
    """A stored entangled pair between path indices ``i < j`` of one request.

    ``state`` is a Bell-diagonal 4-tuple valid at ``t_ref``; ``gen`` the generation time of
    its oldest elementary link (cut-off age); ``known_i/known_j`` when its ends have heard of
    every swap inside it; ``parts`` the link indices of its elementary pairs. A ``dead`` pair
    contains a failed swap that its ends have not heard of yet (``learn_i/learn_j``; -1 once
    heard). A successful swap updates the record of its *older* part in place (span, state,
    parts): the queued cut-off event of that part, which names the record, is then the
    swapped pair's (same ``gen``), so swaps queue no new cut-off events, allocate no new
    record, and nothing refers back to an older record (no reference cycles).
    ``rounds`` counts the successful purification rounds of a pair being purified.
    """

    __slots__ = (
        "dead",
        "gen",
        "i",
        "j",
        "known_i",
        "known_j",
        "learn_i",
        "learn_j",
        "parts",
        "pumping",
        "rounds",
        "state",
        "stored",
        "t_ref",
    )

    def __init__(self, i: int, j: int, state: tuple, t_ref: float, gen: float, parts: list[int]):
        self.i = i
        self.j = j
        self.state = state
        self.t_ref = t_ref
        self.gen = gen
        self.known_i = t_ref
        self.known_j = t_ref
        self.parts = parts
        self.stored = True
        self.dead = False
        self.pumping = False
        self.rounds = 0
        self.learn_i = 0.0
        self.learn_j = 0.0


class Request:
    """An entanglement request: what was asked (static) and its outcome (status, deliveries).

    ``mem`` is the number of memories per node side it reserves (pooled when > 1).
    """

    __slots__ = (
        "arrival",
        "deadline",
        "delivered",
        "dst",
        "dst_name",
        "fmin",
        "hops",
        "mem",
        "pairs",
        "path_str",
        "rid",
        "served_s",
        "src",
        "src_name",
        "status",
    )

    def __init__(
        self,
        rid: int,
        src: int,
        dst: int,
        src_name: str,
        dst_name: str,
        arrival: float,
        pairs: int,
        fmin: float,
        deadline: float,
        mem: int = 1,
    ) -> None:
        self.rid = rid
        self.src = src
        self.dst = dst
        self.src_name = src_name
        self.dst_name = dst_name
        self.arrival = arrival
        self.pairs = pairs
        self.fmin = fmin
        self.deadline = deadline
        self.mem = mem
        self.status = WAITING
        self.served_s = float("nan")
        self.delivered = 0
        self.path_str = ""
        self.hops = 0


class Reservation:
    """The memory a routed request holds (or waits for) on its path, and its live pairs.

    ``left[k]`` / ``right[k]``: the memory stores of path node ``k`` facing link ``k - 1`` /
    link ``k``: the stored pairs ending / starting at ``k``, in arrival order, at most ``mem``
    each. ``pumping``: pairs being purified (not yet in a store); ``confirming``: pairs a
    node has claimed for a swap and awaits its partners' confirmation for (in no store,
    ``operations.swapping.confirm``). ``free_a[s]`` /
    ``free_b[s]``: free memories at the two ends of link ``s`` (pooled release), ``seg[s]``
    the restart state of link ``s`` (one pair in flight). ``live`` is False once the request
    has ended: queued events of the reservation then do nothing.
    """

    __slots__ = (
        "confirming",
        "cut_armed",
        "cut_pending",
        "free_a",
        "free_b",
        "left",
        "live",
        "pumping",
        "release",
        "req",
        "right",
        "route",
        "seg",
    )

    def __init__(self, req: Request, route: Route, release: Release) -> None:
        self.req = req
        self.route = route
        self.release = release
        self.live = False
        self.left: list[list[Pair]] = []
        self.right: list[list[Pair]] = []
        self.pumping: list[Pair] = []
        self.confirming: list[Pair] = []
        self.seg: list[int] = []
        self.free_a: list[int] = []
        self.free_b: list[int] = []
        # cut-off timers (qnetai.sim.swapping.Swapping.schedule_cutoff): the (time, handle)
        # of those queued in the kernel, latest-queued (earliest) last, and a heap of the
        # (time, handle, pair) not queued yet, all later than the earliest queued one
        self.cut_armed: list[tuple[float, int]] = []
        self.cut_pending: list[tuple[float, int, Pair]] = []

    def open(self) -> None:
        """Empty stores for every path node; the reservation is live from now on."""
        n = self.route.hops
        self.left = [[] for _ in range(n + 1)]
        self.right = [[] for _ in range(n + 1)]
        self.seg = [SEG_BUSY] * n
        self.free_a = [0] * n
        self.free_b = [0] * n
        self.live = True

    def held(self) -> list[Pair]:
        """Every distinct pair still stored (in a store or being purified)."""
        seen: dict[int, Pair] = {}
        for store in (*self.left, *self.right, self.pumping, self.confirming):
            for p in store:
                if p.stored:
                    seen[id(p)] = p
        return list(seen.values())
