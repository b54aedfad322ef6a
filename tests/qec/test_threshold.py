import json

import numpy as np
import pytest

from qnetai.cli.main import main
from qnetai.errors import InputError
from qnetai.qec._threshold import (
    estimate_threshold,
    sweep_threshold,
    synthetic_points,
    threshold_plot_html,
    threshold_table,
)

pytest.importorskip("stim")

PS = (0.006, 0.008, 0.009, 0.011, 0.012, 0.014)


@pytest.mark.parametrize("method", ["crossing", "ansatz"])
def test_recovers_known_threshold_from_exact_curves(method):
    pts = synthetic_points(p_th=0.01, a=0.03, distances=(3, 5, 7), ps=PS, shots=10**10)
    est = estimate_threshold(pts, method=method, bootstrap=0)
    assert est["p_th"] == pytest.approx(0.01, rel=1e-3)


@pytest.mark.parametrize("method", ["crossing", "ansatz"])
def test_bootstrap_interval_covers_threshold_of_noisy_curves(method):
    # 20 data sets of binomial errors around the ansatz with p_th = 1 %: a 95 % interval
    # covers it in >= 15 of them (P(fewer) < 1e-3 for true 95 % coverage)
    rng = np.random.default_rng(7)
    exact = synthetic_points(p_th=0.01, a=0.03, distances=(3, 5, 7), ps=PS, shots=200_000)
    covered = 0
    for _ in range(20):
        pts = [
            dict(r, errors=int(rng.binomial(r["shots"], r["errors"] / r["shots"]))) for r in exact
        ]
        est = estimate_threshold(pts, method=method, bootstrap=100, rng=rng)
        lo, hi = est["ci"]
        covered += lo <= 0.01 <= hi
        assert 0.009 < est["p_th"] < 0.011 and hi - lo < 0.003
    assert covered >= 15


def test_no_crossing_in_range_and_bad_method():
    pts = synthetic_points(p_th=0.05, a=0.03, distances=(3, 5), ps=(0.004, 0.008), shots=10**8)
    assert estimate_threshold(pts, bootstrap=0)["p_th"] is None
    one = synthetic_points(p_th=0.01, a=0.03, distances=(3,), ps=PS, shots=10**6)
    assert estimate_threshold(one, bootstrap=0)["p_th"] is None
    with pytest.raises(InputError):
        estimate_threshold(pts, method="fit")


def test_inline_sweep_is_seeded_same_shots_and_stops_on_errors():
    kw = dict(distances=(3, 5), ps=(0.02, 0.05), code="repetition", max_shots=4000)
    a = sweep_threshold(**kw, max_errors=30, seed=3)
    b = sweep_threshold(**kw, max_errors=30, seed=3)
    assert [r["errors"] for r in a["points"]] == [r["errors"] for r in b["points"]]
    for d in (3, 5):
        for p in (0.02, 0.05):
            shots = {r["shots"] for r in a["points"] if r["distance"] == d and r["p"] == p}
            assert len(shots) == 1  # every decoder decoded the same shots
    # p = 5 % at d = 3 gives far more than 30 errors in the first 4,000-shot batch
    big = [r for r in a["points"] if r["distance"] == 3 and r["p"] == 0.05]
    assert all(r["errors"] >= 30 and r["shots"] == 4000 for r in big)
    for r in a["points"]:
        assert r["ler_per_round_ci"][0] <= r["ler_per_round"] <= r["ler_per_round_ci"][1]
    html = threshold_plot_html(a, threshold_table(a, bootstrap=10))
    assert "<html>" in html[:100] and "plotly" in html


def test_sweep_offers_the_gated_learned_decoder():
    kw = dict(decoders=("matching-correlated", "neural", "neural-gated"), max_shots=2000)
    out = sweep_threshold(distances=(3,), ps=(0.005,), max_errors=10**6, seed=4, **kw)
    rows = {r["decoder"]: r for r in out["points"]}
    assert list(rows) == ["matching-correlated", "neural", "neural-gated"]
    assert {r["shots"] for r in rows.values()} == {2000} and out["skipped"] == []
    # no shipped model for the repetition code: both learned decoders are listed as skipped
    rep = sweep_threshold(distances=(3,), ps=(0.05,), code="repetition", max_errors=10, **kw)
    assert sorted(s["decoder"] for s in rep["skipped"]) == ["neural", "neural-gated"]
    with pytest.raises(InputError, match="neural-gated"):
        sweep_threshold(distances=(3,), ps=(0.05,), decoders=("bposd",), max_shots=10)


def test_sinter_engine_runs_our_decoders():
    out = sweep_threshold(
        distances=(3,),
        ps=(0.05,),
        code="repetition",
        decoders=("matching",),
        max_shots=500,
        max_errors=20,
        engine="sinter",
    )
    (r,) = out["points"]
    assert r["decoder"] == "matching" and r["shots"] >= 1 and r["errors"] >= 0


def test_cli_writes_only_the_named_file(tmp_path, capsys):
    plot = tmp_path / "thr.html"
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "bench",
                "qec-threshold",
                "--code",
                "repetition",
                "--distances",
                "3,5",
                "--sweep-p",
                "0.03,0.08",
                "--max-shots",
                "2000",
                "--max-errors",
                "20",
                "--bootstrap",
                "10",
                "--plot",
                str(plot),
                "--json",
            ]
        )
    assert exc.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thr.html"]
    assert set(out["thresholds"]) == {"matching", "matching-correlated"}
    assert len(out["points"]) == 8 and "<script" in plot.read_text()


@pytest.mark.parametrize(
    "extra",
    [
        ["--sweep-p", "0.6"],
        ["--sweep-p", "abc"],
        ["--distances", "3,x"],
        ["--decoders", "bposd"],
        ["--profile", "huge"],
        ["--engine", "ray"],
        ["--plot", "PLOT.png"],
        ["--plot", "MISSING/x.html"],
    ],
)
def test_cli_bad_input_exit_2(tmp_path, capsys, extra):
    extra = [
        x.replace("PLOT", str(tmp_path / "p")).replace("MISSING", str(tmp_path / "no"))
        for x in extra
    ]
    with pytest.raises(SystemExit) as exc:
        main(["bench", "qec-threshold", "--code", "repetition", "--max-shots", "10", *extra])
    assert exc.value.code == 2
    assert "Traceback" not in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bench_entries_shape():
    from qnetai.qec.bench_entries import ENTRIES, run_qec_d5

    (entry,) = ENTRIES
    assert entry.name == "qec-d5" and entry.run is run_qec_d5 and entry.version


def test_bench_entry_runs_paired_on_few_shots(monkeypatch):
    pytest.importorskip("torch")
    from qnetai.qec import bench_entries

    monkeypatch.setattr(bench_entries, "QUICK_SHOTS", 2000)
    (row,) = bench_entries.run_qec_d5(True)
    assert row["ai"]["method"] == "neural:qec-surface-d5"
    assert row["baseline"]["method"] == "matching-correlated"
    assert row["higher_is_better"] is False and "2000 shots" in row["instance"]
    for side in (row["ai"], row["baseline"]):
        lo, hi = side["ci"]
        assert lo <= side["value"] <= hi and side["time_ms"] > 0
    assert "z = " in row["note"]
