"""``qnetai bench qml``: quantum models, their ablations and classical baselines.

Quantum models, their no-entanglement ablations and classical baselines run on the same
data, folds, seeds and hyperparameter budget.

Protocol (after Bowles, Ahmed and Schuld 2024): per task and seed, one data set; outer
stratified K-fold (grouped by link where rows share one); inside each training part, a
randomised search over ``budget`` hyperparameter settings with ``inner_folds``-fold
cross-validation, the same ``budget`` for every model, then a refit. Every model sees the
same preprocessing: standardisation, and PCA down to ``n_qubits`` components where a task
has more features. Accuracy intervals are Student-t 95 % intervals over all outer folds
and seeds (folds share data, so they are optimistic). Times are CPU seconds per outer fold
(tuning included) and per prediction call on the held-out fold.

Example:
    >>> out = run_qml_benchmark(tasks=("linearly-separable",), models=("logreg",),
    ...     seeds=(0,), n_samples=40, folds=2, budget=1, born=False, qaoa=False, scaling=())
    >>> out["tasks"]["linearly-separable"]["winner"]
    'logreg'
"""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnetai.errors import InputError
from qnetai.qml.datasets import NETWORK_TASKS, TASKS, make_task

__all__ = [
    "CLASSICAL",
    "MODEL_KINDS",
    "QUANTUM",
    "ModelSpec",
    "cost_scaling",
    "model_specs",
    "run_qml_benchmark",
]

#: Quantum models, each with its ``-noent`` ablation.
QUANTUM = ("vqc", "qkernel", "projected")
#: Classical baselines.
CLASSICAL = ("logreg", "svc-rbf", "mlp", "gbm")
#: Model name -> kind.
MODEL_KINDS: dict[str, str] = {
    **{q: "quantum" for q in QUANTUM},
    **{f"{q}-noent": "ablation" for q in QUANTUM},
    **{c: "classical" for c in CLASSICAL},
}
Progress = Callable[[str, int, int], None]
#: Data stream index per task; tasks added later go last so earlier seeded figures still hold.
_STREAM_ORDER = [*sorted(set(TASKS) - {"hyperplanes"}), "hyperplanes"]


@dataclass(frozen=True)
class ModelSpec:
    """A model: ``build(random_state)`` gives an unfitted estimator; ``grid`` its search space."""

    name: str
    kind: str
    build: Callable[[int], Any]
    grid: dict[str, list[Any]]


def _vqc(random_state: int, *, entangling: bool, steps: int) -> Any:
    from qnetai.qml.classifiers import VariationalClassifier

    return VariationalClassifier(entangling=entangling, max_steps=steps, random_state=random_state)


def _qkernel(random_state: int, *, entangling: bool, kernel: str) -> Any:
    from qnetai.qml.classifiers import QuantumKernelClassifier

    return QuantumKernelClassifier(kernel=kernel, entangling=entangling, random_state=random_state)


def model_specs(*, vqc_steps: int = 60) -> dict[str, ModelSpec]:
    """Every model of the benchmark with its hyperparameter grid."""
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    specs: dict[str, ModelSpec] = {}
    for ent in (True, False):
        tag = "" if ent else "-noent"
        kind = "quantum" if ent else "ablation"
        specs["vqc" + tag] = ModelSpec(
            "vqc" + tag,
            kind,
            functools.partial(_vqc, entangling=ent, steps=vqc_steps),
            {"n_layers": [1, 2, 3], "learning_rate": [0.03, 0.1, 0.3]},
        )
        specs["qkernel" + tag] = ModelSpec(
            "qkernel" + tag,
            kind,
            functools.partial(_qkernel, entangling=ent, kernel="fidelity"),
            {"bandwidth": [0.1, 0.3, 1.0], "C": [0.1, 1.0, 10.0, 100.0]},
        )
        specs["projected" + tag] = ModelSpec(
            "projected" + tag,
            kind,
            functools.partial(_qkernel, entangling=ent, kernel="projected"),
            {"bandwidth": [0.1, 0.3, 1.0], "gamma": [0.1, 1.0, 10.0], "C": [0.1, 1.0, 10.0]},
        )
    specs["logreg"] = ModelSpec(
        "logreg",
        "classical",
        lambda rs: LogisticRegression(max_iter=1000, random_state=rs),
        {"C": [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]},
    )
    specs["svc-rbf"] = ModelSpec(
        "svc-rbf",
        "classical",
        lambda rs: SVC(kernel="rbf", random_state=rs),
        {"C": [0.1, 1.0, 10.0, 100.0], "gamma": [0.01, 0.1, 1.0, 10.0]},
    )
    specs["mlp"] = ModelSpec(
        "mlp",
        "classical",
        lambda rs: MLPClassifier(max_iter=500, random_state=rs),
        {"hidden_layer_sizes": [(16,), (32,), (16, 16)], "alpha": [1e-4, 1e-2, 1.0]},
    )
    specs["gbm"] = ModelSpec(
        "gbm",
        "classical",
        lambda rs: GradientBoostingClassifier(random_state=rs),
        {"n_estimators": [50, 100], "max_depth": [2, 3], "learning_rate": [0.05, 0.1, 0.3]},
    )
    return specs


