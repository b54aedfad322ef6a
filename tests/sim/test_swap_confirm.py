"""Swap confirmation (``operations.swapping.confirm``): cost against a closed form, cut-offs,
news of failed swaps, bookkeeping and determinism.

With one memory per node side, nested swapping, ideal swaps and no cut-off, the random draws
of a run with and without confirmation are the same (every link restarts at each delivery,
in the same order), and each level-``l`` swap waits one round trip to partners ``2**(l-1)``
links away: every end-to-end cycle grows by exactly ``2 (2**L - 1) tau``. The pair count then
follows ``pairs * C / (C + 2 (2**L - 1) tau)`` with ``C`` the mean end-memory cycle.
"""

import math

import numpy as np
import pytest
from sim_helpers import Simulation, simulate

from qnetai.config.models import Scenario

LINK_KM = 20.0
TAU_S = LINK_KM / 2.0e5  # one-way classical delay per link (no processing delay)


def chain(links, *, confirm, p=0.5, duration_s=1.0, cutoff_s=None, memories=1, policy="nested"):
    """A repeater chain of ``links`` 20 km links with abstract success probability ``p``."""
    names = [f"n{i}" for i in range(links + 1)]
    return Scenario.model_validate(
        {
            "duration_s": duration_s,
            "nodes": [
                {"name": n, "kind": "repeater", "memory_qubits": 40, "memory": {"t_coh_s": 1.0}}
                for n in names
            ],
            "links": [
                {
                    "endpoints": [names[i], names[i + 1]],
                    "length_km": LINK_KM,
                    "success_probability": p,
                }
                for i in range(links)
            ],
            "operations": {
                "swapping_policy": policy,
                "swapping": {"confirm": confirm},
                "cutoff_s": cutoff_s,
            },
            "classical": {"processing_delay_s": 0.0},
            "traffic": {
                "requests": [
                    {
                        "source": names[0],
                        "destination": names[-1],
                        "pairs_per_request": 1_000_000,
                        "memories": memories,
                        "arrival": {"process": "at_once"},
                        "min_fidelity": 0.0,
                    }
                ]
            },
        }
    )


def test_off_by_default_and_outputs_unchanged():
    s = chain(2, confirm=False)
    assert Scenario.model_validate({"nodes": [{"name": "a"}]}).operations.swapping.confirm is False
    r = simulate(s, seed=0)
    assert "swap_confirmations" not in r.summary  # the default protocol adds nothing


@pytest.mark.parametrize("levels", [1, 2, 3])
def test_pair_count_follows_the_closed_form(levels):
    links = 2**levels
    duration = 0.6
    base = simulate(chain(links, confirm=False, duration_s=duration), seed=levels)
    conf = simulate(chain(links, confirm=True, duration_s=duration), seed=levels)
    n0, n1 = base.summary["pairs_delivered"], conf.summary["pairs_delivered"]
    t = np.asarray(base.deliveries.column("time_s"))
    cycles = np.diff(np.concatenate([[0.0], t]))  # one pair in flight: deliveries are cycles
    c, sd = cycles.mean(), cycles.std(ddof=1)
    extra = 2.0 * (2**levels - 1) * TAU_S
    predicted = duration / (c + extra)  # = pairs * C / (C + extra) with pairs = duration / C
    # renewal-count spread of the confirmed run plus the error of C from n0 cycles (1 sigma);
    # the two runs share their random draws, so this bound is conservative
    sigma = math.hypot(
        math.sqrt(duration * sd**2 / (c + extra) ** 3),
        duration / (c + extra) ** 2 * sd / math.sqrt(n0),
    )
    assert abs(n1 - predicted) <= 3.0 * sigma + 1.0, (n0, n1, predicted, sigma)
    assert n1 < n0
    # every swap was confirmed, none refused (no cut-off, no failures); a few may be pending
    pending = conf.summary["swap_confirmations"] - conf.summary["swaps"]
    assert 0 <= pending <= links - 1
    assert conf.summary["swap_confirmations_refused"] == 0
    # each level's swap waits 2 * 2**(l-1) tau: delivered pairs are older by exactly `extra`
    # in the first cycle (same draws), so they are less faithful
    f0 = np.asarray(base.deliveries.column("fidelity"))
    f1 = np.asarray(conf.deliveries.column("fidelity"))
    assert f1.mean() < f0.mean()
    np.testing.assert_allclose(conf.deliveries.column("time_s")[0].as_py(), t[0] + extra)


