"""The AI control plane: gymnasium environments, learned slot policies and training.

Importing this package registers ``qnetai/Routing-v0`` and ``qnetai/Allocation-v0``.
Torch and stable-baselines3 are imported lazily (``qnetai[ai]``).
"""

from qnetai.ai.envs import ENV_IDS, register_envs

register_envs()

__all__ = ["ENV_IDS", "register_envs"]
