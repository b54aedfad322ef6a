"""Keep stable-baselines3 from writing where the user did not ask.

``model.learn()`` without a logger of its own calls SB3's ``configure()``, which creates an
empty ``SB3-<timestamp>`` folder in the system temporary directory on every call. qnetai
writes only inside the folder the user named, so training installs a logger with no outputs.

Example:
    >>> from qnetai.ai.sb3_logging import quiet_sb3_logger  # doctest: +SKIP
    >>> quiet_sb3_logger(model)  # before model.learn(...)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any


def quiet_sb3_logger(model: Any) -> None:
    """Give an SB3 model a logger that writes nothing (no stdout, no files, no folder)."""
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