def test_a_cut_off_during_the_confirmation_changes_the_outcome():
    """Deterministic links (p = 1) on two 20 km links, cut-off 250 us.

    Without confirmation the pairs heralded at 100 us are swapped at once and delivered at
    200 us (age 200 us < 250 us), every 200 us. With it, node 1 waits for the replies until
    300 us, the pairs are cut off at 250 us, the replies refuse, the links restart from the
    cut-off: nothing is ever delivered, 2 elementary pairs are discarded every 250 us.
    """
    dur = 0.01
    base = simulate(chain(2, confirm=False, p=1.0, duration_s=dur, cutoff_s=250e-6), seed=0)
    conf = simulate(chain(2, confirm=True, p=1.0, duration_s=dur, cutoff_s=250e-6), seed=0)
    assert base.summary["pairs_delivered"] == 50  # delivered at 200, 400, ... 10,000 us
    assert base.summary["cutoff_discards"] == 0
    s = conf.summary
    assert s["pairs_delivered"] == 0 and s["swaps"] == 0
    # claims at 100 + 250 k us (k = 0..39), refusals at 300 + 250 k us (k = 0..38),
    # cut-offs at 250 + 250 k us (k = 0..38; the one due at 10,000 us falls after the end)
    assert s["swap_confirmations"] == 40
    assert s["swap_confirmations_refused"] == 39
    assert s["cutoff_discards"] == 78
    # a cut-off of 450 us lets the confirmed swap (at 300 us) deliver at 400 us: half the rate
    slow = simulate(chain(2, confirm=True, p=1.0, duration_s=dur, cutoff_s=450e-6), seed=0)
    assert slow.summary["pairs_delivered"] == 25
    assert slow.summary["swap_confirmations_refused"] == 0


def test_refusals_under_cut_offs_keep_every_pair_accounted_for():
    """Random links with a cut-off and pooled memories: some confirmations are refused, every
    claim ends in a swap or a refusal, and every elementary pair is consumed, discarded or
    still held (a returned pair is stored again, not lost); the outcome differs from the
    default protocol."""
    kw = {"p": 0.2, "duration_s": 0.3, "cutoff_s": 1.2e-3, "memories": 2}
    base = simulate(chain(4, confirm=False, **kw), seed=5)
    sim = Simulation(chain(4, confirm=True, **kw), seed=5)
    sim.run()
    conf = sim.result()
    s = conf.summary
    assert s["swap_confirmations_refused"] > 0
    pending = s["swap_confirmations"] - s["swap_confirmations_refused"] - s["swaps"]
    assert 0 <= pending <= 3
    assert (s["pairs_delivered"], s["cutoff_discards"]) != (
        base.summary["pairs_delivered"],
        base.summary["cutoff_discards"],
    )
    # every elementary pair is consumed, discarded or still held (claimed ones included)
    held = np.zeros(4, dtype=int)
    for res in sim.reservations:
        for pair in res.held():
            for link in pair.parts:
                held[link] += 1
    links = conf.links.to_pandas()
    np.testing.assert_array_equal(
        links.pairs_generated, links.pairs_consumed + links.pairs_discarded + held
    )


