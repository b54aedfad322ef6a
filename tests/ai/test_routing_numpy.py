"""Torch-free inference of the routing scorer: the numpy forward pass matches the torch policy.

The reference is a torch ``ScorerPolicy`` (MaskablePPO) holding the shipped weights, built
here from ``waxman-routing.npz`` (no zip is ever loaded).
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from qnetai.ai.agents import load_routing_policy, load_scorer, resolve_model, save_scorer
from qnetai.ai.routing_env import RoutingParams, routing_observe, routing_reset, routing_step
from qnetai.ai.scorer import NumpyScorer
from qnetai.control import model_files
from qnetai.control.slotted import sample_requests, scenario_network, waxman_network


def torch_model_with(scorer: NumpyScorer, requests: int = 10):
    """A MaskablePPO ``ScorerPolicy`` model whose scorer holds ``scorer``'s weights."""
    pytest.importorskip("torch")
    sb3c = pytest.importorskip("sb3_contrib")
    import torch

    from qnetai.ai.models import ScorerPolicy
    from qnetai.ai.routing_env import RoutingEnv

    env = RoutingEnv("waxman", 20, requests, (0,), k=6, w_max=8, max_paths=4)
    model = sb3c.MaskablePPO(
        ScorerPolicy, env, n_steps=64, batch_size=64, seed=0, device="cpu", verbose=0
    )
    ext = model.policy.features_extractor
    linears = [m for m in ext.embed if hasattr(m, "weight")]
    with torch.no_grad():
        for lin, w, b in zip(linears, scorer.weights, scorer.biases, strict=True):
            lin.weight.copy_(torch.as_tensor(np.asarray(w).T))
            lin.bias.copy_(torch.as_tensor(b))
        ext.head.weight.copy_(torch.as_tensor(np.asarray(scorer.head_weight).T))
        ext.head.bias.copy_(torch.as_tensor(scorer.head_bias))
        ext.prior.copy_(torch.tensor(scorer.prior))
    model.policy.set_training_mode(False)
    return model


@pytest.fixture(scope="module")
def scorer():
    s, _ = load_scorer("waxman-routing")
    return s


@pytest.fixture(scope="module")
def torch_model(scorer):
    """The shipped weights in the torch policy (the reference)."""
    return torch_model_with(scorer)


def _torch_best(model, obs, mask):
    """Masked arg-max of the torch logits (float32), ties to the lowest index."""
    from qnetai.ai.models import torch_scores

    logits = torch_scores(model, obs)
    return int(np.argmax(np.where(mask, logits, -np.inf)))


def test_shipped_model_is_two_small_inert_files(scorer):
    files = resolve_model("waxman-routing")
    assert files.npz_path.name == "waxman-routing.npz"
    assert files.npz_path.stat().st_size < 2_000_000
    assert not files.npz_path.with_suffix(".zip").exists()
    assert scorer.activations == ("tanh", "tanh") and scorer.n_features == 13
    cfg = json.loads(files.json_path.read_text())
    assert cfg["format"] == model_files.FORMAT and cfg["kind"] == "routing"
    assert cfg["architecture"]["type"] == "action-scorer"
    with np.load(files.npz_path, allow_pickle=False) as data:
        assert all(data[k].dtype == np.float32 for k in data.files)


def test_torch_model_built_from_the_npz_holds_its_weights(torch_model, scorer):
    from qnetai.ai.models import numpy_scorer

    copy = numpy_scorer(torch_model)
    for a, b in zip(copy.weights, scorer.weights, strict=True):
        assert np.array_equal(a, b)
    assert copy.prior == pytest.approx(scorer.prior)


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
    from qnetai.plugins import routing_policy
    from qnetai.sim import Simulation

    num = routing_policy("rl:waxman-routing", options={"metric": "length_km"})
    ref = routing_policy("rl:waxman-routing", options={"metric": "length_km"})
    ref.scorer.scorer = SimpleNamespace(
        best_action=lambda obs, mask: _torch_best(torch_model, obs, mask)
    )
    rng = np.random.default_rng(5)
    n_checked = 0
    for name in ("metro-6g", "waxman-100"):
        sc = builtin_scenario(name).model_copy(update={"duration_s": 0.01})
        sim = Simulation(sc, seed=1, policy=num)
        names = list(sim.node_names)
        for _ in range(30):
            s, d = rng.choice(names, size=2, replace=False).tolist()
            free = {v: int(rng.integers(0, 12)) for v in names}
            state = SimpleNamespace(
                free_memory=free.__getitem__, queued_requests=0, now=0.0, scenario=sim.scenario
            )
            for st in (sim, state):
                assert num.choose_path(sim.graph, s, d, state=st) == ref.choose_path(
                    sim.graph, s, d, state=st
                )
                n_checked += 1
    assert n_checked == 120


def test_save_and_load_round_trip_keeps_every_decision(tmp_path, scorer):
    meta = {
        k: v
        for k, v in json.loads(resolve_model("waxman-routing").json_path.read_text()).items()
        if k not in ("format", "architecture")
    }
    npz = save_scorer(scorer, meta, tmp_path / "copy")
    assert npz == tmp_path / "copy.npz" and (tmp_path / "copy.json").is_file()
    pol = load_routing_policy(str(tmp_path / "copy"))
    ref = load_routing_policy("waxman-routing")
    for a, b in zip(pol.scorer.weights, ref.scorer.weights, strict=True):
        assert np.array_equal(a, b)
    net = waxman_network(30, seed=4)
    reqs = sample_requests(net, 6, np.random.default_rng(0))
    assert pol.allocate(net, reqs).paths == ref.allocate(net, reqs).paths
    assert load_routing_policy(str(tmp_path / "copy.npz")).config["k"] == 6
    assert load_routing_policy(str(tmp_path / "copy.json")).config["k"] == 6


def test_loading_an_rl_policy_does_not_import_torch():
    code = (
        "import sys\n"
        "from qnetai.plugins import routing_policy, slot_policy\n"
        "import qnetai.ai.engine_rl\n"
        "p = routing_policy('rl:waxman-routing')\n"
        "q = slot_policy('rl:waxman-routing')\n"
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
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
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
