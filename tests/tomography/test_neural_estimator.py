"""Neural estimator: valid states by construction, inert files, checked loading."""

import json

import numpy as np
import pytest

from qnetai.errors import InputError

torch = pytest.importorskip("torch")

from qnetai.tomography import (  # noqa: E402
    NeuralEstimator,
    bell_state,
    measure_state,
    train_neural_estimator,
)


@pytest.fixture(scope="module")
def est():
    return train_neural_estimator(
        rng=np.random.default_rng(0), readout_error=0.01, n_train=600, steps=60, hidden=(32,)
    )


def test_outputs_are_density_matrices(est):
    counts = np.stack(
        [
            measure_state(
                bell_state(), shots=50, rng=np.random.default_rng(i), readout_error=0.01
            ).counts
            for i in range(5)
        ]
    )
    rho = est.estimate_batch(counts)
    assert rho.shape == (5, 4, 4)
    for r in rho:
        assert np.allclose(r, r.conj().T)
        assert np.isclose(np.trace(r).real, 1.0)
        assert np.linalg.eigvalsh(r).min() > -1e-12


def test_save_load_round_trip_and_refusals(est, tmp_path):
    npz, js = est.save(tmp_path / "m")
    back = NeuralEstimator.load(tmp_path / "m")
    data = measure_state(bell_state(), shots=100, rng=np.random.default_rng(1), readout_error=0.01)
    assert np.allclose(back.estimate(data), est.estimate(data))
    with pytest.raises(InputError, match="readout_error"):
        est.estimate(measure_state(bell_state(), shots=10, rng=np.random.default_rng(1)))
    meta = json.loads(js.read_text())
    meta["format"] = "other"
    js.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="format"):
        NeuralEstimator.load(tmp_path / "m")
    est.save(tmp_path / "m")
    np.savez(npz, w0=np.ones((2, 2)))
    with pytest.raises(InputError, match=r"missing|shapes"):
        NeuralEstimator.load(tmp_path / "m")
    with pytest.raises(InputError, match="no such"):
        NeuralEstimator.load(tmp_path / "absent")
