"""Invariants of the engine's performance measures (issue 11 section 4).

* Lazy cut-off timers (:meth:`qnetai.sim.swapping.Swapping.schedule_cutoff`: one queued per
  reservation, the others queued when they come next) discard exactly the pairs that one
  eager event per stored pair discards, at the same place in the event order: every output
  of a run is identical (the ``events`` count aside, which only drops).
* The collector thresholds raised while events run (:func:`qnetai.sim.engine.relaxed_gc`)
  are the caller's again after a run, after an exception inside a run, and a caller's
  disabled collector is left alone.
* Second pass: the inlined plain-herald path, restarts and batched link physics give the
  outputs (and event counts) of the general code they shortcut.
"""

import gc
import math

import pytest
from sim_helpers import Simulation, simulate

from qnetai.config.models import Scenario
from qnetai.sim.context import CUTOFF_RTOL, P_CUTOFF, P_GEN, P_RESTART
from qnetai.sim.engine import relaxed_gc
from qnetai.sim.generation import Generation
from qnetai.sim.kernel import Kernel
from qnetai.sim.release import OnePairInFlight
from qnetai.sim.state import SEG_RESTART
from qnetai.sim.swapping import Swapping


def chain(links, *, cutoff_s, p=0.3, p_swap=0.9, memories=1, pur=None, confirm=False, t=0.05):
    """A chain of ``links`` 20 km links (abstract success ``p``) with one long request."""
    names = [f"n{i}" for i in range(links + 1)]
    ops = {
        "cutoff_s": cutoff_s,
        "swap_success_probability": p_swap,
        "swapping": {"confirm": confirm},
    }
    if pur is not None:
        ops["purification"] = {"protocol": pur, "rounds": 1}
    return Scenario.model_validate(
        {
            "duration_s": t,
            "nodes": [{"name": n, "memory_qubits": 40, "memory": {"t_coh_s": 0.01}} for n in names],
            "links": [
                {"endpoints": [names[i], names[i + 1]], "length_km": 20.0, "success_probability": p}
                for i in range(links)
            ],
            "operations": ops,
            "traffic": {
                "requests": [
                    {
                        "source": names[0],
                        "destination": names[-1],
                        "pairs_per_request": 1_000_000,
                        "memories": memories,
                        "arrival": {"process": "at_once"},
                    }
                ]
            },
        }
    )


def waxman(cutoff_s=1e-3):
    """A small Waxman network with random traffic (many short requests)."""
    return Scenario.model_validate(
        {
            "duration_s": 0.3,
            "topology": {
                "builder": "waxman",
                "nodes": 30,
                "area_km": 80.0,
                "end_user_fraction": 0.5,
                "node": {"name": "n", "memory_qubits": 6, "memory": {"t_coh_s": 0.01}},
                "link": {"endpoints": ["a", "b"], "detector_efficiency": 0.9},
            },
            "operations": {"cutoff_s": cutoff_s, "swap_success_probability": 0.95},
            "traffic": {"random": {"count": 200, "rate_hz": 1000.0, "timeout_s": 0.05}},
        }
    )


def _eager_schedule_cutoff(self, res, pair):
    """The reference: one kernel event per stored pair, queued at once (the former code)."""
    deadline = pair.gen + self.ctx.cutoff_s * (1.0 + CUTOFF_RTOL)
    now = self._kernel.now
    self._kernel.schedule(max(deadline, now), self._eager_fire, (res, pair), P_CUTOFF)


def _former_place(self, res, pair):
    """Swapping.place before the cut-off was inlined: it calls ``schedule_cutoff``."""
    s, now, cutoff = pair.i, self._kernel.now, self.ctx.cutoff_s
    if cutoff is not None and now - pair.gen > cutoff * (1.0 + CUTOFF_RTOL):
        pair.stored = False
        self.ctx.tel.counters["cutoff_discards"] += 1
        self.ctx.discard(pair.parts)
        self.gen.start(res, s, now)
        return
    hops = res.route.hops
    if hops == 1:
        self._deliver(res, pair)
        return
    res.right[s].append(pair)
    res.left[s + 1].append(pair)
    if cutoff is not None:
        self.schedule_cutoff(res, pair)
    if s > 0:
        self.swap(res, s)
    if s + 1 < hops and res.live:
        self.swap(res, s + 1)


def _eager_fire(self, arg):
    res, pair = arg
    if res.live and pair.stored and not pair.dead:
        self.cut(res, pair)


