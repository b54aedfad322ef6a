"""Per-action features for the slot-routing environments (topology-size independent).

Every action ``(request i, candidate path j, width w)`` is described by the same ``F``
numbers, computed only from what a controller knows before the slot (the candidate path's
EXT table, hop count, residual capacities, other requests' demand). A scorer that maps one
feature row to one logit therefore works unchanged on 50- or 100-node networks and with any
number of requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qnetai.control.slotted import Path, SlottedNetwork

#: Names of the feature columns, in order.
FEATURE_NAMES: tuple[str, ...] = (
    "ext",
    "ext_per_channel",
    "ext_marginal",
    "ext_per_qubit",
    "hops",
    "width",
    "width_of_feasible",
    "ext_relative",
    "residual_after",
    "demand",
    "served",
    "unserved_fraction",
    "stop",
)
N_FEATURES = len(FEATURE_NAMES)


@dataclass(frozen=True, eq=False)
class CandidateTable:
    """Candidate paths of a slot's requests, padded to ``(R, k)``, with lookup arrays.

    ``ext[i, j, w]`` is the EXT of request ``i``'s candidate ``j`` at width ``w`` (0 where
    absent); ``edge_idx``/``node_idx``/``node_mult`` index residual arrays padded with a
    sentinel at the end (``m`` / ``n``) that never binds.
    """

    paths: tuple[tuple[Path, ...], ...]
    valid: np.ndarray  # (R, k) bool
    ext: np.ndarray  # (R, k, W + 1)
    hops: np.ndarray  # (R, k)
    edge_idx: np.ndarray  # (R, k, H)
    node_idx: np.ndarray  # (R, k, H + 1)
    node_mult: np.ndarray  # (R, k, H + 1)
    demand: np.ndarray  # (R, k) mean demand along the path from the other requests


def candidate_table(
    net: SlottedNetwork, requests: np.ndarray, *, k: int, w_max: int, r_max: int
) -> CandidateTable:
    """Build the padded candidate table of ``requests`` (at most ``r_max`` of them)."""
    reqs = np.asarray(requests, dtype=np.int64).reshape(-1, 2)[:r_max]
    paths = [tuple(net.candidate_paths(int(s), int(d), k)) for s, d in reqs.tolist()]
    paths += [()] * (r_max - len(paths))
    h_top = max([len(p) - 1 for ps in paths for p in ps] + [1])
    valid = np.zeros((r_max, k), dtype=bool)
    ext = np.zeros((r_max, k, w_max + 1))
    hops = np.zeros((r_max, k))
    edge_idx = np.full((r_max, k, h_top), net.n_edges, dtype=np.int64)
    node_idx = np.full((r_max, k, h_top + 1), net.n_nodes, dtype=np.int64)
    node_mult = np.ones((r_max, k, h_top + 1), dtype=np.int64)
    node_load = np.zeros(net.n_nodes + 1)
    for i, ps in enumerate(paths):
        for j, p in enumerate(ps):
            valid[i, j] = True
            table = net.path_ext(p)[: w_max + 1]
            ext[i, j, : len(table)] = table
            ext[i, j, len(table) :] = table[-1]
            hops[i, j] = len(p) - 1
            e = net.path_edges(p)
            edge_idx[i, j, : len(e)] = e
            node_idx[i, j, : len(p)] = p
            node_mult[i, j, 1 : len(p) - 1] = 2
            node_load[list(p)] += 1.0 / len(ps)
    demand = np.zeros((r_max, k))
    cap = np.append(np.maximum(net.capacity, 1), 1).astype(float)
    for i, ps in enumerate(paths):
        own = np.zeros(net.n_nodes + 1)
        for p in ps:
            own[list(p)] += 1.0 / len(ps)
        for j, p in enumerate(ps):
            others = (node_load - own)[list(p)]
            demand[i, j] = float(np.mean(others * 10.0 / cap[list(p)]))
    return CandidateTable(tuple(paths), valid, ext, hops, edge_idx, node_idx, node_mult, demand)


def feasible_widths(
    table: CandidateTable, edge_free: np.ndarray, node_free: np.ndarray
) -> np.ndarray:
    """Largest feasible width of every candidate ``(R, k)`` given residual capacities.

    ``edge_free``/``node_free`` carry the sentinel entry at the end (a large value).
    """
    e = edge_free[table.edge_idx].min(axis=-1)
    n = (node_free[table.node_idx] // table.node_mult).min(axis=-1)
    return np.where(table.valid, np.minimum(e, n), 0)


def action_features(
    table: CandidateTable,
    edge_free: np.ndarray,
    node_free: np.ndarray,
    capacity: np.ndarray,
    served: np.ndarray,
    n_requests: int,
    *,
    w_max: int,
    max_paths: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Features ``(R * k * w_max + 1, F)`` (float32) and the action mask (last = stop)."""
    r_max, k = table.valid.shape
    wfeas = feasible_widths(table, edge_free, node_free)  # (R, k)
    open_req = (np.arange(r_max) < n_requests) & (served < max_paths)
    w = np.arange(1, w_max + 1)
    mask3 = (w[None, None, :] <= wfeas[..., None]) & open_req[:, None, None]
    ext = table.ext[..., 1:]  # (R, k, W)
    prev = table.ext[..., :-1]
    hops = np.maximum(table.hops, 1)[..., None]
    feats = np.zeros((r_max, k, w_max, N_FEATURES), dtype=np.float64)
    feats[..., 0] = ext / 3.0
    feats[..., 1] = ext / w
    feats[..., 2] = ext - prev
    feats[..., 3] = ext / (2.0 * w * hops) * 10.0
    feats[..., 4] = hops / 10.0
    feats[..., 5] = w / w_max
    feats[..., 6] = w / np.maximum(wfeas[..., None], 1)
    best = float(np.where(mask3, ext, 0.0).max()) if mask3.any() else 1.0
    feats[..., 7] = ext / max(best, 1e-9)
    cap = np.append(np.maximum(capacity, 1), 1).astype(float)
    nf = node_free[table.node_idx].astype(float)  # (R, k, H+1)
    use = table.node_mult[..., None, :] * w[None, None, :, None]  # (R, k, W, H+1)
    after = (nf[..., None, :] - use) / cap[table.node_idx][..., None, :]
    feats[..., 8] = np.where(table.node_idx[..., None, :] < len(cap) - 1, after, 1.0).min(-1)
    feats[..., 9] = table.demand[..., None]
    feats[..., 10] = (served / max_paths)[:, None, None]
    feats[..., 11] = np.mean(served[:n_requests] == 0) if n_requests else 0.0
    feats[~mask3] = 0.0
    flat = feats.reshape(-1, N_FEATURES)
    stop = np.zeros((1, N_FEATURES))
    stop[0, -1] = 1.0
    stop[0, 11] = feats[..., 11].max() if n_requests else 0.0
    obs = np.concatenate([flat, stop]).astype(np.float32)
    mask = np.concatenate([mask3.reshape(-1), [True]])
    return obs, mask
