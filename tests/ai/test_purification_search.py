"""Purification circuit search: GA vs exhaustive optimum, DEJMPS at equal yield, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from qnetai.ai.purification_search import (
    SearchProblem,
    cma_search,
    decode,
    evaluate_baselines,
    exhaustive_search,
    genetic_search,
    optimise_purification,
    random_search,
)
from qnetai.cli import optimise_cmd
from qnetai.errors import InputError
from qnetai.physics.purification_circuits import Circuit, NoiseModel, simulate

QEVO = NoiseModel(0.99, 0.99)  # qevo's default case: gate and measurement fidelity 0.99


def test_genetic_search_finds_the_exhaustive_optimum_on_two_pairs() -> None:
    prob = SearchProblem(pairs=2, fidelity=0.8, noise=NoiseModel(0.97, 0.98), max_ops=2)
    exact = exhaustive_search(prob, max_ops=2)
    ga = genetic_search(prob, np.random.default_rng(3), population=30, generations=25)
    assert ga.best.score == pytest.approx(exact.best.score, abs=1e-12)
    # the optimum over one round is DEJMPS' fidelity (it is optimal among 2-pair rounds here)
    dejmps = evaluate_baselines(prob)["dejmps-pumping"]
    assert exact.best.fidelity >= dejmps.fidelity - 1e-12


def test_search_is_reproducible_from_the_generator() -> None:
    prob = SearchProblem(pairs=3, fidelity=0.9, noise=QEVO)
    a = genetic_search(prob, np.random.default_rng(5), population=12, generations=4)
    b = genetic_search(prob, np.random.default_rng(5), population=12, generations=4)
    assert a.best.circuit == b.best.circuit and a.history == b.history
    c = cma_search(prob, np.random.default_rng(5), budget=60)
    d = cma_search(prob, np.random.default_rng(5), budget=60)
    assert c.best.circuit == d.best.circuit


def test_genetic_search_beats_dejmps_at_equal_yield_in_qevo_default_case() -> None:
    base = SearchProblem(pairs=3, fidelity=0.9, noise=QEVO)
    dejmps = evaluate_baselines(base)["dejmps-pumping"]
    prob = SearchProblem(pairs=3, fidelity=0.9, noise=QEVO, min_yield=dejmps.yield_per_pair)
    res = genetic_search(prob, np.random.default_rng(0), population=40, generations=30)
    best = res.best
    assert best.yield_per_pair >= dejmps.yield_per_pair * (1 - 1e-12)
    assert best.raw_pairs <= 3
    assert best.fidelity > dejmps.fidelity + 5e-4
    # the reported figures are the simulator's, recomputed independently of the search
    again = simulate(best.circuit, 0.9, QEVO, backend="density")
    assert float(again.fidelity) == pytest.approx(best.fidelity, abs=1e-10)


def test_front_is_non_dominated_and_within_budget() -> None:
    prob = SearchProblem(pairs=4, fidelity=0.85, noise=QEVO)
    res = random_search(prob, np.random.default_rng(2), budget=300)
    assert res.evaluations <= 300
    for e in res.front:
        assert e.raw_pairs <= 4
        for o in res.front:
            if o is not e:
                assert not (o.fidelity >= e.fidelity and o.yield_per_pair >= e.yield_per_pair)
    assert res.best_at_yield(2.0) is None


def test_decode_respects_budget_and_registers() -> None:
    prob = SearchProblem(pairs=3, fidelity=0.9, registers=3)
    rng = np.random.default_rng(1)
    for _ in range(50):
        c = decode(prob, rng.random(prob.op_limit * 5))
        assert c.raw_pairs <= 3 and c.registers == 3 and len(c.ops) <= prob.op_limit


def test_yield_and_key_rate_targets() -> None:
    prob = SearchProblem(pairs=3, fidelity=0.9, noise=QEVO, target="yield", min_fidelity=0.93)
    res = genetic_search(prob, np.random.default_rng(4), population=30, generations=15)
    assert res.best.fidelity >= 0.93
    assert res.best.yield_per_pair >= evaluate_baselines(prob)["dejmps-pumping"].yield_per_pair
    prob = SearchProblem(pairs=3, fidelity=0.9, noise=QEVO, target="key-rate")
    res = genetic_search(prob, np.random.default_rng(4), population=30, generations=15)
    base = evaluate_baselines(prob)
    assert res.best.key_rate >= max(b.key_rate for b in base.values())
    # with 1 % gate noise, purifying costs more key per raw pair than it gains at F = 0.9
    assert res.best.key_rate == pytest.approx(base["none"].key_rate)


def test_problem_validation() -> None:
    with pytest.raises(InputError, match="pairs"):
        SearchProblem(pairs=1, fidelity=0.9)
    with pytest.raises(InputError, match="target"):
        SearchProblem(pairs=3, fidelity=0.9, target="speed")
    with pytest.raises(InputError, match="registers"):
        SearchProblem(pairs=3, fidelity=0.9, registers=4)
    with pytest.raises(InputError, match="method"):
        optimise_purification(
            SearchProblem(pairs=2, fidelity=0.9), np.random.default_rng(0), methods=("x",)
        )


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    optimise_cmd.register(app)
    return app


def test_cli_json_and_saved_circuit(tmp_path) -> None:
    out = tmp_path / "best.json"
    args = ["optimise", "purification", "--pairs", "3", "--population", "12"]
    args += ["--generations", "4", "--budget", "40", "--seed", "1", "--json", "--out", str(out)]
    r = CliRunner().invoke(_app(), args)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc["methods"]) == {"genetic", "cma-es"}
    names = {row["baseline"] for row in doc["comparison"]}
    assert names == {"none", "bbpssw-pumping", "dejmps-pumping"}
    saved = json.loads(out.read_text())
    c = Circuit.from_dict(saved)
    assert saved["meta"]["fidelity"] == pytest.approx(doc["best"]["fidelity"])
    assert float(simulate(c, 0.9, QEVO).fidelity) == pytest.approx(doc["best"]["fidelity"])
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pairs", "1"], "pairs must be in"),
        (["--fidelity", "1.5"], "fidelity must be in"),
        (["--gate-fidelity", "2"], "gate_fidelity"),
        (["--target", "x"], "target must be one of"),
        (["--methods", "sa"], "method must be among"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_cli_bad_input_exits_2_without_traceback(args: list[str], message: str) -> None:
    r = CliRunner().invoke(_app(), ["optimise", "purification", *args])
    assert r.exit_code == 2
    assert message in r.output and "Traceback" not in r.output
