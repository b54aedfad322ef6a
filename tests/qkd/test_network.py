"""QKD on the network: key pools, trusted-node relay, entanglement-based QKD."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qnetai.config import scenario_from_dict
from qnetai.errors import InputError
from qnetai.physics.bell import bell_to_density
from qnetai.physics.bounds import binary_entropy
from qnetai.qkd.channel import ChannelModel
from qnetai.qkd.key_pool import KeyPools
from qnetai.qkd.network import check_key_network, simulate_key_network
from qnetai.qkd.network_entanglement import (
    bbm92_qber_bell,
    entanglement_key,
    qber_upper_bound,
    werner_qber,
)
from qnetai.qkd.network_links import KeySupply
from qnetai.qkd.optimise import rate_summary
from qnetai.qkd.relay import xor_relay


def line_scenario(*, n=4, qkd=None, length_km=10.0, duration_s=0.2, qkd_links=None):
    names = [f"u{i}" for i in range(n)]
    links = [
        {
            "endpoints": [names[i], names[i + 1]],
            "length_km": length_km,
            "qkd": qkd_links is None or i in qkd_links,
        }
        for i in range(n - 1)
    ]
    return scenario_from_dict(
        {
            "name": "qkd-line",
            "seed": 1,
            "duration_s": duration_s,
            "nodes": [{"name": x} for x in names],
            "links": links,
            "qkd": qkd or {},
        }
    )


# -- the XOR relay on real bits -------------------------------------------------------------


@pytest.mark.parametrize("hops", [1, 2, 3, 7])
def test_xor_relay_both_ends_and_trusted_nodes_get_the_same_key(hops):
    rng = np.random.default_rng(hops)
    keys = rng.integers(0, 2, size=(hops, 4096), dtype=np.uint8)
    out = xor_relay(keys)
    assert np.array_equal(out.alice_key, out.bob_key)
    assert np.array_equal(out.alice_key, keys[0])
    # every intermediate node can compute the end-to-end key (the nodes are trusted) ...
    assert out.node_keys.shape == (hops - 1, 4096)
    assert np.all(out.node_keys == out.alice_key)
    # ... while each public announcement alone is uncorrelated with it (one-time pad)
    for a in out.announcements:
        assert abs(np.mean(a == out.alice_key) - 0.5) < 4 * 0.5 / math.sqrt(4096)


def test_xor_relay_rejects_bad_input():
    with pytest.raises(InputError, match="hop_keys"):
        xor_relay(np.zeros((2, 3), dtype=np.int64))


def test_relay_on_a_line_serves_with_matching_keys():
    sc = line_scenario(
        qkd={
            "relay": {
                "requests": [
                    {"source": "u0", "destination": "u3", "key_bits": 1000, "rate_hz": 200.0}
                ]
            }
        }
    )
    r = simulate_key_network(sc, rng=np.random.default_rng(3))
    row = r.relay.to_pylist()[0]
    assert row["path"] == "u0>u1>u2>u3" and row["hops"] == 3
    assert row["served"] > 20 and row["keys_matched"] == row["served"]
    assert row["delivered_bits"] == 1000 * row["served"]
    assert r.summary["relay_keys_all_match"]
    # every hop gave the same number of bits
    assert set(r.link_key_rates.column("bits_consumed").to_pylist()) == {row["delivered_bits"]}


def test_relay_routes_over_qkd_links_only():
    sc = line_scenario(
        qkd_links={0, 2},
        qkd={"relay": {"requests": [{"source": "u0", "destination": "u3", "rate_hz": 100.0}]}},
    )
    row = simulate_key_network(sc, rng=np.random.default_rng(0)).relay.to_pylist()[0]
    assert row["path"] == "" and row["served"] == 0
    assert row["blocked"] == row["blocked_no_route"] == row["requests"] > 0


def test_blocking_when_demand_exceeds_the_key_rate():
    sc = line_scenario(
        qkd={
            "relay": {
                "requests": [
                    {
                        "source": "u0",
                        "destination": "u2",
                        "key_bits": 200_000,
                        "rate_hz": 500.0,
                        "max_wait_s": 0.005,
                    }
                ]
            }
        }
    )
    r = simulate_key_network(sc, rng=np.random.default_rng(1))
    row = r.relay.to_pylist()[0]
    assert row["blocked"] > 0 and row["served"] > 0
    assert row["max_wait_s"] <= 0.005 + 1e-12
    assert row["served"] + row["blocked"] + row["pending"] == row["requests"]


# -- pools --------------------------------------------------------------------------------


def test_pool_accounting_conserves_bits():
    pools = KeyPools(3, capacity_bits=1000, initial_bits=10)
    rng = np.random.default_rng(0)
    for _ in range(200):
        pools.add(rng.integers(0, 60, 3))
        pools.try_consume(rng.permutation(3)[: rng.integers(1, 4)], int(rng.integers(1, 150)))
    assert pools.conserved() and np.all(pools.levels <= 1000) and pools.overflow.sum() > 0


@pytest.mark.parametrize("capacity", [10**9, 300_000])
def test_network_pools_conserve_bits(capacity):
    sc = line_scenario(
        qkd={
            "pool_capacity_bits": capacity,
            "relay": {
                "requests": [
                    {"source": "u0", "destination": "u3", "key_bits": 20_000, "rate_hz": 300.0},
                    {"source": "u1", "destination": "u2", "key_bits": 5_000, "rate_hz": 300.0},
                ]
            },
        }
    )
    r = simulate_key_network(sc, rng=np.random.default_rng(2))
    t = r.link_key_rates.to_pydict()
    gen, con = np.array(t["bits_generated"]), np.array(t["bits_consumed"])
    left, ovf = np.array(t["bits_left"]), np.array(t["bits_overflow"])
    assert np.array_equal(gen, con + left + ovf) and con.sum() > 0
    if capacity == 10**9:
        assert ovf.sum() == 0 and np.array_equal(gen, con + left)
    else:
        assert ovf.sum() > 0 and left.max() <= capacity
    lv = r.pool_levels.to_pydict()
    assert np.array_equal(
        np.array(lv["generated_bits"]),
        np.array(lv["consumed_bits"]) + np.array(lv["level_bits"]) + np.array(lv["overflow_bits"]),
    )
    assert r.summary["pools_conserved"]


def test_analytic_link_accumulates_rate_times_t():
    duration = 0.37
    sc = line_scenario(
        n=2, length_km=25.0, duration_s=duration, qkd={"pulse_rate_hz": 5e8, "decoys": "infinite"}
    )
    r = simulate_key_network(sc, rng=np.random.default_rng(0))
    row = r.link_key_rates.to_pylist()[0]
    rec = sc.qkd.receiver
    ch = ChannelModel(
        attenuation_db_per_km=0.2,
        eta_bob=rec.eta_bob,
        y0=2 * rec.dark_count_probability,
        e_detector=rec.e_detector,
        afterpulse_probability=rec.afterpulse_probability,
    )
    expected = rate_summary(25.0, decoys="infinite", channel=ch, f_ec=sc.qkd.f_ec)
    assert row["key_rate_per_pulse"] == pytest.approx(expected["key_rate_per_pulse"], rel=1e-9)
    rate = row["key_rate_bps"]
    assert rate == pytest.approx(expected["key_rate_per_pulse"] * 5e8, rel=1e-12) and rate > 1e5
    assert abs(row["bits_generated"] - rate * duration) <= 1.0
    lv = r.pool_levels.to_pydict()
    for t, g in zip(lv["time_s"], lv["generated_bits"], strict=True):
        assert abs(g - rate * t) <= 1.0


def test_simulate_mode_feeds_pools_in_pulse_blocks():
    sc = line_scenario(
        n=2,
        length_km=5.0,
        duration_s=0.01,
        qkd={
            "mode": "simulate",
            "pulse_rate_hz": 1e8,
            "simulate": {"block_pulses": 200_000, "blocks": 1},
        },
    )
    r = simulate_key_network(sc, rng=np.random.default_rng(5))
    row = r.link_key_rates.to_pylist()[0]
    chunk = round(row["key_rate_per_pulse"] * 200_000)
    assert row["status"] == "ok" and chunk > 0
    # 1e6 pulses in 10 ms: five completed blocks of 200k pulses
    assert row["bits_generated"] == 5 * chunk
    supply = KeySupply(
        np.array([0.0]), pulse_rate_hz=1e8, chunks_bits=np.array([[chunk]]), block_pulses=200_000
    )
    assert supply(0.0019).tolist() == [0] and supply(0.002).tolist() == [chunk]


# -- entanglement-based QKD ----------------------------------------------------------------


def test_bbm92_qber_of_bell_diagonal_pairs_matches_density_matrices():
    rng = np.random.default_rng(4)
    p = rng.dirichlet(np.ones(4), size=20)
    ez, ex = bbm92_qber_bell(p)
    rho = bell_to_density(p)
    h = np.array([[1, 1], [1, -1]]) / math.sqrt(2)
    hh = np.kron(h, h)
    rho_x = hh @ rho @ hh.conj().T
    diff = [1, 2]  # |01>, |10>
    assert np.allclose(ez, np.real(rho[:, diff, diff].sum(axis=1)), atol=1e-12)
    assert np.allclose(ex, np.real(rho_x[:, diff, diff].sum(axis=1)), atol=1e-12)
    f = np.array([0.7, 0.9, 1.0])
    w = np.stack([f, (1 - f) / 3, (1 - f) / 3, (1 - f) / 3], axis=-1)
    for e in bbm92_qber_bell(w):
        assert np.allclose(e, 2 * (1 - f) / 3) and np.allclose(werner_qber(f), e)


@pytest.mark.parametrize(("fidelity", "p_z"), [(0.9, 0.5), (0.95, 0.8)])
def test_werner_pairs_sampled_qber_within_ci(fidelity, p_z):
    n = 40_000
    rng = np.random.default_rng(11)
    k = entanglement_key(np.full(n, fidelity), np.zeros(n, int), 1, p_z=p_z, rng=rng)
    e = 2 * (1 - fidelity) / 3
    n_sift = int(k.sifted_bits[0])
    q = p_z**2 + (1 - p_z) ** 2
    assert abs(n_sift - n * q) < 4 * math.sqrt(n * q * (1 - q))
    n_z = n_sift * p_z**2 / q  # approximately: the CI width is what matters
    for qb, m in ((k.qber_z[0], n_z), (k.qber_x[0], n_sift - n_z)):
        assert abs(qb - e) < 4 * math.sqrt(e * (1 - e) / m)
    assert k.expected_qber[0] == pytest.approx(e)
    if p_z == 0.5:  # f = 1, p_z = 1/2: K = n_sift (1 - 2 h2(e))
        assert k.key_bits_expected[0] == pytest.approx(n / 2 * (1 - 2 * binary_entropy(e)))
    # the sampled key uses QBER upper bounds (eps_pe = 1e-3): below, but near, the asymptote
    assert 0.6 * k.key_bits_expected[0] < k.key_bits_sampled[0] <= k.key_bits_expected[0]


def test_few_error_free_pairs_give_no_sampled_key():
    # 20 perfect pairs: no error is seen, but 10 bits cannot certify a low QBER
    k = entanglement_key(np.ones(20), np.zeros(20, int), 1, rng=np.random.default_rng(3))
    assert k.errors[0] == 0
    assert k.key_bits_sampled[0] == 0.0
    assert k.key_bits_expected[0] == pytest.approx(10.0)


def test_qber_upper_bound_is_clopper_pearson():
    from scipy.stats import binom

    for k_err, n in ((0, 50), (3, 100), (40, 400)):
        u = float(qber_upper_bound(k_err, n, 1e-3))
        # at the bound, seeing <= k errors has probability eps_pe
        assert binom.cdf(k_err, n, u) == pytest.approx(1e-3, rel=1e-6)


def test_qber_upper_bound_equals_scipy_stats_beta_ppf_bit_for_bit():
    # the bound uses scipy.special.betaincinv (no scipy.stats import); the same values as
    # scipy.stats.beta.ppf, exactly, over many (k, n, eps) and the edges (no bits, k >= n)
    from scipy.stats import beta

    rng = np.random.default_rng(0)
    n = np.concatenate([rng.integers(1, 10**7, 20000), [0, 0, 1, 5, 5]]).astype(float)
    k = np.concatenate([np.floor(rng.random(20000) ** 3 * n[:20000]), [0, 3, 1, 5, 7]])
    for eps in (1e-15, 1e-10, 1e-6, 1e-3, 0.05, 0.5):
        with np.errstate(invalid="ignore"):
            ref = np.where(k >= n, 1.0, beta.ppf(1.0 - eps, k + 1.0, np.maximum(n - k, 1.0)))
        ref = np.where(n > 0, np.minimum(ref, 0.5), 0.5)
        assert np.array_equal(qber_upper_bound(k, n, eps), ref)


def test_entanglement_qkd_per_user_pair_from_deliveries():
    from qnetai.results.synthetic import synthetic_result

    sim = synthetic_result(nodes=3, deliveries=400, seed=2)
    r = simulate_key_network(sim.scenario, sim, rng=np.random.default_rng(0))
    rows = r.entanglement_qkd.to_pylist()
    assert len(rows) == 1 and rows[0]["pairs_delivered"] == 400
    fid = sim.deliveries.column("fidelity").to_numpy()
    assert rows[0]["expected_qber"] == pytest.approx(np.mean(2 * (1 - fid) / 3))
    assert rows[0]["key_rate_bps_expected"] == pytest.approx(
        rows[0]["key_bits_expected"] / sim.summary["simulated_s"]
    )
    # a configured pair without deliveries still gets a row, with zeros
    sc = sim.scenario.model_copy(
        update={
            "qkd": sim.scenario.qkd.model_copy(
                update={
                    "entanglement": sim.scenario.qkd.entanglement.model_copy(
                        update={"pairs": [("n0", "n1")]}
                    )
                }
            )
        }
    )
    rows = simulate_key_network(sc, sim, rng=np.random.default_rng(0)).entanglement_qkd
    assert rows.to_pylist()[0]["pairs_delivered"] == 0


# -- configuration ------------------------------------------------------------------------


def test_unknown_nodes_are_reported_with_their_field_path():
    sc = line_scenario(
        qkd={
            "relay": {"requests": [{"source": "u0", "destination": "nope"}]},
            "entanglement": {"pairs": [["u1", "ghost"]]},
        }
    )
    with pytest.raises(InputError) as info:
        check_key_network(sc)
    msg = str(info.value)
    assert "qkd.relay.requests[0].destination: unknown node 'nope'" in msg
    assert "qkd.entanglement.pairs[0][1]: unknown node 'ghost'" in msg


@pytest.mark.parametrize(
    ("qkd", "path"),
    [
        (
            {"relay": {"requests": [{"source": "u0", "destination": "u1", "key_bits": 0}]}},
            "qkd.relay.requests[0].key_bits",
        ),
        ({"mode": "quantum"}, "qkd.mode"),
        ({"pool_capacity_bits": 10, "initial_pool_bits": 20}, "qkd"),
        ({"entanglement": {"p_z": 1.0}}, "qkd.entanglement.p_z"),
    ],
)
def test_bad_qkd_config_names_the_field(qkd, path):
    with pytest.raises(InputError, match=path.replace("[", r"\[").replace("]", r"\]")):
        line_scenario(qkd=qkd)


def test_disabled_qkd_gives_empty_tables():
    r = simulate_key_network(line_scenario(qkd={"enabled": False}), rng=np.random.default_rng(0))
    assert r.link_key_rates.num_rows == 0 and r.relay.num_rows == 0
    assert r.summary["enabled"] is False
