"""Registration of qnetai's gymnasium environments (done on ``import qnetai.ai``).

Example:
    >>> from qnetai._optional import require

gym = require("gymnasium", extra="ai")
    >>> import qnetai.ai  # noqa: F401
    >>> env = gym.make("qnetai/Routing-v0", nodes=30, requests=4)
    >>> obs, info = env.reset(seed=0)
    >>> bool(obs.shape[0] == env.action_space.n)
    True
"""

from __future__ import annotations

from qnetai._optional import require

gym = require("gymnasium", extra="ai")

#: Registered environment ids and their entry points.
ENV_IDS: dict[str, str] = {
    "qnetai/Routing-v0": "qnetai.ai.routing_env:RoutingEnv",
    "qnetai/Allocation-v0": "qnetai.ai.allocation_env:AllocationEnv",
    "qnetai/RepeaterChain-v0": "qnetai.ai.chain_env:RepeaterChainEnv",
    "qnetai/NetworkRouting-v0": "qnetai.ai.network_env:NetworkRoutingEnv",
}
#: Step limits (the repeater chain truncates itself at ``max_slots``).
_MAX_STEPS: dict[str, int | None] = {"qnetai/RepeaterChain-v0": None}


def register_envs() -> None:
    """Register every qnetai environment id with gymnasium (idempotent)."""
    for env_id, entry in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id, entry_point=entry, max_episode_steps=_MAX_STEPS.get(env_id, 200)
            )
