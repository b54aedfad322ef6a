"""The sweep file: a base scenario, the fields to vary, seeds and stopping rules per point.

A sweep file is YAML (or JSON) validated by :class:`SweepSpec`; problems are reported as one
:class:`~qnetai.errors.InputError` whose lines name the field path, like scenario errors::

    name: chain-length
    base: sequence-chain-3            # a built-in name, or a scenario file (relative to this file)
    run: simulate                     # or full: run_scenario, key network included
    seeds: 3                          # seeds per point: seed, seed + 1, ...
    params:
      - {path: "links[*].length_km", values: [10, 20, 30]}
      - {path: duration_s, low: 0.05, high: 0.2, num: 3}
    search: {mode: grid}              # or random / optuna (with samples, objective)
    stop: {min_seeds: 2, ci_half_width: 0.05, metric: pairs_delivered, time_budget_s: 60}

Example:
    >>> spec = sweep_from_dict({"base": "metro-6g", "params": [
    ...     {"path": "duration_s", "values": [0.1, 0.2]}]})
    >>> spec.search.mode, spec.seeds
    ('grid', 1)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from qnetai.errors import InputError

#: Most points one sweep may hold (grid product or samples); larger sweeps are refused.
MAX_POINTS = 10_000
#: Most runs (points x seeds per point) one sweep may ask for.
MAX_RUNS = 200_000
#: Most seeds per point.
MAX_SEEDS = 10_000
#: Most values in one parameter's list.
MAX_VALUES = 10_000

_PATH_RE = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\[(\d+|\*)\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[(\d+|\*)\])*)*$"
)

Scalar = bool | int | float | str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParamSpec(_Model):
    """One field to vary: a dotted ``path`` into the scenario and its values or range.

    ``values`` lists the values (grid, random choice, optuna categorical); otherwise ``low``
    and ``high`` give a range (``log`` for a log scale, ``integer`` for whole numbers) and
    ``num`` the number of grid values (evenly spaced, or geometrically with ``log``).
    ``[*]`` in the path sets the field in every element of a list (``links[*].length_km``).
    """

    path: str = Field(min_length=1, max_length=200)
    values: list[Scalar] | None = Field(default=None, min_length=1, max_length=MAX_VALUES)
    low: float | None = None
    high: float | None = None
    num: int | None = Field(default=None, ge=1, le=MAX_VALUES)
    log: bool = False
    integer: bool = False

    @model_validator(mode="after")
    def _check(self) -> ParamSpec:
        if not _PATH_RE.match(self.path):
            raise ValueError(
                f"path must be dotted field names with [index] or [*], such as "
                f"links[0].length_km (got {self.path!r})"
            )
        if self.values is not None:
            if self.low is not None or self.high is not None or self.num is not None:
                raise ValueError("give either values or low/high (with num for a grid), not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values, or low and high")
        if not self.low < self.high:
            raise ValueError(f"low must be < high (got low={self.low}, high={self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"log scale needs low > 0 (got low={self.low})")
        return self

    def grid_values(self) -> list[Scalar]:
        """The values a grid visits (``values``, or ``num`` points from ``low`` to ``high``)."""
        import numpy as np

        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.num is None:
            raise InputError(f"params ({self.path}): a grid needs values, or low, high and num")
        grid = (
            np.geomspace(self.low, self.high, self.num)
            if self.log
            else np.linspace(self.low, self.high, self.num)
        )
        if self.integer:
            return list(dict.fromkeys(round(float(v)) for v in grid))
        return [float(v) for v in grid]

    def draw(self, rng: Any) -> Scalar:
        """One random value (``rng``: a ``numpy.random.Generator``)."""
        import math

        if self.values is not None:
            return self.values[int(rng.integers(len(self.values)))]
        assert self.low is not None and self.high is not None
        if self.integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            if self.log:
                return round(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            return int(rng.integers(lo, hi + 1))
        if self.log:
            return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return float(rng.uniform(self.low, self.high))


class SearchSpec(_Model):
    """How points are chosen: ``grid`` (every combination), ``random`` or ``optuna``.

    ``samples`` is the number of points of a random or optuna search; an optuna search
    ``direction``-optimises the mean of ``objective`` (a metric name, such as
    ``pairs_delivered`` or ``qkd_relay_key_rate_bps``) over the seeds of a point.
    """

    mode: Literal["grid", "random", "optuna"] = "grid"
    samples: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    objective: str | None = Field(default=None, min_length=1, max_length=100)
    direction: Literal["maximize", "minimize"] = "maximize"

    @model_validator(mode="after")
    def _check(self) -> SearchSpec:
        if self.mode in ("random", "optuna") and self.samples is None:
            raise ValueError(f"a {self.mode} search needs samples (the number of points)")
        if self.mode == "optuna" and self.objective is None:
            raise ValueError("an optuna search needs an objective (a metric name)")
        if self.mode == "grid" and self.samples is not None:
            raise ValueError("samples is for random and optuna searches (a grid visits all)")
        return self


class StopSpec(_Model):
    """When a point stops adding seeds (it never runs more than the sweep's ``seeds``).

    After ``min_seeds``, a point stops once the 95 % interval of the mean of ``metric`` is
    narrower than ``ci_half_width`` on each side (relative to the mean when ``relative``),
    or once ``time_budget_s`` of wall time is spent on it. A time budget makes the number of
    seeds depend on the machine, so results are then no longer identical between runs.
    """

    min_seeds: int = Field(default=2, ge=2, le=MAX_SEEDS)
    ci_half_width: float | None = Field(default=None, gt=0)
    relative: bool = True
    metric: str | None = Field(default=None, min_length=1, max_length=100)
    time_budget_s: float | None = Field(default=None, gt=0, le=7 * 86400)


class SweepSpec(_Model):
    """A sweep file (see the module docstring)."""

    name: str = Field(default="sweep", min_length=1, max_length=100, pattern=r"^[\w.-]+$")
    base: str = Field(min_length=1, max_length=4096)
    run: Literal["full", "simulate"] = "full"
    seed: int = Field(default=0, ge=0, lt=2**62)
    seeds: int = Field(default=1, ge=1, le=MAX_SEEDS)
    params: list[ParamSpec] = Field(min_length=1, max_length=16)
    search: SearchSpec = SearchSpec()
    stop: StopSpec | None = None
    metrics: list[str] | None = Field(default=None, min_length=1, max_length=200)
    allow_large: bool = False

    @model_validator(mode="after")
    def _check(self) -> SweepSpec:
        paths = [p.path for p in self.params]
        dup = sorted({p for p in paths if paths.count(p) > 1})
        if dup:
            raise ValueError(f"params: each path once (repeated: {', '.join(dup)})")
        if self.stop is not None and self.stop.min_seeds > self.seeds:
            raise ValueError(
                f"stop.min_seeds must be <= seeds (got min_seeds={self.stop.min_seeds}, "
                f"seeds={self.seeds})"
            )
        return self

    @property
    def stop_metric(self) -> str | None:
        """The metric the interval rule watches (``stop.metric``, else the objective)."""
        if self.stop is None or self.stop.ci_half_width is None:
            return None
        return self.stop.metric or self.search.objective or "pairs_delivered"


def sweep_from_dict(data: Any, *, source: str = "sweep") -> SweepSpec:
    """Validate a mapping as a :class:`SweepSpec`; every problem in one :class:`InputError`."""
    from qnetai.config.errors import validation_error_lines

    if not isinstance(data, dict):
        raise InputError(
            f"{source}: a sweep file must be a mapping of fields such as base, params "
            f"(got {type(data).__name__})"
        )
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        lines = validation_error_lines(exc, root=SweepSpec)
        if len(lines) == 1:
            raise InputError(f"invalid sweep {source}: {lines[0]}") from None
        body = "\n".join(f"  {line}" for line in lines[:25])
        raise InputError(f"invalid sweep {source}: {len(lines)} problems\n{body}") from None


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file (YAML, or JSON for ``.json``), bounded like scenarios.

    A relative ``base`` that names an existing file is taken relative to the sweep file.
    """
    import json

    import yaml

    from qnetai.config.limits import check_yaml_shape, read_scenario_bytes

    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such sweep file")
    raw = read_scenario_bytes(p)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read sweep file ({exc})") from None
    try:
        if p.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            check_yaml_shape(text, source=str(path), loader=loader)
            data = yaml.load(text, Loader=loader)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as exc:
        raise InputError(f"{path}: syntax error: {exc}") from None
    spec = sweep_from_dict(data, source=str(path))
    base = Path(spec.base)
    if not base.is_absolute() and (p.parent / base).is_file():
        spec = spec.model_copy(update={"base": str(p.parent / base)})
    return spec


__all__ = [
    "MAX_POINTS",
    "MAX_RUNS",
    "MAX_SEEDS",
    "ParamSpec",
    "SearchSpec",
    "StopSpec",
    "SweepSpec",
    "load_sweep",
    "sweep_from_dict",
]
