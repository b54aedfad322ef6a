"""Scenarios shipped with qnetai (YAML files in ``qnetai/data``).

Example:
    >>> s = builtin_scenario("metro-6g")
    >>> s.name
    'metro-6g'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from qnetai.config.models import Scenario
from qnetai.errors import InputError

#: Built-in scenario name -> packaged file under ``qnetai/data``.
BUILTIN_SCENARIOS: dict[str, str] = {
    "metro-6g": "metro-6g.yaml",
    "metro-6g-logical": "metro-6g-logical.yaml",
    "sequence-chain-3": "sequence-chain-3.yaml",
    "waxman-100": "waxman-100.yaml",
}


def _check(name: str) -> str:
    if name not in BUILTIN_SCENARIOS:
        known = ", ".join(BUILTIN_SCENARIOS)
        raise InputError(f"unknown built-in scenario {name!r} (known: {known})")
    return BUILTIN_SCENARIOS[name]


def builtin_scenario_text(name: str = "metro-6g") -> str:
    """The packaged YAML text (with its comments) of a built-in scenario."""
    filename = _check(name)
    return resources.files("qnetai").joinpath("data", filename).read_text(encoding="utf-8")


@cache
def builtin_scenario(name: str = "metro-6g") -> Scenario:
    """A built-in scenario, validated (scenarios are immutable, so the result is cached)."""
    from qnetai.config.loader import scenario_from_text

    return scenario_from_text(builtin_scenario_text(name), source=f"<built-in {name}>")
