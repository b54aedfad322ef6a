import json
import os

import numpy as np
import pytest

from qnetai.errors import InputError
from qnetai.qec import MemoryExperiment, read_dataset, sample, si1000_noise, write_dataset

stim = pytest.importorskip("stim")


@pytest.mark.parametrize(
    ("code", "d", "r", "nd"),
    [("surface", 3, 3, 24), ("surface", 5, 5, 120), ("repetition", 5, 4, 20)],
)
def test_detector_counts(code, d, r, nd):
    for noise in ("depolarizing", "si1000"):
        c = MemoryExperiment(code=code, distance=d, rounds=r, p=0.002, noise=noise).circuit()
        assert c.num_detectors == nd and c.num_observables == 1


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        ({"code": "toric"}, "code="),
        ({"distance": 2}, "distance=2 < 3"),
        ({"rounds": 0}, "rounds=0"),
        ({"p": 0.6}, "p=0.6"),
        ({"noise": "sd6"}, "noise="),
        ({"code": "repetition", "basis": "x"}, "basis='x'"),
    ],
)
def test_experiment_validates(kwargs, msg):
    with pytest.raises(InputError, match=msg):
        MemoryExperiment(**kwargs)


def test_si1000_strengths():
    clean = stim.Circuit.generated("surface_code:rotated_memory_z", distance=3, rounds=2)
    noisy = si1000_noise(clean, p=0.01)
    args = {}
    for inst in noisy.flattened():
        if inst.name in ("DEPOLARIZE1", "DEPOLARIZE2", "X_ERROR", "M", "MR"):
            args.setdefault(inst.name, set()).update(inst.gate_args_copy())
    assert args["DEPOLARIZE2"] == {0.01}
    assert args["X_ERROR"] == {0.02}  # resets
    assert args["M"] == {0.05} and args["MR"] == {0.05}  # measurement flips 5p
    assert args["DEPOLARIZE1"] == {0.001, 0.02}  # gates/idle p/10, idle during readout 2p
    # p = 0 adds no error mechanism; the detectors and observables are unchanged
    zero = si1000_noise(clean, p=0.0)
    assert zero.detector_error_model().num_errors == 0
    assert zero.num_detectors == clean.num_detectors
    # SI1000 is noisier than uniform depolarising at the same p (measurement 5p, reset 2p)
    exp = {
        n: MemoryExperiment(distance=3, rounds=3, p=0.003, noise=n)
        for n in ("depolarizing", "si1000")
    }
    raw = {
        n: sample(e.circuit(), shots=20_000, seed=2).detection_events.mean() for n, e in exp.items()
    }
    assert raw["si1000"] > raw["depolarizing"]


def test_sampling_seeded_and_bounded():
    c = MemoryExperiment(distance=3, rounds=3, p=0.01).circuit()
    a = sample(c, shots=3000, seed=11, batch_shots=1000)
    b = sample(c, shots=3000, seed=11, batch_shots=1000)
    other = sample(c, shots=3000, seed=12, batch_shots=1000)
    assert np.array_equal(a.detection_events, b.detection_events)
    assert not np.array_equal(a.detection_events, other.detection_events)
    with pytest.raises(InputError, match="max_bytes"):
        sample(c, shots=10**6, seed=1, max_bytes=1000)
    with pytest.raises(InputError, match="shots=0"):
        sample(c, shots=0, seed=1)


def test_dataset_roundtrip_and_safety(tmp_path):
    exp = MemoryExperiment(distance=3, rounds=2, p=0.01)
    out = tmp_path / "d.npz"
    meta = write_dataset(exp, shots=5000, seed=3, out=out, batch_shots=2048)
    dets, obs, meta2 = read_dataset(out)
    ref = sample(exp.circuit(), shots=5000, seed=3, batch_shots=2048)
    assert np.array_equal(dets, ref.detection_events)
    assert np.array_equal(obs, ref.observable_flips)
    assert meta2 == json.loads(json.dumps(meta))
    with np.load(out, allow_pickle=False) as z:  # plain arrays only
        assert set(z.files) == {"detection_events", "observable_flips", "circuit", "meta"}
        assert stim.Circuit(str(z["circuit"])) == exp.circuit()
    before = out.read_bytes()
    with pytest.raises(InputError, match="exists"):
        write_dataset(exp, shots=10, seed=4, out=out)
    assert out.read_bytes() == before
    write_dataset(exp, shots=10, seed=4, out=out, overwrite=True)
    assert read_dataset(out)[0].shape == (10, exp.circuit().num_detectors)
    for bad, msg in [
        (tmp_path / "d.parquet", "must end in .npz"),
        (tmp_path / "nodir" / "d.npz", "does not exist"),
    ]:
        with pytest.raises(InputError, match=msg):
            write_dataset(exp, shots=10, seed=1, out=bad)
    with pytest.raises(InputError, match="limit"):
        write_dataset(exp, shots=10**6, seed=1, out=tmp_path / "big.npz", max_bytes=10_000)
    assert sorted(os.listdir(tmp_path)) == ["d.npz"]  # no temporary files left


def test_read_dataset_rejects_other_files(tmp_path):
    f = tmp_path / "x.npz"
    np.savez(f, meta=np.array(json.dumps({"format": "other"})))
    with pytest.raises(InputError, match="format"):
        read_dataset(f)
    g = tmp_path / "y.npz"
    np.savez(g, a=np.array([object()], dtype=object))
    with pytest.raises(InputError, match="not a qnetai QEC dataset"):
        read_dataset(g)
