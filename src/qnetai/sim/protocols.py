"""Entanglement management of one active request: links, purification, swaps, cut-offs, delivery.

Conventions (the engine's model; they reduce to :mod:`qnetai.sim.chain` for zero-length links,
zero classical delay, no purification and depolarising memories):

* **Memory noise.** Each memory qubit at node ``x`` depolarises at rate ``1 / (2 t_coh_x)``; on a
  Bell-diagonal pair one-qubit depolarising acts like two-qubit depolarising, so a pair stored
  between ``a`` and ``b`` keeps ``e = exp(-dt (1/(2 t_coh_a) + 1/(2 t_coh_b)))`` of its state —
  ``exp(-dt / t_coh)`` for equal memories: one factor per *pair*, whatever its length, as in the
  chain model and :func:`qnetai.physics.depolarise`. A node with ``t1_s``/``t2_s`` uses T1/T2
  noise on its half instead (its ``t_coh_s`` is then ignored); both halves' channels are
  applied together, exactly, and twirled (:func:`qnetai.sim.bellfast.memory_noise`).
  Decoherence is applied lazily, when a pair is touched (the state is twirled back to
  Bell-diagonal form at each touch).
* **One pair in flight per request** (no pipelining): a segment regenerates only after the
  pair containing its link was delivered or lost, as in the chain model.
* **Swapping.** ``swap_asap``: a node swaps as soon as it holds two pairs of the request, without
  waiting to hear about swaps elsewhere. ``nested``: node ``k`` swaps only the two pairs that
  span exactly its half-spans of a balanced binary tree (doubling for 2^n segments). A swap
  fails with probability ``1 - swap_success_probability`` and destroys both pairs; pairs that
  are merged with a destroyed pair before the news arrives are destroyed too (a run with one
  failed swap is lost entirely). Nodes hear about a swap at ``k`` after the classical delay
  ``distance / speed + processing_delay`` along the path; lost segments restart when both
  their end nodes know.
* **Delivery.** The end-to-end pair is delivered when both end nodes know every swap in it;
  it decoheres until then. Below the request's ``min_fidelity`` it is discarded (counted)
  and the request tries again; all its segments restart at that time.
* **Cut-off.** A pair (elementary, purified or swapped) is discarded when
  ``now - gen > cutoff_s``, ``gen`` being the generation (loading) time of its *oldest*
  elementary link, exactly as in :mod:`qnetai.sim.chain`; at equal times links, swaps and
  deliveries come first (``cutoff_s`` gets a 1e-9 relative tolerance). Its segments restart
  when they hear of it from the nearer end.
* **Purification** (entanglement pumping): an elementary link keeps one pair and generates a
  second on the same segment (2 memory qubits per segment end); BBPSSW/DEJMPS is applied and
  the outcome is known after the classical round trip of the link. ``rounds`` successful
  rounds make the link ready for swapping; a failure discards both pairs and restarts it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from qnetai.physics import scalar as bf
from qnetai.sim.linklayer import successes_in_round
from qnetai.sim.state import (
    SEG_BUSY,
    SEG_HELD,
    SEG_RESTART,
    SERVED,
    Pair,
    Request,
)

# Event priorities at equal times: links appear, then deliveries, then news of failures,
# then cut-off discards, then segment restarts, arrivals and timeouts.
P_GEN, P_DELIVER, P_DEAD, P_CUTOFF, P_RESTART, P_ARRIVAL, P_TIMEOUT = range(7)
_CUTOFF_RTOL = 1e-9


class EntanglementMixin:
    """Event handlers for the entanglement of active requests (mixed into ``Simulation``)."""

    # provided by Simulation
    kernel: Any
    tel: Any
    uni: Any
    _rate: list[float]
    _t1t2: list[tuple[float | None, float | None] | None]
    _cutoff: float | None
    _p_swap: float
    _gate: float
    _meas: float
    _nested: bool
    _pur_fn: Any
    _pur_rounds: int
    _speed: float
    _proc: float

    def _finish(self, req: Request, status: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers -------------------------------------------------------------------------
    def _delay(self, req: Request, a: int, b: int) -> float:
        if a == b:
            return 0.0
        pos = req.route.pos_km  # type: ignore[union-attr]
        return abs(pos[a] - pos[b]) / self._speed + self._proc

    def _decohere(self, req: Request, pair: Pair, t: float) -> None:
        dt = t - pair.t_ref
        if dt <= 0.0:
            return
        nodes = req.route.nodes  # type: ignore[union-attr]
        na, nb = nodes[pair.i], nodes[pair.j]
        s = pair.state
        ta, tb = self._t1t2[na], self._t1t2[nb]
        if ta is None and tb is None:
            r = self._rate[na] + self._rate[nb]
            if r > 0.0:
                s = bf.depolarise(s, math.exp(-dt * r))
        else:
            ends = []
            for n, tt in ((na, ta), (nb, tb)):
                if tt is not None:
                    gamma, coh = bf.t1_t2_factors(dt, tt[0], tt[1])
                    ends.append((coh, 1.0 - gamma, gamma))
                else:
                    e = math.exp(-dt * self._rate[n])
                    ends.append((e, e, 0.0))
            s = bf.memory_noise(s, ends[0], ends[1])
        pair.state = s
        pair.t_ref = t

    def _discard_parts(self, parts: list[int]) -> None:
        d = self.tel.link_discarded
        for link in parts:
            d[link] += 1

    def _schedule_cutoff(self, req: Request, pair: Pair) -> None:
        if self._cutoff is not None:
            deadline = pair.gen + self._cutoff * (1.0 + _CUTOFF_RTOL)
            now = self.kernel.now
            token: list[Pair | None] = [pair]
            pair.cut = token
            self.kernel.schedule(
                deadline if deadline > now else now,
                self._on_cutoff,
                (req, token, req.ver),
                P_CUTOFF,
            )

    def _restart_span(self, req: Request, i: int, j: int, learn: Any) -> None:
        """Queue restarts of segments ``i..j-1``; ``learn(x)`` is when node ``x`` hears.

        A restart time may lie a hair before ``now`` (a cut-off acts at its nominal time,
        its event a tolerance later): the link then restarts from that nominal time.
        """
        seg = req.seg
        now = self.kernel.now
        schedule = self.kernel.schedule
        for s in range(i, j):
            seg[s] = SEG_RESTART
            t0 = max(learn(s), learn(s + 1))
            schedule(t0 if t0 > now else now, self._on_restart, (req, s, req.ver, t0), P_RESTART)

    # -- links -----------------------------------------------------------------------------
    def _start_segment(self, req: Request, s: int, t0: float) -> None:
        req.seg[s] = SEG_BUSY
        lm = req.route.links[s]  # type: ignore[union-attr]
        t, p, state = lm.next_success(t0, self.uni)
        if t != math.inf:
            self.kernel.schedule(t, self._on_link, (req, s, req.ver, p, state), P_GEN)

    def _on_restart(self, arg: tuple) -> None:
        req, s, ver, t0 = arg
        if ver == req.ver and req.seg[s] == SEG_RESTART:
            self._start_segment(req, s, t0)

    def _on_link(self, arg: tuple) -> None:
        req, s, ver, p, state = arg
        if ver != req.ver:
            return
        now = self.kernel.now
        lm = req.route.links[s]  # type: ignore[union-attr]
        emitted = now - lm.round_trip_s
        if self._pur_rounds == 0:
            self.tel.generated(lm.index, now, 1)
            pair = Pair(s, s + 1, state, emitted, emitted, [lm.index])
            pair.known_i = pair.known_j = now
            self._place(req, pair)
            return
        kept = req.pump[s]
        n = 1
        if kept is None and lm.multiplexing > 1:
            n = successes_in_round(self.uni(), lm.multiplexing, p, 2)
        self.tel.generated(lm.index, now, n)
        new = Pair(s, s + 1, state, emitted, emitted, [lm.index])
        if kept is None:
            new.pumping = True
            req.pump[s] = new
            req.pump_count[s] = 0
            self._schedule_cutoff(req, new)
            if n >= 2:
                self._purify(req, s, new, Pair(s, s + 1, state, emitted, emitted, [lm.index]))
            else:
                self._start_segment(req, s, now)
        else:
            self._purify(req, s, kept, new)

    # -- purification ------------------------------------------------------------------------
    def _purify(self, req: Request, s: int, kept: Pair, new: Pair) -> None:
        now = self.kernel.now
        self._decohere(req, kept, now)
        self._decohere(req, new, now)
        out, p_ok = self._pur_fn(kept.state, new.state, self._gate, self._meas)
        ok = self.uni() < p_ok
        self.tel.counters["purifications"] += 1
        new.stored = False
        if ok:
            kept.state = out
            kept.t_ref = now
            kept.parts = kept.parts + new.parts
            kept.gen = min(kept.gen, new.gen)
        else:
            self.tel.counters["purification_failures"] += 1
            self._discard_parts(new.parts)
        lm = req.route.links[s]  # type: ignore[union-attr]
        done = now + 2.0 * lm.classical_delay_s
        self.kernel.schedule(done, self._on_purified, (req, s, req.ver, kept, ok), P_GEN)

    def _on_purified(self, arg: tuple) -> None:
        req, s, ver, kept, ok = arg
        if ver != req.ver:
            return
        now = self.kernel.now
        if req.pump[s] is kept:
            req.pump[s] = None
        if not ok or not kept.stored:
            if kept.stored:
                kept.stored = False
                self._discard_parts(kept.parts)
            self._start_segment(req, s, now)
            return
        req.pump_count[s] += 1
        if req.pump_count[s] >= self._pur_rounds:
            kept.pumping = False
            kept.known_i = kept.known_j = now
            self._place(req, kept)
        else:
            req.pump[s] = kept
            self._start_segment(req, s, now)

    # -- storage, swapping -------------------------------------------------------------------
    def _place(self, req: Request, pair: Pair) -> None:
        """A ready elementary pair on segment ``pair.i``: store it and try to swap/deliver."""
        s = pair.i
        now = self.kernel.now
        if self._cutoff is not None and now - pair.gen > self._cutoff * (1.0 + _CUTOFF_RTOL):
            pair.stored = False  # older than the cut-off already when heralded
            self.tel.counters["cutoff_discards"] += 1
            self._discard_parts(pair.parts)
            self._start_segment(req, s, now)
            return
        req.seg[s] = SEG_HELD
        req.R[s] = pair
        req.L[s + 1] = pair
        hops = req.route.hops  # type: ignore[union-attr]
        if hops == 1:
            self._deliver(req, pair)
            return
        self._schedule_cutoff(req, pair)
        ver = req.ver
        if s > 0:
            self._try_swap(req, s)
        if s + 1 < hops and req.ver == ver:
            self._try_swap(req, s + 1)

    def _try_swap(self, req: Request, k: int) -> None:
        X, Y = req.L[k], req.R[k]
        if X is None or Y is None:
            return
        route = req.route
        assert route is not None
        if self._nested and (X.i != route.span_l[k] or Y.j != route.span_r[k]):
            return
        now = self.kernel.now
        req.L[k] = req.R[k] = None
        X.stored = Y.stored = False
        if X.dead or Y.dead:
            Z = self._merge_dead(req, X, Y, k)
        else:
            Z = self._swap_live(req, X, Y, k, self._fail)
        if Z.dead:
            self._store_dead(req, Z)  # its ends may still swap it on: they do not know yet
        else:
            req.R[Z.i] = Z
            req.L[Z.j] = Z
            if Z.i == 0 and Z.j == route.hops:
                t = max(Z.known_i, Z.known_j)
                if t <= now:
                    self._deliver(req, Z)
                else:
                    self.kernel.schedule(t, self._on_deliver, (req, Z, req.ver), P_DELIVER)
                return
        ver = req.ver
        if Z.i > 0 and req.R[Z.i] is Z:
            self._try_swap(req, Z.i)
        if Z.j < route.hops and req.ver == ver and req.L[Z.j] is Z:
            self._try_swap(req, Z.j)

    # -- failures ----------------------------------------------------------------------------
    def _swap_live(
        self,
        req: Request,
        X: Pair,
        Y: Pair,
        k: int,
        fail: Callable[[Request, Pair, Pair, int], Pair],
    ) -> Pair:
        """Swap two live pairs at node ``k`` now: the merged pair, or ``fail(...)``'s."""
        now = self.kernel.now
        self._decohere(req, X, now)
        self._decohere(req, Y, now)
        self.tel.counters["swaps"] += 1
        if not (self._p_swap >= 1.0 or self.uni() < self._p_swap):
            self.tel.counters["swap_failures"] += 1
            return fail(req, X, Y, k)
        Z = Pair(
            X.i,
            Y.j,
            bf.swap(X.state, Y.state, self._gate, self._meas),
            now,
            X.gen if X.gen < Y.gen else Y.gen,
            X.parts + Y.parts,
        )
        Z.known_i = max(X.known_i, now + self._delay(req, k, X.i))
        Z.known_j = max(Y.known_j, now + self._delay(req, k, Y.j))
        older, other = (X, Y) if X.gen <= Y.gen else (Y, X)
        token = older.cut
        if token is not None:  # Z inherits the cut-off event of its oldest link
            token[0] = Z
            Z.cut = token
        if other.cut is not None:
            other.cut[0] = None
        return Z

    def _fail(self, req: Request, X: Pair, Y: Pair, k: int) -> Pair:
        """Swap at ``k`` failed: a dead pair over both spans; its segments restart on news."""
        now = self.kernel.now
        Z = Pair(X.i, Y.j, X.state, now, min(X.gen, Y.gen), [])
        Z.dead = True
        self._discard_parts(X.parts)
        self._discard_parts(Y.parts)
        delay = self._delay
        Z.learn_i = now + delay(req, k, X.i)
        Z.learn_j = now + delay(req, k, Y.j)
        self._restart_span(req, X.i, Y.j, lambda x: now + delay(req, k, x))
        return Z

    def _merge_dead(self, req: Request, X: Pair, Y: Pair, k: int) -> Pair:
        """Node ``k`` swapped a pair it does not yet know is dead: the result is dead too."""
        Z = Pair(X.i, Y.j, X.state, self.kernel.now, min(X.gen, Y.gen), [])
        Z.dead = True
        delay = self._delay
        if X.dead and Y.dead:
            Z.learn_i, Z.learn_j = X.learn_i, Y.learn_j
        elif X.dead:
            t_k = X.learn_j  # when node k hears that X is dead
            Z.learn_i = X.learn_i
            Z.learn_j = t_k + delay(req, k, Y.j)
            self._discard_parts(Y.parts)
            self._restart_span(req, Y.i, Y.j, lambda x: t_k + delay(req, k, x))
        else:
            t_k = Y.learn_i
            Z.learn_j = Y.learn_j
            Z.learn_i = t_k + delay(req, k, X.i)
            self._discard_parts(X.parts)
            self._restart_span(req, X.i, X.j, lambda x: t_k + delay(req, k, x))
        return Z

    def _store_dead(self, req: Request, Z: Pair) -> None:
        """Hold a dead pair's end qubits until each end node hears of the failure."""
        now = self.kernel.now
        schedule = self.kernel.schedule
        if Z.learn_i >= 0.0:
            req.R[Z.i] = Z
            schedule(max(Z.learn_i, now), self._on_dead_end, (req, Z, 0, req.ver), P_DEAD)
        if Z.learn_j >= 0.0:
            req.L[Z.j] = Z
            schedule(max(Z.learn_j, now), self._on_dead_end, (req, Z, 1, req.ver), P_DEAD)
        if Z.learn_i < 0.0 and Z.learn_j < 0.0:
            Z.stored = False

    def _on_dead_end(self, arg: tuple) -> None:
        req, Z, side, ver = arg
        if ver != req.ver or not Z.stored:
            return
        if side == 0:
            if req.R[Z.i] is Z:
                req.R[Z.i] = None
            Z.learn_i = -1.0
        else:
            if req.L[Z.j] is Z:
                req.L[Z.j] = None
            Z.learn_j = -1.0
        if Z.learn_i < 0.0 and Z.learn_j < 0.0:
            Z.stored = False

    def _on_cutoff(self, arg: tuple) -> None:
        req, token, ver = arg
        Z = token[0]
        if ver != req.ver or Z is None or not Z.stored or Z.dead:
            return
        self.tel.counters["cutoff_discards"] += 1
        self._discard_parts(Z.parts)
        Z.stored = False
        if Z.pumping:
            if req.pump[Z.i] is Z:
                req.pump[Z.i] = None
            return
        if req.R[Z.i] is Z:
            req.R[Z.i] = None
        if req.L[Z.j] is Z:
            req.L[Z.j] = None
        base = min(self.kernel.now, Z.gen + self._cutoff)  # type: ignore[operator]
        i, j = Z.i, Z.j
        delay = self._delay
        self._restart_span(req, i, j, lambda x: base + min(delay(req, i, x), delay(req, j, x)))

    # -- delivery ----------------------------------------------------------------------------
    def _on_deliver(self, arg: tuple) -> None:
        req, Z, ver = arg
        if ver == req.ver and Z.stored and not Z.dead:
            self._deliver(req, Z)

    def _deliver(self, req: Request, Z: Pair) -> None:
        now = self.kernel.now
        req.R[Z.i] = None
        req.L[Z.j] = None
        if self._hand_over(req, Z, now):
            return
        for s in range(req.route.hops):  # type: ignore[union-attr]
            self._start_segment(req, s, now)

    def _hand_over(self, req: Request, Z: Pair, now: float) -> bool:
        """Give an end-to-end pair to the application (or discard it below ``min_fidelity``).

        Returns True when this delivery completed the request (which is then finished).
        """
        Z.stored = False
        self._decohere(req, Z, now)
        fid = Z.state[0]
        tel = self.tel
        if fid >= req.fmin:
            consumed = tel.link_consumed
            for link in Z.parts:
                consumed[link] += 1
            req.delivered += 1
            tel.delivered(req.rid, now, fid)
        else:
            tel.counters["pairs_below_min_fidelity"] += 1
            self._discard_parts(Z.parts)
        if req.delivered >= req.pairs:
            self._finish(req, SERVED)
            return True
        return False
