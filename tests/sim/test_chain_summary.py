"""Chunked, bounded-memory summaries of the repeater chain (``summarise_chain``)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.sim.chain import simulate_chain, summarise_chain, summary_chunk
from qnetai.sim.chain_fast import chunk_samples
from qnetai.sim.chain_stats import RunningMoments, ValueCounts

BASE = {"attempt_s": 1e-3, "fidelity": 0.95, "t_coh_s": 0.05}


@pytest.mark.parametrize(
    ("kw", "samples"),
    [
        ({"segments": 3, "p_gen": 0.4}, 600_000),  # closed form: three chunks
        ({"segments": 1, "p_gen": 0.3}, 300_000),
        ({"segments": 3, "p_gen": 0.5, "p_swap": 0.8, "cutoff_s": 4e-3}, 70_000),  # events
    ],
)
def test_summary_equals_full_arrays_for_the_same_seed(kw, samples):
    args = {**BASE, **kw, "samples": samples}
    assert samples > summary_chunk(kw["segments"], "p_swap" not in kw)
    full = simulate_chain(rng=np.random.default_rng(11), **args)
    calls = []
    chunked = summarise_chain(
        rng=np.random.default_rng(11), progress=lambda d, t: calls.append((d, t)), **args
    )
    assert chunked.to_dict() == full.to_dict()
    d = chunked.to_dict()
    # ... and the figures are those of the raw samples
    assert d["percentiles_exact"]
    assert d["waiting_time_p90_s"] == np.percentile(full.waiting_times_s, 90)
    assert d["fidelity_p05"] == np.percentile(full.fidelities, 5)
    assert d["mean_waiting_time_s"] == pytest.approx(full.mean_waiting_time_s, rel=1e-13)
    assert d["std_fidelity"] == pytest.approx(full.std_fidelity, rel=1e-9, abs=1e-15)
    assert calls[0] == (0, samples) and calls[-1] == (samples, samples)
    assert all(a[0] < b[0] for a, b in itertools.pairwise(calls))


def test_chunks_shrink_for_long_chains_and_stay_aligned():
    assert chunk_samples(8, 1 << 17, 1 << 21) == 1 << 17
    assert chunk_samples(100, 1 << 17, 1 << 21) == 1 << 14
    assert chunk_samples(10**7, 1 << 17, 1 << 21) == 1
    for n in (1, 16, 17, 100, 5000):
        assert summary_chunk(n, True) % chunk_samples(n, 1 << 17, 1 << 21) == 0
        assert summary_chunk(n, True) * n <= 1 << 22 or summary_chunk(n, True) == 1
    s = summarise_chain(segments=3000, p_gen=0.9, samples=300, rng=np.random.default_rng(0), **BASE)
    assert s.samples == 300 and s.mean_waiting_time_s > 0


def test_running_moments_and_value_counts_match_numpy():
    rng = np.random.default_rng(3)
    x = rng.geometric(0.05, 100_003).astype(float)
    m, vc = RunningMoments(), ValueCounts()
    for lo in range(0, x.size, 7_000):
        m.add(x[lo : lo + 7_000])
        vc.add(x[lo : lo + 7_000])
    assert m.count == x.size
    assert m.mean == pytest.approx(np.mean(x), rel=1e-13)
    assert m.std == pytest.approx(np.std(x, ddof=1), rel=1e-12)
    q = (0, 5, 50, 90, 99, 100)
    assert vc.exact
    np.testing.assert_array_equal(vc.percentile(q), np.percentile(x, q))


def test_value_counts_bounded_with_small_rank_error():
    rng = np.random.default_rng(4)
    x = rng.random(200_000)  # all distinct: the sketch must compress
    vc = ValueCounts(max_distinct=2_000)
    for lo in range(0, x.size, 10_000):
        vc.add(x[lo : lo + 10_000])
        assert vc.values.size <= 2_000
    assert not vc.exact and vc.total == x.size
    # uniform on (0, 1): the value is the rank; the error is within a few entries' mass
    got = vc.percentile((5, 50, 95))
    np.testing.assert_allclose(got, np.percentile(x, (5, 50, 95)), atol=8 / 2_000)


def test_summary_rejects_values_that_would_overflow():
    with pytest.raises(InputError, match="p_gen"):
        summarise_chain(segments=2, p_gen=1e-300, samples=10, rng=np.random.default_rng(0), **BASE)
    with pytest.raises(InputError, match="attempt_s"):
        summarise_chain(
            segments=2,
            p_gen=0.5,
            samples=10,
            rng=np.random.default_rng(0),
            **{**BASE, "attempt_s": 1e300},
        )
    # the smallest allowed p_gen on the event-wise path: no 64-bit overflow, sane times
    s = summarise_chain(
        segments=2, p_gen=1e-12, p_swap=0.5, samples=200, rng=np.random.default_rng(0), **BASE
    )
    assert 1e8 < s.mean_waiting_time_s < 1e11
    assert s.waiting_time_p50_s > 0
