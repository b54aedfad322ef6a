"""Model files are inert data: nothing a user supplies is unpickled, files are validated strictly,
training writes only inside the folder named, and bad arguments exit 2 without a traceback."""

from __future__ import annotations

import base64
import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from qnetai.cli.main import main
from qnetai.control import model_files
from qnetai.errors import InputError

SHIPPED = model_files.models_dir()


class _Touch:
    """Unpickling this calls ``open(path, "w")``: the marker file appears."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _crafted_zip(path: Path, marker: Path) -> Path:
    """A stable-baselines3-shaped zip whose ``data`` entry unpickles ``_Touch(marker)``."""
    blob = base64.b64encode(pickle.dumps(_Touch(marker))).decode()
    data = {"policy_class": {":type:": "<class 'type'>", ":serialized:": blob}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("data", json.dumps(data))
        zf.writestr("_stable_baselines3_version", "2.3.0")
    return path


@pytest.fixture
def evil(tmp_path):
    """Crafted models beside their (copied) descriptions, and the marker they would create."""
    marker = tmp_path / "PWNED"
    for stem, src in (("router", "waxman-routing"), ("chain-evil", "chain-n3-short")):
        _crafted_zip(tmp_path / f"{stem}.zip", marker)
        # descriptions of the old and the new format beside it
        (tmp_path / f"{stem}.json").write_text((SHIPPED / f"{src}.json").read_text())
    # an .npz whose member is a pickled object array that would create the marker
    buf = io.BytesIO()
    np.save(buf, np.array([_Touch(marker)], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(tmp_path / "objarr.npz", "w") as zf:
        zf.writestr("w0.npy", buf.getvalue())
    (tmp_path / "objarr.json").write_text((SHIPPED / "waxman-routing.json").read_text())
    return tmp_path, marker


def _exit_code(argv: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    return exc.value.code, err


def _scenario_with(tmp_path: Path, routing: str) -> Path:
    from qnetai.config import builtin_scenario_text

    text = builtin_scenario_text("metro-6g")
    assert "routing: rl:waxman-routing" in text
    path = tmp_path / "sc.yaml"
    path.write_text(text.replace("routing: rl:waxman-routing", f"routing: {routing}"))
    return path


@pytest.mark.parametrize("ref", ["router.zip", "router", "objarr", "objarr.npz"])
def test_crafted_routing_model_never_runs_in_run_validate_or_bench(evil, capsys, ref):
    folder, marker = evil
    name = f"rl:{folder / ref}"
    sc = _scenario_with(folder, name)
    for argv in (
        ["run", str(sc), "--out", str(folder / "run"), "--json"],
        ["scenario", "validate", str(sc)],
        [
            "bench",
            "routing",
            "--nodes",
            "20",
            "--requests",
            "3",
            "--slots",
            "1",
            "--no-milp",
            "--methods",
            name,
            "--json",
        ],
    ):
        code, err = _exit_code(argv, capsys)
        assert code == 2, (argv, err)
        assert "Traceback" not in err and err.strip(), err
        assert not marker.exists(), f"unpickled by {argv}"
    assert not (folder / "run" / "summary.json").exists()


@pytest.mark.parametrize("ref", ["chain-evil.zip", "chain-evil", "chain-evil.json"])
def test_crafted_chain_model_never_runs_in_bench_chain(evil, capsys, ref):
    folder, marker = evil
    code, err = _exit_code(
        [
            "bench",
            "chain",
            "--episodes",
            "10",
            "--cutoff-episodes",
            "10",
            "--model",
            str(folder / ref),
            "--json",
        ],
        capsys,
    )
    assert code == 2 and "Traceback" not in err, err
    assert not marker.exists()


def test_zip_is_refused_with_a_reason(evil):
    folder, marker = evil
    from qnetai.ai.agents import load_routing_policy
    from qnetai.ai.chain_training import load_chain_model

    with pytest.raises(InputError, match="stable-baselines3 zip"):
        load_routing_policy(str(folder / "router.zip"))
    with pytest.raises(InputError, match="stable-baselines3 zip"):
        load_chain_model(folder / "chain-evil.zip")
    with pytest.raises(InputError, match="stable-baselines3 zip, which qnetai no longer"):
        load_routing_policy(str(folder / "router"))  # MODEL.zip + old MODEL.json, no npz
    assert not marker.exists()


def test_no_loader_calls_an_unpickler():
    """The loaders contain no call into stable-baselines3's or pickle's loaders."""
    src = Path(model_files.__file__).parents[1]
    for rel in (
        "ai/agents.py",
        "ai/chain_training.py",
        "ai/scorer.py",
        "ai/chain_actor.py",
        "ai/chain_policies.py",
        "ai/engine_rl.py",
        "control/policy.py",
        "plugins.py",
        "control/model_files.py",
    ):
        text = (src / rel).read_text()
        for needle in (
            "MaskablePPO.load",
            "PPO.load",
            "pickle.load",
            "torch.load",
            "allow_pickle=True",
        ):
            assert needle not in text, (rel, needle)


# ------------------------------------------------------------------ strict validation


def _copy_shipped(tmp_path: Path, name: str = "waxman-routing") -> tuple[Path, dict, dict]:
    meta = json.loads((SHIPPED / f"{name}.json").read_text())
    with np.load(SHIPPED / f"{name}.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    return tmp_path / "m", meta, arrays


def _write(stem: Path, meta: dict, arrays: dict) -> None:
    Path(f"{stem}.json").write_text(json.dumps(meta))
    np.savez(f"{stem}.npz", **arrays)


def _load(stem: Path, kinds=("routing", "allocation")):
    return model_files.load_model(model_files.resolve_model(str(stem)), kinds=kinds)


def test_the_shipped_models_validate_and_have_their_kinds():
    assert model_files.shipped_models() == ["chain-het-memory", "chain-n3-short", "waxman-routing"]
    assert model_files.shipped_models(("routing",)) == ["waxman-routing"]
    meta, arrays = _load(SHIPPED / "waxman-routing")
    assert meta["kind"] == "routing" and arrays["w0"].shape == (13, 64)
    meta, arrays = _load(SHIPPED / "chain-n3-short", kinds=("chain",))
    assert arrays["out_w"].shape == (64, 22)
    meta, arrays = _load(SHIPPED / "chain-het-memory", kinds=("chain",))
    assert arrays["out_w"].shape == (64, 6)
    assert not list(SHIPPED.glob("*.zip"))


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda m, a: m.update(format="qnetai-action-scorer/1"), r"m\.json: format must be"),
        (lambda m, a: m.pop("format"), "format must be"),
        (lambda m, a: m.update(kind="evil"), "kind must be one of"),
        (lambda m, a: m.update(kind="chain"), "kind must be routing or allocation"),
        (
            lambda m, a: m["architecture"].update(activations=["tanh", "os.system"]),
            r"architecture\.activations\[1\] must be one of",
        ),
        (lambda m, a: m["architecture"].update(hidden=[64]), r"architecture\.activations must"),
        (lambda m, a: m["architecture"].update(hidden=[64, "64"]), r"architecture\.hidden\[1\]"),
        (lambda m, a: m["architecture"].update(n_features=12), r"w0 must have shape \(12, 64\)"),
        (lambda m, a: m["architecture"].update(prior_feature=13), "prior_feature"),
        (lambda m, a: m["architecture"].update(obs_clip=float("inf")), "obs_clip"),
        (lambda m, a: m["architecture"].update(type="pickle"), r"architecture\.type must be"),
        (lambda m, a: m.update(architecture=[1]), "architecture must be an object"),
        (lambda m, a: a.update(w1=a["w1"][:, :3]), r"w1 must have shape \(64, 64\)"),
        (lambda m, a: a.update(extra=np.zeros(2)), "unexpected: extra"),
        (lambda m, a: a.pop("head_b"), "missing: head_b"),
        (lambda m, a: a.update(b0=a["b0"].astype(np.int64)), "b0 must be floating point"),
        (lambda m, a: a.update(b0=np.full(64, np.nan)), "b0 has non-finite values"),
        (lambda m, a: m.update(k=0), r"k must be an integer in \[1, 10000\]"),
        (lambda m, a: m.pop("max_paths"), "max_paths must be an integer"),
    ],
)
def test_bad_model_files_are_input_errors_naming_file_and_field(tmp_path, edit, needle):
    from qnetai.ai.agents import load_routing_policy

    stem, meta, arrays = _copy_shipped(tmp_path)
    edit(meta, arrays)
    _write(stem, meta, arrays)
    with pytest.raises(InputError, match=needle) as exc:
        load_routing_policy(str(stem))
    assert str(tmp_path) in str(exc.value)


def test_unreadable_files_are_input_errors(tmp_path):
    from qnetai.ai.agents import load_routing_policy

    stem, meta, arrays = _copy_shipped(tmp_path)
    _write(stem, meta, arrays)
    Path(f"{stem}.npz").write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"m\.npz: not a readable weights archive"):
        load_routing_policy(str(stem))
    Path(f"{stem}.npz").write_bytes(pickle.dumps({"w0": 1}))
    with pytest.raises(InputError, match="not a readable weights archive"):
        load_routing_policy(str(stem))
    _write(stem, meta, arrays)
    Path(f"{stem}.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="must hold a JSON object"):
        load_routing_policy(str(stem))
    Path(f"{stem}.json").write_text("{")
    with pytest.raises(InputError, match="not a readable JSON"):
        load_routing_policy(str(stem))


def test_architecture_must_match_the_kind(tmp_path):
    stem, meta, arrays = _copy_shipped(tmp_path)
    meta["kind"] = "chain"
    _write(stem, meta, arrays)
    with pytest.raises(InputError, match=r"architecture\.type must be 'mlp-actor'"):
        _load(stem, kinds=model_files.KINDS)


def test_old_format_json_beside_an_npz_is_refused(tmp_path):
    stem, meta, arrays = _copy_shipped(tmp_path)
    meta = {k: v for k, v in meta.items() if k not in ("format", "architecture")}
    _write(stem, meta, arrays)
    with pytest.raises(InputError, match="format must be 'qnetai-model/1'"):
        _load(stem)


def test_chain_model_must_fit_its_environment(tmp_path):
    from qnetai.ai.chain_training import load_chain_model

    stem, meta, arrays = _copy_shipped(tmp_path, "chain-n3-short")
    meta["config"]["segments"] = 4
    _write(stem, meta, arrays)
    with pytest.raises(InputError, match=r"architecture\.n_obs must be"):
        load_chain_model(f"{stem}.npz")
    meta["config"] = {"segments": 3, "bogus": 1}
    _write(stem, meta, arrays)
    with pytest.raises(InputError, match="config: unknown chain environment parameter"):
        load_chain_model(f"{stem}.json")
    with pytest.raises(InputError, match="kind must be chain"):
        load_chain_model(SHIPPED / "waxman-routing.npz")


def test_write_model_round_trip_and_refuses_symlinks_and_bad_names(tmp_path):
    stem, meta, arrays = _copy_shipped(tmp_path)
    arch = meta.pop("architecture")
    files = model_files.write_model(
        stem, kind="routing", architecture=arch, arrays=arrays, meta={**meta, "bad": float("nan")}
    )
    got_meta, got = model_files.load_model(files)
    assert got_meta["bad"] is None  # strict JSON
    assert all(np.array_equal(got[k], arrays[k]) for k in arrays)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    link = tmp_path / "linked"
    Path(f"{link}.json").symlink_to(victim)
    with pytest.raises(InputError, match="symbolic link"):
        model_files.write_model(link, kind="routing", architecture=arch, arrays=arrays, meta={})
    assert victim.read_text() == "keep"
    for bad in ("..", ".hidden", "a b"):
        with pytest.raises(InputError, match="plain name"):
            model_files.write_model(
                tmp_path / "x" / bad, kind="routing", architecture=arch, arrays=arrays, meta={}
            )
    assert not list(tmp_path.glob("**/*.tmp"))


# ------------------------------------------------------------------ CLI arguments


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", "/abs", "a\\b", ".x"])
def test_train_chain_refuses_names_that_leave_out(tmp_path, capsys, name):
    out = tmp_path / "a" / "b"
    code, err = _exit_code(
        ["train", "chain", "--timesteps", "64", "--name", name, "--out", str(out), "--json"], capsys
    )
    assert code == 2 and "--name" in err and "Traceback" not in err, err
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_train_routing_refuses_an_out_without_a_file_name(tmp_path, capsys):
    for out in (str(tmp_path) + "/..", str(tmp_path) + "/"):
        code, err = _exit_code(
            ["train", "routing", "--timesteps", "64", "--out", out, "--json"], capsys
        )
        assert code == 2 and "--out" in err and "Traceback" not in err, err


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "routing", "--slots", "1", "--seeds", "-1", "--methods", "q-cast"],
        ["bench", "routing", "--slots", "1", "--seeds", "0,-3", "--methods", "q-cast"],
        ["bench", "chain", "--episodes", "10", "--seed", "-1"],
        ["train", "routing", "--timesteps", "64", "--seed", "-1", "--out", "OUT"],
        ["train", "chain", "--timesteps", "64", "--seed", "-1", "--out", "OUT"],
    ],
)
def test_negative_seeds_exit_2_without_traceback(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.chdir(tmp_path)
    code, err = _exit_code([*argv, "--json"], capsys)
    assert code == 2 and "seed" in err.lower() and "Traceback" not in err, err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("method", "needle"),
    [
        ("rl:", "needs a model name"),
        ("rl:chain-n3-short", "kind must be routing or allocation"),
        ("rl:nope", "no model 'nope'"),
    ],
)
def test_bench_routing_bad_learned_methods_exit_2(capsys, method, needle):
    code, err = _exit_code(
        [
            "bench",
            "routing",
            "--nodes",
            "20",
            "--requests",
            "3",
            "--slots",
            "1",
            "--no-milp",
            "--methods",
            method,
            "--json",
        ],
        capsys,
    )
    assert code == 2 and needle in err and "Traceback" not in err, err


def test_scenario_validate_rejects_a_chain_model_as_router(tmp_path, capsys):
    sc = _scenario_with(tmp_path, "rl:chain-n3-short")
    code, err = _exit_code(["scenario", "validate", str(sc)], capsys)
    assert code == 2 and "not a routing scorer" in err and "controller.routing" in err, err
    sc = _scenario_with(tmp_path, "rl:waxman-routing")
    code, err = _exit_code(["scenario", "validate", str(sc)], capsys)
    assert code in (0, None), err


def test_routing_name_check_reads_the_kind_without_torch():
    code = (
        "import sys\n"
        "from qnetai.plugins import check_routing_policy\n"
        "from qnetai.errors import InputError\n"
        "check_routing_policy('rl:waxman-routing')\n"
        "try:\n"
        "    check_routing_policy('rl:chain-n3-short')\n"
        "    raise SystemExit('accepted a chain model')\n"
        "except InputError as exc:\n"
        "    assert 'not a routing scorer' in str(exc), exc\n"
        "bad = [m for m in ('torch', 'stable_baselines3', 'sb3_contrib', 'gymnasium')\n"
        "       if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stderr