def _outputs(result):
    """Every output but the event count and the wall time, as text (NaN equals NaN)."""
    summary = {k: v for k, v in result.summary.items() if k not in ("wall_time_s", "events")}
    tables = {name: t.to_pydict() for name, t in result.tables().items()}
    return repr((sorted(summary.items()), tables))


CASES = {
    "one memory": chain(4, cutoff_s=6e-4),
    "pooled": chain(3, cutoff_s=8e-4, memories=3),
    "purification": chain(2, cutoff_s=5e-4, pur="dejmps", memories=2),
    "confirm": chain(2, cutoff_s=1.2e-3, p=0.2, memories=2, confirm=True),
    "waxman": waxman(),
}


@pytest.mark.parametrize("name", list(CASES))
def test_lazy_cutoffs_discard_exactly_what_per_pair_timers_discard(name, monkeypatch):
    scenario = CASES[name]
    lazy = simulate(scenario, seed=5)
    monkeypatch.setattr(Swapping, "place", _former_place)
    monkeypatch.setattr(Swapping, "schedule_cutoff", _eager_schedule_cutoff)
    monkeypatch.setattr(Swapping, "_eager_fire", _eager_fire, raising=False)
    eager = simulate(scenario, seed=5)
    assert eager.summary["cutoff_discards"] > 0  # the cut-off matters in every case
    assert _outputs(lazy) == _outputs(eager)
    assert lazy.summary["events"] < eager.summary["events"]


def test_reserved_handles_keep_the_order_of_eager_scheduling():
    """An event queued late under a handle reserved early sorts where it was reserved."""
    k = Kernel()
    seen = []
    h = k.reserve()  # first at t = 1 (same time and priority as the next two)
    k.schedule(1.0, seen.append, "second")
    k.schedule(1.0, seen.append, "third")
    k.schedule(0.5, lambda _: k.push(1.0, 0, h, seen.append, "first"), None)
    k.run()
    assert seen == ["first", "second", "third"]
    with pytest.raises(Exception, match="time_s must be >= now"):
        k.push(0.5, 0, k.reserve(), seen.append, "past")


class _Boom:
    """A routing policy that fails on its second request."""

    name = "boom"

    def __init__(self):
        self.calls = 0

    def choose_path(self, graph, source, destination, *, state):
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("boom")
        return None


@pytest.fixture
def gc_settings():
    saved, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*saved)
    (gc.enable if enabled else gc.disable)()


def test_gc_thresholds_restored_after_a_run_and_after_an_exception(gc_settings):
    gc.set_threshold(123, 7, 5)
    seen = []
    sim = Simulation(waxman(), seed=1)
    sim.kernel.schedule(0.01, lambda _: seen.append(gc.get_threshold()), None, 0)
    sim.run()
    assert seen and seen[0][0] > 123  # raised while the events ran
    assert gc.get_threshold() == (123, 7, 5) and gc.isenabled()
    bad = Simulation(waxman(), seed=1, policy=_Boom())
    with pytest.raises(RuntimeError, match="boom"):
        bad.run()
    assert gc.get_threshold() == (123, 7, 5) and gc.isenabled()


def test_a_disabled_collector_stays_disabled_and_nested_runs_restore_once(gc_settings):
    gc.disable()
    gc.set_threshold(700, 10, 10)
    with relaxed_gc():
        assert not gc.isenabled()
        with relaxed_gc():
            assert gc.get_threshold()[0] > 700
        assert gc.get_threshold()[0] > 700  # the outer run still relaxed
    assert gc.get_threshold() == (700, 10, 10) and not gc.isenabled()
    gc.set_threshold(0, 10, 10)  # threshold 0: collection off, kept as it is
    with relaxed_gc():
        assert gc.get_threshold() == (0, 10, 10)
    assert gc.get_threshold() == (0, 10, 10)


def test_a_run_makes_no_reference_cycles(gc_settings):
    """Pairs, tokens and ended reservations are freed by reference counting alone (the
    engine's own long-lived components do refer to each other)."""
    sim = Simulation(waxman(), seed=2)
    gc.collect()
    gc.disable()
    sim.run()
    assert gc.collect() == 0
    assert sim.result().summary["requests_served"] > 0


