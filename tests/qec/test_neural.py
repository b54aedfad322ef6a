import json

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qec import (
    MatchingDecoder,
    MemoryExperiment,
    NeuralDecoder,
    NeuralModel,
    TrainConfig,
    load_model,
    sample,
    save_model,
    train_decoder,
)
from qnetai.qec._neural import detector_grid, make_arch, numpy_logits, param_shapes, shipped_models

torch = pytest.importorskip("torch")


def _random_model(circuit, residual="matching-correlated", seed=0):
    dem = circuit.detector_error_model(decompose_errors=True)
    grid, index = detector_grid(dem.get_detector_coordinates(), dem.num_detectors)
    arch = make_arch(
        grid=grid, index=index, num_observables=1, channels=(4, 5), hidden=8, residual_of=residual
    )
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(0, 0.5, s).astype(np.float32) for k, s in param_shapes(arch).items()}
    return NeuralModel(arch, params)


@pytest.mark.parametrize("residual", [None, "matching-correlated"])
def test_numpy_forward_equals_torch(residual):
    from qnetai.qec._training import torch_logits, torch_network

    circuit = MemoryExperiment(distance=5, rounds=2, p=0.01).circuit()
    model = _random_model(circuit, residual)
    s = sample(circuit, shots=300, seed=1)
    base = s.observable_flips if residual else None
    a = numpy_logits(model, s.detection_events, base)
    b = torch_logits(torch_network(model), model, s.detection_events, base)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    dn = NeuralDecoder(model=model).for_circuit(circuit)
    dt = NeuralDecoder(model=model, backend="torch").for_circuit(circuit)
    assert np.array_equal(dn.decode_batch(s.detection_events), dt.decode_batch(s.detection_events))


def test_grid_places_every_detector_once():
    for exp in (MemoryExperiment(distance=5, rounds=5), MemoryExperiment(code="repetition")):
        dem = exp.dem()
        grid, index = detector_grid(dem.get_detector_coordinates(), dem.num_detectors)
        assert len(set(index)) == dem.num_detectors <= np.prod(grid)
        assert grid[0] == exp.rounds + 1


def test_zero_head_residual_is_correlated_matching():
    circuit = MemoryExperiment(distance=3, rounds=3, p=0.005).circuit()
    m = _random_model(circuit)
    params = dict(m.params)
    params["head.weight"] = np.zeros_like(params["head.weight"])
    params["head.bias"] = np.full_like(params["head.bias"], -1.0)
    model = NeuralModel(m.arch, params)
    s = sample(circuit, shots=2000, seed=3)
    ref = MatchingDecoder(correlations=True).for_circuit(circuit).decode_batch(s.detection_events)
    out = NeuralDecoder(model=model).for_circuit(circuit).decode_batch(s.detection_events)
    assert np.array_equal(out, ref)


def test_files_roundtrip_and_validation(tmp_path):
    circuit = MemoryExperiment(distance=3, rounds=3, p=0.005).circuit()
    model = _random_model(circuit)
    npz = save_model(model, tmp_path / "m")
    back = load_model(npz)
    assert back.arch == json.loads(json.dumps(model.arch))
    for k, v in model.params.items():
        assert np.array_equal(back.params[k], v)
    with pytest.raises(InputError, match="detectors"):  # wrong code for the model
        NeuralDecoder(model=str(npz)).for_circuit(MemoryExperiment(distance=5).circuit())
    doc = json.loads((tmp_path / "m.json").read_text())
    doc["format"] = "pickle"
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="format"):
        load_model(npz)
    doc["format"] = "qnetai-qec-model/1"
    doc["architecture"]["hidden"] = 9
    (tmp_path / "m.json").write_text(json.dumps(doc))
    with pytest.raises(InputError, match="shape"):
        load_model(npz)
    bad = dict(model.params)
    bad["fc.bias"] = np.full_like(bad["fc.bias"], np.nan)
    with pytest.raises(InputError, match="finite"):
        NeuralModel(model.arch, bad)


def test_training_resumes_exactly(tmp_path):
    exp = MemoryExperiment(distance=3, rounds=3, p=0.01)
    cfg = dict(channels=(4,), hidden=8, batch_size=64, chunk_shots=256, checkpoint_every=2)
    straight = train_decoder(exp, out=tmp_path / "a", config=TrainConfig(steps=6, **cfg))
    train_decoder(exp, out=tmp_path / "b", config=TrainConfig(steps=3, **cfg))
    resumed = train_decoder(
        exp, out=tmp_path / "b", config=TrainConfig(steps=6, **cfg), resume=True
    )
    assert resumed.info["step"] == straight.info["step"] == 6
    for k in straight.params:
        np.testing.assert_allclose(resumed.params[k], straight.params[k], rtol=1e-5, atol=1e-6)
    with pytest.raises(InputError, match="different experiment"):
        train_decoder(
            MemoryExperiment(distance=3, rounds=3, p=0.02),
            out=tmp_path / "b",
            config=TrainConfig(steps=7, **cfg),
            resume=True,
        )


@pytest.mark.parametrize("name", shipped_models())
def test_shipped_models_load_and_fit_their_circuit(name):
    model = load_model(name)
    exp = MemoryExperiment(**model.info["experiment"])
    circuit = exp.circuit()
    dec = NeuralDecoder(model=name).for_circuit(circuit)
    s = sample(circuit, shots=2000, seed=4)
    wrong = np.any(dec.decode_batch(s.detection_events) != s.observable_flips, axis=1).mean()
    base = MatchingDecoder(correlations=True).for_circuit(circuit).decode_batch(s.detection_events)
    ref = np.any(base != s.observable_flips, axis=1).mean()
    assert wrong <= 2 * ref + 0.01  # sanity: never far worse than its base decoder
