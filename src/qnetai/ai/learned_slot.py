"""Learned variants of classical slot policies (kept out of :mod:`qnetai.control`).

``ls-rl`` (:class:`LearnedWarmLocalSearch`) is the discrete local search of
:class:`qnetai.control.metaheuristics.LocalSearchPolicy` warm-started from q-cast *and* a
learned routing scorer. The classical ``ls`` never reads a model file; this variant needs
one and fails with an :class:`~qnetai.errors.InputError` naming it when it cannot be loaded
(no silent fallback to the classical start).

Example:
    >>> import numpy as np
    >>> from qnetai.control.slotted import waxman_network, sample_requests, is_feasible
    >>> net = waxman_network(20, seed=1)
    >>> reqs = sample_requests(net, 3, np.random.default_rng(0))
    >>> pol = LearnedWarmLocalSearch(max_moves=50)
    >>> pol.name, is_feasible(net, pol.allocate(net, reqs))
    ('ls-rl', True)
"""

from __future__ import annotations

from qnetai.ai.agents import load_routing_policy
from qnetai.control.metaheuristics import LocalSearchPolicy


class LearnedWarmLocalSearch(LocalSearchPolicy):
    """``ls`` warm-started from q-cast and the learned routing model ``model`` (``ls-rl``)."""

    name = "ls-rl"

    def __init__(
        self,
        *,
        model: str = "waxman-routing",
        k: int = 4,
        max_moves: int = 3000,
        time_limit_s: float | None = None,
    ) -> None:
        super().__init__(
            k=k,
            max_moves=max_moves,
            time_limit_s=time_limit_s,
            warm=("q-cast", load_routing_policy(model)),
        )
        self.model = model


__all__ = ["LearnedWarmLocalSearch"]
