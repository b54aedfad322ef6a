"""Verification inside the simulator: estimated fidelities beside the truth.

A scenario's ``verification`` block (:class:`qnetai.config.models.VerificationSpec`) makes
:func:`qnetai.run_scenario` spend a random ``fraction`` of the pairs on measurements:

- **end to end**: of the pairs delivered to each user pair (source, destination), a random
  ``fraction`` is measured (one random-setting XX/YY/ZZ shot each,
  :func:`~qnetai.tomography.verification.verify_fidelities`); those pairs are *not* given to
  the application, so ``pairs_to_application = pairs_delivered - pairs_verified`` (the
  engine's own counts, ``pairs_delivered`` and the request statuses, are left as simulated:
  a request counts as served on its deliveries, verified ones included);
- **per link**: of the pairs heralded on each link, a random ``fraction`` is measured right
  after heralding (:func:`~qnetai.tomography.verification.verify_copies`, truth = the link
  model's heralded fidelity). The engine's dynamics do not lose these pairs: the figures say
  what the endpoints would learn, not what it costs the link's rate (that cost is the
  fraction itself, reported as ``pairs_verified``).

With ``feed_controllers``, :func:`calibrate_links` measures ``calibration_pairs`` pairs of
every link before the run and :class:`EstimatedLinks` hands a routing policy those estimates
(``state.link_fidelity(a, b)``) instead of the truth; the calibration time
(``calibration_pairs / rate``) is reported, not simulated.

Random numbers: ``numpy.random.default_rng([seed, VERIFY_SEED_TAG])`` for the run's
verification and ``[seed, CALIBRATION_SEED_TAG]`` for the calibration, independent of the
engine's streams, so switching verification on leaves the simulation itself unchanged (with
``feed_controllers`` off).

Example:
    >>> import qnetai
    >>> from qnetai.config import builtin_scenario
    >>> sc = builtin_scenario("metro-6g").model_copy(
    ...     update={"verification": VerificationSpec(fraction=0.1)})
    >>> run = qnetai.run_scenario(sc, seed=1)  # doctest: +SKIP
    >>> run.verification.summary["pairs_verified"] > 0  # doctest: +SKIP
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pyarrow as pa

from qnetai.config.models import Scenario, VerificationSpec
from qnetai.tomography.verification import verify_copies, verify_fidelities

#: Tag mixed into the scenario seed for the run's verification measurements.
VERIFY_SEED_TAG = 0x564552
#: Tag mixed into the scenario seed for the links' calibration before the run.
CALIBRATION_SEED_TAG = 0x43414C

PAIRS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("destination", pa.string()),
        ("pairs_delivered", pa.int64()),
        ("pairs_verified", pa.int64()),
        ("pairs_to_application", pa.int64()),
        ("true_mean_fidelity", pa.float64()),
        ("true_fidelity_verified", pa.float64()),
        ("estimated_fidelity", pa.float64()),
        ("fidelity_low", pa.float64()),
        ("fidelity_high", pa.float64()),
    ]
)
LINKS_SCHEMA = pa.schema(
    [
        ("link", pa.string()),
        ("a", pa.string()),
        ("b", pa.string()),
        ("pairs_generated", pa.int64()),
        ("pairs_verified", pa.int64()),
        ("true_fidelity", pa.float64()),
        ("estimated_fidelity", pa.float64()),
        ("fidelity_low", pa.float64()),
        ("fidelity_high", pa.float64()),
        ("calibration_pairs", pa.int64()),
        ("calibration_fidelity", pa.float64()),
        ("calibration_s", pa.float64()),
    ]
)


@dataclass(frozen=True)
class LinkTruth:
    """A link's endpoints, heralded fidelity and expected pair rate (from the engine's model)."""

    name: str
    a: str
    b: str
    fidelity: float
    rate_hz: float


def link_truths(scenario: Scenario) -> list[LinkTruth]:
    """Every link's heralded fidelity and rate, from the engine's own link models.

    Built by :func:`qnetai.sim.linklayer.build_link_model` exactly as the engine builds them
    (a time-varying free-space link at ``t = 0``).

    Example:
        >>> from qnetai.config import builtin_scenario
        >>> all(0.25 <= t.fidelity <= 1 for t in link_truths(builtin_scenario("metro-6g")))
        True
    """
    from qnetai.sim.linklayer import build_link_model
    from qnetai.topology import resolve

    sc = resolve(scenario)
    nodes = {n.name: n for n in sc.nodes}
    out = []
    for i, spec in enumerate(sc.links):
        a, b = spec.endpoints
        lm = build_link_model(
            i,
            spec,
            nodes[a],
            nodes[b],
            speed_km_per_s=float(sc.classical.speed_km_per_s),
            processing_delay_s=float(sc.classical.processing_delay_s),
        )
        rate = float(lm.round_success) / float(lm.attempt_s) if lm.attempt_s > 0 else math.inf
        out.append(LinkTruth(lm.name, a, b, float(lm.state[0]), rate))
    return out


@dataclass(frozen=True)
class Calibration:
    """Estimated heralded fidelity per link (both orientations) from a calibration."""

    fidelity: dict[tuple[str, str], float]
    rows: list[dict[str, Any]]


def calibrate_links(
    scenario: Scenario, spec: VerificationSpec, *, rng: np.random.Generator
) -> Calibration:
    """Measure ``spec.calibration_pairs`` fresh pairs of every link; the estimates.

    A link whose estimate is undefined (never: ``calibration_pairs >= 2``) keeps NaN.

    Example:
        >>> from qnetai.config import builtin_scenario
        >>> cal = calibrate_links(builtin_scenario("metro-6g"), VerificationSpec(),
        ...                       rng=np.random.default_rng(0))
        >>> all(0 <= f <= 1 for f in cal.fidelity.values())
        True
    """
    fid: dict[tuple[str, str], float] = {}
    rows = []
    for t in link_truths(scenario):
        v = verify_copies(
            t.fidelity,
            spec.calibration_pairs,
            fraction=1.0,
            rng=rng,
            readout_error=spec.readout_error,
            confidence=spec.confidence,
        )
        f = min(1.0, max(0.0, v.fidelity))
        fid[(t.a, t.b)] = fid[(t.b, t.a)] = f
        seconds = spec.calibration_pairs / t.rate_hz if t.rate_hz > 0 else math.inf
        rows.append({"link": t.name, "fidelity": f, "pairs": v.used, "seconds": seconds})
    return Calibration(fid, rows)


class _StateView:
    """The engine's state with ``link_fidelity`` answered from estimates."""

    def __init__(self, inner: Any, fidelity: Mapping[tuple[str, str], float]) -> None:
        self._inner = inner
        self._fidelity = fidelity

    def link_fidelity(self, a: str, b: str) -> float:
        """The estimated heralded fidelity of link ``a``-``b``."""
        return self._fidelity[(a, b)]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class EstimatedLinks:
    """A routing policy that sees estimated link fidelities (``state.link_fidelity``).

    Wraps any policy; policies that do not read ``link_fidelity`` behave as before.

    Example:
        >>> class P:
        ...     name = "p"
        ...     def choose_path(self, graph, s, d, *, state):
        ...         return [s, d] if state.link_fidelity(s, d) > 0.5 else None
        >>> EstimatedLinks(P(), {("A", "B"): 0.9}).choose_path(None, "A", "B", state=None)
        ['A', 'B']
    """

    def __init__(self, policy: Any, fidelity: Mapping[tuple[str, str], float]) -> None:
        self.policy = policy
        self.name = str(policy.name)
        self.fidelity = dict(fidelity)

    def choose_path(
        self, graph: nx.Graph, source: str, destination: str, *, state: Any
    ) -> list[str] | None:
        """The wrapped policy's choice, with the estimates in its state."""
        view = _StateView(state, self.fidelity)
        path: list[str] | None = self.policy.choose_path(graph, source, destination, state=view)
        return path


