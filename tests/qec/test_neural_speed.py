"""The fast paths of the learned decoder give the reference's predictions (issue 13 section 3).

The reference is the network evaluated row by row in numpy on every shot; the fast path
deduplicates syndromes and chunks torch batches (exact), and ``gate="disagree"`` differs from
the reference only on shots where plain and correlated matching agree (documented).
"""

import json

import numpy as np
import pytest

from qnetai.cli.main import main
from qnetai.errors import InputError
from qnetai.qec import MatchingDecoder, MemoryExperiment, NeuralDecoder, bench_qec, sample
from qnetai.qec._neural import (
    TORCH_CHUNK,
    NeuralModel,
    detector_grid,
    distinct_rows,
    load_model,
    make_arch,
    numpy_logits,
    param_shapes,
)

pytest.importorskip("torch")

EXP = MemoryExperiment(distance=3, rounds=3, p=0.01)


@pytest.fixture(scope="module")
def shots():
    circuit = EXP.circuit()
    s = sample(circuit, shots=3000, seed=11)
    return circuit, s.detection_events, s.observable_flips


def test_distinct_rows_rebuild_the_batch():
    rng = np.random.default_rng(3)
    dets = (rng.random((500, 21)) < 0.05).astype(np.uint8)
    first, inverse = distinct_rows(dets)
    assert np.array_equal(dets[first][inverse], dets)
    assert len(first) == len({r.tobytes() for r in dets})


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_reference_path_equals_row_by_row_numpy(shots, backend):
    circuit, dets, _ = shots
    model = load_model("qec-surface-d3")
    dec = NeuralDecoder(model=model, backend=backend).for_circuit(circuit)
    base = MatchingDecoder(correlations=True).for_circuit(circuit).decode_batch(dets)
    ref_logits = np.concatenate(
        [numpy_logits(model, dets[i : i + 100], base[i : i + 100]) for i in range(0, 3000, 100)]
    )
    fast_logits = dec.logits(dets)
    np.testing.assert_allclose(fast_logits, ref_logits, rtol=1e-4, atol=1e-4)
    pred = dec.decode_batch(dets)
    assert np.array_equal(pred, base ^ (ref_logits > 0))
    # the network ran once per distinct syndrome, in more than one torch chunk
    n_distinct = len(distinct_rows(dets)[0])
    assert dec.network_shots == 2 * n_distinct and n_distinct > TORCH_CHUNK
    assert dec.decoded_shots == 3000


def test_disagree_gate_differs_only_where_matchings_agree(shots):
    circuit, dets, _ = shots
    ref = NeuralDecoder(model="qec-surface-d3", backend="torch").for_circuit(circuit)
    gated = NeuralDecoder(model="qec-surface-d3", backend="torch", gate="disagree").for_circuit(
        circuit
    )
    corr = MatchingDecoder(correlations=True).for_circuit(circuit).decode_batch(dets)
    plain = MatchingDecoder().for_circuit(circuit).decode_batch(dets)
    dis = np.any(corr != plain, axis=1)
    out, full = gated.decode_batch(dets), ref.decode_batch(dets)
    assert 0 < dis.sum() < len(dis)
    assert np.array_equal(out[dis], full[dis])  # the network decides where they disagree
    assert np.array_equal(out[~dis], corr[~dis])  # correlated matching elsewhere
    assert gated.network_shots == len(distinct_rows(dets[dis])[0])


def test_gate_options_are_checked():
    circuit = EXP.circuit()
    with pytest.raises(InputError, match="gate='x' is not one of none, disagree"):
        NeuralDecoder(gate="x")
    dem = circuit.detector_error_model(decompose_errors=True)
    grid, index = detector_grid(dem.get_detector_coordinates(), dem.num_detectors)
    arch = make_arch(grid=grid, index=index, num_observables=1, channels=(2,), hidden=4)
    arch["residual_of"] = None
    params = {k: np.zeros(s, dtype=np.float32) for k, s in param_shapes(arch).items()}
    model = NeuralModel(arch, params)
    with pytest.raises(InputError, match="needs a residual model"):
        NeuralDecoder(model=model, gate="disagree").for_circuit(circuit)
    empty = (
        NeuralDecoder(model=model)
        .for_circuit(circuit)
        .decode_batch(np.zeros((0, dem.num_detectors), dtype=bool))
    )
    assert empty.shape == (0, 1)


def test_bench_reports_the_gated_decoder_and_time_ratios():
    out = bench_qec(
        EXP, shots=2000, seed=5, decoders=["matching", "matching-correlated", "neural-gated"]
    )
    rows = {r["decoder"]: r for r in out["rows"]}
    g = rows["neural-gated"]
    assert g["gate"] == "disagree" and 0 < g["network_fraction"] < 0.2
    assert rows["matching"]["us_per_round_vs_matching"] == pytest.approx(1.0)
    assert g["us_per_round_vs_matching"] == pytest.approx(
        g["us_per_round"] / rows["matching"]["us_per_round"]
    )
    pairs = {(c["decoder"], c["versus"]) for c in out["comparisons"]}
    assert ("neural-gated", "matching-correlated") in pairs


def test_cli_bench_table_and_json(capsys):
    argv = ["bench", "qec", "--distance", "3", "--p", "0.01", "--shots", "1500", "--seed", "4"]
    argv += ["--decoders", "matching,neural,neural-gated"]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--json"])
    assert e.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["decoder"] for r in doc["rows"]] == ["matching", "neural", "neural-gated"]
    pairs = {(c["decoder"], c["versus"]) for c in doc["comparisons"]}
    assert ("neural-gated", "neural") in pairs
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "neural-gated" in text and "x matching" in text
    with pytest.raises(SystemExit) as e:
        main([*argv[:-1], "neural,nope"])
    assert e.value.code == 2
    assert "nope" in capsys.readouterr().err
