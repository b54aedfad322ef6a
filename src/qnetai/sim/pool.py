"""Pooled memories: entanglement management of a request with ``memories = m > 1``.

Same physics, classical delays, cut-off rule, event priorities and telemetry as
:mod:`qnetai.sim.protocols` (read that first); what changes is the bookkeeping of memories,
modelled on SeQUeNCe's reservations with ``memo_size = m``:

* **Memories.** The request holds ``m`` memory qubits at each end node and ``m`` on each side
  (``2 m``) of every intermediate node. Memory on the right side of path node ``s`` and on
  the left side of node ``s + 1`` serve elementary link ``s`` only.
* **Generation.** Link ``s`` runs one generation process per pair of free memories at its two
  ends, so up to ``m`` at once; each process draws its next success exactly as the link of a
  one-memory request does (event skipping; with multiplexing, one pair per successful round).
* **Pools.** Stored pairs are pooled per node side: ``req.L[k]`` holds the pairs ending at
  path node ``k``, ``req.R[k]`` those starting there, each in arrival order (a swapped pair
  arrives at its two ends when it is made). ``swap_asap``: node ``k`` swaps while both pools
  are non-empty, always the pair that arrived first on each side (arrival order, as SeQUeNCe
  pairs memories as they become entangled). ``nested``: node ``k`` swaps only a left pair
  spanning exactly its left half-span with a right pair spanning its right half-span, the
  first-arrived eligible pair on each side; as that rule needs the span, a node uses a
  swapped pair only once it has heard of every swap inside it (so it never swaps on a pair
  that a failed swap killed).
* **Freeing.** A memory is free again, and restarts generation on its link at once if the
  memory at the link's other end is free too: at node ``k`` when ``k`` swaps (successful,
  failed or on a pair it does not know is dead); at both ends of a delivered or
  below-``min_fidelity`` pair at the delivery; at both ends of a cut-off pair at the cut-off
  time; at an end of a dead pair (a failed swap inside) when that end hears of the failure.
* **Delivery.** Every pair spanning the whole path is delivered when both ends know all its
  swaps, so several end-to-end pairs can be in flight at once.
* **Purification** with ``memories > 1`` is not supported (an ``InputError`` at set-up).

With ``m = 1`` the engine keeps the one-pair-in-flight model of :mod:`qnetai.sim.protocols`
(there, inner links restart only after the end-to-end pair is delivered or lost).
"""

from __future__ import annotations

import math
from typing import Any

from qnetai.sim.protocols import _CUTOFF_RTOL, P_CUTOFF, P_DEAD, P_DELIVER, P_GEN
from qnetai.sim.state import Pair, Request


