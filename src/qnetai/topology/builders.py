"""Topology builders: explicit node and link lists with positions (km) and fibre lengths.

Every builder returns ``(nodes, links)``: ``NodeSpec`` copies of a template node named
``{prefix}{i}`` with ``position_km`` set, and ``LinkSpec`` copies of a template link whose
``length_km`` is the Euclidean distance between the endpoints' positions, named ``a-b``.

Example:
    >>> nodes, links = ring(6, spacing_km=10.0)
    >>> [n.name for n in nodes][:3], len(links), round(links[0].length_km, 6)
    (['n0', 'n1', 'n2'], 6, 10.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from qnetai.config.models import LinkSpec, NodeSpec, TopologySpec
from qnetai.errors import InputError

M = TypeVar("M", NodeSpec, LinkSpec)
Built = tuple[list[NodeSpec], list[LinkSpec]]

DEFAULT_NODE = NodeSpec(name="n")
DEFAULT_LINK = LinkSpec(endpoints=("a", "b"))
_DECIMALS = 6  # positions and lengths are rounded to the millimetre


def _check_n(n: int, minimum: int = 2) -> None:
    if int(n) != n or n < minimum:
        raise InputError(f"number of nodes must be an integer >= {minimum} (got {n})")


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise InputError(f"{name} must be > 0 (got {value})")


def _end_user_count(n: int, fraction: float) -> int:
    if not 0.0 <= fraction <= 1.0:
        raise InputError(f"end_user_fraction must be in [0, 1] (got {fraction})")
    if fraction == 0.0:
        return 0
    return min(n, max(2, round(fraction * n)))


def _spread(preference: Sequence[int], k: int) -> list[int]:
    """``k`` entries spread evenly along ``preference`` (its first and last included)."""
    if k <= 0:
        return []
    if k >= len(preference):
        return list(preference)
    picks = np.unique(np.round(np.linspace(0, len(preference) - 1, k)).astype(int))
    return [preference[i] for i in picks]


def _copies(template: M, updates: Iterable[dict[str, Any]]) -> list[M]:
    """Copies of a validated frozen model with fields replaced, without re-validation.

    Equivalent to ``template.model_copy(update=u)`` for each ``u`` (which must hold values
    already valid for the fields), about three times faster: Waxman graphs of a few thousand
    nodes have hundreds of thousands of links.
    """
    cls = type(template)
    base = dict(template.__dict__)
    fields_set: set[str] | None = None
    new, setattr_ = cls.__new__, object.__setattr__
    extra, private = template.__pydantic_extra__, template.__pydantic_private__
    out = []
    for update in updates:
        if fields_set is None:
            fields_set = set(template.model_fields_set) | set(update)
        obj = new(cls)
        setattr_(obj, "__dict__", {**base, **update})
        setattr_(obj, "__pydantic_fields_set__", fields_set)
        setattr_(obj, "__pydantic_extra__", extra)
        setattr_(obj, "__pydantic_private__", private)
        out.append(obj)
    return out


def assemble(
    positions_km: np.ndarray,
    edges: np.ndarray,
    *,
    node: NodeSpec | None = None,
    link: LinkSpec | None = None,
    end_users: Sequence[int] = (),
) -> Built:
    """Node and link specs from positions ``(n, 2)`` and edges ``(m, 2)`` (node indices).

    Node ``i`` is named ``{node.name}{i}`` and copies ``node`` (kind ``end_user`` if ``i`` is in
    ``end_users``); each link copies ``link`` with its endpoints and Euclidean ``length_km``.
    """
    template_node = node or DEFAULT_NODE
    template_link = link or DEFAULT_LINK
    pos = np.round(np.asarray(positions_km, dtype=float).reshape(-1, 2), _DECIMALS)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    names = [f"{template_node.name}{i}" for i in range(len(pos))]
    chosen = set(int(i) for i in end_users)
    nodes = _copies(
        template_node,
        (
            {
                "name": names[i],
                "position_km": (x, y),
                "kind": "end_user" if i in chosen else template_node.kind,
            }
            for i, (x, y) in enumerate(pos.tolist())
        ),
    )
    lengths = np.round(np.hypot(*(pos[e[:, 0]] - pos[e[:, 1]]).T), _DECIMALS)
    links = _copies(
        template_link,
        (
            {"endpoints": (names[a], names[b]), "length_km": d, "name": f"{names[a]}-{names[b]}"}
            for (a, b), d in zip(e.tolist(), lengths.tolist(), strict=True)
        ),
    )
    return nodes, links


def line(
    n: int,
    *,
    spacing_km: float = 20.0,
    node: NodeSpec | None = None,
    link: LinkSpec | None = None,
    end_user_fraction: float = 0.0,
) -> Built:
    """A chain ``n0 - n1 - ... - n{n-1}`` along the x axis; its two ends are end users.

    Example:
        >>> nodes, links = line(3, spacing_km=20.0)
        >>> [n.kind for n in nodes], [l.length_km for l in links]
        (['end_user', 'repeater', 'end_user'], [20.0, 20.0])
    """
    _check_n(n)
    _check_positive("spacing_km", spacing_km)
    k = max(2, _end_user_count(n, end_user_fraction))
    pos = np.stack([np.arange(n) * spacing_km, np.zeros(n)], axis=1)
    edges = np.stack([np.arange(n - 1), np.arange(1, n)], axis=1)
    return assemble(pos, edges, node=node, link=link, end_users=_spread(range(n), k))


def ring(
    n: int,
    *,
    spacing_km: float = 20.0,
    node: NodeSpec | None = None,
    link: LinkSpec | None = None,
    end_user_fraction: float = 0.0,
) -> Built:
    """``n`` nodes on a circle, neighbours ``spacing_km`` apart (two nodes: one link)."""
    _check_n(n)
    _check_positive("spacing_km", spacing_km)
    radius = spacing_km / (2.0 * math.sin(math.pi / n))
    angle = 2.0 * np.pi * np.arange(n) / n
    pos = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    idx = np.arange(n)
    edges = np.stack([idx, (idx + 1) % n], axis=1)
    if n == 2:
        edges = edges[:1]
    k = _end_user_count(n, end_user_fraction)
    chosen = sorted({int(i) for i in np.floor(np.arange(k) * n / max(k, 1))})
    return assemble(pos, edges, node=node, link=link, end_users=chosen)


def star(
    n: int,
    *,
    spacing_km: float = 20.0,
    node: NodeSpec | None = None,
    link: LinkSpec | None = None,
    end_user_fraction: float = 0.0,
) -> Built:
    """A hub ``n0`` with ``n - 1`` leaves on a circle of radius ``spacing_km``.

    Leaves become end users first (the hub only if every node must be one).
    """
    _check_n(n)
    _check_positive("spacing_km", spacing_km)
    leaves = n - 1
    angle = 2.0 * np.pi * np.arange(leaves) / leaves
    pos = np.concatenate(
        [np.zeros((1, 2)), spacing_km * np.stack([np.cos(angle), np.sin(angle)], axis=1)]
    )
    edges = np.stack([np.zeros(leaves, dtype=np.int64), np.arange(1, n)], axis=1)
    k = _end_user_count(n, end_user_fraction)
    chosen = _spread(range(1, n), k) if k <= leaves else list(range(n))
    return assemble(pos, edges, node=node, link=link, end_users=chosen)


def grid(
    n: int,
    *,
    rows: int | None = None,
    spacing_km: float = 20.0,
    node: NodeSpec | None = None,
    link: LinkSpec | None = None,
    end_user_fraction: float = 0.0,
) -> Built:
    """A square lattice of ``n`` nodes filled row by row; the last row may be partial.

    ``rows`` defaults to about ``sqrt(n)``; neighbours are ``spacing_km`` apart.
    """
    _check_n(n)
    _check_positive("spacing_km", spacing_km)
    if rows is None:
        rows = max(1, round(math.sqrt(n)))
    if int(rows) != rows or rows < 1:
        raise InputError(f"rows must be an integer >= 1 (got {rows})")
    cols = math.ceil(n / min(rows, n))
    idx = np.arange(n)
    r, c = idx // cols, idx % cols
    pos = spacing_km * np.stack([c, -r], axis=1).astype(float)
    right = idx[(c + 1 < cols) & (idx + 1 < n)]
    down = idx[idx + cols < n]
    edges = np.concatenate(
        [np.stack([right, right + 1], axis=1), np.stack([down, down + cols], axis=1)]
    )
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))]
    k = _end_user_count(n, end_user_fraction)
    return assemble(pos, edges, node=node, link=link, end_users=_spread(range(n), k))


def waxman_edges(
    positions_km: np.ndarray, *, alpha: float, beta: float, rng: np.random.Generator
) -> np.ndarray:
    """Waxman random edges ``(m, 2)`` with ``i < j``, vectorised in blocks of rows.

    Nodes ``i, j`` at distance ``d`` are joined with probability
    ``beta * exp(-d / (alpha * L))``, ``L`` the largest distance between two nodes (the
    convention of Waxman 1988 and ``networkx.waxman_graph``).
    """
    pos = np.asarray(positions_km, dtype=float)
    n = len(pos)
    span = _diameter(pos)
    scale = alpha * span if span > 0 else 1.0
    block = max(1, 1_000_000 // max(n, 1))
    found = [np.zeros((0, 2), dtype=np.int64)]
    for s in range(0, n, block):
        rows = np.arange(s, min(s + block, n))
        cols = np.arange(s, n)  # the upper triangle only
        d = np.hypot(*(pos[rows, None, :] - pos[None, cols, :]).transpose(2, 0, 1))
        u = rng.random(d.shape)
        keep = (u < beta * np.exp(-d / scale)) & (cols[None, :] > rows[:, None])
        i, j = np.nonzero(keep)
        found.append(np.stack([rows[i], cols[j]], axis=1))
    return np.concatenate(found)


def _diameter(pos: np.ndarray) -> float:
    """Largest distance between two points (over the convex hull when there is one)."""
    if len(pos) < 2:
        return 0.0
    # collinear points: the extremes in x and y hold the two farthest apart
    extremes = pos[[pos[:, 0].argmin(), pos[:, 0].argmax(), pos[:, 1].argmin(), pos[:, 1].argmax()]]
    candidates = pos if len(pos) <= 4 else extremes
    if len(pos) > 4:
        from scipy.spatial import ConvexHull, QhullError  # lazy: ~0.5 s import

        try:
            candidates = pos[ConvexHull(pos).vertices]
        except QhullError:  # all points on a line (or repeated)
            candidates = extremes
    diff = candidates[:, None, :] - candidates[None, :, :]
    return float(np.sqrt((diff**2).sum(axis=-1)).max())


def connect_components(positions_km: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Add the shortest links that join every component to the largest one.

    Components are attached in order of their smallest node index, each by the closest pair
    (Euclidean) between it and the nodes already connected.
    """
    pos = np.asarray(positions_km, dtype=float)
    n = len(pos)
    from scipy.sparse import coo_matrix  # lazy: keeps `import qnetai` fast
    from scipy.sparse.csgraph import connected_components

    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    adjacency = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    count, label = connected_components(adjacency, directed=False)
    if count <= 1:
        return e
    sizes = np.bincount(label, minlength=count)
    main = int(np.argmax(sizes))
    connected = np.flatnonzero(label == main)
    extra = []
    _, first_index = np.unique(label, return_index=True)
    for comp in np.argsort(first_index, kind="stable"):
        if comp == main:
            continue
        members = np.flatnonzero(label == comp)
        d = np.hypot(*(pos[members, None, :] - pos[None, connected, :]).transpose(2, 0, 1))
        a, b = np.unravel_index(np.argmin(d), d.shape)
        u, v = int(members[a]), int(connected[b])
        extra.append((min(u, v), max(u, v)))
        connected = np.concatenate([connected, members])
    return np.concatenate([e, np.array(extra, dtype=np.int64)])


