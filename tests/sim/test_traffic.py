import numpy as np

from qnetai.config.models import Scenario
from qnetai.sim.traffic import draw_arrivals


def _scenario(traffic, duration=10.0):
    return Scenario.model_validate(
        {
            "duration_s": duration,
            "nodes": [
                {"name": "A", "kind": "end_user"},
                {"name": "B"},
                {"name": "C", "kind": "end_user"},
                {"name": "D", "kind": "qkd_terminal"},
            ],
            "links": [
                {"endpoints": ["A", "B"]},
                {"endpoints": ["B", "C"]},
                {"endpoints": ["B", "D"]},
            ],
            "traffic": traffic,
        }
    )


def _draw(sc, seed=0):
    idx = {n.name: i for i, n in enumerate(sc.nodes)}
    return draw_arrivals(sc, idx, sc.duration_s, np.random.default_rng(seed))


def test_periodic_at_once_and_horizon():
    sc = _scenario(
        {
            "requests": [
                {
                    "source": "A",
                    "destination": "C",
                    "count": 50,
                    "arrival": {"process": "periodic", "rate_hz": 10.0, "start_s": 1.0},
                },
                {
                    "source": "C",
                    "destination": "A",
                    "count": 3,
                    "pairs_per_request": 4,
                    "timeout_s": 2.0,
                    "arrival": {"process": "at_once", "start_s": 2.0},
                },
            ]
        },
        duration=5.0,
    )
    a = _draw(sc)
    periodic = a.time_s[a.source == 0]
    np.testing.assert_allclose(periodic, 1.0 + np.arange(41) / 10.0)  # cut at the horizon
    burst = a.source == 2
    assert burst.sum() == 3 and (a.time_s[burst] == 2.0).all()
    assert (a.pairs[burst] == 4).all() and (a.timeout_s[burst] == 2.0).all()
    assert np.isinf(a.timeout_s[~burst]).all()
    assert (np.diff(a.time_s) >= 0).all()


def test_poisson_rate_and_random_pairs_are_eligible_and_distinct():
    sc = _scenario({"random": {"count": 20000, "rate_hz": 1000.0}}, duration=100.0)
    a = _draw(sc, seed=3)
    assert len(a) == 20000
    gaps = np.diff(np.concatenate([[0.0], a.time_s]))
    assert abs(gaps.mean() - 1e-3) < 4 * 1e-3 / np.sqrt(gaps.size)
    assert set(np.unique(a.source)) == {0, 2, 3} and (a.source != a.destination).all()
    # uniform over the 6 ordered pairs
    codes = a.source * 4 + a.destination
    counts = np.unique(codes, return_counts=True)[1]
    assert counts.size == 6
    assert np.abs(counts - 20000 / 6).max() < 4 * np.sqrt(20000 / 6)
