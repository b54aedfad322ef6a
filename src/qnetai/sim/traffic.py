"""Request arrivals: explicit flows (poisson / periodic / at_once) and random traffic.

All arrivals up to the simulated duration are drawn up front, vectorised, from a dedicated
generator (so changing the routing policy does not change the traffic). Requests are numbered
in arrival order; ties keep the order of the flows in the scenario (random traffic last).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qnetai.config.models import ArrivalSpec, Scenario
from qnetai.errors import InputError


@dataclass(frozen=True)
class Arrivals:
    """Columns of the arriving requests, sorted by time (arrays of equal length)."""

    time_s: np.ndarray
    source: np.ndarray  # node indices
    destination: np.ndarray
    pairs: np.ndarray
    min_fidelity: np.ndarray
    timeout_s: np.ndarray  # inf when none
    memories: np.ndarray  # memory qubits reserved per node side (``RequestSpec.memories``)

    def __len__(self) -> int:
        return int(self.time_s.shape[0])


def _times(arrival: ArrivalSpec, count: int, horizon_s: float, rng: np.random.Generator):
    start = arrival.start_s
    if arrival.process == "at_once":
        t = np.full(count, start)
    elif arrival.process == "periodic":
        t = start + np.arange(count) / arrival.rate_hz
    else:
        t = start + np.cumsum(rng.exponential(1.0 / arrival.rate_hz, size=count))
    return t[t <= horizon_s]


def draw_arrivals(
    scenario: Scenario,
    node_index: dict[str, int],
    horizon_s: float,
    rng: np.random.Generator,
) -> Arrivals:
    """All request arrivals with ``time <= horizon_s``."""
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("t", "src", "dst", "pairs", "fmin", "tmo", "mem")
    }

    def add(t: np.ndarray, src, dst, pairs: int, fmin: float, tmo: float | None, mem: int) -> None:
        n = t.shape[0]
        cols["t"].append(t)
        cols["src"].append(np.broadcast_to(np.asarray(src, dtype=np.int64), (n,)))
        cols["dst"].append(np.broadcast_to(np.asarray(dst, dtype=np.int64), (n,)))
        cols["pairs"].append(np.full(n, pairs, dtype=np.int64))
        cols["fmin"].append(np.full(n, fmin))
        cols["tmo"].append(np.full(n, np.inf if tmo is None else tmo))
        cols["mem"].append(np.full(n, mem, dtype=np.int64))

    for req in scenario.traffic.requests:
        t = _times(req.arrival, req.count, horizon_s, rng)
        add(
            t,
            node_index[req.source],
            node_index[req.destination],
            req.pairs_per_request,
            req.min_fidelity,
            req.timeout_s,
            req.memories,
        )
    rnd = scenario.traffic.random
    if rnd is not None:
        kinds = set(rnd.node_kinds)
        eligible = np.array(
            [node_index[n.name] for n in scenario.nodes if n.kind in kinds], dtype=np.int64
        )
        if eligible.shape[0] < 2:
            raise InputError(
                f"traffic.random.node_kinds: random traffic needs at least two nodes of kinds "
                f"{sorted(kinds)} (found {eligible.shape[0]})"
            )
        t = np.cumsum(rng.exponential(1.0 / rnd.rate_hz, size=rnd.count))
        t = t[t <= horizon_s]
        n = t.shape[0]
        k = eligible.shape[0]
        i = rng.integers(0, k, size=n)
        j = rng.integers(0, k - 1, size=n)
        j = j + (j >= i)  # distinct from i, uniform over the others
        add(
            t,
            eligible[i],
            eligible[j],
            rnd.pairs_per_request,
            rnd.min_fidelity,
            rnd.timeout_s,
            rnd.memories,
        )

    if not cols["t"]:
        empty = np.zeros(0)
        ei = np.zeros(0, dtype=np.int64)
        return Arrivals(empty, ei, ei, ei, empty, empty, ei)
    t = np.concatenate(cols["t"])
    order = np.argsort(t, kind="stable")
    return Arrivals(
        time_s=t[order],
        source=np.concatenate(cols["src"])[order],
        destination=np.concatenate(cols["dst"])[order],
        pairs=np.concatenate(cols["pairs"])[order],
        min_fidelity=np.concatenate(cols["fmin"])[order],
        timeout_s=np.concatenate(cols["tmo"])[order],
        memories=np.concatenate(cols["mem"])[order],
    )
