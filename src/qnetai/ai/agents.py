"""Learned slot policies: load a trained model (zip + json) and act as a slot policy.

``load_routing_policy("waxman-routing")`` finds a shipped model in ``qnetai/data/models``;
any other argument is a path to ``MODEL.zip`` (or ``MODEL`` without the suffix) whose
``MODEL.json`` holds the configuration written by :func:`qnetai.ai.training.train`.
Decisions are deterministic: the masked arg-max of the learned per-action scores, computed
in numpy (:class:`qnetai.ai.scorer.NumpyScorer`) from the ``MODEL.npz`` export when there is
one (no torch import), else from the weights of the stable-baselines3 zip (needs torch).
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
from qnetai.ai.scorer import NumpyScorer, load_export
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


def _load_torch(zip_path: str) -> Any:
    """The MaskablePPO model of ``zip_path`` (needs the ``[ai]`` extra: torch, sb3)."""
    require("torch", extra="ai")
    sb3c = require("sb3_contrib", extra="ai")
    require("qnetai.ai.models", extra="ai")
    model = sb3c.MaskablePPO.load(zip_path, device="cpu")
    model.policy.set_training_mode(False)
    return model


@lru_cache(maxsize=8)
def _load(zip_path: str, backend: str = "auto") -> tuple[Any, NumpyScorer, dict[str, Any]]:
    """``(torch model or None, numpy scorer, config)`` of a saved model.

    ``auto`` uses the ``.npz`` export when there is a current one (no torch import) and
    otherwise loads the zip with stable-baselines3 and copies its weights; ``torch``
    always loads the zip; ``numpy`` requires the export (InputError otherwise).
    """
    if backend not in ("auto", "numpy", "torch"):
        raise InputError(f"backend must be 'auto', 'numpy' or 'torch' (got {backend!r})")
    config = json.loads(FsPath(zip_path).with_suffix(".json").read_text())
    scorer = load_export(zip_path) if backend != "torch" else None
    if scorer is not None:
        return None, scorer, config
    if backend == "numpy":
        raise InputError(f"model {zip_path} has no current numpy export "
                         f"({FsPath(zip_path).with_suffix('.npz').name})")
    model = _load_torch(zip_path)
    from qnetai.ai.models import numpy_scorer

    return model, numpy_scorer(model), config


def export_numpy(name_or_path: str) -> FsPath:
    """(Re-)write ``MODEL.npz`` beside a saved model's zip (loads it with torch); its path.

    Example (an older model saved before the export existed)::

        export_numpy("runs/my-model.zip")
    """
    from qnetai.ai.models import export_scorer

    zip_path = resolve_model(name_or_path)
    return export_scorer(_load_torch(str(zip_path)), zip_path)


class RLSlotPolicy:
    """A trained scorer acting on :mod:`qnetai.ai.routing_env` (or the allocation env).

    ``model`` is the MaskablePPO model (``None`` when loaded from the numpy export);
    ``scorer`` the :class:`~qnetai.ai.scorer.NumpyScorer` that makes the decisions (copied
    from ``model`` when not given; pass a new policy after the model's weights change).
    ``last_steps`` holds the number of decisions of the last slot (for per-step timing).
    """

    def __init__(self, model: Any, config: dict[str, Any], name: str, *,
                 scorer: NumpyScorer | None = None) -> None:
        self.model = model
        self.config = config
        self.name = name
        self.kind = config.get("kind", "routing")
        self.last_steps = 0
        self._scorer = scorer

    @property
    def scorer(self) -> NumpyScorer:
        """The numpy scorer (inference in numpy: no torch, no torch threads)."""
        if self._scorer is None:
            from qnetai.ai.models import numpy_scorer

            self._scorer = numpy_scorer(self.model)
        return self._scorer

    def _scores(self, obs: np.ndarray, mask: np.ndarray) -> int:
        """The masked arg-max action (see :meth:`NumpyScorer.best_action`)."""
        return self.scorer.best_action(obs, mask)

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


def load_routing_policy(name_or_path: str, *, backend: str = "auto", **_: Any
                        ) -> RLSlotPolicy:
    """Load ``rl:NAME`` / ``rl:PATH`` as a slot policy (``backend``: see :func:`_load`).

    With a ``MODEL.npz`` export beside the zip (the shipped models have one) this imports
    neither torch nor stable-baselines3.
    """
    zip_path = resolve_model(name_or_path)
    model, scorer, config = _load(str(zip_path), backend)
    return RLSlotPolicy(model, config, name=f"rl:{name_or_path}", scorer=scorer)
