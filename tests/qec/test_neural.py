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


def test_worker_processes_draw_the_same_data_as_the_training_process(tmp_path):
    # chunk k is a pure function of (circuit, seed, k): 2 spawned workers give the same model
    exp = MemoryExperiment(distance=3, rounds=3, p=0.01)
    cfg = dict(channels=(4,), hidden=8, batch_size=64, chunk_shots=128, checkpoint_every=4)
    inline = train_decoder(exp, out=tmp_path / "a", config=TrainConfig(steps=8, **cfg))
    pooled = train_decoder(exp, out=tmp_path / "b", config=TrainConfig(steps=8, workers=2, **cfg))
    for k in inline.params:
        np.testing.assert_allclose(pooled.params[k], inline.params[k], rtol=1e-6, atol=1e-7)


def test_torch_grid_input_equals_the_numpy_one():
    import torch

    from qnetai.qec._neural import grid_input, make_arch
    from qnetai.qec._training import torch_grid_input

    arch = make_arch(grid=[2, 2, 3], index=[0, 2, 5, 7, 11], num_observables=1)
    dets = np.random.default_rng(3).random((6, 5)) < 0.5
    np.testing.assert_array_equal(
        torch_grid_input(arch, torch.from_numpy(dets)).numpy(), grid_input(arch, dets)
    )


def test_cosine_schedule_and_config_errors():
    cfg = TrainConfig(steps=100, lr=1e-3, lr_schedule="cosine")
    assert cfg.learning_rate(0) == pytest.approx(1e-3)
    assert cfg.learning_rate(100) == pytest.approx(0.0, abs=1e-12)
    wall = TrainConfig(steps=100, lr=1e-3, lr_schedule="cosine", max_wall_s=10.0)
    assert wall.learning_rate(0, elapsed_s=5.0) == pytest.approx(5e-4)  # time ahead of steps
    assert TrainConfig(steps=100).learning_rate(70) == 1e-3
    for bad in ({"device": "tpu"}, {"workers": -1}, {"lr_schedule": "step"}, {"max_wall_s": 0}):
        with pytest.raises(InputError):
            TrainConfig(**bad)


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
