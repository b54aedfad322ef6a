"""Torch-free inference of the routing scorer: the numpy export matches the torch policy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from qnetai.ai.agents import load_routing_policy, resolve_model
from qnetai.ai.routing_env import RoutingParams, routing_observe, routing_reset, routing_step
from qnetai.ai.scorer import NumpyScorer, export_path, file_sha256, load_export
from qnetai.control.slotted import sample_requests, scenario_network, waxman_network

pytest.importorskip("torch")
pytest.importorskip("sb3_contrib")


@pytest.fixture(scope="module")
def torch_model():
    """The shipped model loaded with stable-baselines3 (the reference)."""
    from qnetai.ai.agents import _load_torch

    return _load_torch(str(resolve_model("waxman-routing")))


@pytest.fixture(scope="module")
def scorer():
    s = load_export(resolve_model("waxman-routing"))
    assert s is not None, "the shipped model has a current numpy export"
    return s


def _torch_best(model, obs, mask):
    """Masked arg-max of the torch logits (float32), ties to the lowest index."""
    from qnetai.ai.models import torch_scores

    logits = torch_scores(model, obs)
    return int(np.argmax(np.where(mask, logits, -np.inf)))


def test_shipped_export_is_small_current_and_matches_the_zip(scorer):
    zip_path = resolve_model("waxman-routing")
    npz = export_path(zip_path)
    assert npz.name == "waxman-routing.npz" and npz.stat().st_size < 2_000_000
    assert scorer.source_sha256 == file_sha256(zip_path)
    assert scorer.activations == ("tanh", "tanh") and scorer.n_features == 13
    cfg = json.loads(zip_path.with_suffix(".json").read_text())
    assert cfg["kind"] == "routing"


def test_numpy_scores_equal_torch_scores_on_random_observations(torch_model, scorer):
    from qnetai.ai.models import torch_scores

    rng = np.random.default_rng(0)
    for t in range(200):
        a = int(rng.integers(1, 400))
        obs = rng.normal(0.0, 1.5 if t % 2 else 4.0, size=(a, 13)).astype(np.float32)
        obs[rng.random((a, 13)) < 0.3] = 0.0  # sparse rows as in the envs
        ref = torch_scores(torch_model, obs)
        got = scorer.scores(obs)
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5)
        mask = rng.random(a) < 0.5
        mask[-1] = True
        assert scorer.best_action(obs, mask) == _torch_best(torch_model, obs, mask)


def test_ties_go_to_the_lowest_index_as_in_torch(torch_model, scorer):
    row = np.zeros(13, dtype=np.float32)
    row[[0, 4, 5]] = (0.5, 0.2, 0.25)
    obs = np.stack([row, row, row, row])
    mask = np.array([False, False, True, True])
    assert scorer.best_action(obs, mask) == 2 == _torch_best(torch_model, obs, mask)
    s = scorer.scores(np.stack([row, row * 0.5]))
    best, other = (row, row * 0.5) if s[0] > s[1] else (row * 0.5, row)
    obs = np.stack([other, best, best, other])
    mask = np.array([True, False, True, True])
    assert scorer.best_action(obs, mask) == 2 == _torch_best(torch_model, obs, mask)


@pytest.mark.parametrize("where", ["waxman-50", "waxman-100", "metro-6g"])
def test_same_decisions_as_the_torch_policy_on_slotted_instances(torch_model, scorer, where):
    """Every decision of full slots; also the stable-baselines3 ``predict`` of the zip."""
    if where == "metro-6g":
        nets = [scenario_network("metro-6g")]
    else:
        n = int(where.split("-")[1])
        nets = [waxman_network(n, seed=s) for s in (11, 12)]
    params = RoutingParams(k=6, w_max=8, r_max=10, max_paths=4)
    rng = np.random.default_rng(3)
    steps = 0
    for net in nets:
        for _ in range(2):
            state = routing_reset(net, sample_requests(net, 10, rng), params)
            while not state.done:
                obs, mask = routing_observe(state, params)
                obs = np.clip(obs, -10.0, 10.0)
                a = scorer.best_action(obs, mask)
                assert a == _torch_best(torch_model, obs, mask)
                if steps % 5 == 0:  # the full MaskablePPO path (slower)
                    ref, _ = torch_model.predict(obs, action_masks=mask, deterministic=True)
                    assert a == int(ref)
                state, _, _ = routing_step(state, a, params, mask)
                steps += 1
    assert steps > 10


def test_engine_decisions_equal_with_torch_scores(torch_model):
    """The engine adapter on metro-6g and Waxman-100 with numpy vs torch scores."""
    from qnetai.config import builtin_scenario
    from qnetai.control import get_policy
    from qnetai.sim import Simulation

    num = get_policy("rl:waxman-routing", metric="length_km")
    ref = get_policy("rl:waxman-routing", metric="length_km")
    ref.scorer._scorer = SimpleNamespace(
        best_action=lambda obs, mask: _torch_best(torch_model, obs, mask))
    rng = np.random.default_rng(5)
    n_checked = 0
    for name in ("metro-6g", "waxman-100"):
        sc = builtin_scenario(name).model_copy(update={"duration_s": 0.01})
        sim = Simulation(sc, seed=1)
        names = list(sim.node_names)
        for _ in range(30):
            s, d = rng.choice(names, size=2, replace=False).tolist()
            free = {v: int(rng.integers(0, 12)) for v in names}
            state = SimpleNamespace(free_memory=free.__getitem__, queued_requests=0, now=0.0,
                                    scenario=sim.scenario)
            for st in (sim, state):
                assert num.choose_path(sim.graph, s, d, state=st) == \
                    ref.choose_path(sim.graph, s, d, state=st)
                n_checked += 1
    assert n_checked == 120


def test_torch_backend_and_numpy_backend_agree_and_stale_exports_are_ignored(tmp_path):
    src = resolve_model("waxman-routing")
    pol_np = load_routing_policy("waxman-routing")
    pol_t = load_routing_policy("waxman-routing", backend="torch")
    assert pol_np.model is None and pol_t.model is not None
    for a, b in zip(pol_np.scorer.weights, pol_t.scorer.weights, strict=True):
        assert np.array_equal(a, b)
    net = waxman_network(30, seed=4)
    reqs = sample_requests(net, 6, np.random.default_rng(0))
    assert pol_np.allocate(net, reqs).paths == pol_t.allocate(net, reqs).paths
    # a copy whose export was made from another zip: the export is ignored (torch fallback)
    for suffix in (".zip", ".json"):
        shutil.copy(src.with_suffix(suffix), tmp_path / f"m{suffix}")
    stale = NumpyScorer.load(export_path(src))
    replace(stale, source_sha256="0" * 64).save(tmp_path / "m.npz")
    assert load_export(tmp_path / "m.zip") is None
    pol = load_routing_policy(str(tmp_path / "m"))
    assert pol.model is not None
    from qnetai.errors import InputError

    with pytest.raises(InputError, match="no current numpy export"):
        load_routing_policy(str(tmp_path / "m.zip"), backend="numpy")


def test_loading_an_rl_policy_does_not_import_torch():
    code = (
        "import sys\n"
        "from qnetai.control import get_policy, get_slot_policy\n"
        "import qnetai.control.engine_rl\n"
        "p = get_policy('rl:waxman-routing')\n"
        "q = get_slot_policy('rl:waxman-routing')\n"
        "import networkx as nx\n"
        "from qnetai.config import builtin_scenario\n"
        "from qnetai.sim import Simulation\n"
        "sim = Simulation(builtin_scenario('metro-6g'), seed=1, policy=p)\n"
        "names = sim.node_names\n"
        "assert p.choose_path(sim.graph, names[0], names[-1], state=sim)\n"
        "bad = [m for m in ('torch', 'stable_baselines3', 'sb3_contrib', 'scipy.stats')\n"
        "       if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stderr


def test_binom_survival_is_bitwise_scipy_stats():
    from scipy.stats import binom

    from qnetai.control.slotted import _binom_sf

    rng = np.random.default_rng(0)
    p = np.concatenate([[0.0, 1e-9, 0.5, 1.0 - 1e-12, 1.0], rng.random(300)])
    i = np.arange(1, 17)
    w = np.arange(17)
    args = (i[None, None, :] - 1, w[None, :, None], p[:, None, None])
    assert np.array_equal(_binom_sf(*args), binom.sf(*args))


def test_scorer_docstring_example():
    import doctest

    import qnetai.ai.scorer

    assert doctest.testmod(qnetai.ai.scorer).failed == 0
