"""The network simulation engine: :class:`Simulation` and :func:`simulate`.

A request arrives, the routing policy (any :class:`qnetai.sim.routing.RoutingPolicy` object,
passed in by the caller) picks a path, the request
reserves memory qubits along it (``memories`` at each end node and ``2 * memories`` at each
intermediate node; twice as many with purification) or waits for them, and then its
elementary links generate, purify, swap and deliver end-to-end pairs (see
:mod:`qnetai.sim.protocols` for the physics conventions and the structure of the engine's
components, and :mod:`qnetai.sim.linklayer` for link timing and event skipping). A request
is served after ``pairs_per_request`` deliveries, expires at its timeout, and releases its
memory either way.

Memory waiting is FIFO per node: a request that cannot reserve its path waits in the queue of
the first node lacking memory; when that node frees memory its queue is scanned in arrival
order and each request either reserves its whole path, moves to the queue of the next node
lacking memory, or (lacking memory at this node still) blocks the queue behind it.
``controller.max_concurrent_requests`` caps the requests admitted (waiting for memory or
active); the others wait in one global FIFO. An optional memory allocator
(:mod:`qnetai.sim.allocation`) sets how many qubits each request holds and may hold a request
back although its memory is free (quotas).

Example:
    >>> from qnetai.config.models import Scenario
    >>> s = Scenario.model_validate({
    ...     "nodes": [{"name": "A"}, {"name": "B"}],
    ...     "links": [{"endpoints": ["A", "B"], "length_km": 10}],
    ...     "traffic": {"requests": [{"source": "A", "destination": "B", "count": 3}]},
    ... })
    >>> from qnetai.control.policy import ShortestPathPolicy
    >>> r = simulate(s, seed=1, policy=ShortestPathPolicy())
    >>> r.summary["requests_served"]
    3
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import accumulate, pairwise
from typing import Any

import networkx as nx
import numpy as np

from qnetai.config.models import Scenario
from qnetai.errors import InputError
from qnetai.physics import scalar as bf
from qnetai.sim.allocation import MemoryAllocator
from qnetai.sim.context import P_ARRIVAL, P_TIMEOUT, Context
from qnetai.sim.generation import Generation
from qnetai.sim.kernel import Kernel
from qnetai.sim.linklayer import LinkModel, Uniforms, build_link_model, herald_batch
from qnetai.sim.release import OnePairInFlight, Pooled
from qnetai.sim.result import SimulationResult
from qnetai.sim.routing import RoutingPolicy
from qnetai.sim.schedules import Nested, SwapAsap
from qnetai.sim.state import (
    ACTIVE,
    EXPIRED,
    QUEUED,
    SERVED,
    UNSERVED,
    WAITING,
    Request,
    Reservation,
    Route,
    nested_spans,
)
from qnetai.sim.swapping import Swapping
from qnetai.sim.telemetry import Telemetry, build_tables

#: Collection thresholds of Python's cyclic garbage collector while events run (see
#: :func:`relaxed_gc`); each is used only where it is above the caller's own.
RUN_GC_THRESHOLDS = (50_000, 20, 10)
_gc_lock = threading.Lock()
_gc_depth = 0
_gc_saved: tuple[int, int, int] | None = None


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Raise the collector's thresholds while events run; always restore the caller's own.

    The engine allocates many short-lived containers (event tuples, pair records) and makes
    no reference cycles, so the default thresholds (700 allocations) start collections that
    find nothing. Collection stays enabled (a policy's own cycles are still collected), an
    ``enabled``/``disabled`` state is never touched, a threshold of 0 (collection off) is
    kept, and nested or concurrent runs restore the settings found by the first one.

    Example:
        >>> import gc
        >>> before = gc.get_threshold()
        >>> with relaxed_gc():
        ...     gc.get_threshold()[0] >= before[0]
        True
        >>> gc.get_threshold() == before
        True
    """
    global _gc_depth, _gc_saved
    with _gc_lock:
        if _gc_depth == 0:
            saved = gc.get_threshold()
            _gc_saved = saved
            if saved[0] > 0:
                gc.set_threshold(
                    *(max(a, b) for a, b in zip(saved, RUN_GC_THRESHOLDS, strict=True))
                )
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_saved is not None:
                gc.set_threshold(*_gc_saved)
                _gc_saved = None


