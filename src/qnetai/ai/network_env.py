"""``qnetai/NetworkRouting-v0``: route requests in continuous time over the event engine.

Each step decides the path of the next arriving request among ``k`` candidate paths (the
``k`` shortest simple paths by ``metric``). The scenario's traffic is drawn up front (as the
engine does, :func:`qnetai.sim.traffic.draw_arrivals`) from a seed derived from
``reset(seed=...)``; a :class:`qnetai.sim.Simulation` runs the same scenario without its own
traffic, and every request is added with :meth:`~qnetai.sim.Simulation.submit` at its
arrival time, routed on the agent's choice. After the action the engine advances to the next
arrival (``run(until=...)``), so memory decoherence, cut-offs, timeouts and the requests'
``min_fidelity`` act exactly as in ``qnetai run``. The reward is the number of end-to-end
pairs delivered since the previous step (the engine delivers only pairs whose fidelity
reaches the request's ``min_fidelity``; the others are discarded).

Observation ``(k, F)`` float32 in ``[0, 10]``, one row per candidate, from what a controller
knows (never hidden link states): the static link figures of the engine's link models
(:meth:`~qnetai.control.engine_policies.ExtPolicy.link_figures`), the node specs of the graph
and the :class:`~qnetai.sim.routing.NetworkState` (free memory, queue); see
:data:`OBS_FEATURES`. Action: ``Discrete(k)``, the
candidate's index. Candidates that do not exist (fewer than ``k`` paths) or whose nodes lack
free memory for the request now are masked (``action_masks()``, ``info["action_mask"]``);
when no candidate has free memory, every existing one is allowed (the request then queues).
A masked action declines the request (it is counted unserved). Requests between
disconnected nodes are declined without a step. The episode terminates after the last
arrival (the engine then runs to ``duration_s``); ``gymnasium.make`` truncates at 200 steps
unless ``max_episode_steps`` is given.

Example:
    >>> import gymnasium as gym
    >>> import qnetai.ai  # noqa: F401
    >>> env = gym.make("qnetai/NetworkRouting-v0", scenario="metro-6g", duration_s=0.02)
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape == (4, len(OBS_FEATURES))
    True
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from qnetai.config.models import Scenario
from qnetai.control.engine_policies import ExtPolicy, has_memory, path_length_km
from qnetai.errors import InputError

#: Per-candidate observation columns (scaled so typical values lie in [0, 1]).
OBS_FEATURES: tuple[str, ...] = (
    "valid",  # 1 for an existing candidate
    "hops",  # hops / 10
    "length",  # length_km / 100
    "ext",  # Q-CAST EXT of one attempt round (widths = multiplexing), clipped to 10
    "link_success_min",  # smallest round success probability 1 - (1 - p)^m of its links
    "link_success_mean",  # mean round success probability of its links
    "free_memory_min",  # min over its nodes of free / total memory qubits
    "admissible",  # 1 if every node has the free memory to admit the request now
    "queue",  # requests waiting for memory in the network / 10
    "pairs",  # pairs the request asks for / 10
    "min_fidelity",  # the request's fidelity threshold
)


class _AgentPolicy:
    """Routing policy of the env's simulation: returns the path the agent chose."""

    name = "agent"

    def __init__(self) -> None:
        self.next_path: list[str] | None = None

    def choose_path(
        self, graph: Any, source: str, destination: str, *, state: Any
    ) -> list[str] | None:
        path, self.next_path = self.next_path, None
        return path


def _load(scenario: str | Path | Scenario) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    from qnetai.config import load_scenario

    return load_scenario(scenario)


