"""The chain that ``qnetai bench chain`` runs: a learned model's chain, with overrides.

:func:`bench_chain_config` starts from the chain a learned model was trained on (or
:data:`qnetai.ai.chain_training.DEFAULT_CHAIN_CONFIG` without a model), applies the
parameters the user gave, and says whether the learned model may play: it plays only on the
chain it was trained on, so any change leaves it out (the baselines run on the new chain).

Example:
    >>> cfg, model, note = bench_chain_config(None, segments=4, p_gen=0.3)
    >>> (cfg.segments, cfg.p_gen, model)
    (4, 0.3, None)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from qnetai.ai.chain_env import ChainEnvConfig

#: Parameters of :class:`ChainEnvConfig` that ``bench chain`` accepts (times in slots).
CHAIN_PARAMETERS = (
    "segments",
    "p_gen",
    "fidelity",
    "t_coh_slots",
    "p_swap",
    "memories",
    "threshold",
    "purification",
    "gate_fidelity",
    "measurement_error",
    "max_slots",
)


def bench_chain_config(
    model: str | None, **overrides: Any
) -> tuple[ChainEnvConfig, str | None, str]:
    """``(config, model or None, note)``: the chain to bench and whether the model plays.

    ``overrides`` are :data:`CHAIN_PARAMETERS` (``None`` values are ignored). A uniform
    ``p_gen`` or ``t_coh_slots`` (or a new ``segments``) replaces the model's per-segment /
    per-node lists. Raises :class:`qnetai.errors.InputError` naming the bad parameter.
    """
    from qnetai.ai.chain_training import DEFAULT_CHAIN_CONFIG, load_chain_model
    from qnetai.errors import InputError

    unknown = sorted(set(overrides) - set(CHAIN_PARAMETERS))
    if unknown:
        raise InputError(f"unknown chain parameters: {', '.join(unknown)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    if model is not None and model.strip().lower() == "none":
        model = None
    base = load_chain_model(model)[1] if model is not None else DEFAULT_CHAIN_CONFIG
    changes = dict(given)
    if "p_gen" in given or "segments" in given:
        changes["p_gen_segments"] = None
    if "t_coh_slots" in given or "segments" in given:
        changes["t_coh_slots_nodes"] = None
    try:
        cfg = dataclasses.replace(base, **changes)
    except (TypeError, ValueError) as exc:
        raise InputError(f"chain parameters: {exc}") from exc
    if model is not None and cfg != base:
        changed = ", ".join(sorted(k for k in given if getattr(base, k) != given[k]))
        note = (
            f"learned model {model} left out: it was trained on its own chain and the chain "
            f"differs ({changed or 'per-segment parameters'})"
        )
        return cfg, None, note
    return cfg, model, ""


def describe_chain(cfg: ChainEnvConfig) -> str:
    """The chain in words (every parameter that changes the figures).

    Example:
        >>> from qnetai.ai.chain_env import ChainEnvConfig
        >>> describe_chain(ChainEnvConfig(segments=2)).startswith("chain of 2 segments")
        True
    """
    p = cfg.p_gen_segments if cfg.p_gen_segments is not None else cfg.p_gen
    t = cfg.t_coh_slots_nodes if cfg.t_coh_slots_nodes is not None else cfg.t_coh_slots
    return (
        f"chain of {cfg.segments} segments: p_gen per slot {p}, link fidelity {cfg.fidelity}, "
        f"memory coherence {t} slots, p_swap {cfg.p_swap}, {cfg.memories} memories per side, "
        f"purification {cfg.purification}, gate fidelity {cfg.gate_fidelity}, measurement "
        f"error {cfg.measurement_error}, target fidelity {cfg.threshold}, at most "
        f"{cfg.max_slots} slots per episode"
    )
