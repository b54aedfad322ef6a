import json

import numpy as np
import pytest

from qnetai.cli.main import main
from qnetai.qec import MemoryExperiment, bench_qec, logical_error_per_round, wilson_interval

pytest.importorskip("stim")


def test_wilson_and_per_round():
    lo, hi = wilson_interval(0, 100)
    assert lo == 0 and 0.03 < hi < 0.04  # 3.7 % for 0/100
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)
    e = 0.01
    p_shot = (1 - (1 - 2 * e) ** 5) / 2
    assert logical_error_per_round(p_shot, 5) == pytest.approx(e)


def test_bench_same_shots_and_lookup_not_worse_on_repetition():
    exp = MemoryExperiment(code="repetition", distance=3, rounds=3, p=0.03)
    out = bench_qec(
        exp,
        shots=20_000,
        seed=2,
        decoders=["matching", "matching-correlated", "lookup"],
        lookup_train_shots=200_000,
    )
    rows = {r["decoder"]: r for r in out["rows"]}
    assert {r["shots"] for r in rows.values()} == {20_000}
    lo = rows["lookup"]["ler_per_shot_ci"][0]
    mhi = rows["matching"]["ler_per_shot_ci"][1]
    assert lo <= mhi  # the lookup decoder is not worse than matching beyond noise
    for r in rows.values():
        assert r["ler_per_round_ci"][0] <= r["ler_per_round"] <= r["ler_per_round_ci"][1]
        assert r["shots_per_s"] > 0
    for c in out["comparisons"]:
        assert c["only_decoder_wrong"] >= 0 and isinstance(c["intervals_separate"], bool)


def test_cli_dataset_and_bench(tmp_path, capsys):
    out = tmp_path / "train.npz"
    argv = ["dataset", "qec", "--code", "surface", "--distance", "3", "--rounds", "2"]
    argv += ["--p", "0.01", "--shots", "2e3", "--seed", "7", "--out", str(out), "--json"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    meta = json.loads(capsys.readouterr().out)
    assert meta["shots"] == 2000 and meta["experiment"]["rounds"] == 2
    with np.load(out, allow_pickle=False) as z:
        assert z["detection_events"].shape == (2000, 2)  # 16 detectors bit-packed
    with pytest.raises(SystemExit) as e:  # refuses to overwrite
        main(argv)
    assert e.value.code == 2
    assert "exists" in capsys.readouterr().err
    bench = ["bench", "qec", "--distance", "3", "--p", "0.01", "--shots", "3000", "--json"]
    bench += ["--decoders", "matching,matching-correlated"]
    with pytest.raises(SystemExit) as e:
        main(bench)
    assert e.value.code == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["decoder"] for r in doc["rows"]] == ["matching", "matching-correlated"]


def test_cli_train_then_resume(tmp_path, capsys):
    pytest.importorskip("torch")
    stem = str(tmp_path / "m")
    argv = ["train", "qec", "--distance", "3", "--p", "0.01", "--out", stem, "--steps", "2"]
    with pytest.raises(SystemExit) as e:
        main([*argv, "--json"])
    assert e.value.code == 0
    assert json.loads(capsys.readouterr().out)["step"] == 2
    with pytest.raises(SystemExit) as e:  # refuses to start over an existing checkpoint
        main(argv)
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main([*argv[:-1], "3", "--resume", "--json"])
    assert e.value.code == 0
    assert json.loads(capsys.readouterr().out)["step"] == 3
