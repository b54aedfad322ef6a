"""Exact optimum of a slot's total expected throughput over a candidate path set (HiGHS).

Candidates are the ``k`` best simple paths of each request by width-1 EXT
(:meth:`~qnetai.control.slotted.SlottedNetwork.candidate_paths`). Binary ``x[p, w]`` says
path ``p`` is used at width ``w``; maximise ``sum EXT(p, w) x[p, w]`` subject to at most one
width per path, ``sum w x <= channels`` on every edge and ``sum usage * w x <= capacity`` on
every node (usage 1 at a path's ends, 2 inside). The reported optimum is the optimum **over
this candidate set**, not over all paths of the network (Q-CAST's own paths can lie outside
it, so q-cast may occasionally beat a small-``k`` MILP).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from qnetai.control.slotted import Allocation, Path, SlottedNetwork
from qnetai.control.slotted_policies import Residual, merge_items
from qnetai.errors import InputError


@dataclass(frozen=True)
class MilpResult:
    """The MILP's allocation, objective (expected pairs), optimality flag and solve time."""

    allocation: Allocation
    objective: float
    optimal: bool
    bound: float
    solve_time_s: float


@contextlib.contextmanager
def _quiet_c_stdout() -> Iterator[None]:
    """Silence C-level writes to stdout (HiGHS prints MIP diagnostics there).

    Keeps ``--json`` output a single JSON document; Python-level writes are flushed first.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured / replaced stdout: nothing to do
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def candidate_set(net: SlottedNetwork, requests: np.ndarray, k: int) -> list[tuple[int, Path]]:
    """``[(request, path)]``: the ``k`` candidate paths of every request."""
    out: list[tuple[int, Path]] = []
    for r, (s, d) in enumerate(np.asarray(requests).reshape(-1, 2).tolist()):
        out.extend((r, p) for p in net.candidate_paths(int(s), int(d), k))
    return out


def _path_width_cap(net: SlottedNetwork, path: Path) -> int:
    return Residual(net).max_width(path)


def solve_milp(
    net: SlottedNetwork,
    requests: np.ndarray,
    *,
    k: int = 4,
    time_limit_s: float = 10.0,
    extra: list[tuple[int, Path]] | None = None,
) -> MilpResult:
    """Maximise total EXT over the candidate set (plus ``extra`` ``(request, path)`` pairs)."""
    if k < 1:
        raise InputError(f"k must be >= 1 (got {k})")
    t0 = time.perf_counter()
    cands = candidate_set(net, requests, k)
    seen = set(cands)
    for item in extra or []:
        if item not in seen:
            cands.append(item)
            seen.add(item)
    var_path, var_w, value = [], [], []
    for j, (_, p) in enumerate(cands):
        table = net.path_ext(p)
        for w in range(1, _path_width_cap(net, p) + 1):
            var_path.append(j)
            var_w.append(w)
            value.append(table[w])
    nv = len(value)
    if nv == 0:
        return MilpResult(Allocation.from_list([]), 0.0, True, 0.0, time.perf_counter() - t0)
    rows, cols, vals = [], [], []
    ub = [1.0] * len(cands)  # one width per path
    for v_idx, j in enumerate(var_path):
        rows.append(j)
        cols.append(v_idx)
        vals.append(1.0)
    base_e = len(cands)
    base_n = base_e + net.n_edges
    for v_idx, (j, w) in enumerate(zip(var_path, var_w, strict=True)):
        p = cands[j][1]
        for e in net.path_edges(p).tolist():
            rows.append(base_e + e)
            cols.append(v_idx)
            vals.append(float(w))
        for pos, node in enumerate(p):
            rows.append(base_n + node)
            cols.append(v_idx)
            vals.append(float(w * (1 if pos in (0, len(p) - 1) else 2)))
    ub.extend(net.channels.astype(float).tolist())
    ub.extend(net.capacity.astype(float).tolist())
    a = coo_matrix((vals, (rows, cols)), shape=(len(ub), nv)).tocsr()
    with _quiet_c_stdout():
        res = milp(
            c=-np.asarray(value),
            integrality=np.ones(nv),
            bounds=Bounds(0, 1),
            constraints=LinearConstraint(a, -np.inf, np.asarray(ub)),
            options={"time_limit": time_limit_s, "mip_rel_gap": 1e-7},
        )
    if res.x is None:
        return MilpResult(
            Allocation.from_list([]), 0.0, False, float("nan"), time.perf_counter() - t0
        )
    chosen = np.flatnonzero(res.x > 0.5)
    items = [(cands[var_path[i]][0], cands[var_path[i]][1], var_w[i]) for i in chosen]
    items = merge_items(items)
    bound = getattr(res, "mip_dual_bound", None)
    elapsed = time.perf_counter() - t0
    return MilpResult(
        allocation=Allocation.from_list(items, decision_time_s=elapsed),
        objective=float(-res.fun),
        optimal=bool(res.status == 0),
        bound=float(-bound) if bound is not None else float(-res.fun),
        solve_time_s=elapsed,
    )


def brute_force_optimum(net: SlottedNetwork, requests: np.ndarray, *, k: int = 2) -> float:
    """Best total EXT over the same candidate set by enumeration (tiny instances only)."""
    cands = candidate_set(net, requests, k)
    caps = [_path_width_cap(net, p) for _, p in cands]
    if np.prod([c + 1 for c in caps], dtype=float) > 2e5:
        raise InputError("instance too large for brute force")
    best = 0.0
    for widths in itertools.product(*[range(c + 1) for c in caps]):
        items = [(r, p, w) for (r, p), w in zip(cands, widths, strict=True) if w > 0]
        res = Residual(net)
        ok = True
        for _, p, w in items:
            if res.max_width(p) < w:
                ok = False
                break
            res.take(p, w)
        if ok:
            best = max(best, sum(net.path_ext(p)[w] for _, p, w in items))
    return best


def qcast_candidates(net: SlottedNetwork, requests: np.ndarray) -> list[tuple[int, Path]]:
    """The ``(request, path)`` pairs q-cast chooses (added to the MILP's candidate set)."""
    from qnetai.control.qcast import qcast_items

    return [(r, p) for r, p, _ in qcast_items(net, requests, Residual(net))]


class MilpPolicy:
    """The MILP optimum over ``k`` candidate paths per request plus q-cast's paths (HiGHS).

    With ``with_qcast`` (default) the candidate set also holds the paths q-cast picks, so the
    optimum is never below q-cast's expected throughput.
    """

    name = "milp"

    def __init__(self, k: int = 4, time_limit_s: float = 10.0, with_qcast: bool = True) -> None:
        self.k = k
        self.time_limit_s = time_limit_s
        self.with_qcast = with_qcast

    def solve(self, net: SlottedNetwork, requests: np.ndarray) -> MilpResult:
        """The full :class:`MilpResult` (objective, optimality, bound, time)."""
        t0 = time.perf_counter()
        extra = qcast_candidates(net, requests) if self.with_qcast else None
        got = solve_milp(net, requests, k=self.k, time_limit_s=self.time_limit_s, extra=extra)
        elapsed = time.perf_counter() - t0
        alloc = Allocation(
            got.allocation.request,
            got.allocation.paths,
            got.allocation.widths,
            decision_time_s=elapsed,
        )
        return MilpResult(alloc, got.objective, got.optimal, got.bound, elapsed)

    def allocate(
        self, net: SlottedNetwork, requests: np.ndarray, *, rng: np.random.Generator | None = None
    ) -> Allocation:
        """Solve and return the optimal allocation (timed)."""
        return self.solve(net, requests).allocation
