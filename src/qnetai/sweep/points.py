"""Points of a sweep: parameter values, their scenario, and a stable id for resuming.

A point's id hashes its parameter values with everything else that decides its results
(the base scenario, the run kind, the seeds and the stopping rules), so a rerun of the same
sweep finds the records it already wrote and a changed sweep never reuses a stale one.

Example:
    >>> set_path({"links": [{"length_km": 1}, {"length_km": 2}]}, "links[*].length_km", 5)
    {'links': [{'length_km': 5}, {'length_km': 5}]}
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from qnetai.errors import InputError
from qnetai.sweep.spec import MAX_POINTS, MAX_RUNS, SweepSpec

#: Most points that get the full runnable check up front (see :meth:`SweepPlan.check_points`).
MAX_FULL_CHECKS = 200

_PART_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[(?:\d+|\*)\])*)")
_INDEX_RE = re.compile(r"\[(\d+|\*)\]")


def _steps(path: str) -> list[str | int]:
    """``links[0].length_km`` -> ``["links", 0, "length_km"]`` (``*`` stays a string)."""
    out: list[str | int] = []
    for part in path.split("."):
        m = _PART_RE.fullmatch(part)
        if m is None:
            raise InputError(f"bad field path {path!r}")
        out.append(m.group(1))
        for idx in _INDEX_RE.findall(m.group(2)):
            out.append("*" if idx == "*" else int(idx))
    return out


def set_path(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set the field at dotted ``path`` of a scenario mapping (in place; returned).

    A missing last field is added (the scenario validation then refuses unknown ones with
    their path); a missing list element or a path through a non-mapping is an InputError.
    """
    steps = _steps(path)

    def walk(node: Any, rest: list[str | int], where: str) -> None:
        key, tail = rest[0], rest[1:]
        if key == "*":
            if not isinstance(node, list):
                raise InputError(f"{path}: {where or '(top level)'} is not a list")
            for i, item in enumerate(node):
                if tail:
                    walk(item, tail, f"{where}[{i}]")
                else:
                    node[i] = value
            return
        if isinstance(key, int):
            if not isinstance(node, list) or not 0 <= key < len(node):
                size = len(node) if isinstance(node, list) else 0
                raise InputError(
                    f"{path}: {where or '(top level)'} has no element [{key}] "
                    f"(the base scenario has {size})"
                )
            label = f"{where}[{key}]"
        else:
            if not isinstance(node, dict):
                raise InputError(f"{path}: {where or '(top level)'} is not a mapping")
            label = f"{where}.{key}" if where else key
        if not tail:
            node[key] = value
            return
        child = node[key] if isinstance(key, int) else node.get(key)
        if child is None:
            raise InputError(f"{path}: the base scenario has no {label} to set a field in")
        walk(child, tail, label)

    walk(data, steps, "")
    return data


