"""The decoder benchmark: logical error rates with Wilson intervals and throughput, same shots.

All decoders decode the same sampled shots. For each: errors, logical error rate per shot and
per round with 95 % Wilson intervals, CPU seconds to set up and to decode, shots per second
and microseconds per round. Pairs are compared two ways: whether the Wilson intervals
separate, and a paired (McNemar) count of the shots only one of the two got wrong. Every decoder is
compared with the best classical decoder on these shots, and the learned one also with
correlated matching.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from qnetai.errors import InputError
from qnetai.qec._codes import MemoryExperiment
from qnetai.qec._sampling import sample

DECODERS: tuple[str, ...] = (
    "matching",
    "matching-correlated",
    "lookup",
    "bposd",
    "neural",
    "neural-gated",
)
#: The learned decoders: ``neural`` (the network on every shot) and ``neural-gated`` (only where
#: plain and correlated matching disagree, see :class:`qnetai.qec.NeuralDecoder`).
LEARNED: tuple[str, ...] = ("neural", "neural-gated")
CLASSICAL: tuple[str, ...] = ("matching", "matching-correlated", "lookup", "bposd")
#: The lookup decoder is offered up to this many detectors (beyond it, few syndromes repeat).
LOOKUP_MAX_DETECTORS = 32


def wilson_interval(errors: int, shots: int, *, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion.

    Example:
        >>> lo, hi = wilson_interval(10, 1000)
        >>> round(lo, 4), round(hi, 4)
        (0.0054, 0.0183)
    """
    if shots < 1 or not 0 <= errors <= shots:
        raise InputError(f"errors={errors}, shots={shots}: need 0 <= errors <= shots, shots >= 1")
    p = errors / shots
    den = 1 + z * z / shots
    mid = (p + z * z / (2 * shots)) / den
    half = z * math.sqrt(p * (1 - p) / shots + z * z / (4 * shots * shots)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def logical_error_per_round(p_shot: float, rounds: int) -> float:
    """Per-round rate ``e`` with ``p_shot = (1 - (1 - 2e)^rounds) / 2`` (independent rounds).

    Example:
        >>> round(logical_error_per_round(0.1, 1), 6), round(logical_error_per_round(0.5, 3), 6)
        (0.1, 0.5)
    """
    if rounds < 1:
        raise InputError(f"rounds={rounds} < 1")
    p = min(max(p_shot, 0.0), 0.5)
    return 0.5 * (1.0 - (1.0 - 2.0 * p) ** (1.0 / rounds))


def _make(name: str, *, lookup_train_shots: int, seed: int, model: str | None) -> Any:
    from qnetai.qec._decoders import BpOsdDecoder, MatchingDecoder

    if name == "matching":
        return MatchingDecoder()
    if name == "matching-correlated":
        return MatchingDecoder(correlations=True)
    if name == "lookup":
        from qnetai.qec._lookup import LookupDecoder

        return LookupDecoder(train_shots=lookup_train_shots, seed=seed + 1)
    if name == "bposd":
        return BpOsdDecoder()
    if name in LEARNED:
        from qnetai.qec._neural import NeuralDecoder

        try:
            import torch  # noqa: F401

            backend = "torch"
        except ImportError:  # pragma: no cover
            backend = "numpy"
        assert model is not None
        gate = "disagree" if name == "neural-gated" else "none"
        return NeuralDecoder(model=model, backend=backend, gate=gate)
    raise InputError(f"decoder {name!r} is not one of {', '.join(DECODERS)}")


def _default_model(exp: MemoryExperiment) -> str | None:
    """The shipped model for ``exp``'s code and layout trained nearest its ``p`` (log scale)."""
    from qnetai.qec._neural import load_model, shipped_models

    want = exp.describe()
    best: tuple[float, str] | None = None
    for name in shipped_models():
        trained = load_model(name).info.get("experiment", {})
        if {k: v for k, v in trained.items() if k != "p"} != {
            k: v for k, v in want.items() if k != "p"
        }:
            continue
        gap = abs(math.log(float(trained["p"]) / exp.p))
        if best is None or gap < best[0]:
            best = (gap, name)
    return None if best is None else best[1]


def bench_qec(
    experiment: MemoryExperiment,
    *,
    shots: int,
    seed: int = 0,
    decoders: list[str] | None = None,
    lookup_train_shots: int = 2_000_000,
    bposd_shots: int = 2_000,
    model: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Benchmark decoders on the same ``shots`` shots of ``experiment``; a JSON-ready dict.

    ``decoders`` defaults to every applicable one: the lookup decoder where the circuit has at
    most ``LOOKUP_MAX_DETECTORS`` detectors, the learned ones (``neural``, ``neural-gated``)
    where a model is given or shipped for the code and distance. BP+OSD (slow) decodes only
    the first ``bposd_shots`` shots. Rows carry ``us_per_round_vs_matching`` (and
    ``_vs_matching_correlated``): the decoding time per round over that decoder's, when it ran.

    Example:
        >>> exp = MemoryExperiment(code="repetition", distance=3, rounds=3, p=0.01)
        >>> out = bench_qec(exp, shots=2000, seed=1, decoders=["matching", "lookup"],
        ...                 lookup_train_shots=20_000)
        >>> [r["decoder"] for r in out["rows"]]
        ['matching', 'lookup']
    """
    circuit = experiment.circuit()
    model = model or _default_model(experiment)
    if decoders is None:
        decoders = ["matching", "matching-correlated"]
        if circuit.num_detectors <= LOOKUP_MAX_DETECTORS:
            decoders.append("lookup")
        decoders.append("bposd")
        if model is not None:
            decoders += ["neural", "neural-gated"]
    if any(d in LEARNED for d in decoders) and model is None:
        raise InputError(
            f"no shipped learned decoder for {experiment.code} d={experiment.distance}; "
            "pass model=STEM.npz"
        )
    if any(d in LEARNED for d in decoders):
        import torch

        torch.set_num_threads(1)  # CPU figures per core
    t = time.process_time()
    s = sample(circuit, shots=shots, seed=seed)
    sample_cpu_s = time.process_time() - t
    rounds = experiment.rounds
    rows: list[dict[str, Any]] = []
    wrong: dict[str, np.ndarray] = {}
    for name in decoders:
        if progress is not None:
            progress(name)
        dec = _make(name, lookup_train_shots=lookup_train_shots, seed=seed, model=model)
        t = time.process_time()
        compiled = dec.for_circuit(circuit)
        setup_s = time.process_time() - t
        n = min(shots, bposd_shots) if name == "bposd" else shots
        t = time.process_time()
        pred = compiled.decode_batch(s.detection_events[:n])
        decode_s = max(time.process_time() - t, 1e-9)
        w = np.any(pred != s.observable_flips[:n], axis=1)
        wrong[name] = w
        k = int(w.sum())
        lo, hi = wilson_interval(k, n)
        row: dict[str, Any] = {
            "decoder": name,
            "shots": n,
            "errors": k,
            "ler_per_shot": k / n,
            "ler_per_shot_ci": [lo, hi],
            "ler_per_round": logical_error_per_round(k / n, rounds),
            "ler_per_round_ci": [
                logical_error_per_round(lo, rounds),
                logical_error_per_round(hi, rounds),
            ],
            "setup_cpu_s": setup_s,
            "decode_cpu_s": decode_s,
            "shots_per_s": n / decode_s,
            "us_per_round": 1e6 * decode_s / (n * rounds),
        }
        if name in LEARNED:
            row["model"] = str(model)
            row["backend"] = dec.backend
            row["gate"] = dec.gate
            row["network_fraction"] = compiled.network_shots / n
        if name == "lookup":
            row["table_size"] = compiled.table_size
            row["train_shots"] = lookup_train_shots
        rows.append(row)
    for ref in ("matching", "matching-correlated"):
        ref_us = next((r["us_per_round"] for r in rows if r["decoder"] == ref), None)
        for r in rows:
            r[f"us_per_round_vs_{ref.replace('-', '_')}"] = (
                None if ref_us is None else r["us_per_round"] / ref_us
            )
    comparisons = _compare(rows, wrong)
    return {
        "config": {
            **experiment.describe(),
            "shots": shots,
            "seed": seed,
            "num_detectors": circuit.num_detectors,
            "sample_cpu_s": sample_cpu_s,
            "ci": "95% Wilson",
        },
        "rows": rows,
        "comparisons": comparisons,
    }


def _compare(rows: list[dict[str, Any]], wrong: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    by = {r["decoder"]: r for r in rows}
    full = [r for r in rows if r["decoder"] != "bposd" or r["shots"] == rows[0]["shots"]]
    classical = [r for r in full if r["decoder"] in CLASSICAL]
    out: list[dict[str, Any]] = []
    if not classical:
        return out
    best = min(classical, key=lambda r: r["ler_per_shot"])
    pairs = [(r, best) for r in rows if r["decoder"] != best["decoder"]]
    if "matching-correlated" in by and best["decoder"] != "matching-correlated":
        pairs += [(by[n], by["matching-correlated"]) for n in LEARNED if n in by]
    if "neural-gated" in by and "neural" in by:  # what the gate loses, shot for shot
        pairs.append((by["neural-gated"], by["neural"]))
    for r, ref in pairs:
        n = min(r["shots"], ref["shots"])
        a, b = wrong[r["decoder"]][:n], wrong[ref["decoder"]][:n]
        only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
        z = (only_a - only_b) / math.sqrt(only_a + only_b) if only_a + only_b else 0.0
        ra, rb = r, ref
        separated = (
            ra["ler_per_shot_ci"][0] > rb["ler_per_shot_ci"][1]
            or rb["ler_per_shot_ci"][0] > ra["ler_per_shot_ci"][1]
        ) and ra["shots"] == rb["shots"]
        out.append(
            {
                "decoder": r["decoder"],
                "versus": ref["decoder"],
                "versus_is_best_classical": ref is best,
                "ratio": ra["ler_per_shot"] / rb["ler_per_shot"] if rb["ler_per_shot"] else None,
                "intervals_separate": bool(separated),
                "only_decoder_wrong": only_a,
                "only_versus_wrong": only_b,
                "paired_z": z,
            }
        )
    return out