class NetworkRoutingEnv(gym.Env):
    """Continuous-time routing over the event engine (see the module docstring).

    ``scenario``: a :class:`~qnetai.config.models.Scenario`, a file or a built-in name;
    ``duration_s`` overrides its duration (e.g. short episodes); ``k`` candidates per request;
    ``metric``: ``"hops"`` or ``"length_km"`` for the candidate search.
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(
        self,
        scenario: str | Path | Scenario = "metro-6g",
        *,
        k: int = 4,
        duration_s: float | None = None,
        metric: str = "hops",
    ) -> None:
        from qnetai.topology import resolve

        sc = _load(scenario)
        if duration_s is not None:
            if not duration_s > 0:
                raise InputError(f"duration_s must be > 0 (got {duration_s})")
            sc = sc.model_copy(update={"duration_s": float(duration_s)})
        self.scenario = resolve(sc)
        self._bare = self.scenario.model_copy(
            update={
                "traffic": self.scenario.traffic.model_copy(update={"requests": [], "random": None})
            }
        )
        self.k = k
        self.ranker = ExtPolicy(metric, k=k)
        self.observation_space = gym.spaces.Box(
            0.0, 10.0, shape=(k, len(OBS_FEATURES)), dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(k)
        self.sim: Any = None
        self._policy = _AgentPolicy()
        self._arrivals: Any = None
        self._i = 0
        self._delivered = 0
        self._cands: list[list[str]] = []
        self._mask = np.zeros(k, dtype=bool)

    # -- helpers -------------------------------------------------------------------------
    def _request(self) -> tuple[float, str, str, int, float, float, int]:
        a, i, names = self._arrivals, self._i, self.sim.node_names
        return (
            float(a.time_s[i]),
            names[int(a.source[i])],
            names[int(a.destination[i])],
            int(a.pairs[i]),
            float(a.min_fidelity[i]),
            float(a.timeout_s[i]),
            int(a.memories[i]),
        )

    def _submit(self, path: list[str] | None) -> None:
        t, src, dst, pairs, fmin, tmo, mem = self._request()
        self._policy.next_path = path
        self.sim.submit(
            src,
            dst,
            pairs=pairs,
            min_fidelity=fmin,
            timeout_s=None if not np.isfinite(tmo) else tmo,
            at_s=t,
            memories=mem,
        )
        self._i += 1

    def _advance(self) -> bool:
        """Run to the next request with candidates (declining the others); False at the end."""
        sim = self.sim
        while self._i < len(self._arrivals):
            sim.run(until=max(float(self._arrivals.time_s[self._i]), sim.now))
            _, src, dst, *_ = self._request()
            self._cands = self.ranker.candidates(sim.graph, src, dst)
            if self._cands:
                return True
            self._submit(None)
        sim.run(until=max(sim.duration_s, sim.now))
        self._cands = []
        return False

    def _observe(self) -> tuple[np.ndarray, dict[str, Any]]:
        sim, g = self.sim, self.sim.graph
        obs = np.zeros((self.k, len(OBS_FEATURES)), dtype=np.float64)
        mask = np.zeros(self.k, dtype=bool)
        valid = np.zeros(self.k, dtype=bool)
        if self._cands:
            _, _, _, pairs, fmin, _, mem = self._request()
            figs = self.ranker.link_figures(g, sim)
            queue = float(sim.queued_requests)
            for j, path in enumerate(self._cands):
                rs = [figs[(a, b)].round_success for a, b in pairwise(path)]
                free = [sim.free_memory(v) / max(g.nodes[v]["spec"].memory_qubits, 1) for v in path]
                ok = (
                    has_memory(path, sim)
                    if mem == 1
                    else all(
                        sim.free_memory(v) >= n * mem
                        for v, n in zip(path, [1] + [2] * (len(path) - 2) + [1], strict=True)
                    )
                )
                obs[j] = (
                    1.0,
                    (len(path) - 1) / 10.0,
                    path_length_km(g, path) / 100.0,
                    self.ranker.ext(g, path, sim),
                    min(rs),
                    float(np.mean(rs)),
                    min(free),
                    float(ok),
                    queue / 10.0,
                    pairs / 10.0,
                    fmin,
                )
                valid[j] = True
                mask[j] = ok
            if not mask.any():
                mask = valid
        self._mask = mask
        info = {
            "action_mask": mask.copy(),
            "time_s": float(sim.now),
            "candidates": [">".join(p) for p in self._cands],
        }
        return np.clip(obs, 0.0, 10.0).astype(np.float32), info

    # -- gymnasium API -------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """A fresh simulation; traffic and dynamics seeded from ``np_random``."""
        from qnetai.sim import Simulation
        from qnetai.sim.traffic import draw_arrivals

        super().reset(seed=seed)
        sim_seed, traffic_seed = (int(x) for x in self.np_random.integers(0, 2**31 - 1, 2))
        self.sim = Simulation(self._bare, seed=sim_seed, policy=self._policy)
        self._arrivals = draw_arrivals(
            self.scenario,
            self.sim.node_index,
            self.sim.duration_s,
            np.random.default_rng(traffic_seed),
        )
        self._i = 0
        self._delivered = 0
        self._advance()
        return self._observe()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Route the pending request on candidate ``action`` and advance to the next one."""
        if self.sim is None:
            raise InputError("call reset() before step()")
        if not self._cands:
            obs, info = self._observe()
            return obs, 0.0, True, False, info
        a = int(action)
        path = self._cands[a] if 0 <= a < self.k and self._mask[a] else None
        self._submit(path)
        more = self._advance()
        delivered = self.sim.pairs_delivered
        reward = float(delivered - self._delivered)
        self._delivered = delivered
        obs, info = self._observe()
        info["chosen"] = ">".join(path) if path else None
        return obs, reward, not more, False, info

    def action_masks(self) -> np.ndarray:
        """The current action mask (MaskablePPO calls this)."""
        return self._mask.copy()
