"""Learned slot policies: load a trained model (zip + json) and act as a slot policy.

``load_routing_policy("waxman-routing")`` finds a shipped model in ``qnetai/data/models``;
any other argument is a path to ``MODEL.zip`` (or ``MODEL`` without the suffix) whose
``MODEL.json`` holds the configuration written by :func:`qnetai.ai.training.train`.
Decisions are deterministic: the masked arg-max of the learned per-action scores.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

import numpy as np

from qnetai._optional import require
from qnetai.ai.allocation_env import allocation_observe, allocation_step
from qnetai.ai.routing_env import (
    RoutingParams,
    routing_observe,
    routing_reset,
    routing_step,
)
from qnetai.control.slotted import Allocation, SlottedNetwork
from qnetai.control.slotted_policies import merge_items
from qnetai.errors import InputError


def shipped_models() -> list[str]:
    """Names of the models shipped in ``qnetai/data/models``."""
    folder = resources.files("qnetai") / "data" / "models"
    try:
        return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".zip"))
    except FileNotFoundError:  # pragma: no cover - no models folder
        return []


def resolve_model(name_or_path: str) -> FsPath:
    """The ``.zip`` path of a shipped model name or a user path (InputError if missing)."""
    path = FsPath(name_or_path)
    candidates = [path, path.with_name(path.name + ".zip")]
    shipped = resources.files("qnetai") / "data" / "models" / f"{name_or_path}.zip"
    candidates.append(FsPath(str(shipped)))
    for c in candidates:
        if c.suffix == ".zip" and c.is_file() and c.with_suffix(".json").is_file():
            return c
    raise InputError(
        f"model must be a shipped name ({', '.join(shipped_models()) or 'none'}) or a path "
        f"to MODEL.zip with MODEL.json beside it (got {name_or_path!r})"
    )


@lru_cache(maxsize=8)
def _load(zip_path: str) -> tuple[Any, dict[str, Any]]:
    require("torch", extra="ai")
    sb3c = require("sb3_contrib", extra="ai")
    require("qnetai.ai.models", extra="ai")
    config = json.loads(FsPath(zip_path).with_suffix(".json").read_text())
    model = sb3c.MaskablePPO.load(zip_path, device="cpu")
    model.policy.set_training_mode(False)
    return model, config


class RLSlotPolicy:
    """A trained scorer acting on :mod:`qnetai.ai.routing_env` (or the allocation env).

    ``last_steps`` holds the number of decisions of the last slot (for per-step timing).
    """

    def __init__(self, model: Any, config: dict[str, Any], name: str) -> None:
        self.model = model
        self.config = config
        self.name = name
        self.kind = config.get("kind", "routing")
        self.last_steps = 0
        self._w: list[np.ndarray] | None = None

    def _weights(self) -> list[np.ndarray]:
        """The scorer's weights as numpy arrays (inference in numpy: no torch threads)."""
        ext = self.model.policy.features_extractor
        lin = [m for m in ext.embed if hasattr(m, "weight")] + [ext.head]
        out = []
        for m in lin:
            out += [m.weight.detach().cpu().numpy().T.astype(np.float64),
                    m.bias.detach().cpu().numpy().astype(np.float64)]
        return [*out, np.array(float(ext.prior.detach()))]

    def _scores(self, obs: np.ndarray, mask: np.ndarray) -> int:
        if self._w is None:
            self._w = self._weights()
        w1, b1, w2, b2, wh, bh, prior = self._w
        rows = np.flatnonzero(mask)
        x = obs[rows].astype(np.float64)
        h = np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2)
        s = (h @ wh + bh)[:, 0] + prior * x[:, 0]
        return int(rows[int(np.argmax(s))])

    def allocate(self, net: SlottedNetwork, requests: np.ndarray, *,
                 rng: np.random.Generator | None = None) -> Allocation:
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
            params = RoutingParams(k=c["k"], w_max=c["w_max"], r_max=len(reqs),
                                   max_paths=c["max_paths"])
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
    """Load ``rl:NAME`` / ``rl:PATH`` as a slot policy."""
    zip_path = resolve_model(name_or_path)
    model, config = _load(str(zip_path))
    return RLSlotPolicy(model, config, name=f"rl:{name_or_path}")
