"""QKD-secured federated learning: exact aggregation, masked uploads uniform, key outages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from qnetai.kms.secure_fl import (
    SecureFLConfig,
    aggregate,
    decode,
    encode,
    mask,
    pad_from_key,
    run_secure_fl,
)
from qnetai.kms.store import KeyStore

EVE = "metro-central-metro-east"


@pytest.mark.parametrize("ring_bits", [32, 64])
def test_masked_sum_equals_the_plain_sum_exactly(ring_bits):
    rng = np.random.default_rng(1)
    n, p, frac = 5, 40, 16
    xs = [rng.normal(0, 50, size=p) for _ in range(n)]
    enc = [encode(x, frac_bits=frac, ring_bits=ring_bits) for x in xs]
    pads = {
        (i, j): rng.integers(0, 2**ring_bits, size=p, dtype=np.uint64)
        for i in range(n)
        for j in range(i + 1, n)
    }
    masked = [mask(enc[i], i, pads, ring_bits=ring_bits) for i in range(n)]
    assert all(not np.array_equal(m, e) for m, e in zip(masked, enc, strict=True))
    total = aggregate(masked, ring_bits=ring_bits)
    assert np.array_equal(total, aggregate(enc, ring_bits=ring_bits))  # bit for bit
    # decoded: the float sum up to fixed-point rounding, half an ulp per client at most
    err = np.abs(decode(total, frac_bits=frac, ring_bits=ring_bits) - np.sum(xs, axis=0))
    assert err.max() <= n * 2.0 ** -(frac + 1)


def test_encode_refuses_values_outside_the_range():
    with pytest.raises(ValueError, match="range"):
        encode(np.array([2.0**16]), frac_bits=16, ring_bits=32)


def test_single_masked_upload_is_uniform_whatever_the_plaintext():
    """KS and chi-square tests against U[0, 2^32), significance 0.001 each.

    The pads are key material the KMS store hands out (``secrets``), so these draws are not
    seeded: each test fails by chance with probability 0.001 when the masks are uniform.
    The plaintext is a constant (the most structured input); the same test rejects the
    unmasked encodings, so it has power.
    """
    store = KeyStore(":memory:")
    store.configure_pools({("A", "B"): 0.0}, capacity_bits=1 << 22, initial_bits=1 << 22)
    p, k = 32, 32
    x = encode(np.full(p, 3.25), frac_bits=16, ring_bits=k)
    uploads = []
    for _ in range(100):  # 100 keys of 1024 bits: 3200 masked words
        ((_, material),) = store.take_keys("A", ["B"], number=1, size_bits=p * k)
        pad = pad_from_key(material, p, ring_bits=k)
        uploads.append(mask(x, 0, {(0, 1): pad}, ring_bits=k))
    u = np.concatenate(uploads).astype(np.float64) / 2.0**k
    assert stats.kstest(u, "uniform").pvalue > 0.001
    counts = np.bincount((u * 16).astype(int), minlength=16)
    assert stats.chisquare(counts).pvalue > 0.001
    plain = np.tile(x, 100).astype(np.float64) / 2.0**k
    assert stats.kstest(plain, "uniform").pvalue < 1e-10


def test_secure_fedavg_matches_plain_sum_and_learns(metro_key_network):
    r = run_secure_fl(SecureFLConfig(rounds=3, local_epochs=10), key_network=metro_key_network)
    for rec in r.rounds:
        assert len(rec["participants"]) == 4 and not rec["dropped"]
        assert rec["aggregate_equals_encoded_sum"]
        assert rec["max_abs_error_vs_plain_sum"] <= rec["rounding_bound"]
        assert rec["key_bits_used"] == 6 * 1024  # C(4,2) pairs x 32 params x 32 bits
    k = r.key_accounting
    assert k["bits_per_pair_per_round"] == 32 * 32 and k["key_bits_drawn"] == 3 * 6 * 1024
    # same accuracy as the centralised classical baseline within 3 points on 171 test rows
    assert r.accuracy_secure >= r.accuracy_centralised - 0.03 and r.accuracy_secure > 0.9


def test_eavesdropper_aborts_a_link_and_its_clients_drop_out(metro_key_network):
    cfg = SecureFLConfig(
        rounds=4,
        local_epochs=3,
        round_s=1e-4,  # 137 bits per round at the slowest pair: pools drain
        pool_capacity_bits=2048,
        initial_pool_bits=2048,
        eve_link=EVE,
        eve_rounds=(1, 4),
    )
    r = run_secure_fl(cfg, key_network=metro_key_network)
    assert r.rounds[0]["dropped"] == {}
    assert any("aborted" in a for a in r.rounds[1]["alerts"])
    late = r.rounds[-1]
    # metro-east's pairs to the west run through the aborted link: one side must drop
    assert late["dropped"] and len(late["participants"]) < 4
    assert late["aggregate_equals_encoded_sum"]


def test_wait_policy_waits_then_drops_when_the_link_stays_down(metro_key_network):
    cfg = SecureFLConfig(
        rounds=3,
        local_epochs=2,
        round_s=1e-4,
        pool_capacity_bits=2048,
        initial_pool_bits=2048,
        eve_link=EVE,
        eve_rounds=(0, 3),
        on_missing_key="wait",
        max_wait_s=3e-4,
    )
    r = run_secure_fl(cfg, key_network=metro_key_network)
    late = r.rounds[-1]
    assert late["waited_s"] == pytest.approx(3e-4) and late["dropped"]


def test_config_errors_name_the_field(metro_key_network):
    with pytest.raises(ValueError, match="on_missing_key"):
        SecureFLConfig(on_missing_key="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ring_bits"):
        SecureFLConfig(ring_bits=48)
    with pytest.raises(ValueError, match="eve_link"):
        run_secure_fl(SecureFLConfig(rounds=1, eve_link="nowhere"), key_network=metro_key_network)