@dataclass(frozen=True)
class RunVerification:
    """What verification found in one run: per user pair, per link, and a summary."""

    pairs: pa.Table
    links: pa.Table
    summary: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pa.Table]:
        """The tables under their run-folder names (``verification_pairs``, ``_links``)."""
        return {"verification_pairs": self.pairs, "verification_links": self.links}


def verify_run(
    result: Any,
    spec: VerificationSpec,
    *,
    rng: np.random.Generator,
    calibration: Calibration | None = None,
) -> RunVerification:
    """Verify a fraction of a simulation's delivered and heralded pairs (see the module).

    ``result`` is a :class:`qnetai.sim.SimulationResult` (its ``deliveries`` and ``links``
    tables and its resolved ``scenario``). Groups are processed in sorted order, so the same
    ``rng`` seed gives the same figures.
    """
    d = result.deliveries
    src = d.column("source").to_pylist()
    dst = d.column("destination").to_pylist()
    fid = d.column("fidelity").to_numpy(zero_copy_only=False).astype(np.float64)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(src, dst, strict=True)):
        groups.setdefault(key, []).append(i)
    cols: dict[str, list[Any]] = {n: [] for n in PAIRS_SCHEMA.names}
    for key in sorted(groups):
        f = fid[np.asarray(groups[key], dtype=np.int64)]
        v = verify_fidelities(
            f,
            fraction=spec.fraction,
            rng=rng,
            readout_error=spec.readout_error,
            confidence=spec.confidence,
        )
        cols["source"].append(key[0])
        cols["destination"].append(key[1])
        cols["pairs_delivered"].append(int(f.size))
        cols["pairs_verified"].append(v.used)
        cols["pairs_to_application"].append(v.kept)
        cols["true_mean_fidelity"].append(float(f.mean()))
        cols["true_fidelity_verified"].append(v.true_fidelity)
        cols["estimated_fidelity"].append(v.fidelity)
        cols["fidelity_low"].append(v.low)
        cols["fidelity_high"].append(v.high)
    pairs = pa.table(cols, schema=PAIRS_SCHEMA)
    # links
    truths = {t.name: t for t in link_truths(result.scenario)}
    cal = {r["link"]: r for r in calibration.rows} if calibration is not None else {}
    lcols: dict[str, list[Any]] = {n: [] for n in LINKS_SCHEMA.names}
    lt = result.links
    for name, generated in zip(
        lt.column("link").to_pylist(), lt.column("pairs_generated").to_pylist(), strict=True
    ):
        t = truths[name]
        v = verify_copies(
            t.fidelity,
            int(generated),
            fraction=spec.fraction,
            rng=rng,
            readout_error=spec.readout_error,
            confidence=spec.confidence,
        )
        c = cal.get(name)
        lcols["link"].append(name)
        lcols["a"].append(t.a)
        lcols["b"].append(t.b)
        lcols["pairs_generated"].append(int(generated))
        lcols["pairs_verified"].append(v.used)
        lcols["true_fidelity"].append(t.fidelity)
        lcols["estimated_fidelity"].append(v.fidelity)
        lcols["fidelity_low"].append(v.low)
        lcols["fidelity_high"].append(v.high)
        lcols["calibration_pairs"].append(None if c is None else int(c["pairs"]))
        lcols["calibration_fidelity"].append(None if c is None else float(c["fidelity"]))
        lcols["calibration_s"].append(None if c is None else float(c["seconds"]))
    links = pa.table(lcols, schema=LINKS_SCHEMA)
    # pooled end-to-end figure: all verified pairs of the run
    verified = int(sum(cols["pairs_verified"]))
    pooled = verify_summary(pairs, spec)
    summary: dict[str, Any] = {
        "verification_fraction": float(spec.fraction),
        "pairs_verified": verified,
        "pairs_to_application": int(fid.size) - verified,
        **pooled,
        "verification_feeds_controllers": bool(spec.feed_controllers),
    }
    return RunVerification(pairs=pairs, links=links, summary=summary)


