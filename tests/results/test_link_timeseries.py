"""Per-link generation over time: the engine's bins, the run folder's table, old folders."""

import math

import numpy as np
import pyarrow.parquet as pq
import pytest

from qnetai.config.models import Scenario
from qnetai.control.policy import ShortestPathPolicy
from qnetai.results import read_run, write_run
from qnetai.sim import simulate
from qnetai.sim.result import SCHEMAS
from qnetai.sim.telemetry import TIMESERIES_BINS

P = 0.1


def _scenario(free_space: bool = False) -> Scenario:
    link: dict = {"endpoints": ["A", "B"], "length_km": 10, "attempt_rate_hz": 1e5}
    if free_space:
        link.update(
            kind="free_space",
            free_space={
                "loss_variation": {"period_s": 0.2, "amplitude_db": 6.0, "update_s": 0.005}
            },
        )
    else:
        link["success_probability"] = P
    return Scenario.model_validate(
        {
            "name": "two-nodes",
            "duration_s": 0.2,
            "nodes": [{"name": "A", "memory_qubits": 2}, {"name": "B", "memory_qubits": 2}],
            "links": [link],
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "B",
                        "pairs_per_request": 1_000_000,
                        "min_fidelity": 0.0,
                        "arrival": {"process": "at_once", "start_s": 0.0},
                    }
                ]
            },
        }
    )


@pytest.fixture(scope="module")
def constant():
    return simulate(_scenario(), seed=4, policy=ShortestPathPolicy())


def test_bins_add_up_to_the_links_table(constant):
    lt = constant.link_timeseries
    assert lt.schema == SCHEMAS["link_timeseries"]
    assert lt.num_rows == TIMESERIES_BINS * constant.links.num_rows  # bounded: fixed bins
    start = np.asarray(lt.column("bin_start_s"))
    end = np.asarray(lt.column("bin_end_s"))
    assert np.allclose(end - start, 0.2 / TIMESERIES_BINS)
    gen = np.asarray(lt.column("pairs_generated"))
    assert gen.sum() == constant.links.column("pairs_generated")[0].as_py()
    # the engine-wide per-bin counts are the sum over links
    assert np.array_equal(gen, np.asarray(constant.timeseries.column("pairs_generated")))


def test_heralded_fraction_matches_p_within_ci(constant):
    """Attempts to a herald are geometric(P): pairs / attempts is P within 5 sigma."""
    lt = constant.link_timeseries
    n = int(np.asarray(lt.column("pairs_generated")).sum())
    attempts = int(np.asarray(lt.column("attempts")).sum())
    assert n > 300
    # sum of n geometric(P) draws: mean n/P, variance n(1-P)/P^2
    mean, sd = n / P, math.sqrt(n * (1 - P)) / P
    assert abs(attempts - mean) < 5 * sd


def test_fade_shows_in_heralded_fraction():
    """A +-6 dB fade: rounds emitted in the low-loss half herald more often than in the other."""
    r = simulate(_scenario(free_space=True), seed=2, policy=ShortestPathPolicy())
    lt = r.link_timeseries.to_pandas()
    mid = (lt.bin_start_s + lt.bin_end_s) / 2
    # extra loss = 6 sin(2 pi t / 0.2): positive (more loss) in the first half-period
    lossy = lt[mid < 0.1]
    clear = lt[mid >= 0.1]
    f_lossy = lossy.pairs_generated.sum() / lossy.attempts.sum()
    f_clear = clear.pairs_generated.sum() / clear.attempts.sum()
    assert f_clear > 1.5 * f_lossy


def test_written_and_read_back_and_old_folders(tmp_path, constant):
    out = write_run(constant, tmp_path / "run", catalogue=False)
    table = pq.read_table(out / "link_timeseries.parquet")
    assert table.equals(constant.link_timeseries)
    assert read_run(out).link_timeseries.equals(constant.link_timeseries)
    # a run folder written before the table existed still reads (an empty table)
    (out / "link_timeseries.parquet").unlink()
    view = read_run(out)
    assert view.link_timeseries.num_rows == 0
    assert view.link_timeseries.schema == SCHEMAS["link_timeseries"]


def test_attempts_of_expired_requests_are_counted():
    """Requests expire after N rounds unless heralded first: E[attempts] = E[min(K, N)]."""
    p, n_max, count = 1e-3, 200, 150
    sc = Scenario.model_validate(
        {
            "name": "expiring",
            "duration_s": 1.0,
            "nodes": [{"name": "A", "memory_qubits": 1}, {"name": "B", "memory_qubits": 1}],
            "links": [
                {
                    "endpoints": ["A", "B"],
                    "length_km": 0.1,
                    "attempt_rate_hz": 1e5,
                    "success_probability": p,
                }
            ],
            "traffic": {
                "requests": [
                    {
                        "source": "A",
                        "destination": "B",
                        "count": count,
                        "min_fidelity": 0.0,
                        "timeout_s": n_max * 1e-5,
                        "arrival": {"process": "periodic", "rate_hz": 200},
                    }
                ]
            },
        }
    )
    r = simulate(sc, seed=3, policy=ShortestPathPolicy())
    assert r.summary["requests_expired"] > count // 2  # most are interrupted
    attempts = int(np.asarray(r.link_timeseries.column("attempts")).sum())
    k = np.arange(1, n_max + 1)
    pk = (1 - p) ** (k - 1) * p
    tail = (1 - p) ** n_max
    mean = (pk * k).sum() + tail * n_max
    var = (pk * k**2).sum() + tail * n_max**2 - mean**2
    assert abs(attempts - count * mean) < 5 * math.sqrt(count * var)