def _pipeline(spec: ModelSpec, n_features: int, n_qubits: int, seed: int) -> Any:
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps: list[tuple[str, Any]] = [("scale", StandardScaler())]
    if n_features > n_qubits:
        steps += [("pca", PCA(n_components=n_qubits, random_state=seed))]
        steps += [("rescale", StandardScaler())]
    steps.append(("model", spec.build(seed)))
    return Pipeline(steps)


def _interval(values: Sequence[float]) -> tuple[float, float]:
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(half)


def _evaluate_task(
    name: str,
    models: Sequence[str],
    specs: dict[str, ModelSpec],
    *,
    seeds: Sequence[int],
    n_samples: int,
    n_qubits: int,
    folds: int,
    inner_folds: int,
    budget: int,
    tick: Callable[[], None],
) -> dict[str, Any]:
    from sklearn.model_selection import RandomizedSearchCV, StratifiedGroupKFold, StratifiedKFold

    records: dict[str, dict[str, list[Any]]] = {
        m: {"acc": [], "fit": [], "predict": [], "params": [], "n_params": []} for m in models
    }
    n_features = 0
    task_index = _STREAM_ORDER.index(name)
    for seed in seeds:
        task = make_task(
            name, n_samples, n_features=n_qubits, rng=np.random.default_rng([seed, task_index])
        )
        n_features = task.X.shape[1]
        width = min(n_features, n_qubits)
        if task.groups is not None:
            outer = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
            splits = list(outer.split(task.X, task.y, task.groups))
        else:
            outer = StratifiedKFold(folds, shuffle=True, random_state=seed)
            splits = list(outer.split(task.X, task.y))
        for fold, (tr, te) in enumerate(splits):
            for m in models:
                spec = specs[m]
                pipe = _pipeline(spec, n_features, width, seed)
                grid = {f"model__{k}": v for k, v in spec.grid.items()}
                inner = StratifiedKFold(inner_folds, shuffle=True, random_state=seed + fold)
                search = RandomizedSearchCV(
                    pipe, grid, n_iter=budget, cv=inner, random_state=seed, error_score="raise"
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.process_time()
                    search.fit(task.X[tr], task.y[tr])
                    t1 = time.process_time()
                    acc = float(search.score(task.X[te], task.y[te]))
                    t2 = time.process_time()
                rec = records[m]
                rec["acc"].append(acc)
                rec["fit"].append(t1 - t0)
                rec["predict"].append(t2 - t1)
                rec["params"].append({k[7:]: v for k, v in search.best_params_.items()})
                model = search.best_estimator_.named_steps["model"]
                rec["n_params"].append(_count_params(model))
                tick()
    out: dict[str, Any] = {
        "kind": "network" if name in NETWORK_TASKS else "standard",
        "n_samples": n_samples,
        "n_features": n_features,
        "n_qubits": min(n_features, n_qubits),
        "models": {},
    }
    for m in models:
        rec = records[m]
        mean, half = _interval(rec["acc"])
        out["models"][m] = {
            "kind": MODEL_KINDS[m],
            "accuracy": mean,
            "ci95": half,
            "accuracies": rec["acc"],
            "fit_cpu_s": float(np.mean(rec["fit"])),
            "predict_cpu_s": float(np.mean(rec["predict"])),
            "n_params": int(np.median(rec["n_params"])),
            "best_params": rec["params"][-1],
        }
    out.update(_verdict(out["models"]))
    return out


def _count_params(model: Any) -> int:
    if hasattr(model, "n_params_"):
        return int(model.n_params_)
    if hasattr(model, "coefs_"):
        return int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    if hasattr(model, "coef_"):
        return int(model.coef_.size + np.size(model.intercept_))
    if hasattr(model, "support_vectors_"):
        return int(model.support_vectors_.size + len(model.dual_coef_.ravel()))
    if hasattr(model, "estimators_"):
        return int(sum(t.tree_.node_count for t in np.ravel(model.estimators_)))
    return 0


def _verdict(models: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Winner, best quantum vs best classical, and each ablation's effect."""
    ranked = sorted(models, key=lambda m: -models[m]["accuracy"])
    out: dict[str, Any] = {"winner": ranked[0], "winner_kind": models[ranked[0]]["kind"]}
    q = [m for m in ranked if models[m]["kind"] in ("quantum", "ablation")]
    c = [m for m in ranked if models[m]["kind"] == "classical"]
    if q and c:
        gap = models[c[0]]["accuracy"] - models[q[0]]["accuracy"]
        out.update(best_quantum=q[0], best_classical=c[0], classical_minus_quantum=gap)
    out["ablation_minus_full"] = {
        m: models[f"{m}-noent"]["accuracy"] - models[m]["accuracy"]
        for m in QUANTUM
        if m in models and f"{m}-noent" in models
    }
    return out


def _born_section(*, rows: int, cols: int, steps: int, seed: int) -> dict[str, Any]:
    from sklearn.neural_network import BernoulliRBM

    from qnetai.qml.born import (
        BornMachine,
        bars_and_stripes,
        boltzmann_probabilities,
        empirical_distribution,
        kl_divergence,
        rbm_probabilities,
        total_variation,
    )

    X = bars_and_stripes(rows, cols)
    target = empirical_distribution(X)
    valid = target > 0
    out: dict[str, Any] = {"pixels": rows * cols, "patterns": len(X), "models": {}}

    def record(name: str, p: np.ndarray, n_params: int, cpu: float) -> None:
        out["models"][name] = {
            "tv": total_variation(target, p),
            "kl": kl_divergence(target, p),
            "valid_mass": float(p[valid].sum()),
            "n_params": n_params,
            "fit_cpu_s": cpu,
        }

    for ent in (True, False):
        t0 = time.process_time()
        qcbm = BornMachine(n_layers=3, max_steps=steps, entangling=ent, random_state=seed).fit(X)
        name = "qcbm" if ent else "qcbm-noent"
        record(name, qcbm.probabilities(), qcbm.n_params_, time.process_time() - t0)
    n = rows * cols
    hidden = max(1, round((6 * n - n) / (n + 1)))  # about the QCBM's 3 x n x 2 parameters
    t0 = time.process_time()
    rbm = BernoulliRBM(
        n_components=hidden,
        learning_rate=0.05,
        n_iter=2000,
        batch_size=len(X),
        random_state=seed,
    )
    rbm.fit(np.repeat(X, 10, axis=0))
    record("rbm", rbm_probabilities(rbm), n * hidden + n + hidden, time.process_time() - t0)
    t0 = time.process_time()
    p_fvbm, n_fvbm = boltzmann_probabilities(X, steps=steps)
    record("boltzmann", p_fvbm, n_fvbm, time.process_time() - t0)
    return out


def _qaoa_section(
    *, n_nodes: Sequence[int], depths: Sequence[int], steps: int, restarts: int, seed: int
) -> list[dict[str, Any]]:
    from qnetai.qml.qaoa import maxcut_graph, solve_maxcut

    rows = []
    for n in n_nodes:
        g = maxcut_graph("waxman", n, seed=seed)
        for p in depths:
            r = solve_maxcut(
                g, depth=p, restarts=restarts, steps=steps, rng=np.random.default_rng([seed, n, p])
            )
            rows.append(r)
    return rows


def _scaling_section(qubits: Sequence[int], *, repeats: int = 3) -> list[dict[str, Any]]:
    """Circuit evaluations and gradients per second (CPU time) of a 2-layer VQC circuit.

    ``default.qubit`` (backprop) is measured up to 16 qubits only.
    """
    from qnetai.qml._backend import torch
    from qnetai.qml.classifiers import VariationalClassifier

    th = torch()
    rows = []
    for n in qubits:
        for dev in ("default.qubit", "lightning.qubit"):
            if dev == "default.qubit" and n > 16:
                continue  # backprop keeps every intermediate state: too much memory here
            clf = VariationalClassifier(n_layers=2, device=dev)
            circuit = clf._qnode(n)
            w = th.tensor(np.random.default_rng(0).uniform(0, 6, (2, n, 3)), requires_grad=True)
            s = th.ones((2, n), dtype=th.float64, requires_grad=True)
            x = th.tensor(np.random.default_rng(1).normal(size=(1, n)))
            t0 = time.process_time()
            for _ in range(repeats):
                with th.no_grad():
                    circuit(w, s, x)
            t1 = time.process_time()
            for _ in range(repeats):
                th.stack(list(circuit(w, s, x))).sum().backward()
            t2 = time.process_time()
            rows.append(
                {
                    "n_qubits": n,
                    "device": dev,
                    "evals_per_s": repeats / max(t1 - t0, 1e-9),
                    "gradients_per_s": repeats / max(t2 - t1, 1e-9),
                    "n_params": 2 * n * 4,
                }
            )
    return rows


def cost_scaling(
    qubits: Sequence[int] = (4, 8, 12, 16),
    *,
    models: Sequence[str] = tuple(MODEL_KINDS),
    n_train: int = 16,
    n_test: int = 16,
    vqc_steps: int = 5,
    seed: int = 0,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """CPU seconds per sample to train and to predict, per model, at each qubit count.

    One task (linearly-separable with ``n`` features = ``n`` qubits), ``n_train`` training
    and ``n_test`` test rows, each model at its default hyperparameters (VQC: 2 layers,
    ``vqc_steps`` full-batch Adam steps on ``default.qubit``; kernels: the Gram matrix of
    the training rows, then the test-vs-train block). Train time per sample is fit CPU over
    ``n_train`` (for the VQC also per step), predict time is predict CPU over ``n_test``.
    Run with ``OMP_NUM_THREADS=1`` on a shared machine.

    Example:
        >>> rows = cost_scaling((2,), models=("logreg",), n_train=8, n_test=4)
        >>> rows[0]["model"], rows[0]["n_qubits"]
        ('logreg', 2)
    """
    specs = model_specs(vqc_steps=vqc_steps)
    rows: list[dict[str, Any]] = []
    total, done = len(qubits) * len(models), 0
    warm = make_task("linearly-separable", 8, n_features=2, rng=np.random.default_rng(seed))
    specs["vqc"].build(seed).set_params(max_steps=1).fit(warm.X, warm.y)  # imports, caches
    for n in qubits:
        task = make_task(
            "linearly-separable", n_train + n_test, n_features=n, rng=np.random.default_rng(seed)
        )
        Xtr, ytr = task.X[:n_train], task.y[:n_train]
        Xte = task.X[n_train:]
        for m in models:
            model = specs[m].build(seed)
            if m.startswith("vqc"):
                model.set_params(batch_size=n_train)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.process_time()
                model.fit(Xtr, ytr)
                t1 = time.process_time()
                model.predict(Xte)
                t2 = time.process_time()
            row: dict[str, Any] = {
                "n_qubits": n,
                "model": m,
                "kind": MODEL_KINDS[m],
                "train_cpu_s_per_sample": (t1 - t0) / n_train,
                "predict_cpu_s_per_sample": (t2 - t1) / len(Xte),
            }
            if m.startswith("vqc"):
                row["train_cpu_s_per_sample_step"] = (t1 - t0) / n_train / max(vqc_steps, 1)
            rows.append(row)
            done += 1
            if progress is not None:
                progress(f"{m} at {n} qubits", done, total)
    return rows


def _training_section(n_qubits: int, *, steps: int, seed: int) -> dict[str, Any]:
    """Train one VQC at ``n_qubits`` (lightning.qubit, adjoint) on linearly-separable data."""
    from qnetai.qml.classifiers import VariationalClassifier

    task = make_task("linearly-separable", 64, n_features=n_qubits, rng=np.random.default_rng(seed))
    clf = VariationalClassifier(
        n_layers=1, max_steps=steps, batch_size=16, device="lightning.qubit", random_state=seed
    )
    t0, w0 = time.process_time(), time.perf_counter()
    clf.fit(task.X, task.y)
    return {
        "task": "linearly-separable",
        "n_qubits": n_qubits,
        "n_samples": len(task.y),
        "steps": steps,
        "device": "lightning.qubit",
        "cpu_s": time.process_time() - t0,
        "wall_s": time.perf_counter() - w0,
        "train_accuracy": float(clf.score(task.X, task.y)),
    }


#: ``qnetai bench qml``: the full profile.
FULL_PROFILE: dict[str, Any] = {"seeds": (0, 1), "training_qubits": 16}
#: ``qnetai bench qml --quick``: small data, 3 qubits, one seed, a budget of 2, 20 VQC steps.
QUICK_PROFILE: dict[str, Any] = {
    "tasks": ("linearly-separable", "entanglement", "link-noise", "qkd-eavesdropper"),
    "seeds": (0,),
    "n_samples": 60,
    "n_qubits": 3,
    "folds": 3,
    "budget": 2,
    "vqc_steps": 20,
    "born_shape": (2, 2),
    "qaoa_nodes": (6,),
    "qaoa_depths": (1, 2),
    "scaling": (4, 8),
}


def run_qml_benchmark(
    *,
    tasks: Sequence[str] = (
        "linearly-separable",
        "hidden-manifold",
        "two-curves",
        "entanglement",
        "link-noise",
        "qkd-eavesdropper",
    ),
    models: Sequence[str] = tuple(MODEL_KINDS),
    seeds: Sequence[int] = (0, 1),
    n_samples: int = 120,
    n_qubits: int = 4,
    folds: int = 3,
    inner_folds: int = 2,
    budget: int = 4,
    vqc_steps: int = 60,
    born: bool = True,
    born_shape: tuple[int, int] = (3, 3),
    qaoa: bool = True,
    qaoa_nodes: Sequence[int] = (6, 8, 10),
    qaoa_depths: Sequence[int] = (1, 2, 3),
    scaling: Sequence[int] = (10, 16, 20),
    training_qubits: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run the benchmark; returns one JSON-ready document (see the module docstring)."""
    bad = [t for t in tasks if t not in TASKS]
    if bad:
        raise InputError(f"unknown tasks {bad}; choose from {sorted(TASKS)}")
    bad = [m for m in models if m not in MODEL_KINDS]
    if bad:
        raise InputError(f"unknown models {bad}; choose from {list(MODEL_KINDS)}")
    if not seeds or folds < 2 or inner_folds < 2 or budget < 1 or not 1 <= n_qubits <= 20:
        raise InputError("need seeds, folds >= 2, inner_folds >= 2, budget >= 1, n_qubits 1..20")
    if n_samples < 4 * folds * inner_folds:
        raise InputError(
            f"n_samples must be >= 4 x folds x inner_folds = {4 * folds * inner_folds} "
            f"(got {n_samples})"
        )
    specs = model_specs(vqc_steps=vqc_steps)
    total = len(tasks) * len(seeds) * folds * len(models)
    total += int(born) + int(qaoa) + int(bool(scaling)) + int(training_qubits > 0)
    done = 0

    def tick(stage: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(stage, done, total)

    t_start = time.process_time()
    out: dict[str, Any] = {
        "config": {
            "tasks": list(tasks),
            "models": list(models),
            "seeds": list(seeds),
            "n_samples": n_samples,
            "n_qubits": n_qubits,
            "folds": folds,
            "inner_folds": inner_folds,
            "budget": budget,
            "vqc_steps": vqc_steps,
        },
        "tasks": {},
    }
    for t in tasks:
        out["tasks"][t] = _evaluate_task(
            t,
            models,
            specs,
            seeds=seeds,
            n_samples=n_samples,
            n_qubits=n_qubits,
            folds=folds,
            inner_folds=inner_folds,
            budget=budget,
            tick=functools.partial(tick, t),
        )
    if born:
        out["born"] = _born_section(
            rows=born_shape[0], cols=born_shape[1], steps=2 * vqc_steps, seed=seeds[0]
        )
        tick("born")
    if qaoa:
        out["qaoa"] = _qaoa_section(
            n_nodes=qaoa_nodes, depths=qaoa_depths, steps=vqc_steps, restarts=2, seed=seeds[0]
        )
        tick("qaoa")
    if scaling:
        out["scaling"] = _scaling_section(scaling)
        tick("scaling")
    if training_qubits:
        out["training_16q"] = _training_section(training_qubits, steps=vqc_steps, seed=seeds[0])
        tick("training")
    out["summary"] = _summary(out["tasks"])
    out["cpu_s"] = time.process_time() - t_start
    return out


def _summary(tasks: dict[str, Any]) -> dict[str, Any]:
    won = {k: 0 for k in ("quantum", "ablation", "classical")}
    ablation_not_worse = 0
    pairs = 0
    for res in tasks.values():
        won[res["winner_kind"]] += 1
        for delta in res["ablation_minus_full"].values():
            pairs += 1
            ablation_not_worse += int(delta >= 0)
    return {
        "tasks_won": won,
        "ablation_not_worse": ablation_not_worse,
        "ablation_pairs": pairs,
    }