def test_shortest_path_trees_keep_the_adjacency_order_tie_break():
    """The hop-count policy's C breadth-first trees give the paths of a queue scan of
    ``graph.adjacency()`` (the former pure-Python search), on a graph built in shuffled order."""
    import random

    import networkx as nx

    from qnetai.control.policy import ShortestPathPolicy

    rnd = random.Random(3)
    base = nx.gnm_random_graph(150, 330, seed=2)
    edges = list(base.edges())
    rnd.shuffle(edges)
    g = nx.Graph()
    names = [f"v{i}" for i in range(150)]
    rnd.shuffle(names)
    g.add_nodes_from(names)
    g.add_edges_from((f"v{a}", f"v{b}") for a, b in edges)

    def reference(source, destination):
        parent, frontier = {source: None}, [source]
        while frontier:
            nxt = []
            for u in frontier:
                for v in g.adj[u]:
                    if v not in parent:
                        parent[v] = u
                        nxt.append(v)
            frontier = nxt
        if destination not in parent:
            return None
        path = [destination]
        while parent[path[-1]] is not None:
            path.append(parent[path[-1]])
        return path[::-1]

    policy = ShortestPathPolicy("hops")
    pairs = [(a, b) for a in names[:20] for b in names if a != b]
    assert [policy.choose_path(g, a, b, state=None) for a, b in pairs] == [
        reference(a, b) for a, b in pairs
    ]


# -- second pass (issue 11 section 4): inlined hot paths give the former code's outputs --------


def _former_start(self, res, s, t0, kept=None):
    """Generation.start before the plain-herald fast path: every herald via ``_on_link``."""
    lm = res.route.links[s]
    t, p, state = lm.next_success(t0, self._uni)
    if t != math.inf:
        self._kernel.schedule(t, self._on_link, (res, s, p, state, kept, t0), P_GEN)


def _former_lost(self, res, i, j, learn):
    """OnePairInFlight.lost before inlining: ``learn`` twice per link, Kernel.schedule."""
    kernel = self.ctx.kernel
    now = kernel.now
    for s in range(i, j):
        res.seg[s] = SEG_RESTART
        t0 = max(learn(s), learn(s + 1))
        kernel.schedule(t0 if t0 > now else now, self._on_restart, (res, s, t0), P_RESTART)


def _former_cut(self, res, pair, base):
    i, j = pair.i, pair.j
    pos, delay = res.route.pos_km, self.ctx.delay
    self.lost(res, i, j, lambda x: base + min(delay(pos, i, x), delay(pos, j, x)))


@pytest.mark.parametrize("name", ["one memory", "waxman"])
def test_inlined_heralds_and_restarts_match_the_former_handlers(name, monkeypatch):
    """Same outputs and the same event count as the general handlers they shortcut (the
    former ``place`` calls ``schedule_cutoff``, the lazy one)."""
    scenario = CASES[name]
    fast = simulate(scenario, seed=3)
    monkeypatch.setattr(Generation, "start", _former_start)
    monkeypatch.setattr(OnePairInFlight, "lost", _former_lost)
    monkeypatch.setattr(OnePairInFlight, "cut", _former_cut)
    monkeypatch.setattr(Swapping, "place", _former_place)
    slow = simulate(scenario, seed=3)
    assert slow.summary["cutoff_discards"] > 0
    assert _outputs(fast) == _outputs(slow)
    assert fast.summary["events"] == slow.summary["events"]


def test_batched_heralds_equal_one_call_per_link():
    """herald_batch gives each link the floats of its own physics call (fibre links of both
    schemes in array calls, an abstract success probability, a free-space link)."""
    import numpy as np

    from qnetai.config.models import LinkSpec
    from qnetai.sim.linklayer import _herald, herald_batch

    rng = np.random.default_rng(4)
    specs = []
    for k in range(60):
        scheme = "single_click" if k % 3 == 0 else "double_click"
        specs.append(
            LinkSpec(
                endpoints=("a", "b"),
                length_km=float(rng.uniform(0.0, 120.0)),
                scheme=scheme,
                detector_efficiency=float(rng.uniform(0.5, 1.0)),
                dark_count_probability=float(rng.uniform(0.0, 1e-4)),
                raw_fidelity=float(rng.uniform(0.8, 1.0)),
                success_probability=0.3 if k % 7 == 0 else None,
            )
        )
    specs.append(LinkSpec(endpoints=("a", "b"), length_km=300.0, kind="free_space"))
    got = herald_batch(specs)
    for spec, (p, state) in zip(specs, got, strict=True):
        p_ref, state_ref = _herald(spec)
        assert p == float(p_ref)
        assert state == tuple(np.asarray(state_ref).tolist())