def waxman(
    n: int,
    *,
    area_km: float = 100.0,
    alpha: float = 0.4,
    beta: float = 0.2,
    rng: np.random.Generator | int = 0,
    node: NodeSpec | None = None,
    link: LinkSpec | None = None,
    end_user_fraction: float = 0.0,
) -> Built:
    """A connected Waxman random graph on a square of side ``area_km``.

    Positions are uniform on the square; edges follow :func:`waxman_edges`; isolated parts are
    joined to the largest component by their shortest possible link (so every node is kept).
    End users are the nodes of lowest degree (the periphery). Same ``rng`` seed, same graph.

    Example:
        >>> nodes, links = waxman(50, area_km=80.0, rng=7)
        >>> len(nodes), waxman(50, area_km=80.0, rng=7)[1] == links
        (50, True)
    """
    _check_n(n)
    _check_positive("area_km", area_km)
    _check_positive("alpha", alpha)
    if not 0.0 < beta <= 1.0:
        raise InputError(f"beta must be in (0, 1] (got {beta})")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    pos = np.round(gen.uniform(0.0, area_km, size=(n, 2)), _DECIMALS)
    edges = connect_components(pos, waxman_edges(pos, alpha=alpha, beta=beta, rng=gen))
    edges = edges[np.lexsort((edges[:, 1], edges[:, 0]))]
    degree = np.bincount(edges.ravel(), minlength=n)
    order = np.lexsort((np.arange(n), degree))
    k = _end_user_count(n, end_user_fraction)
    return assemble(pos, edges, node=node, link=link, end_users=order[:k].tolist())


