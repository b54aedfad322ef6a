"""Plain state records of the event engine: routes, requests and stored pairs (``__slots__``)."""

from __future__ import annotations

from typing import Any

# Request status values.
WAITING = "waiting"  # arrived, held back by the concurrency limit
QUEUED = "queued"  # admitted, waiting for memory along its path
ACTIVE = "active"  # holds its memory, generating pairs
SERVED = "served"
EXPIRED = "expired"
UNSERVED = "unserved"  # no path (or still pending when the simulation ended)

# Segment states.
SEG_IDLE = 0
SEG_BUSY = 1  # generating (or purifying) its elementary pair
SEG_HELD = 2  # its elementary pair is stored, alone or inside a longer pair
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
        links: list[Any],
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
    contains a failed swap that its ends have not heard of yet (``learn_i/learn_j``). ``cut``
    is the one-element token of the queued cut-off event of its oldest link: a swapped pair
    takes it over from its older constituent, so swaps queue no new cut-off events.
    """

    __slots__ = (
        "cut",
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
        self.learn_i = 0.0
        self.learn_j = 0.0
        self.cut: list[Pair | None] | None = None


class Request:
    """An entanglement request and, while active, its per-path-node memory slots.

    With ``mem == 1``, ``L[k]`` / ``R[k]`` hold the one pair ending / starting at path node
    ``k`` (or None); with ``mem > 1`` they are lists of pairs in arrival order (pools).
    """

    __slots__ = (
        "L",
        "R",
        "arrival",
        "deadline",
        "delivered",
        "dst",
        "dst_name",
        "fa",
        "fb",
        "fmin",
        "hops",
        "last_start",
        "mem",
        "pairs",
        "path_str",
        "pump",
        "pump_count",
        "rid",
        "route",
        "seg",
        "served_s",
        "src",
        "src_name",
        "status",
        "ver",
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
        self.status = WAITING
        self.served_s = float("nan")
        self.delivered = 0
        self.route: Route | None = None
        self.path_str = ""
        self.hops = 0
        self.ver = 0
        self.L: list[Pair | None] = []
        self.R: list[Pair | None] = []
        self.seg: list[int] = []
        self.pump: list[Pair | None] = []
        self.pump_count: list[int] = []
        self.last_start = arrival
        # memories > 1 (see qnetai.sim.pool): L and R hold lists (pools) instead of single
        # pairs; fa[s] / fb[s] count the free memories at the two ends of link s
        self.mem = mem
        self.fa: list[int] = []
        self.fb: list[int] = []
