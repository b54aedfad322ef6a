"""Elementary links of active requests: heralded generation and purification (pumping).

A *generation process* runs on link ``s`` of a reservation and holds one memory (one memory
slot: two qubits with purification) at each end of the link. It draws its next success with
event skipping (:meth:`qnetai.sim.linklayer.LinkModel.next_success`); the heralded pair goes
to :meth:`qnetai.sim.swapping.Swapping.place`, or, with purification, the process keeps it and
generates a second pair on the same memories (entanglement pumping): BBPSSW/DEJMPS is applied
and the outcome is known after the classical round trip of the link; ``rounds`` successful
rounds make the pair ready; a failure discards both and the process starts over. The process
carries the pair it keeps, so any number of processes per link (pooled memories) purify
independently. A pair being purified can be cut off (its process then starts over with its
next herald).

Example:
    >>> Generation.__name__
    'Generation'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappush

from qnetai.errors import InputError
from qnetai.sim.context import P_GEN, Context
from qnetai.sim.linklayer import successes_in_round
from qnetai.sim.state import Pair, Reservation
from qnetai.sim.telemetry import TIMESERIES_BINS


class Generation:
    """Generation processes and purification of elementary links (one component per engine)."""

    __slots__ = (
        "_collected",
        "_heap",
        "_kernel",
        "_on_plain",
        "_pumping",
        "_sched",
        "_tel_bins",
        "_uni",
        "circuit",
        "circuit_pairs",
        "ctx",
        "place",
        "schedule_cutoff",
    )

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._kernel = ctx.kernel  # hot path: the context's services, looked up once
        self._sched = ctx.kernel.schedule
        self._uni = ctx.uni
        self._pumping = ctx.purification_rounds > 0
        self._heap = ctx.kernel._heap  # the kernel's heap (hot path: see ``start``)
        self._on_plain = self._on_link_plain  # one bound method, made once
        tel = ctx.tel  # the telemetry lists ``Telemetry.generated`` fills (hot path)
        self._tel_bins = (
            tel.link_generated,
            tel.bin_generated,
            tel.link_bin_generated,
            tel.link_bin_attempts,
            tel.bin_s,
            tel.counters,
        )
        #: Where a ready elementary pair goes (set by the engine: ``Swapping.place``).
        self.place: Callable[[Reservation, Pair], None] = _unwired
        #: The cut-off event of a pair being purified (``Swapping.schedule_cutoff``; set by
        #: the engine, ``None`` without a cut-off).
        self.schedule_cutoff: Callable[[Reservation, Pair], None] | None = None
        #: A purification circuit (``qnetai.sim.circuit_purification``; set by the engine):
        #: ``circuit(states) -> (state, p_success)`` on ``circuit_pairs`` collected pairs.
        self.circuit: Callable[[list[tuple]], tuple[tuple, float]] | None = None
        self.circuit_pairs = 2
        self._collected: dict[int, list[Pair]] = {}  # id(kept) -> its partners so far

    def start(self, res: Reservation, s: int, t0: float, kept: Pair | None = None) -> None:
        """Start (or continue) a generation process on link ``s`` from ``t0``."""
        lm = res.route.links[s]
        if lm.varying:
            t, p, state = lm.next_success(t0, self._uni)
            if t != math.inf:
                self._sched(t, self._on_link, (res, s, p, state, kept, t0), P_GEN)
            return
        # LinkModel.next_success of a constant link, inlined (the engine's hottest call)
        u = self._uni  # drawn even when q is 0 or 1 (the same stream); Uniforms.__call__:
        i = u._i
        buf = u._buf
        if i < len(buf):
            u._i = i + 1
            x = buf[i]
        else:
            x = u()
        log1m_q = lm._log1m_q
        if log1m_q == 0.0:
            return  # no round can succeed
        if log1m_q == -math.inf:
            t = t0 + lm.attempt_s
        else:
            t = t0 + (math.floor(math.log1p(-x) / log1m_q) + 1.0) * lm.attempt_s
        if kept is not None or self._pumping:
            self._sched(t, self._on_link, (res, s, lm.p_success, lm.state, kept, t0), P_GEN)
            return
        # Kernel.schedule inlined (same handle, same heap entry order): a plain herald
        kernel = self._kernel
        if t < kernel.now:
            raise InputError(f"time_s must be >= now={kernel.now} (got {t})")
        seq = kernel._seq
        kernel._seq = seq + 1
        heappush(self._heap, (t, P_GEN, seq, self._on_plain, (res, s, t0)))

    def _on_link_plain(self, arg: tuple[Reservation, int, float]) -> None:
        """A herald on a constant link without purification (``_on_link``'s hot path)."""
        res, s, t0 = arg
        if not res.live:
            self._interrupted(res, s, t0)
            return
        now = self._kernel.now
        lm = res.route.links[s]
        emitted = now - lm.round_trip_s
        attempts = round((now - t0) / lm.attempt_s)  # rounds since the (re)start at t0
        # Telemetry.generated(lm.index, now, 1, attempts), inlined
        link_gen, bin_gen, link_bin_gen, link_bin_att, bin_s, counters = self._tel_bins
        link = lm.index
        link_gen[link] += 1
        b = int(now / bin_s) if bin_s > 0 else 0
        if b >= TIMESERIES_BINS:
            b = TIMESERIES_BINS - 1
        bin_gen[b] += 1
        k = link * TIMESERIES_BINS + b
        link_bin_gen[k] += 1
        link_bin_att[k] += attempts
        counters["pairs_generated"] += 1
        pair = Pair(s, s + 1, lm.state, emitted, emitted, [link])
        pair.known_i = pair.known_j = now
        self.place(res, pair)

    def _on_link(self, arg: tuple) -> None:
        res, s, p, state, kept, t0 = arg
        if not res.live:
            if kept is not None:
                self._collected.pop(id(kept), None)
            self._interrupted(res, s, t0)
            return
        now = self._kernel.now
        lm = res.route.links[s]
        emitted = now - lm.round_trip_s
        ctx = self.ctx
        attempts = round((now - t0) / lm.attempt_s)  # rounds since the (re)start at t0
        if not self._pumping:
            ctx.tel.generated(lm.index, now, 1, attempts)
            pair = Pair(s, s + 1, state, emitted, emitted, [lm.index])
            pair.known_i = pair.known_j = now
            self.place(res, pair)
            return
        if kept is not None and not kept.stored:
            self._drop_collected(kept)
            kept = None  # cut off while this process generated its partner
        n = 1
        if kept is None and lm.multiplexing > 1:
            n = successes_in_round(self._uni(), lm.multiplexing, p, 2)
        ctx.tel.generated(lm.index, now, n, attempts)
        new = Pair(s, s + 1, state, emitted, emitted, [lm.index])
        if kept is None:
            new.pumping = True
            res.pumping.append(new)
            self._schedule_cutoff(res, new)
            if n >= 2:
                self._advance(res, s, new, Pair(s, s + 1, state, emitted, emitted, [lm.index]))
            else:
                self.start(res, s, now, new)
        else:
            self._advance(res, s, kept, new)

    def _interrupted(self, res: Reservation, s: int, t0: float) -> None:
        """Count the attempt rounds a process made from ``t0`` until its request ended."""
        req = res.req
        end = req.served_s if req.served_s == req.served_s else req.deadline
        end = min(end, self._kernel.now)
        lm = res.route.links[s]
        k = int((end - t0) / lm.attempt_s)
        if k > 0:
            self.ctx.tel.attempted(lm.index, end, k)

    def _advance(self, res: Reservation, s: int, kept: Pair, new: Pair) -> None:
        """Purify ``kept`` with ``new`` (pumping), or collect ``new`` for the circuit."""
        if self.circuit is None:
            self._purify(res, s, kept, new)
            return
        got = self._collected.setdefault(id(kept), [])
        got.append(new)
        if 1 + len(got) < self.circuit_pairs:
            self.start(res, s, self._kernel.now, kept)
            return
        del self._collected[id(kept)]
        self._purify_circuit(res, s, kept, got)

    def _drop_collected(self, kept: Pair) -> None:
        """Discard the partners collected for ``kept`` (it was cut off)."""
        got = self._collected.pop(id(kept), None)
        for p in got or ():
            p.stored = False
            self.ctx.discard(p.parts)

    def _purify_circuit(self, res: Reservation, s: int, kept: Pair, got: list[Pair]) -> None:
        ctx = self.ctx
        now = ctx.kernel.now
        nodes = res.route.nodes
        ctx.decohere(nodes, kept, now)
        for p in got:
            ctx.decohere(nodes, p, now)
        assert self.circuit is not None
        out, p_ok = self.circuit([kept.state] + [p.state for p in got])
        ok = self._uni() < p_ok
        counters = ctx.tel.counters
        counters["purifications"] += 1
        for p in got:
            p.stored = False
        if ok:
            kept.state = out
            kept.t_ref = now
            for p in got:
                kept.parts = kept.parts + p.parts
                kept.gen = min(kept.gen, p.gen)
        else:
            counters["purification_failures"] += 1
            for p in got:
                ctx.discard(p.parts)
        done = now + 2.0 * res.route.links[s].classical_delay_s
        self._sched(done, self._on_purified, (res, s, kept, ok), P_GEN)

    def _schedule_cutoff(self, res: Reservation, pair: Pair) -> None:
        cut = self.schedule_cutoff
        if cut is not None:
            cut(res, pair)

    def _purify(self, res: Reservation, s: int, kept: Pair, new: Pair) -> None:
        ctx = self.ctx
        now = ctx.kernel.now
        nodes = res.route.nodes
        ctx.decohere(nodes, kept, now)
        ctx.decohere(nodes, new, now)
        out, p_ok = ctx.purify(kept.state, new.state, ctx.gate_fidelity, ctx.measurement_error)
        ok = self._uni() < p_ok
        counters = ctx.tel.counters
        counters["purifications"] += 1
        new.stored = False
        if ok:
            kept.state = out
            kept.t_ref = now
            kept.parts = kept.parts + new.parts
            kept.gen = min(kept.gen, new.gen)
        else:
            counters["purification_failures"] += 1
            ctx.discard(new.parts)
        done = now + 2.0 * res.route.links[s].classical_delay_s
        self._sched(done, self._on_purified, (res, s, kept, ok), P_GEN)

    def _on_purified(self, arg: tuple) -> None:
        res, s, kept, ok = arg
        if not res.live:
            return
        now = self.ctx.kernel.now
        if not ok or not kept.stored:
            self._drop_collected(kept)
            if kept.stored:
                kept.stored = False
                self.ctx.discard(kept.parts)
            _drop(res.pumping, kept)
            self.start(res, s, now)
            return
        kept.rounds += 1
        if kept.rounds >= self.ctx.purification_rounds:
            kept.pumping = False
            _drop(res.pumping, kept)
            kept.known_i = kept.known_j = now
            self.place(res, kept)
        else:
            self.start(res, s, now, kept)


def _drop(pumping: list[Pair], pair: Pair) -> None:
    if pair in pumping:
        pumping.remove(pair)


def _unwired(res: Reservation, pair: Pair) -> None:  # pragma: no cover - wiring error
    raise RuntimeError("Generation.place is not wired")
