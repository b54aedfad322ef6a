"""Learned slot policies: load a trained scorer (``MODEL.npz`` + ``MODEL.json``) and act.

``load_routing_policy("waxman-routing")`` finds a shipped model in ``qnetai/data/models``;
any other argument is a path to ``MODEL.npz`` / ``MODEL.json`` (or ``MODEL`` without the
suffix), written by :func:`qnetai.ai.training.train`. Only those two inert files are read
(:mod:`qnetai.control.model_files`; nothing is unpickled, stable-baselines3 zips are
refused). Decisions are deterministic: the masked arg-max of the learned per-action scores,
computed in numpy (:class:`qnetai.ai.scorer.NumpyScorer`) without importing torch.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace
from pathlib import Path as FsPath
from typing import Any

import numpy as np

from qnetai.ai.allocation_env import allocation_observe, allocation_step
from qnetai.ai.routing_env import (
    RoutingParams,
    routing_observe,
    routing_reset,
    routing_step,
)
from qnetai.ai.scorer import NumpyScorer
from qnetai.control import model_files
from qnetai.control.slotted import Allocation, SlottedNetwork
from qnetai.control.slotted_policies import merge_items
from qnetai.errors import InputError

#: Model kinds that act as slot policies.
SLOT_KINDS = ("routing", "allocation")
_REQUIRED = {"routing": ("k", "w_max", "max_paths"), "allocation": ("w_max",)}


def shipped_models(kinds: tuple[str, ...] = SLOT_KINDS) -> list[str]:
    """Names of the shipped slot-policy models (``routing`` / ``allocation``)."""
    return model_files.shipped_models(kinds)


def resolve_model(name_or_path: str) -> model_files.ModelFiles:
    """The files of a shipped model name or a user path (InputError if missing or a zip)."""
    return model_files.resolve_model(name_or_path, field="model")


def load_scorer(
    name_or_path: str, *, kinds: tuple[str, ...] = SLOT_KINDS
) -> tuple[NumpyScorer, dict[str, Any]]:
    """``(scorer, description)`` of a saved scorer model, validated.

    ``kinds`` lists the accepted kinds; the description must hold the positive integer
    settings the policy needs (``k``, ``w_max``, ``max_paths`` for ``routing``).
    """
    files = resolve_model(name_or_path)
    meta, arrays = model_files.load_model(files, kinds=kinds)
    for key in _REQUIRED[meta["kind"]]:
        v = meta.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 10_000:
            raise InputError(
                f"{files.json_path}: {key} must be an integer in [1, 10000] (got {v!r})"
            )
    return NumpyScorer.from_arrays(meta["architecture"], arrays), meta


def save_scorer(scorer: NumpyScorer, config: dict[str, Any], out: str | FsPath) -> FsPath:
    """Write ``OUT.npz`` + ``OUT.json`` (``config["kind"]``: routing or allocation); the npz."""
    arch, arrays = scorer.to_arrays()
    files = model_files.write_model(
        out, kind=config["kind"], architecture=arch, arrays=arrays, meta=config
    )
    return files.npz_path


class RLSlotPolicy:
    """A trained scorer acting on :mod:`qnetai.ai.routing_env` (or the allocation env).

    ``scorer`` is the :class:`~qnetai.ai.scorer.NumpyScorer` that makes the decisions
    (in training: a copy of the current torch weights, :func:`qnetai.ai.models.numpy_scorer`);
    ``config`` the model's description (``kind``, ``k``, ``w_max``, ``max_paths``).
    ``last_steps`` holds the number of decisions of the last slot (for per-step timing).
    """

    def __init__(self, scorer: NumpyScorer, config: dict[str, Any], name: str) -> None:
        self.scorer = scorer
        self.config = config
        self.name = name
        self.kind = config.get("kind", "routing")
        self.last_steps = 0

    def _scores(self, obs: np.ndarray, mask: np.ndarray) -> int:
        """The masked arg-max action (see :meth:`NumpyScorer.best_action`)."""
        return self.scorer.best_action(obs, mask)

    def allocate(
        self, net: SlottedNetwork, requests: np.ndarray, *, rng: np.random.Generator | None = None
    ) -> Allocation:
        """Run the learned policy over the slot's decisions (timed)."""
        reqs = np.asarray(requests, dtype=np.int64).reshape(-1, 2)
        with _one_blas_thread():
            return self._allocate(net, reqs)

    def _allocate(self, net: SlottedNetwork, reqs: np.ndarray) -> Allocation:
        t0 = time.perf_counter()
        c = self.config
        steps = 0
        if self.kind == "allocation":
            params = RoutingParams(k=1, w_max=c["w_max"], r_max=len(reqs), max_paths=1)
            state = replace(routing_reset(net, reqs, params), done=False)
            cursor, done = 0, len(reqs) == 0
            while not done:
                obs, mask = allocation_observe(state, cursor, params)
                state, cursor, _, done = allocation_step(
                    state, cursor, self._scores(np.clip(obs, -10, 10), mask), params
                )
                steps += 1
        else:
            params = RoutingParams(
                k=c["k"], w_max=c["w_max"], r_max=len(reqs), max_paths=c["max_paths"]
            )
            state = routing_reset(net, reqs, params)
            while not state.done:
                obs, mask = routing_observe(state, params)
                action = self._scores(np.clip(obs, -10, 10), mask)
                state, _, _ = routing_step(state, action, params, mask)
                steps += 1
        self.last_steps = steps
        items = merge_items(list(state.items))
        return Allocation.from_list(items, decision_time_s=time.perf_counter() - t0)


def _one_blas_thread() -> Any:
    """Small matrix products are fastest (and steadiest on a busy machine) on one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1)


def load_routing_policy(name_or_path: str, **_: Any) -> RLSlotPolicy:
    """Load ``rl:NAME`` / ``rl:PATH`` (a routing or allocation model) as a slot policy.

    Reads only ``MODEL.npz`` and ``MODEL.json`` and imports neither torch nor
    stable-baselines3 (see :func:`load_scorer`).
    """
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise InputError(f"rl: needs a model name or path after 'rl:' (got {name_or_path!r})")
    try:
        scorer, config = load_scorer(name_or_path)
    except InputError as exc:
        raise InputError(f"rl:{name_or_path}: {exc}") from exc
    return RLSlotPolicy(scorer, config, name=f"rl:{name_or_path}")