def build(spec: TopologySpec, *, seed: int = 0) -> Built:
    """Run the builder named by ``spec`` (``spec.seed`` wins over ``seed`` for Waxman)."""
    node, link, fraction = spec.node, spec.link, spec.end_user_fraction
    if spec.builder == "line":
        return line(
            spec.nodes, spacing_km=spec.spacing_km, node=node, link=link, end_user_fraction=fraction
        )
    if spec.builder == "ring":
        return ring(
            spec.nodes, spacing_km=spec.spacing_km, node=node, link=link, end_user_fraction=fraction
        )
    if spec.builder == "star":
        return star(
            spec.nodes, spacing_km=spec.spacing_km, node=node, link=link, end_user_fraction=fraction
        )
    if spec.builder == "grid":
        return grid(
            spec.nodes,
            rows=spec.rows,
            spacing_km=spec.spacing_km,
            node=node,
            link=link,
            end_user_fraction=fraction,
        )
    if spec.builder == "waxman":
        rng = np.random.default_rng(spec.seed if spec.seed is not None else seed)
        return waxman(
            spec.nodes,
            area_km=spec.area_km,
            alpha=spec.waxman_alpha,
            beta=spec.waxman_beta,
            rng=rng,
            node=node,
            link=link,
            end_user_fraction=fraction,
        )
    raise InputError(f"topology.builder: unknown builder {spec.builder!r}")  # pragma: no cover
