import json
import tempfile

from typer.testing import CliRunner

from qnetai.cli.main import app

runner = CliRunner()


def test_bench_chain_json_rows_share_seeds_and_include_the_learned_policy():
    res = runner.invoke(
        app, ["bench", "chain", "--episodes", "20", "--cutoff-episodes", "10", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)["rows"]
    names = [r["policy"] for r in rows]
    assert "swap-asap" in names
    assert any(n.startswith("maskable-ppo") for n in names)


def test_train_chain_writes_a_loadable_model(tmp_path, monkeypatch):
    scratch = tmp_path / "system-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where SB3 would drop SB3-* folders
    monkeypatch.delenv("SB3_LOGDIR", raising=False)
    res = runner.invoke(
        app,
        [
            "train",
            "chain",
            "--timesteps",
            "256",
            "--name",
            "tiny",
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    written = sorted(p.name for p in tmp_path.iterdir() if p != scratch)
    assert written == ["chain-tiny.json", "chain-tiny.npz"]
    # SB3's default logger would leave an empty SB3-<timestamp> folder in the temp dir per call
    assert [p.name for p in scratch.iterdir() if p.name.startswith("SB3-")] == []
    from qnetai.ai.chain_training import load_chain_model

    policy, cfg = load_chain_model(tmp_path / "chain-tiny.npz")
    assert cfg.segments >= 2
    assert policy.name.startswith("maskable-ppo")