def verify_summary(pairs: pa.Table, spec: VerificationSpec) -> dict[str, float]:
    """Pooled estimate over all user pairs: verified-weighted mean and its interval.

    The pooled interval is the pairs' intervals combined as independent normal errors
    (half-widths in quadrature, weighted by verified pairs), a summary figure; the per-pair
    rows carry the Wilson intervals.
    """
    n = np.asarray(pairs.column("pairs_verified").to_pylist(), dtype=np.float64)
    est = np.asarray(pairs.column("estimated_fidelity").to_pylist(), dtype=np.float64)
    lo = np.asarray(pairs.column("fidelity_low").to_pylist(), dtype=np.float64)
    hi = np.asarray(pairs.column("fidelity_high").to_pylist(), dtype=np.float64)
    truth = np.asarray(pairs.column("true_fidelity_verified").to_pylist(), dtype=np.float64)
    ok = np.isfinite(est) & (n > 0)
    if not ok.any():
        nan = math.nan
        return {
            "verified_fidelity": nan,
            "verified_fidelity_low": nan,
            "verified_fidelity_high": nan,
            "verified_true_fidelity": nan,
        }
    w = n[ok] / n[ok].sum()
    f = float((w * est[ok]).sum())
    half = float(np.sqrt((w**2 * ((hi[ok] - lo[ok]) / 2.0) ** 2).sum()))
    return {
        "verified_fidelity": f,
        "verified_fidelity_low": max(0.0, f - half),
        "verified_fidelity_high": min(1.0, f + half),
        "verified_true_fidelity": float((w * truth[ok]).sum()),
    }


__all__ = [
    "CALIBRATION_SEED_TAG",
    "VERIFY_SEED_TAG",
    "Calibration",
    "EstimatedLinks",
    "LinkTruth",
    "RunVerification",
    "calibrate_links",
    "link_truths",
    "verify_run",
    "verify_summary",
]
