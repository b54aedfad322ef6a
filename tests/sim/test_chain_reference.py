"""The vectorised chain against an independent, slow, per-sample round-by-round simulator."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import pytest

from qnetai.sim.chain import simulate_chain


@dataclass
class _Pair:
    left: int  # first segment covered
    right: int  # one past the last segment covered
    w: float  # Werner parameter at time created_round * attempt
    created_round: int
    oldest_round: int  # generation round of the oldest elementary link inside


def reference_chain(
    n: int,
    p: float,
    attempt_s: float,
    fidelity: float,
    t_coh_s: float,
    p_swap: float,
    cutoff_s: float | None,
    rnd: random.Random,
) -> tuple[float, float]:
    """One chain, round by round: (delivery time, delivered fidelity).

    Written from the model statement: every free segment attempts in each round; at the end of
    round r the new links appear, every run of adjacent pairs is swapped at once (each swap
    succeeds with p_swap; any failure discards the whole run), the end-to-end pair is delivered,
    and pairs that would be older than the cut-off before the next round are discarded.
    """
    w0 = (4 * fidelity - 1) / 3
    pairs: list[_Pair] = []
    r = 0
    while True:
        r += 1
        covered = {s for pr in pairs for s in range(pr.left, pr.right)}
        for s in range(n):
            if s not in covered and rnd.random() < p:
                pairs.append(_Pair(s, s + 1, w0, r, r))
        pairs.sort(key=lambda pr: pr.left)
        runs: list[list[_Pair]] = []
        for pr in pairs:
            if runs and runs[-1][-1].right == pr.left:
                runs[-1].append(pr)
            else:
                runs.append([pr])
        pairs = []
        for run in runs:
            if len(run) == 1:
                pairs.append(run[0])
                continue
            outcomes = [rnd.random() < p_swap for _ in range(len(run) - 1)]
            if all(outcomes):
                w = math.prod(
                    pr.w * math.exp(-(r - pr.created_round) * attempt_s / t_coh_s) for pr in run
                )
                oldest = min(pr.oldest_round for pr in run)
                pairs.append(_Pair(run[0].left, run[-1].right, w, r, oldest))
        if len(pairs) == 1 and pairs[0].left == 0 and pairs[0].right == n:
            pr = pairs[0]
            w = pr.w * math.exp(-(r - pr.created_round) * attempt_s / t_coh_s)
            return r * attempt_s, (3 * w + 1) / 4
        if cutoff_s is not None:
            pairs = [pr for pr in pairs if (r + 1 - pr.oldest_round) * attempt_s <= cutoff_s]


def _reference_samples(samples: int, seed: int, **kw) -> np.ndarray:
    rnd = random.Random(seed)
    return np.array([reference_chain(rnd=rnd, **kw) for _ in range(samples)])


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


# attempt_s = 0.5 s keeps the cut-off arithmetic exact in binary floating point.
CASES = [
    # n, p, p_swap, cutoff_s (in units of attempt_s)
    pytest.param(3, 0.4, 0.7, None, id="n3-pswap0.7"),
    pytest.param(4, 0.3, 1.0, 3.5, id="n4-cutoff3.5"),
    pytest.param(4, 0.5, 0.8, 2.0, id="n4-pswap0.8-cutoff2"),
    pytest.param(5, 0.6, 0.9, 1.0, id="n5-pswap0.9-cutoff1"),
    pytest.param(3, 0.3, 1.0, None, id="n3-plain"),
]


@pytest.mark.parametrize(("n", "p", "p_swap", "cut_rounds"), CASES)
def test_vectorised_chain_matches_reference(n, p, p_swap, cut_rounds):
    attempt = 0.5
    params = {
        "n": n,
        "p": p,
        "attempt_s": attempt,
        "fidelity": 0.93,
        "t_coh_s": 4.0,
        "p_swap": p_swap,
        "cutoff_s": None if cut_rounds is None else cut_rounds * attempt,
    }
    ref = _reference_samples(2500, seed=n * 100 + int(10 * p), **params)
    fast = simulate_chain(
        segments=n,
        p_gen=p,
        attempt_s=attempt,
        fidelity=0.93,
        t_coh_s=4.0,
        p_swap=p_swap,
        cutoff_s=params["cutoff_s"],
        samples=40_000,
        rng=np.random.default_rng(n),
    )
    for ref_x, x in ((ref[:, 0], fast.waiting_times_s), (ref[:, 1], fast.fidelities)):
        (m_ref, se_ref), (m, se) = _mean_se(ref_x), _mean_se(x)
        assert abs(m - m_ref) < 4 * math.hypot(se, se_ref), (m, m_ref)
        # and the distributions: P(X <= reference median) agrees within 4 binomial SEs
        med = np.median(ref_x)
        (c_ref, cse_ref), (c, cse) = _mean_se(ref_x <= med), _mean_se(x <= med)
        assert abs(c - c_ref) < 4 * math.hypot(cse, cse_ref) + 1e-12, (c, c_ref)


def test_reference_is_exact_for_one_segment():
    rnd = random.Random(1)
    for _ in range(50):
        t, f = reference_chain(1, 0.3, 0.5, 0.9, 1.0, 0.5, 0.1, rnd)
        assert f == pytest.approx(0.9) and t % 0.5 == 0