class PoolMixin:
    """Event handlers for requests with pooled memories (mixed into ``Simulation``)."""

    # provided by Simulation / EntanglementMixin
    kernel: Any
    tel: Any
    uni: Any
    _cutoff: float | None
    _p_swap: float
    _gate: float
    _meas: float
    _nested: bool

    # and, from EntanglementMixin / Simulation (not restated here: this mixin comes first in
    # Simulation's bases): _finish, _delay, _decohere, _discard_parts, _swap_live, _hand_over
    _finish: Any
    _delay: Any
    _decohere: Any
    _discard_parts: Any
    _swap_live: Any
    _hand_over: Any

    # -- memories and generation processes ----------------------------------------------
    def _pool_activate(self, req: Request) -> None:
        """Set up the pools and start ``m`` generation processes on every link."""
        n = req.route.hops  # type: ignore[union-attr]
        req.L = [[] for _ in range(n + 1)]
        req.R = [[] for _ in range(n + 1)]
        req.fa = [0] * n  # free memories at the left end of link s (right side of node s)
        req.fb = [0] * n  # free memories at the right end of link s (left side of node s+1)
        now = self.kernel.now
        for s in range(n):
            for _ in range(req.mem):
                self._pool_start(req, s, now)

    def _pool_start(self, req: Request, s: int, t0: float) -> None:
        lm = req.route.links[s]  # type: ignore[union-attr]
        t, _, state = lm.next_success(t0, self.uni)
        if t != math.inf:
            self.kernel.schedule(t, self._pool_on_link, (req, s, req.ver, state), P_GEN)

    def _free_right(self, req: Request, k: int, t0: float) -> None:
        """A memory on the right side of path node ``k`` (link ``k``) is free from ``t0``."""
        fb = req.fb
        if fb[k]:
            fb[k] -= 1
            self._pool_start(req, k, t0)
        else:
            req.fa[k] += 1

    def _free_left(self, req: Request, k: int, t0: float) -> None:
        """A memory on the left side of path node ``k`` (link ``k - 1``) is free from ``t0``."""
        s = k - 1
        fa = req.fa
        if fa[s]:
            fa[s] -= 1
            self._pool_start(req, s, t0)
        else:
            req.fb[s] += 1

    def _pool_on_link(self, arg: tuple) -> None:
        req, s, ver, state = arg
        if ver != req.ver:
            return
        now = self.kernel.now
        lm = req.route.links[s]  # type: ignore[union-attr]
        emitted = now - lm.round_trip_s
        self.tel.generated(lm.index, now, 1)
        pair = Pair(s, s + 1, state, emitted, emitted, [lm.index])
        pair.known_i = pair.known_j = now
        cutoff = self._cutoff
        if cutoff is not None and now - emitted > cutoff * (1.0 + _CUTOFF_RTOL):
            pair.stored = False  # older than the cut-off already when heralded
            self.tel.counters["cutoff_discards"] += 1
            self._discard_parts(pair.parts)
            self._pool_start(req, s, now)  # the process keeps its two memories
            return
        hops = req.route.hops  # type: ignore[union-attr]
        if hops == 1:
            self._pool_deliver(req, pair)
            return
        req.R[s].append(pair)
        req.L[s + 1].append(pair)
        if cutoff is not None:
            self._pool_schedule_cutoff(req, pair)
        if s > 0:
            self._pool_swap(req, s)
        if s + 1 < hops and req.ver == ver:
            self._pool_swap(req, s + 1)

    def _pool_schedule_cutoff(self, req: Request, pair: Pair) -> None:
        deadline = pair.gen + self._cutoff * (1.0 + _CUTOFF_RTOL)  # type: ignore[operator]
        now = self.kernel.now
        token: list[Pair | None] = [pair]
        pair.cut = token
        self.kernel.schedule(
            deadline if deadline > now else now,
            self._pool_on_cutoff,
            (req, token, req.ver),
            P_CUTOFF,
        )

    # -- swapping ----------------------------------------------------------------------------
    def _pool_swap(self, req: Request, k: int) -> None:
        """Swap at path node ``k`` while it holds a suitable pair on each side."""
        Lk, Rk = req.L[k], req.R[k]
        route = req.route
        assert route is not None
        hops = route.hops
        ver = req.ver
        while Lk and Rk:
            if self._nested:
                a, b = route.span_l[k], route.span_r[k]
                t_now = self.kernel.now
                X = next((p for p in Lk if p.i == a and p.known_j <= t_now), None)
                Y = next((p for p in Rk if p.j == b and p.known_i <= t_now), None)
                if X is None or Y is None:
                    return
                Lk.remove(X)
                Rk.remove(Y)
            else:
                X = Lk.pop(0)
                Y = Rk.pop(0)
            # the far ends keep their memories: the swapped pair takes them over
            if not X.dead or X.learn_i >= 0.0:
                req.R[X.i].remove(X)
            if not Y.dead or Y.learn_j >= 0.0:
                req.L[Y.j].remove(Y)
            X.stored = Y.stored = False
            now = self.kernel.now
            if X.dead or Y.dead:
                Z = self._pool_merge_dead(req, X, Y, k)
            else:
                Z = self._swap_live(req, X, Y, k, self._pool_fail)
            # node k measured its two memories: free at once
            self._free_left(req, k, now)
            self._free_right(req, k, now)
            if Z.dead:
                self._pool_store_dead(req, Z)  # its ends may still swap it on
            elif Z.i == 0 and Z.j == hops:
                t = max(Z.known_i, Z.known_j)
                if t <= now:
                    self._pool_deliver(req, Z)
                    if req.ver != ver:
                        return
                else:
                    req.R[0].append(Z)
                    req.L[hops].append(Z)
                    self.kernel.schedule(t, self._pool_on_deliver, (req, Z, ver), P_DELIVER)
                continue
            else:
                req.R[Z.i].append(Z)
                req.L[Z.j].append(Z)
                if self._nested:  # its ends may use it once they know its span
                    if Z.i > 0 and Z.known_i > now:
                        self.kernel.schedule(
                            Z.known_i, self._pool_on_known, (req, Z.i, ver), P_DELIVER
                        )
                    if Z.j < hops and Z.known_j > now:
                        self.kernel.schedule(
                            Z.known_j, self._pool_on_known, (req, Z.j, ver), P_DELIVER
                        )
            if Z.i > 0 and Z.stored:
                self._pool_swap(req, Z.i)
                if req.ver != ver:
                    return
            if Z.j < hops and Z.stored:
                self._pool_swap(req, Z.j)
                if req.ver != ver:
                    return

    def _pool_on_known(self, arg: tuple) -> None:
        req, k, ver = arg
        if ver == req.ver:
            self._pool_swap(req, k)

    # -- failures ----------------------------------------------------------------------------
    def _pool_fail(self, req: Request, X: Pair, Y: Pair, k: int) -> Pair:
        """Swap at ``k`` failed: a dead pair whose ends free their memories when they hear."""
        now = self.kernel.now
        Z = Pair(X.i, Y.j, X.state, now, min(X.gen, Y.gen), [])
        Z.dead = True
        self._discard_parts(X.parts)
        self._discard_parts(Y.parts)
        Z.learn_i = now + self._delay(req, k, X.i)
        Z.learn_j = now + self._delay(req, k, Y.j)
        Z.known_i = Z.known_j = math.inf  # nested: the news of its span is the news of its loss
        return Z

    def _pool_merge_dead(self, req: Request, X: Pair, Y: Pair, k: int) -> Pair:
        """Node ``k`` swapped a pair it does not yet know is dead: the result is dead too."""
        Z = Pair(X.i, Y.j, X.state, self.kernel.now, min(X.gen, Y.gen), [])
        Z.dead = True
        if X.dead and Y.dead:
            Z.learn_i, Z.learn_j = X.learn_i, Y.learn_j
        elif X.dead:
            Z.learn_i = X.learn_i
            Z.learn_j = X.learn_j + self._delay(req, k, Y.j)  # X.learn_j: when k hears
            self._discard_parts(Y.parts)
        else:
            Z.learn_j = Y.learn_j
            Z.learn_i = Y.learn_i + self._delay(req, k, X.i)
            self._discard_parts(X.parts)
        return Z

    def _pool_store_dead(self, req: Request, Z: Pair) -> None:
        """Hold a dead pair's end memories until each end node hears of the failure."""
        now = self.kernel.now
        schedule = self.kernel.schedule
        if Z.learn_i >= 0.0:
            req.R[Z.i].append(Z)
            schedule(max(Z.learn_i, now), self._pool_on_dead_end, (req, Z, 0, req.ver), P_DEAD)
        if Z.learn_j >= 0.0:
            req.L[Z.j].append(Z)
            schedule(max(Z.learn_j, now), self._pool_on_dead_end, (req, Z, 1, req.ver), P_DEAD)
        if Z.learn_i < 0.0 and Z.learn_j < 0.0:
            Z.stored = False

    def _pool_on_dead_end(self, arg: tuple) -> None:
        req, Z, side, ver = arg
        if ver != req.ver or not Z.stored:
            return
        now = self.kernel.now
        if side == 0:
            req.R[Z.i].remove(Z)
            Z.learn_i = -1.0
            self._free_right(req, Z.i, now)
        else:
            req.L[Z.j].remove(Z)
            Z.learn_j = -1.0
            self._free_left(req, Z.j, now)
        if Z.learn_i < 0.0 and Z.learn_j < 0.0:
            Z.stored = False

    def _pool_on_cutoff(self, arg: tuple) -> None:
        req, token, ver = arg
        Z = token[0]
        if ver != req.ver or Z is None or not Z.stored or Z.dead:
            return
        self.tel.counters["cutoff_discards"] += 1
        self._discard_parts(Z.parts)
        Z.stored = False
        req.R[Z.i].remove(Z)
        req.L[Z.j].remove(Z)
        base = min(self.kernel.now, Z.gen + self._cutoff)  # type: ignore[operator]
        self._free_right(req, Z.i, base)
        self._free_left(req, Z.j, base)

    # -- delivery ----------------------------------------------------------------------------
    def _pool_on_deliver(self, arg: tuple) -> None:
        req, Z, ver = arg
        if ver == req.ver and Z.stored and not Z.dead:
            req.R[0].remove(Z)
            req.L[req.route.hops].remove(Z)  # type: ignore[union-attr]
            self._pool_deliver(req, Z)

    def _pool_deliver(self, req: Request, Z: Pair) -> None:
        """Hand an end-to-end pair (already out of the pools) over; free its end memories."""
        now = self.kernel.now
        if self._hand_over(req, Z, now):
            return
        self._free_right(req, 0, now)
        self._free_left(req, req.route.hops, now)  # type: ignore[union-attr]
