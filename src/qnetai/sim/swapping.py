"""Stored pairs of active requests: storage, swapping, news of failures, cut-offs, delivery.

One set of handlers whatever the number of memories: the reservation's stores hold the pairs
(:class:`qnetai.sim.state.Reservation`), a swapping schedule (:mod:`qnetai.sim.schedules`)
picks what a node swaps, and the reservation's release strategy (:mod:`qnetai.sim.release`)
decides what happens when memory is let go. The physics conventions are those of
:mod:`qnetai.sim.protocols`.

Two control protocols (``operations.swapping.confirm``, see ``docs/protocols.md``): by default
a node swaps the two pairs its schedule picks at once. With confirmation, the node first
claims them and asks both partner nodes (the far ends) whether they still hold their halves;
it swaps when both replies are back (``2 * max`` of the two one-way delays later). The far end
of a pair refuses when it has already heard that the pair is lost (a failed swap inside it);
a pair cut off while claimed is gone at both ends (the cut-off releases its memories). A
refusal releases the local memory of the refused pair (the reply is the news) and returns
the other pair to the stores. While claimed, neither end uses a pair for anything else.

Example:
    >>> Swapping.__name__
    'Swapping'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappop, heappush

from qnetai.physics import scalar as bf
from qnetai.sim.context import CUTOFF_RTOL, P_CUTOFF, P_DEAD, P_DELIVER, Context
from qnetai.sim.generation import Generation
from qnetai.sim.release import OnePairInFlight
from qnetai.sim.schedules import SwapAsap, SwapSchedule
from qnetai.sim.state import SERVED, Pair, Reservation


class Swapping:
    """Storage, swapping, failure news, cut-offs and delivery (one component per engine)."""

    __slots__ = (
        "_asap",
        "_confirm",
        "_counters",
        "_cut_t",
        "_cutoff",
        "_heap",
        "_kernel",
        "_on_cut",
        "_plain_noise",
        "_rates",
        "_sched",
        "_swap_params",
        "_waits",
        "ctx",
        "finish",
        "gen",
        "schedule",
    )

    def __init__(self, ctx: Context, gen: Generation, schedule: SwapSchedule) -> None:
        self.ctx = ctx
        self.gen = gen
        self.schedule = schedule
        self._kernel = ctx.kernel  # hot path: the context's services, looked up once
        self._sched = ctx.kernel.schedule
        self._cutoff = ctx.cutoff_s
        self._waits = schedule.waits
        self._asap = type(schedule) is SwapAsap
        self._confirm = ctx.confirm_swaps
        self._rates = ctx.rates
        self._plain_noise = all(x is None for x in ctx.t1t2)  # no T1/T2 memory anywhere
        self._heap = ctx.kernel._heap  # the kernel's heap (cut-offs pushed inline)
        self._on_cut = self._on_cutoff  # one bound method, made once
        # the cut-off age with its tolerance (None: no cut-off)
        self._cut_t = None if ctx.cutoff_s is None else ctx.cutoff_s * (1.0 + CUTOFF_RTOL)
        self._counters = ctx.tel.counters
        # constants of a swap (ctx's, looked up once): p_swap, gate fidelity, measurement
        # error, signal speed, processing delay
        self._swap_params = (
            ctx.p_swap,
            ctx.gate_fidelity,
            ctx.measurement_error,
            ctx.speed_km_per_s,
            ctx.processing_delay_s,
        )
        if self._confirm:
            ctx.tel.counters.setdefault("swap_confirmations", 0)
            ctx.tel.counters.setdefault("swap_confirmations_refused", 0)
        #: Ends a request (set by the engine: it releases the reservation's memory).
        self.finish: Callable[[Reservation, str], None] = _unwired

    # -- storage -------------------------------------------------------------------------
    def place(self, res: Reservation, pair: Pair) -> None:
        """A ready elementary pair on link ``pair.i``: store it and try to swap or deliver."""
        s = pair.i
        kernel = self._kernel
        now = kernel.now
        cut_t = self._cut_t
        if cut_t is not None and now - pair.gen > cut_t:
            pair.stored = False  # older than the cut-off already when heralded
            self._counters["cutoff_discards"] += 1
            self.ctx.discard(pair.parts)
            self.gen.start(res, s, now)  # the process keeps its memories
            return
        hops = res.route.hops
        if hops == 1:
            self._deliver(res, pair)
            return
        res.right[s].append(pair)
        res.left[s + 1].append(pair)
        if cut_t is not None:  # schedule_cutoff(res, pair), inlined (hot path)
            deadline = pair.gen + cut_t
            t = deadline if deadline > now else now
            seq = kernel._seq  # Kernel.reserve, inlined
            kernel._seq = seq + 1
            armed = res.cut_armed
            if not armed or t < armed[-1][0]:
                heappush(self._heap, (t, P_CUTOFF, seq, self._on_cut, (res, pair)))  # push
                armed.append((t, seq))
            else:
                heappush(res.cut_pending, (t, seq, pair))
        # swap() at once does nothing unless both stores of the node hold a pair: the pair
        # just stored is one of them, so only the other store is looked at before the call
        if s > 0 and res.left[s]:
            self.swap(res, s)
        if s + 1 < hops and res.live and res.right[s + 1]:
            self.swap(res, s + 1)

    def schedule_cutoff(self, res: Reservation, pair: Pair) -> None:
        """Queue the cut-off of ``pair`` (a swap keeps its older part's record and event).

        Lazily: the cut-off takes its place in the event order now (a handle reserved from
        the kernel) but enters the kernel's heap only when it is the reservation's next one
        (:meth:`_arm_next`); one whose pair has left the stores by then (swapped into a
        younger record's place, delivered, lost) never does. The cut-offs that discard a
        pair are thus exactly those of one event per stored pair, at the same place in the
        event order, while most of the no-op events are never queued.
        """
        cutoff = self._cutoff
        assert cutoff is not None  # only scheduled with a cut-off
        kernel = self._kernel
        deadline = pair.gen + cutoff * (1.0 + CUTOFF_RTOL)
        now = kernel.now
        t = deadline if deadline > now else now
        seq = kernel.reserve()
        armed = res.cut_armed
        if not armed or t < armed[-1][0]:  # before every queued one (seq is the largest yet)
            kernel.push(t, P_CUTOFF, seq, self._on_cutoff, (res, pair))
            armed.append((t, seq))
        else:
            heappush(res.cut_pending, (t, seq, pair))

    def _arm_next(self, res: Reservation) -> None:
        """Queue the reservation's next pending cut-off if it comes before every queued one.

        Pending cut-offs whose pair is no longer stored are dropped: they would do nothing.
        """
        pending, armed = res.cut_pending, res.cut_armed
        while pending:
            head = pending[0]
            pair = head[2]
            if not pair.stored or pair.dead:
                heappop(pending)
                continue
            if armed and (head[0], head[1]) > armed[-1]:
                return  # a queued cut-off fires first and arms the next one then
            heappop(pending)
            self._kernel.push(head[0], P_CUTOFF, head[1], self._on_cutoff, (res, pair))
            armed.append((head[0], head[1]))
            return

    def cancel_cutoffs(self, res: Reservation) -> None:
        """The request ended: drop its queued and pending cut-offs (they would do nothing)."""
        cancel = self._kernel.cancel
        for _, seq in res.cut_armed:
            cancel(seq)
        res.cut_armed.clear()
        res.cut_pending.clear()

    # -- swapping ----------------------------------------------------------------------------
    def swap(self, res: Reservation, k: int) -> None:
        """Swap at path node ``k`` while the schedule picks a pair on each side."""
        left, right = res.left[k], res.right[k]
        if not (left and right):
            return
        now = self._kernel.now  # the clock stands still within a handler
        schedule = self.schedule
        asap = self._asap
        while left and right:
            if asap:  # SwapAsap.pick, inlined (hot path): the first pair of each store
                X = left.pop(0)
                Y = right.pop(0)
            else:
                xy = schedule.pick(res, k, left, right, now)
                if xy is None:
                    return
                X, Y = xy
            # the far ends keep their memories: the swapped pair takes them over
            if not X.dead or X.learn_i >= 0.0:
                res.right[X.i].remove(X)
            if not Y.dead or Y.learn_j >= 0.0:
                res.left[Y.j].remove(Y)
            if self._confirm:
                self._ask(res, X, Y, k, now)
                continue
            self._commit(res, X, Y, k, now)
            if not res.live:
                return

    def _commit(self, res: Reservation, X: Pair, Y: Pair, k: int, now: float) -> None:
        """Swap the claimed pairs ``X`` (left) and ``Y`` (right) at node ``k`` now."""
        hops = res.route.hops
        release = res.release
        X.stored = Y.stored = False
        if X.dead or Y.dead:
            Z = self._merge_dead(res, X, Y, k)
        else:
            Z = self._swap_live(res, X, Y, k)
        if type(release) is not OnePairInFlight:  # its swapped() does nothing
            release.swapped(res, k, now)  # node k measured its two memories
        if Z.dead:
            self._store_dead(res, Z)  # its ends may still swap it on: they do not know yet
        elif Z.i == 0 and Z.j == hops:
            t = max(Z.known_i, Z.known_j)
            if t <= now:
                self._deliver(res, Z)
            else:
                res.right[0].append(Z)
                res.left[hops].append(Z)
                self._sched(t, self._on_deliver, (res, Z), P_DELIVER)
            return
        else:
            res.right[Z.i].append(Z)
            res.left[Z.j].append(Z)
            if self._waits:
                ti, tj = self.schedule.wait_for(res, Z, now)
                if ti >= 0.0:
                    self._sched(ti, self._on_known, (res, Z.i), P_DELIVER)
                if tj >= 0.0:
                    self._sched(tj, self._on_known, (res, Z.j), P_DELIVER)
        i = Z.i
        if i > 0 and Z.stored and res.left[i] and res.right[i]:  # (else swap() does nothing)
            self.swap(res, i)
            if not res.live:
                return
        j = Z.j  # (the swap at i may have extended Z)
        if j < hops and Z.stored and res.left[j] and res.right[j]:
            self.swap(res, j)

    # -- confirmation ----------------------------------------------------------------------
    def _ask(self, res: Reservation, X: Pair, Y: Pair, k: int, now: float) -> None:
        """Node ``k`` claimed ``X`` and ``Y`` and asks their far ends; decide on the replies."""
        pos, delay = res.route.pos_km, self.ctx.delay
        d_x = delay(pos, k, X.i)
        d_y = delay(pos, k, Y.j)
        # a far end refuses a lost pair whose loss it has heard of when the request arrives
        no_x = X.dead and (X.learn_i < 0.0 or X.learn_i <= now + d_x)
        no_y = Y.dead and (Y.learn_j < 0.0 or Y.learn_j <= now + d_y)
        res.confirming.append(X)
        res.confirming.append(Y)
        self.ctx.tel.counters["swap_confirmations"] += 1
        t = now + 2.0 * (d_x if d_x > d_y else d_y)
        self._sched(t, self._on_replies, (res, X, Y, k, no_x, no_y), P_DELIVER)

    def _on_replies(self, arg: tuple) -> None:
        res, X, Y, k, no_x, no_y = arg
        if not res.live:
            return
        _drop(res.confirming, X)
        _drop(res.confirming, Y)
        now = self._kernel.now
        ok_x = self._still_held(res, X, 1, no_x, now)
        ok_y = self._still_held(res, Y, 0, no_y, now)
        if ok_x and ok_y:
            self._commit(res, X, Y, k, now)
            return
        self.ctx.tel.counters["swap_confirmations_refused"] += 1
        # the pair still held goes back to the stores (first in line) and may be used again
        if ok_x:
            res.left[k].insert(0, X)
            if not X.dead or X.learn_i >= 0.0:
                res.right[X.i].insert(0, X)
            self._retry(res, X.i)
        if ok_y:
            res.right[k].insert(0, Y)
            if not Y.dead or Y.learn_j >= 0.0:
                res.left[Y.j].insert(0, Y)
            self._retry(res, Y.j)
        if res.live:
            self.swap(res, k)

    def _still_held(self, res: Reservation, P: Pair, side: int, refused: bool, now: float) -> bool:
        """Whether claimed ``P`` can be swapped at its end ``side`` (0: ``P.i``, 1: ``P.j``).

        A pair cut off meanwhile is gone (the cut-off released its memories). A lost pair is
        swapped on only while neither its far end (at the request) nor this node knows; when
        the far end refused, the reply is this node's news: its memory is released now.
        """
        if not P.stored:
            return False
        if not P.dead:
            return True
        heard = P.learn_j if side == 1 else P.learn_i
        if heard < 0.0:
            return False  # this node heard of the loss itself (its memory is free)
        if refused or heard <= now:
            self._end_heard(res, P, side, now)
            return False
        return True

    def _retry(self, res: Reservation, k: int) -> None:
        if res.live and 0 < k < res.route.hops:
            self.swap(res, k)

    def _on_known(self, arg: tuple) -> None:
        res, k = arg
        if res.live:
            self.swap(res, k)

    def _swap_live(self, res: Reservation, X: Pair, Y: Pair, k: int) -> Pair:
        """Swap two live pairs at node ``k`` now: the merged pair, or a dead one on failure."""
        ctx = self.ctx
        now = self._kernel.now
        route = res.route
        nodes = route.nodes
        if self._plain_noise:  # ctx.decohere of both pairs, inlined (depolarising memories)
            rates = self._rates
            dt = now - X.t_ref
            if dt > 0.0:
                r = rates[nodes[X.i]] + rates[nodes[X.j]]
                if r > 0.0:  # bf.depolarise(X.state, exp(-dt r)), inlined
                    e = math.exp(-dt * r)
                    c = (1.0 - e) * 0.25
                    p0, p1, p2, p3 = X.state
                    X.state = (e * p0 + c, e * p1 + c, e * p2 + c, e * p3 + c)
                X.t_ref = now
            dt = now - Y.t_ref
            if dt > 0.0:
                r = rates[nodes[Y.i]] + rates[nodes[Y.j]]
                if r > 0.0:
                    e = math.exp(-dt * r)
                    c = (1.0 - e) * 0.25
                    p0, p1, p2, p3 = Y.state
                    Y.state = (e * p0 + c, e * p1 + c, e * p2 + c, e * p3 + c)
                Y.t_ref = now
        else:
            ctx.decohere(nodes, X, now)
            ctx.decohere(nodes, Y, now)
        counters = self._counters
        counters["swaps"] += 1
        p_swap, g, m_err, speed, proc = self._swap_params
        if not (p_swap >= 1.0 or ctx.uni() < p_swap):
            counters["swap_failures"] += 1
            return self._fail(res, X, Y, k)
        if g >= 1.0 and m_err <= 0.0:  # bf.swap without noise: bf.compose, inlined
            a0, a1, a2, a3 = X.state
            b0, b1, b2, b3 = Y.state
            state = (
                a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3,
                a0 * b1 + a1 * b0 + a3 * b2 + a2 * b3,
                a0 * b2 + a2 * b0 + a3 * b1 + a1 * b3,
                a0 * b3 + a3 * b0 + a1 * b2 + a2 * b1,
            )
        else:
            state = bf.swap(X.state, Y.state, g, m_err)
        # ctx.delay inlined (X.i < k < Y.j): the news of the swap travels to both ends
        pos = route.pos_km
        t_i = now + ((pos[k] - pos[X.i]) / speed + proc)
        t_j = now + ((pos[Y.j] - pos[k]) / speed + proc)
        known_i = X.known_i if X.known_i > t_i else t_i
        known_j = Y.known_j if Y.known_j > t_j else t_j
        # the swapped pair is the older part's record, updated: it keeps that part's cut-off
        # event (the younger part's event finds its pair no longer stored and does nothing)
        Z = X if X.gen <= Y.gen else Y
        Z.parts = X.parts + Y.parts
        Z.i = X.i
        Z.j = Y.j
        Z.state = state
        Z.t_ref = now
        Z.known_i = known_i
        Z.known_j = known_j
        Z.stored = True
        return Z

    # -- failures ----------------------------------------------------------------------------
    def _fail(self, res: Reservation, X: Pair, Y: Pair, k: int) -> Pair:
        """Swap at ``k`` failed: a dead pair over both spans; the ends hear after a delay."""
        ctx = self.ctx
        now = ctx.kernel.now
        Z = Pair(X.i, Y.j, X.state, now, min(X.gen, Y.gen), [])
        Z.dead = True
        ctx.discard(X.parts)
        ctx.discard(Y.parts)
        pos, delay = res.route.pos_km, ctx.delay
        Z.learn_i = now + delay(pos, k, X.i)
        Z.learn_j = now + delay(pos, k, Y.j)
        Z.known_i = Z.known_j = math.inf  # nested: the news of its span is the news of its loss
        res.release.lost(res, X.i, Y.j, lambda x: now + delay(pos, k, x))
        return Z

    def _merge_dead(self, res: Reservation, X: Pair, Y: Pair, k: int) -> Pair:
        """Node ``k`` swapped a pair it does not yet know is dead: the result is dead too."""
        ctx = self.ctx
        Z = Pair(X.i, Y.j, X.state, ctx.kernel.now, min(X.gen, Y.gen), [])
        Z.dead = True
        pos, delay = res.route.pos_km, ctx.delay
        if X.dead and Y.dead:
            Z.learn_i, Z.learn_j = X.learn_i, Y.learn_j
        elif X.dead:
            t_k = X.learn_j  # when node k hears that X is dead
            Z.learn_i = X.learn_i
            Z.learn_j = t_k + delay(pos, k, Y.j)
            ctx.discard(Y.parts)
            res.release.lost(res, Y.i, Y.j, lambda x: t_k + delay(pos, k, x))
        else:
            t_k = Y.learn_i
            Z.learn_j = Y.learn_j
            Z.learn_i = t_k + delay(pos, k, X.i)
            ctx.discard(X.parts)
            res.release.lost(res, X.i, X.j, lambda x: t_k + delay(pos, k, x))
        return Z

    def _store_dead(self, res: Reservation, Z: Pair) -> None:
        """Hold a dead pair's end memories until each end node hears of the failure."""
        now = self.ctx.kernel.now
        sched = self._sched
        if Z.learn_i >= 0.0:
            res.right[Z.i].append(Z)
            sched(max(Z.learn_i, now), self._on_dead_end, (res, Z, 0), P_DEAD)
        if Z.learn_j >= 0.0:
            res.left[Z.j].append(Z)
            sched(max(Z.learn_j, now), self._on_dead_end, (res, Z, 1), P_DEAD)
        if Z.learn_i < 0.0 and Z.learn_j < 0.0:
            Z.stored = False

    def _on_dead_end(self, arg: tuple) -> None:
        res, Z, side = arg
        if not res.live or not Z.stored:
            return
        if (Z.learn_i if side == 0 else Z.learn_j) < 0.0:
            return  # that end heard already (a refused confirmation)
        self._end_heard(res, Z, side, self.ctx.kernel.now)

    def _end_heard(self, res: Reservation, Z: Pair, side: int, now: float) -> None:
        """The end ``side`` (0: ``Z.i``, 1: ``Z.j``) of dead ``Z`` hears of its loss now."""
        if side == 0:
            _drop(res.right[Z.i], Z)
            Z.learn_i = -1.0
            res.release.end_heard(res, Z.i, True, now)
        else:
            _drop(res.left[Z.j], Z)
            Z.learn_j = -1.0
            res.release.end_heard(res, Z.j, False, now)
        if Z.learn_i < 0.0 and Z.learn_j < 0.0:
            Z.stored = False

    def _on_cutoff(self, arg: tuple) -> None:
        res, Z = arg
        if not res.live:
            return
        res.cut_armed.pop()  # this event: the earliest of the queued ones
        self._arm_next(res)
        if Z.stored and not Z.dead:
            self.cut(res, Z)

    def cut(self, res: Reservation, Z: Pair) -> None:
        """Discard the stored pair ``Z``: its cut-off age is reached."""
        ctx = self.ctx
        ctx.tel.counters["cutoff_discards"] += 1
        ctx.discard(Z.parts)
        Z.stored = False
        if Z.pumping:  # its generation process starts over with its next herald
            _drop(res.pumping, Z)
            return
        _drop(res.right[Z.i], Z)
        _drop(res.left[Z.j], Z)
        cutoff = ctx.cutoff_s
        assert cutoff is not None  # only scheduled with a cut-off
        base = min(ctx.kernel.now, Z.gen + cutoff)
        res.release.cut(res, Z, base)

    # -- delivery ----------------------------------------------------------------------------
    def _on_deliver(self, arg: tuple) -> None:
        res, Z = arg
        if res.live and Z.stored and not Z.dead:
            res.right[0].remove(Z)
            res.left[res.route.hops].remove(Z)
            self._deliver(res, Z)

    def _deliver(self, res: Reservation, Z: Pair) -> None:
        """Hand an end-to-end pair (out of the stores) over; release the end memories."""
        now = self.ctx.kernel.now
        if not self._hand_over(res, Z, now):
            res.release.delivered(res, now)

    def _hand_over(self, res: Reservation, Z: Pair, now: float) -> bool:
        """Give an end-to-end pair to the application (or discard it below ``min_fidelity``).

        Returns True when this delivery completed the request (which is then finished).
        """
        ctx = self.ctx
        Z.stored = False
        ctx.decohere(res.route.nodes, Z, now)
        fid = Z.state[0]
        tel = ctx.tel
        req = res.req
        if fid >= req.fmin:
            consumed = tel.link_consumed
            for link in Z.parts:
                consumed[link] += 1
            req.delivered += 1
            tel.delivered(req.rid, now, fid)
        else:
            tel.counters["pairs_below_min_fidelity"] += 1
            ctx.discard(Z.parts)
        if req.delivered >= req.pairs:
            self.finish(res, SERVED)
            return True
        return False


def _drop(store: list[Pair], pair: Pair) -> None:
    if pair in store:
        store.remove(pair)


def _unwired(res: Reservation, status: str) -> None:  # pragma: no cover - wiring error
    raise RuntimeError("Swapping.finish is not wired")
