"""``qnetai bench tomography``: infidelity against shots for every estimator, same data.

For two qubits the test states are fresh draws of the network's delivered-pair family
(:func:`~qnetai.tomography.states.sample_network_pairs`, a seed apart from the neural
estimator's training data); for more qubits, the GHZ (or path-graph) state with 5 % white
noise. Every estimator sees the same counts; qiskit-experiments' linear inversion (+ its
positivity post-processing) runs on them as the established reference. Direct fidelity
estimation is reported as the error of the fidelity itself and the coverage of its interval.

Example:
    >>> out = bench_state_tomography(shots=(200,), trials=2, seed=1,
    ...                              estimators=("linear", "ml"))
    >>> sorted(r["estimator"] for r in out["rows"])
    ['linear', 'ml']
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qnetai.errors import InputError
from qnetai.tomography._pauli import check_qubits
from qnetai.tomography.estimators import (
    bayesian_mean,
    direct_fidelity,
    linear_inversion,
    maximum_likelihood,
)
from qnetai.tomography.measure import check_shots, measure_state
from qnetai.tomography.neural import NeuralEstimator, train_neural_estimator
from qnetai.tomography.states import (
    bell_state,
    fidelity,
    sample_network_pairs,
    target_state,
)

#: Estimators of the benchmark, in table order.
ESTIMATORS = ("linear", "ml", "bayes", "neural", "qiskit-linear", "dfe")
#: Largest number of trials per shot count.
MAX_TRIALS = 10_000


def _default_estimators(n: int) -> tuple[str, ...]:
    out = ["linear", "ml"]
    if n <= 3:
        out.append("bayes")
    if n == 2:
        out.append("neural")
    out.append("qiskit-linear")
    out.append("dfe")
    return tuple(out)


def _interval(values: Sequence[float]) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=np.float64)
    mean = float(v.mean())
    half = 1.96 * float(v.std(ddof=1)) / math.sqrt(v.size) if v.size > 1 else math.nan
    return mean, mean - half, mean + half


def bench_state_tomography(
    *,
    n_qubits: int = 2,
    shots: Sequence[int] = (100, 1000, 10000),
    trials: int = 10,
    seed: int = 0,
    readout_error: float = 0.01,
    state: str = "ghz",
    estimators: Sequence[str] | None = None,
    model: str | os.PathLike[str] | NeuralEstimator | None = None,
    neural_train: dict[str, Any] | None = None,
    bayes_samples: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Mean infidelity (95 % CI over ``trials``) and CPU seconds per estimate, per shot count.

    ``shots`` are per setting (``3**n`` settings). ``model`` is a trained neural estimator or
    its file stem; without one, one is trained first (``neural_train`` overrides
    :func:`train_neural_estimator`'s arguments) and its training CPU time is reported.
    """
    n = check_qubits(n_qubits)
    shot_list = [check_shots(int(s)) for s in shots]
    if not shot_list:
        raise InputError("shots must list at least one shot count")
    if not 1 <= trials <= MAX_TRIALS:
        raise InputError(f"trials must be in [1, {MAX_TRIALS}] (got {trials})")
    if not 0.0 <= readout_error < 0.5:
        raise InputError(f"readout_error must be in [0, 0.5) (got {readout_error})")
    names = tuple(estimators) if estimators else _default_estimators(n)
    for name in names:
        if name not in ESTIMATORS:
            raise InputError(f"unknown estimator {name!r}; choose from {', '.join(ESTIMATORS)}")
    if "neural" in names and n != 2:
        raise InputError("the neural estimator is for two qubits (--qubits 2)")
    if "bayes" in names and n > 4:
        raise InputError("the Bayesian estimator is limited to 4 qubits")
    rng_states = np.random.default_rng([seed, 1])
    if n == 2:
        truths = list(sample_network_pairs(trials, rng_states))
        target = bell_state()
        family = "network pairs (Werner/Bell-diagonal F in [0.5, 1] + local noise)"
    else:
        pure = target_state(state, n)
        noisy = 0.95 * pure + 0.05 * np.eye(2**n) / 2**n
        truths = [noisy] * trials
        target = pure
        family = f"{state} state, {n} qubits, 5 % white noise"
    meta: dict[str, Any] = {}
    net: NeuralEstimator | None = None
    if "neural" in names:
        if isinstance(model, NeuralEstimator):
            net = model
        elif model is not None:
            net = NeuralEstimator.load(model)
        else:
            kwargs: dict[str, Any] = {"n_train": 20_000, "steps": 1500, "hidden": (128, 128)}
            kwargs.update(neural_train or {})
            net = train_neural_estimator(
                rng=np.random.default_rng([seed, 2]), readout_error=readout_error, **kwargs
            )
        if abs(net.readout_error - readout_error) > 1e-12:
            raise InputError(
                f"the neural model was trained at readout_error={net.readout_error}, "
                f"not {readout_error}"
            )
        meta["neural"] = net.info
    rng = np.random.default_rng([seed, 3])
    rows: list[dict[str, Any]] = []
    total = len(shot_list) * trials
    done = 0
    for s in shot_list:
        infid: dict[str, list[float]] = {k: [] for k in names if k != "dfe"}
        cpu: dict[str, list[float]] = {k: [] for k in names}
        dfe_err: list[float] = []
        dfe_cover = 0
        for truth in truths:
            data = measure_state(truth, shots=s, rng=rng, readout_error=readout_error)
            for name in names:
                t0 = time.process_time()
                if name == "dfe":
                    est = direct_fidelity(
                        truth, target, shots=s, rng=rng, readout_error=readout_error
                    )
                    cpu[name].append(time.process_time() - t0)
                    f_true = fidelity(target, truth)
                    dfe_err.append(est.fidelity - f_true)
                    dfe_cover += int(est.low <= f_true <= est.high)
                    continue
                if name == "linear":
                    rho = linear_inversion(data).rho
                elif name == "ml":
                    rho = maximum_likelihood(data).rho
                elif name == "bayes":
                    rho = bayesian_mean(data, rng, samples=bayes_samples).rho
                elif name == "neural":
                    assert net is not None
                    rho = net.estimate(data)
                else:
                    from qnetai.tomography.reference import qiskit_linear_inversion

                    rho = qiskit_linear_inversion(data)
                cpu[name].append(time.process_time() - t0)
                infid[name].append(1.0 - fidelity(truth, rho))
            done += 1
            if progress is not None:
                progress(done, total)
        for name in names:
            row: dict[str, Any] = {"estimator": name, "shots_per_setting": s}
            if name == "dfe":
                mean, lo, hi = _interval(dfe_err)
                row.update(
                    {
                        "metric": "F_est - F_true",
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "interval_coverage": dfe_cover / trials,
                        "settings": 2**n - 1,
                    }
                )
            else:
                mean, lo, hi = _interval(infid[name])
                row.update(
                    {
                        "metric": "infidelity",
                        "mean": mean,
                        "ci_low": lo,
                        "ci_high": hi,
                        "median": float(np.median(infid[name])),
                        "settings": 3**n,
                    }
                )
            row["cpu_s_per_estimate"] = float(np.mean(cpu[name]))
            rows.append(row)
    return {
        "n_qubits": n,
        "family": family,
        "trials": trials,
        "readout_error": readout_error,
        "seed": seed,
        "rows": rows,
        "meta": meta,
    }