class Simulation:
    """A steppable network simulation built from a scenario.

    ``Simulation(scenario, seed=None, policy=...)`` resolves the scenario, precomputes every
    link, draws the traffic and queues the first arrival; ``policy`` is a routing policy
    object (the scenario's ``controller.routing`` name is resolved above the engine, by
    :func:`qnetai.plugins.routing_policy`); :meth:`run` advances the clock,
    :meth:`submit` adds requests programmatically and :meth:`result` returns the tables.
    The object also serves as the ``state`` handed to routing policies (``now``,
    :meth:`free_memory`, :attr:`queued_requests`).

    Example:
        >>> sim = Simulation(scenario, seed=3, policy=policy)  # doctest: +SKIP
        >>> sim.run(until=0.5); sim.free_memory("A")  # doctest: +SKIP
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int | None = None,
        policy: RoutingPolicy,
        allocator: MemoryAllocator | None = None,
    ) -> None:
        from qnetai.topology import resolve

        t_build = time.perf_counter()
        sc = resolve(scenario)
        self.scenario = sc
        self.duration_s = float(sc.duration_s)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InputError(f"seed must be a non-negative integer (got {seed!r})")
        self.seed = int(sc.seed if seed is None else seed)
        # nodes
        self.node_names = [n.name for n in sc.nodes]
        self.node_index = {name: i for i, name in enumerate(self.node_names)}
        self.node_kinds = [n.kind for n in sc.nodes]
        self.capacity = [int(n.memory_qubits) for n in sc.nodes]
        self.free = list(self.capacity)
        self._rate: list[float] = []
        self._t1t2: list[tuple[float | None, float | None] | None] = []
        for n in sc.nodes:
            mem = n.memory
            if mem.logical is not None and "t_coh_s" not in mem.model_fields_set:
                raise InputError(  # measured above sim: qnetai.qec.memory via the facade
                    f"node {n.name!r}: memory.logical is measured by qnetai.simulate / "
                    "run_scenario (qnetai.qec.memory.apply_logical_memories), not the engine"
                )
            if mem.t1_s is not None or mem.t2_s is not None:
                self._rate.append(0.0)
                self._t1t2.append((mem.t1_s, mem.t2_s))
            else:
                self._rate.append(0.0 if mem.t_coh_s is None else 0.5 / mem.t_coh_s)
                self._t1t2.append(None)
        # links
        cl = sc.classical
        self._speed = float(cl.speed_km_per_s)
        self._proc = float(cl.processing_delay_s)
        specs = {n.name: n for n in sc.nodes}
        self.links: list[LinkModel] = []
        self._length_km: list[float] = []
        self._edge: dict[tuple[int, int], LinkModel] = {}
        self.graph: nx.Graph[str] = nx.Graph(name=sc.name)
        self.graph.add_nodes_from(
            (n.name, {"spec": n, "kind": n.kind, "pos": n.position_km}) for n in sc.nodes
        )
        heralds = herald_batch(list(sc.links))  # the links' physics in array calls
        for i, spec in enumerate(sc.links):
            a, b = spec.endpoints
            lm = build_link_model(
                i,
                spec,
                specs[a],
                specs[b],
                speed_km_per_s=self._speed,
                processing_delay_s=self._proc,
                herald=heralds[i],
            )
            self.links.append(lm)
            self._length_km.append(float(spec.length_km))
            ia, ib = self.node_index[a], self.node_index[b]
            self._edge[(ia, ib)] = lm
            self._edge[(ib, ia)] = lm
            self.graph.add_edge(
                a, b, spec=spec, name=lm.name, kind=spec.kind, length_km=spec.length_km
            )
        # operations
        ops = sc.operations
        pur = ops.purification
        pur_rounds = 0 if pur.protocol == "none" else int(pur.rounds)
        circuit = None
        if pur.protocol == "circuit" and pur_rounds > 0:
            from qnetai.sim.circuit_purification import circuit_purifier

            circuit = circuit_purifier(
                pur.circuit,
                pur.circuit_file,
                float(ops.swap_gate_fidelity),
                float(ops.measurement_error),
            )
        # a memory slot holds a kept pair and its partner with purification (with a circuit:
        # every raw pair the circuit consumes, see qnetai.sim.circuit_purification)
        self._mem_factor = (circuit[1] if circuit else 2) if pur_rounds > 0 else 1
        # controller
        ctl = sc.controller
        if not isinstance(policy, RoutingPolicy):
            raise InputError(
                "policy must be a routing policy object with a name and choose_path(...) "
                f"(got {policy!r}); resolve a name with qnetai.plugins.routing_policy"
            )
        self.policy = policy
        self.allocator = allocator  # None: first come, first served (no quota)
        self._max_admitted = ctl.max_concurrent_requests
        self._admitted = 0  # requests waiting for memory or active
        self._n_active = 0
        self._n_waiting = 0  # held back by max_concurrent_requests
        self._global_queue: deque[Reservation] = deque()
        self._node_queue: dict[int, deque[Reservation]] = {}
        self._routes: dict[tuple[str, ...], Route] = {}
        self._reservations: dict[int, Reservation] = {}  # routed, not yet ended
        self._spans: dict[int, tuple[list[int], list[int]]] = {}
        # randomness: traffic and dynamics from independent streams of one seed
        traffic_ss, dyn_ss = np.random.SeedSequence(self.seed).spawn(2)
        self.uni = Uniforms(np.random.default_rng(dyn_ss))
        from qnetai.sim.traffic import draw_arrivals

        self._arrivals = draw_arrivals(
            sc, self.node_index, self.duration_s, np.random.default_rng(traffic_ss)
        )
        self._arr_cols = (
            self._arrivals.time_s.tolist(),
            self._arrivals.source.tolist(),
            self._arrivals.destination.tolist(),
            self._arrivals.pairs.tolist(),
            self._arrivals.min_fidelity.tolist(),
            self._arrivals.timeout_s.tolist(),
            self._arrivals.memories.tolist(),
        )
        # kernel, telemetry
        self.kernel = Kernel()
        self.tel = Telemetry(len(self.node_names), len(self.links), self.duration_s)
        self.requests: list[Request] = []
        # components, with their explicit context
        self.ctx = ctx = Context(
            self.kernel,
            self.uni,
            self.tel,
            rates=self._rate,
            t1t2=self._t1t2,
            speed_km_per_s=self._speed,
            processing_delay_s=self._proc,
            cutoff_s=ops.cutoff_s,
            p_swap=float(ops.swap_success_probability),
            gate_fidelity=float(ops.swap_gate_fidelity),
            measurement_error=float(ops.measurement_error),
            nested=ops.swapping_policy == "nested",
            purify=bf.dejmps if pur.protocol == "dejmps" else bf.bbpssw,
            purification_rounds=pur_rounds,
            confirm_swaps=bool(ops.swapping.confirm),
        )
        self._gen = Generation(ctx)
        if circuit is not None:
            self._gen.circuit, self._gen.circuit_pairs = circuit
        self._swapping = Swapping(ctx, self._gen, Nested() if ctx.nested else SwapAsap())
        self._gen.place = self._swapping.place
        if ctx.cutoff_s is not None:
            self._gen.schedule_cutoff = self._swapping.schedule_cutoff
        self._swapping.finish = self._finish
        self._one_pair = OnePairInFlight(ctx, self._gen)
        self._pooled = Pooled(self._gen)
        if len(self._arrivals):
            self.kernel.schedule(self._arr_cols[0][0], self._on_arrival, 0, P_ARRIVAL)
        self._wall_s = time.perf_counter() - t_build

    # -- NetworkState for policies -----------------------------------------------------------
    @property
    def now(self) -> float:
        """Simulated time (s)."""
        return self.kernel.now

    def free_memory(self, node: str) -> int:
        """Unreserved memory qubits at ``node``."""
        return self.free[self.node_index[node]]

    @property
    def queued_requests(self) -> int:
        """Requests admitted but waiting for memory, plus those held back by the cap."""
        return self._admitted - self._n_active + self._n_waiting

    @property
    def pairs_delivered(self) -> int:
        """End-to-end pairs handed to applications so far (all requests)."""
        return len(self.tel.d_fid)

    @property
    def reservations(self) -> list[Reservation]:
        """The reservations of the requests routed and not yet ended (queued or active)."""
        return list(self._reservations.values())

    @property
    def events_processed(self) -> int:
        """Events the kernel has processed so far."""
        return self.kernel.events_processed

    # -- running -------------------------------------------------------------------------------
    def run(self, until: float | None = None) -> Simulation:
        """Advance the simulation to ``until`` (default: the scenario's ``duration_s``)."""
        end = self.duration_s if until is None else float(until)
        if not end >= self.kernel.now:
            raise InputError(f"until must be >= now={self.kernel.now} (got {until})")
        t0 = time.perf_counter()
        with relaxed_gc():
            self.kernel.run(end)
        self._wall_s += time.perf_counter() - t0
        return self

    def submit(
        self,
        source: str,
        destination: str,
        *,
        pairs: int = 1,
        min_fidelity: float = 0.0,
        timeout_s: float | None = None,
        at_s: float | None = None,
        memories: int = 1,
    ) -> int:
        """Add a request arriving at ``at_s`` (default now); returns its request id.

        ``memories``: memory qubits reserved per node side along the path (pooled if > 1).
        """
        for field, name in (("source", source), ("destination", destination)):
            if name not in self.node_index:
                raise InputError(f"{field} must be a node of the scenario (got {name!r})")
        if source == destination:
            raise InputError(f"source and destination must differ (got {source!r})")
        if pairs < 1:
            raise InputError(f"pairs must be >= 1 (got {pairs})")
        if isinstance(memories, bool) or not isinstance(memories, int) or memories < 1:
            raise InputError(f"memories must be an integer >= 1 (got {memories!r})")
        t = self.kernel.now if at_s is None else float(at_s)
        if t < self.kernel.now:
            raise InputError(f"at_s must be >= now={self.kernel.now} (got {at_s})")
        req = self._new_request(
            self.node_index[source],
            self.node_index[destination],
            t,
            pairs,
            min_fidelity,
            math.inf if timeout_s is None else timeout_s,
            memories,
        )
        self.kernel.schedule(t, self._on_submitted, req, P_ARRIVAL)
        return req.rid

    def result(self) -> SimulationResult:
        """The tables and summary of the simulation so far."""
        summary, tables = build_tables(
            self.tel,
            end_s=self.kernel.now,
            node_names=self.node_names,
            node_kinds=self.node_kinds,
            node_memory=self.capacity,
            links=self.links,
            requests=self.requests,
            arrival_of={r.rid: r.arrival for r in self.requests},
            events=self.kernel.events_processed,
            wall_time_s=self._wall_s,
        )
        return SimulationResult(scenario=self.scenario, summary=summary, **tables)

    # -- arrivals, routing, admission ---------------------------------------------------------
    def _new_request(
        self,
        src: int,
        dst: int,
        t: float,
        pairs: int,
        fmin: float,
        timeout: float,
        mem: int = 1,
    ) -> Request:
        req = Request(
            len(self.requests),
            src,
            dst,
            self.node_names[src],
            self.node_names[dst],
            t,
            pairs,
            fmin,
            t + timeout,
            mem,
        )
        self.requests.append(req)
        return req

    def _on_arrival(self, i: int) -> None:
        t, src, dst, pairs, fmin, tmo, mem = (col[i] for col in self._arr_cols)
        if i + 1 < len(self._arr_cols[0]):
            self.kernel.schedule(self._arr_cols[0][i + 1], self._on_arrival, i + 1, P_ARRIVAL)
        self._arrive(self._new_request(src, dst, t, pairs, fmin, tmo, mem))

    def _on_submitted(self, req: Request) -> None:
        self._arrive(req)

    def _arrive(self, req: Request) -> None:
        if req.deadline != math.inf:
            self.kernel.schedule(req.deadline, self._on_timeout, req, P_TIMEOUT)
        names = self.policy.choose_path(self.graph, req.src_name, req.dst_name, state=self)
        route = None if names is None else self._route(names, req)
        if route is None:
            req.status = UNSERVED
            return
        req.path_str = route.path_str
        req.hops = route.hops
        if self.allocator is not None:
            req.mem = int(self.allocator.grant(self, req, route))
        m = req.mem
        cap = self.capacity
        for n, need in zip(route.nodes, route.need, strict=True):
            if need * m > cap[n]:
                req.status = UNSERVED  # can never reserve its path
                return
        res = Reservation(req, route, self._one_pair if m == 1 else self._pooled)
        self._reservations[req.rid] = res
        if self._max_admitted is not None and self._admitted >= self._max_admitted:
            req.status = WAITING
            self._n_waiting += 1
            self._global_queue.append(res)
            return
        self._admitted += 1
        self._try_admit(res)

    def _route(self, names: list[str], req: Request) -> Route:
        key = tuple(names)
        route = self._routes.get(key)
        if route is not None:
            return route
        if len(names) < 2 or names[0] != req.src_name or names[-1] != req.dst_name:
            raise InputError(
                f"policy {self.policy.name!r} returned a path that does not join "
                f"{req.src_name!r} to {req.dst_name!r}: {names!r}"
            )
        idx = self.node_index
        nodes = [idx[n] for n in names]
        edge = self._edge
        try:
            links = [edge[ab] for ab in pairwise(nodes)]
        except KeyError:
            a, b = next(ab for ab in pairwise(nodes) if ab not in edge)
            raise InputError(
                f"policy {self.policy.name!r} returned a path with no link between "
                f"{self.node_names[a]!r} and {self.node_names[b]!r}"
            ) from None
        length = self._length_km
        pos = list(accumulate([length[lm.index] for lm in links], initial=0.0))
        hops = len(links)
        need = [1] + [2] * (hops - 1) + [1]
        need = [x * self._mem_factor for x in need]
        spans = self._spans.get(hops)
        if spans is None:
            spans = self._spans[hops] = nested_spans(hops)
        route = Route(list(names), nodes, links, pos, need, spans[0], spans[1])
        self._routes[key] = route
        return route

    def _try_admit(self, res: Reservation) -> None:
        blocking = self._reserve(res)
        if blocking < 0:
            self._activate(res)
        else:
            res.req.status = QUEUED
            q = self._node_queue.get(blocking)
            if q is None:
                q = self._node_queue[blocking] = deque()
            q.append(res)

    def _reserve(self, res: Reservation) -> int:
        """Reserve the whole path, or return the first node lacking memory (nothing reserved)."""
        route = res.route
        free = self.free
        m = res.req.mem
        for n, need in zip(route.nodes, route.need, strict=True):
            if free[n] < need * m:
                return n
        if self.allocator is not None and not self.allocator.admit(self, res):
            return route.nodes[0]  # held back by its quota: waits at its source node
        for n, need in zip(route.nodes, route.need, strict=True):
            free[n] -= need * m
        self.tel.memory_path(route.nodes, route.need, m, self.kernel.now)
        return -1

    def _activate(self, res: Reservation) -> None:
        """The path is reserved: start ``memories`` generation processes on every link."""
        req = res.req
        req.status = ACTIVE
        self._n_active += 1
        res.open()
        now = self.kernel.now
        start = self._gen.start
        for s in range(res.route.hops):
            for _ in range(req.mem):
                start(res, s, now)

    def _on_timeout(self, req: Request) -> None:
        if req.status in (WAITING, QUEUED, ACTIVE):
            self._finish(self._reservations[req.rid], EXPIRED)

    def _finish(self, res: Reservation, status: str) -> None:
        """End a request (served or expired): drop its pairs, release memory, admit others."""
        req = res.req
        old = req.status
        req.status = status
        res.live = False
        if res.cut_armed:
            self._swapping.cancel_cutoffs(res)
        del self._reservations[req.rid]
        now = self.kernel.now
        if status == SERVED:
            req.served_s = now
        if old == WAITING:
            self._n_waiting -= 1
        if old == ACTIVE:
            self._n_active -= 1
            discard = self.ctx.discard
            for p in res.held():
                p.stored = False
                if not p.dead:
                    discard(p.parts)
            route = res.route
            m = req.mem
            free = self.free
            for n, need in zip(route.nodes, route.need, strict=True):
                free[n] += need * m
            self.tel.memory_path(route.nodes, route.need, -m, now)
            if self.allocator is not None:
                self.allocator.release(self, res)
            self._wake(route.nodes)
        if old in (ACTIVE, QUEUED):
            self._admitted -= 1
            self._admit_global()

    def _wake(self, nodes: list[int]) -> None:
        free = self.free
        for n in nodes:
            q = self._node_queue.get(n)
            while q and free[n] > 0:
                r = q[0]
                if r.req.status != QUEUED:
                    q.popleft()
                    continue
                blocking = self._reserve(r)
                if blocking < 0:
                    q.popleft()
                    self._activate(r)
                elif blocking == n:
                    break
                else:
                    q.popleft()
                    nq = self._node_queue.get(blocking)
                    if nq is None:
                        nq = self._node_queue[blocking] = deque()
                    nq.append(r)

    def _admit_global(self) -> None:
        if self._max_admitted is None:
            return
        q = self._global_queue
        while q and self._admitted < self._max_admitted:
            r = q.popleft()
            if r.req.status != WAITING:
                continue
            self._n_waiting -= 1
            self._admitted += 1
            self._try_admit(r)


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    policy: RoutingPolicy,
    progress: Callable[[float], Any] | None = None,
    allocator: MemoryAllocator | None = None,
) -> SimulationResult:
    """Run ``scenario`` for its ``duration_s`` and return the :class:`SimulationResult`.

    ``seed`` overrides ``scenario.seed``; the same seed gives the same result. ``policy`` is
    the routing policy object (``qnetai.simulate`` resolves ``controller.routing`` to one).
    ``progress(fraction_done)`` is called after each twentieth of the simulated time.
    ``allocator``: a :class:`~qnetai.sim.allocation.MemoryAllocator` (None: first come,
    first served).
    """
    t0 = time.perf_counter()
    sim = Simulation(scenario, seed=seed, policy=policy, allocator=allocator)
    steps = 20 if progress is not None else 1
    for k in range(1, steps + 1):
        sim.run(sim.duration_s * k / steps)
        if progress is not None:
            progress(k / steps)
    result = sim.result()
    result.summary["wall_time_s"] = time.perf_counter() - t0
    return result