def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its ``index``, ``params`` (path -> value) and ``point_id``."""

    index: int
    params: dict[str, Any]
    point_id: str


class SweepPlan:
    """A loaded sweep: base scenario (as a mapping), the sweep's hash, and its points.

    Example:
        >>> from qnetai.sweep.spec import sweep_from_dict
        >>> plan = SweepPlan(sweep_from_dict({"base": "sequence-chain-3", "params": [
        ...     {"path": "duration_s", "values": [0.01, 0.02]}]}))
        >>> [p.params for p in plan.points()]
        [{'duration_s': 0.01}, {'duration_s': 0.02}]
    """

    def __init__(self, spec: SweepSpec) -> None:
        from qnetai.facade import load

        self.spec = spec
        self.base = load(spec.base)
        self.base_dict: dict[str, Any] = self.base.model_dump(mode="json")
        fixed = spec.model_dump(mode="json", exclude={"name", "search", "allow_large"})
        fixed["base"] = self.base_dict
        fixed["search"] = spec.search.model_dump(mode="json", exclude={"samples"})
        #: Hash of everything but the number of samples: the records this sweep can reuse.
        self.sweep_hash = _digest(fixed)[:16]
        n_seeds = spec.seeds
        if spec.search.mode == "grid":
            sizes = [len(p.grid_values()) for p in spec.params]
            n_points = 1
            for s in sizes:
                n_points *= s
        else:
            assert spec.search.samples is not None
            n_points = spec.search.samples
        self.n_points = n_points
        if n_points > MAX_POINTS:
            raise InputError(
                f"sweep too large: {n_points:,} points > {MAX_POINTS:,} (split it, or use a "
                "random or optuna search with fewer samples)"
            )
        if n_points * n_seeds > MAX_RUNS:
            raise InputError(
                f"sweep too large: {n_points:,} points x {n_seeds:,} seeds = "
                f"{n_points * n_seeds:,} runs > {MAX_RUNS:,}"
            )

    def point(self, index: int, params: dict[str, Any]) -> Point:
        """The :class:`Point` of ``params`` (its id from the values and :attr:`sweep_hash`)."""
        return Point(index, dict(params), _digest([self.sweep_hash, params])[:16])

    def points(self) -> list[Point]:
        """Every point of a grid or random search (not of an optuna search: it asks as it goes)."""
        import numpy as np

        spec = self.spec
        paths = [p.path for p in spec.params]
        if spec.search.mode == "grid":
            combos = itertools.product(*(p.grid_values() for p in spec.params))
            return [self.point(i, dict(zip(paths, c, strict=True))) for i, c in enumerate(combos)]
        if spec.search.mode == "random":
            rng = np.random.default_rng([spec.seed, 0x5357])
            return [
                self.point(i, {p.path: p.draw(rng) for p in spec.params})
                for i in range(self.n_points)
            ]
        raise InputError("an optuna search has no fixed list of points")

    def scenario_dict(self, params: dict[str, Any]) -> dict[str, Any]:
        """The base scenario mapping with ``params`` set (not validated yet)."""
        data = copy.deepcopy(self.base_dict)
        for path, value in params.items():
            set_path(data, path, value)
        return data

    def check_point(self, point: Point, *, runnable: bool = True) -> dict[str, Any]:
        """Validate (and, with ``runnable``, check) the scenario of ``point``; its mapping.

        Problems raise one InputError naming the point and the field path.
        """
        from qnetai.config import scenario_from_dict
        from qnetai.facade import check_runnable

        data = self.scenario_dict(point.params)
        sc = scenario_from_dict(data, source=f"(sweep point {point.index}: {point.params})")
        if runnable:
            check_runnable(sc, allow_large=self.spec.allow_large)
        return data

    def check_points(self, points: list[Point]) -> list[dict[str, Any]]:
        """Validate every point's scenario; run the full check on a covering subset.

        Validation (field paths, ranges: about a millisecond) covers every point. The
        runnable check (topology, work limits, policies: up to tens of ms on a large
        scenario) runs on the first and last point and on one point for each value of each
        parameter, at most :data:`MAX_FULL_CHECKS` points in all (spread evenly beyond that).
        A point outside the subset that fails the check fails when it runs, recorded with
        its message like any failed point.
        """
        chosen: dict[int, None] = {0: None, len(points) - 1: None}
        seen: set[tuple[str, str]] = set()
        for i, point in enumerate(points):
            keys = {(k, repr(v)) for k, v in point.params.items()}
            if not keys <= seen:
                chosen[i] = None
                seen |= keys
        picked = sorted(chosen)
        if len(picked) > MAX_FULL_CHECKS:
            step = len(picked) / MAX_FULL_CHECKS
            picked = sorted({picked[int(k * step)] for k in range(MAX_FULL_CHECKS)})
        full = set(picked)
        return [self.check_point(p, runnable=i in full) for i, p in enumerate(points)]


__all__ = ["Point", "SweepPlan", "set_path"]
