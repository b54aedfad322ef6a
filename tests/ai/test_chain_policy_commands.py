import json

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


def test_train_chain_writes_a_loadable_model(tmp_path):
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain-tiny.json", "chain-tiny.npz"]
    from qnetai.ai.chain_training import load_chain_model

    policy, cfg = load_chain_model(tmp_path / "chain-tiny.npz")
    assert cfg.segments >= 2
    assert policy.name.startswith("maskable-ppo")
