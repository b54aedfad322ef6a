"""The batched repeater chain: closed forms, exact means and Monte Carlo agreement."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.sim.chain import (
    ChainResult,
    exact_mean_fidelity,
    exact_mean_waiting_time_s,
    expected_max_geometric,
    simulate_chain,
)
from qnetai.sim.chain_exact import _expected_max_by_tail_sum

BASE = {"attempt_s": 1e-3, "fidelity": 0.95, "t_coh_s": 0.02}


def _sim(seed: int = 0, **kw) -> ChainResult:
    args = {**BASE, **kw}
    return simulate_chain(rng=np.random.default_rng(seed), **args)


def _werner(f: float) -> float:
    return (4 * f - 1) / 3


# ---------------------------------------------------------------- exact formulas


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.9, 1.0])
def test_exact_waiting_time_one_and_two_segments(p):
    assert exact_mean_waiting_time_s(1, p, 2e-3) == pytest.approx(2e-3 / p, rel=1e-14)
    expected = (3 - 2 * p) / (p * (2 - p))
    assert expected_max_geometric(2, p) == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(("n", "p"), [(3, 0.2), (8, 0.01), (16, 0.5), (40, 0.3)])
def test_exact_waiting_time_rational_matches_tail_sum(n, p):
    assert expected_max_geometric(n, p) == pytest.approx(_expected_max_by_tail_sum(n, p), rel=1e-12)


def test_exact_waiting_time_long_chain_uses_tail_sum():
    n, p = 1000, 0.2
    # For long chains E[max] ~ log(n)/(-log q) + 1/2 + gamma/(-log q) (Gumbel); loose check.
    lam = -math.log1p(-p)
    approx = (math.log(n) + 0.5772156649) / lam + 0.5
    assert expected_max_geometric(n, p) == pytest.approx(approx, rel=2e-3)


def test_exact_fidelity_two_segments_closed_form():
    p, a, f, t_coh = 0.3, 1e-3, 0.9, 5e-3
    q, c = 1 - p, a / t_coh
    # D = |K1 - K2|: P(D=0) = p/(2-p), P(D=d) = 2 p q^d / (2-p) for d >= 1.
    x = q * math.exp(-c)
    e_decay = p / (2 - p) * (1 + 2 * x / (1 - x))
    expected = (3 * _werner(f) ** 2 * e_decay + 1) / 4
    assert exact_mean_fidelity(2, p, a, f, t_coh) == pytest.approx(expected, rel=1e-13)


def _brute_force_decay(n: int, p: float, c: float, kmax: int) -> float:
    """E[exp(-c D)] by enumerating K in [1, kmax]^n and counting runs round by round."""
    q = 1 - p
    ks = np.array(list(itertools.product(range(1, kmax + 1), repeat=n)))  # (M, n)
    t = ks.max(axis=1)
    d = np.zeros(len(ks))
    for r in range(kmax):
        gen = ks <= r  # links existing during round interval [r, r+1)
        run_starts = gen.copy()
        run_starts[:, 1:] &= ~gen[:, :-1]
        d += np.where(r < t, run_starts.sum(axis=1), 0)
    prob = p**n * q ** (ks.sum(axis=1) - n)
    return float(np.sum(prob * np.exp(-c * d)))


@pytest.mark.parametrize(
    ("n", "p", "c", "kmax"), [(3, 0.5, 0.3, 40), (4, 0.6, 0.1, 18), (5, 0.7, 0.5, 11)]
)
def test_exact_fidelity_matches_enumeration(n, p, c, kmax):
    f = 0.97
    brute = (3 * _werner(f) ** n * _brute_force_decay(n, p, c, kmax) + 1) / 4
    truncated_mass = n * (1 - p) ** kmax  # P(some K_i > kmax) bounds the enumeration error
    exact = exact_mean_fidelity(n, p, c, f, 1.0)
    assert brute <= exact + 1e-12
    assert exact - brute <= truncated_mass + 1e-12


def test_exact_fidelity_limits():
    # No decoherence: w0^N; p = 1: everything in round 1, no storage.
    assert exact_mean_fidelity(5, 0.2, 1e-3, 0.9, math.inf) == pytest.approx(
        (3 * _werner(0.9) ** 5 + 1) / 4, rel=1e-13
    )
    assert exact_mean_fidelity(6, 1.0, 1e-3, 0.9, 1e-3) == pytest.approx(
        (3 * _werner(0.9) ** 6 + 1) / 4, rel=1e-13
    )
    assert exact_mean_fidelity(1, 0.1, 1e-3, 0.8, 1e-6) == 0.8
    assert exact_mean_fidelity(4, 0.1, 1e-3, 0.25, 1.0) == 0.25
    with pytest.raises(InputError, match="segments"):
        exact_mean_fidelity(21, 0.1, 1e-3, 0.9, 1.0)


def test_storage_count_formula_matches_definition():
    """The per-sample D used by the fast path equals the round-by-round run count."""
    rng = np.random.default_rng(5)
    for n in (1, 2, 3, 6):
        ks = rng.geometric(0.3, size=(2000, n))
        t = ks.max(axis=1)
        closed = (t - ks[:, 0]) + np.maximum(ks[:, :-1] - ks[:, 1:], 0).sum(axis=1)
        d = np.zeros(len(ks), dtype=int)
        for r in range(int(t.max())):
            gen = ks <= r
            starts = gen.copy()
            starts[:, 1:] &= ~gen[:, :-1]
            d += np.where(r < t, starts.sum(axis=1), 0)
        np.testing.assert_array_equal(closed, d)


# ---------------------------------------------------------------- Monte Carlo


def _within(mean: float, sem: float, exact: float, k: float = 4.0) -> None:
    assert abs(mean - exact) < k * sem + 1e-15, (mean, exact, sem)


@pytest.mark.parametrize("cut", [None, 1e-4, 0.5])
def test_one_segment_closed_forms(cut):
    p = 0.2
    r = _sim(segments=1, p_gen=p, samples=50_000, p_swap=0.6, cutoff_s=cut)
    assert np.all(r.fidelities == 0.95)
    rounds = r.waiting_times_s / 1e-3
    np.testing.assert_allclose(rounds, np.round(rounds), atol=1e-9)
    assert rounds.min() == pytest.approx(1.0)
    _within(r.mean_waiting_time_s, r.sem_waiting_time_s, 1e-3 / p)
    # geometric: P(T = attempt) = p, within 4 binomial standard errors
    frac = np.mean(np.isclose(rounds, 1.0))
    assert abs(frac - p) < 4 * math.sqrt(p * (1 - p) / r.samples)


@pytest.mark.parametrize(("n", "p"), [(2, 0.3), (3, 0.5), (8, 0.1)])
def test_fast_path_matches_exact_means(n, p):
    r = _sim(segments=n, p_gen=p, samples=200_000, seed=n)
    _within(r.mean_waiting_time_s, r.sem_waiting_time_s, exact_mean_waiting_time_s(n, p, 1e-3))
    _within(r.mean_fidelity, r.sem_fidelity, exact_mean_fidelity(n, p, 1e-3, 0.95, 0.02))
    d = r.to_dict()
    assert d["exact_mean_waiting_time_s"] == pytest.approx(exact_mean_waiting_time_s(n, p, 1e-3))
    assert d["exact_mean_fidelity"] == pytest.approx(exact_mean_fidelity(n, p, 1e-3, 0.95, 0.02))


@pytest.mark.parametrize(("n", "p"), [(2, 0.4), (5, 0.3)])
def test_event_path_matches_exact_means_with_inert_cutoff(n, p):
    """A cut-off that can never act forces the event-wise sampler; it must give the same means."""
    r = _sim(segments=n, p_gen=p, samples=40_000, cutoff_s=1e6, seed=11)
    _within(r.mean_waiting_time_s, r.sem_waiting_time_s, exact_mean_waiting_time_s(n, p, 1e-3))
    _within(r.mean_fidelity, r.sem_fidelity, exact_mean_fidelity(n, p, 1e-3, 0.95, 0.02))
    assert r.to_dict()["exact_mean_waiting_time_s"] is None


def test_two_segments_probabilistic_swap_closed_form():
    """N=2: each cycle ends in one swap; failed cycles restart both links: E[T] = E[max]/p_swap.

    The swap outcome is independent of the cycle, so the delivered fidelity has the same law
    as with p_swap = 1.
    """
    p, q = 0.3, 0.6
    r = _sim(segments=2, p_gen=p, p_swap=q, samples=60_000, seed=3)
    _within(r.mean_waiting_time_s, r.sem_waiting_time_s, exact_mean_waiting_time_s(2, p, 1e-3) / q)
    _within(r.mean_fidelity, r.sem_fidelity, exact_mean_fidelity(2, p, 1e-3, 0.95, 0.02))


@pytest.mark.parametrize("n", [2, 3])
def test_cutoff_shorter_than_a_round(n):
    """A link survives only the round it appears in: all N must succeed in the same round."""
    p = 0.5
    r = _sim(segments=n, p_gen=p, cutoff_s=0.5e-3, samples=40_000, seed=n)
    _within(r.mean_waiting_time_s, r.sem_waiting_time_s, 1e-3 / p**n)
    np.testing.assert_allclose(r.fidelities, (3 * _werner(0.95) ** n + 1) / 4, rtol=1e-12)


def test_cutoff_and_failed_swaps_make_things_slower_but_not_worse():
    base = _sim(segments=4, p_gen=0.3, samples=20_000, seed=1)
    cut = _sim(segments=4, p_gen=0.3, samples=20_000, seed=1, cutoff_s=3e-3)
    assert cut.mean_waiting_time_s > base.mean_waiting_time_s
    assert cut.mean_fidelity > base.mean_fidelity
    # every delivered pair has had its oldest link for at most the cut-off
    assert cut.fidelities.min() >= (3 * _werner(0.95) ** 4 * math.exp(-4 * 3e-3 / 0.02) + 1) / 4


def test_same_seed_same_output():
    for kw in ({}, {"p_swap": 0.7}, {"cutoff_s": 4e-3}):
        a = _sim(segments=4, p_gen=0.2, samples=3000, seed=42, **kw)
        b = _sim(segments=4, p_gen=0.2, samples=3000, seed=42, **kw)
        c = _sim(segments=4, p_gen=0.2, samples=3000, seed=43, **kw)
        np.testing.assert_array_equal(a.waiting_times_s, b.waiting_times_s)
        np.testing.assert_array_equal(a.fidelities, b.fidelities)
        assert not np.array_equal(a.waiting_times_s, c.waiting_times_s)


def test_result_is_frozen_and_summarises():
    r = _sim(segments=3, p_gen=0.4, samples=1000)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.segments = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.waiting_times_s[0] = 1.0
    assert r.samples == 1000
    assert r.std_waiting_time_s == pytest.approx(np.std(r.waiting_times_s, ddof=1))
    assert r.sem_fidelity == pytest.approx(np.std(r.fidelities, ddof=1) / math.sqrt(1000))
    d = r.to_dict()
    for key in (
        "mean_waiting_time_s",
        "std_waiting_time_s",
        "sem_waiting_time_s",
        "mean_fidelity",
        "sem_fidelity",
        "samples",
        "waiting_time_p50_s",
        "waiting_time_p90_s",
        "waiting_time_p99_s",
        "exact_mean_waiting_time_s",
        "exact_mean_fidelity",
    ):
        assert key in d
    assert d["waiting_time_p50_s"] <= d["waiting_time_p90_s"] <= d["waiting_time_p99_s"]
    one = _sim(segments=2, p_gen=0.4, samples=1)
    assert one.std_waiting_time_s == 0.0


@pytest.mark.parametrize(
    ("kw", "name"),
    [
        ({"segments": 0}, "segments"),
        ({"segments": 2.5}, "segments"),
        ({"p_gen": 0.0}, "p_gen"),
        ({"p_gen": 1.5}, "p_gen"),
        ({"attempt_s": 0.0}, "attempt_s"),
        ({"attempt_s": math.inf}, "attempt_s"),
        ({"fidelity": 0.2}, "fidelity"),
        ({"fidelity": float("nan")}, "fidelity"),
        ({"t_coh_s": -1.0}, "t_coh_s"),
        ({"p_swap": 0.0}, "p_swap"),
        ({"p_swap": 1.01}, "p_swap"),
        ({"cutoff_s": 0.0}, "cutoff_s"),
        ({"samples": 0}, "samples"),
    ],
)
def test_bad_parameters_name_the_parameter(kw, name):
    args = {"segments": 2, "p_gen": 0.5, "samples": 10, **kw}
    with pytest.raises(InputError, match=name) as info:
        _sim(**args)
    assert "got" in str(info.value)
