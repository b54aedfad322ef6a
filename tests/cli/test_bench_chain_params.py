"""``qnetai bench chain`` takes the chain's parameters and says which chain it ran."""

import json
import math

import pytest

from qnetai.ai.chain_bench import bench_chain_config
from qnetai.cli.main import main
from qnetai.errors import InputError


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return info.value.code or 0, out, err


def test_one_segment_matches_the_geometric_mean(capsys):
    """One segment, one memory, no decoherence: slots to a pair are geometric(p_gen)."""
    p = 0.25
    argv = ["bench", "chain", "--model", "none", "--episodes", "300", "--cutoff-episodes", "10"]
    argv += ["--segments", "1", "--memories", "1", "--p-gen", str(p), "--t-coh-slots", "inf"]
    code, out, _ = _run([*argv, "--target-fidelity", "0.5", "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["model"] is None and doc["chain"]["segments"] == 1
    assert doc["chain"]["p_gen"] == p and doc["chain"]["memories"] == 1
    row = next(r for r in doc["rows"] if r["policy"] == "swap-asap")
    half = row["mean_slots_ci95"]  # 1.96 standard errors
    assert abs(row["mean_slots_to_valid"] - 1 / p) < 2.5 * half  # ~5 sigma


def test_changed_chain_leaves_the_model_out_and_is_printed(capsys):
    argv = ["bench", "chain", "--episodes", "10", "--cutoff-episodes", "10"]
    code, out, _ = _run([*argv, "--segments", "2", "--p-gen", "0.6"], capsys)
    assert code == 0
    flat = " ".join(out.split())
    assert "ran: chain of 2 segments: p_gen per slot 0.6" in flat
    assert "(no learned model)" in flat and "learned model n3-short left out" in flat


def test_model_keeps_its_chain_when_nothing_changes():
    cfg, model, note = bench_chain_config("n3-short", segments=3)  # the model's own value
    assert model == "n3-short" and note == "" and cfg.segments == 3


def test_bad_parameters_exit_2(capsys):
    code, _, err = _run(["bench", "chain", "--p-gen", "2", "--episodes", "10"], capsys)
    assert code == 2 and "p_gen must be in (0, 1]" in err
    with pytest.raises(InputError, match="segments"):
        bench_chain_config(None, segments=0)
    assert math.isinf(bench_chain_config(None, t_coh_slots=math.inf)[0].t_coh_slots)
