"""Scenario configuration: pydantic models, YAML/JSON loading, built-in scenarios.

Example:
    >>> from qnetai.config import builtin_scenario
    >>> len(builtin_scenario("metro-6g").nodes) > 6
    True
"""

from qnetai.config.builtin import BUILTIN_SCENARIOS, builtin_scenario, builtin_scenario_text
from qnetai.config.errors import (
    format_loc,
    input_error_from_lines,
    input_error_from_validation,
    validation_error_lines,
)
from qnetai.config.loader import (
    dump_scenario,
    load_scenario,
    scenario_from_dict,
    scenario_from_text,
    scenario_json_schema,
    scenario_to_dict,
    scenario_to_yaml,
)
from qnetai.config.models import (
    ArrivalSpec,
    ClassicalSpec,
    ControllerSpec,
    FreeSpaceSpec,
    LinkSpec,
    LossVariationSpec,
    MemorySpec,
    NodeSpec,
    OperationsSpec,
    PurificationSpec,
    RandomTrafficSpec,
    RequestSpec,
    Scenario,
    TopologySpec,
    TrafficSpec,
)

__all__ = [
    "BUILTIN_SCENARIOS",
    "ArrivalSpec",
    "ClassicalSpec",
    "ControllerSpec",
    "FreeSpaceSpec",
    "LinkSpec",
    "LossVariationSpec",
    "MemorySpec",
    "NodeSpec",
    "OperationsSpec",
    "PurificationSpec",
    "RandomTrafficSpec",
    "RequestSpec",
    "Scenario",
    "TopologySpec",
    "TrafficSpec",
    "builtin_scenario",
    "builtin_scenario_text",
    "dump_scenario",
    "format_loc",
    "input_error_from_lines",
    "input_error_from_validation",
    "load_scenario",
    "scenario_from_dict",
    "scenario_from_text",
    "scenario_json_schema",
    "scenario_to_dict",
    "scenario_to_yaml",
    "validation_error_lines",
]