def test_news_of_failed_swaps_refuses_confirmations():
    """Swap-asap with failing swaps, no cut-off: a far end that heard of a failed swap
    inside its pair refuses; the run still accounts for every pair and frees all memory."""
    s = Scenario.model_validate(
        {
            **chain(6, confirm=True, p=0.3, duration_s=0.2, policy="swap_asap").model_dump(),
            "operations": {
                "swapping_policy": "swap_asap",
                "swap_success_probability": 0.6,
                "swapping": {"confirm": True},
            },
        }
    )
    r = simulate(s, seed=2)
    assert r.summary["swap_confirmations_refused"] > 0
    assert r.summary["swap_failures"] > 0
    assert r.summary["pairs_delivered"] > 0


@pytest.mark.parametrize(
    ("ops", "memories"),
    [
        ({}, None),
        ({}, 3),
        ({"swapping_policy": "nested"}, None),
        ({"swapping_policy": "nested"}, 3),
        ({"purification": {"protocol": "dejmps", "rounds": 1}}, None),
    ],
)
def test_bookkeeping_with_cut_offs_and_failures(ops, memories, busy_network):
    sim = Simulation(busy_network(memories=memories, swapping={"confirm": True}, **ops), seed=1)
    sim.run()
    r = sim.result()
    req = r.requests.to_pandas()
    assert set(req.status) <= {"served", "expired", "unserved"}
    assert sim.tel.mem_used == [0] * len(sim.node_names)
    assert sim.free == sim.capacity
    links = r.links.to_pandas()
    np.testing.assert_array_equal(
        links.pairs_generated, links.pairs_consumed + links.pairs_discarded
    )
    assert r.summary["pairs_delivered"] > 0
    assert r.summary["swap_confirmations"] > 0 and r.summary["swap_confirmations_refused"] > 0
    served = req[req.status == "served"]
    assert ((served.served_s - served.arrival_s) <= 0.1 + 1e-12).all()


def test_same_seed_same_run():
    kw = {"p": 0.2, "duration_s": 0.2, "cutoff_s": 1.2e-3, "memories": 2}
    a = simulate(chain(4, confirm=True, **kw), seed=9)
    b = simulate(chain(4, confirm=True, **kw), seed=9)
    assert a.deliveries.equals(b.deliveries)
    drop = {"wall_time_s"}
    assert {k: v for k, v in a.summary.items() if k not in drop} == {
        k: v for k, v in b.summary.items() if k not in drop
    }
    c = simulate(chain(4, confirm=True, **kw), seed=10)
    assert not a.deliveries.equals(c.deliveries)


def test_sequence_builtin_confirms():
    from qnetai.config import builtin_scenario

    assert builtin_scenario("sequence-chain-3").operations.swapping.confirm is True


def test_the_partner_of_a_refused_pair_is_claimed_again():
    """Deterministic heralds; link 0 every 100 us, link 1 every 300 us; cut-off 350 us.

    X (link 0, loaded at 0) and Y (link 1, loaded at 200 us) are claimed at 300 us; X is cut
    off at 350 us and link 0 restarts (X' ready at 450 us); the replies at 500 us refuse X,
    Y goes back to the store and is claimed again at once, with X'.
    """
    s = chain(2, confirm=True, p=1.0, duration_s=1e-3, cutoff_s=350e-6)
    data = s.model_dump()
    data["links"][1]["attempt_rate_hz"] = 1.0 / 300e-6
    sim = Simulation(Scenario.model_validate(data), seed=0)
    sim.run(until=490e-6)
    (res,) = sim.reservations
    x, y = res.confirming
    assert (x.i, x.j, y.i, y.j) == (0, 1, 1, 2)
    assert not x.stored and y.stored  # X was cut off while claimed
    assert [p.gen for p in res.left[1]] == pytest.approx([350e-6])  # X' waits at node 1
    sim.run(until=510e-6)
    assert [p for p in res.confirming if p is y] == [y]  # Y claimed again ...
    (x2,) = [p for p in res.confirming if p is not y]
    assert x2.gen == pytest.approx(350e-6)  # ... with X'
    assert sim.result().summary["swap_confirmations_refused"] == 1
