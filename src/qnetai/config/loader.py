"""Read and write scenario files (YAML or JSON) with errors that name the field and line.

Example:
    >>> from qnetai.config import builtin_scenario, dump_scenario, load_scenario
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "metro.yaml"
    >>> dump_scenario(builtin_scenario("metro-6g"), path)
    >>> load_scenario(path) == builtin_scenario("metro-6g")
    True
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qnetai.config.errors import Locator, input_error_from_validation
from qnetai.config.limits import (
    MAX_INPUT_BYTES,
    check_data_depth,
    check_text_size,
    check_yaml_shape,
    read_scenario_bytes,
)
from qnetai.config.models import Scenario
from qnetai.errors import InputError

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


# the base is chosen at import time (C or Python loader), which mypy cannot follow
class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """Safe YAML loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # "<<: *anchor" keys may be overridden by the mapping's own keys
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise InputError(
                f"line {mark.line + 1}, column {mark.column + 1}: duplicate key {key!r} "
                f"(first at line {seen[key].start_mark.line + 1})"
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_locator(text: str) -> Locator | None:
    """Map a field path to ``line L, column C`` of the YAML text (None if it cannot be parsed)."""
    try:
        root = yaml.compose(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return None
    if root is None:
        return None

    def locate(loc: tuple[int | str, ...]) -> str | None:
        node = root
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == str(part)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                child = node.value[part] if 0 <= part < len(node.value) else None
            if child is None:
                break  # e.g. a missing field: point at its parent
            node = child
        mark = node.start_mark
        return f"line {mark.line + 1}, column {mark.column + 1}"

    return locate


def _parse(text: str, *, source: str, as_json: bool) -> Any:
    """Parse bounded text (see :mod:`qnetai.config.limits`); every problem is an InputError."""
    check_text_size(text, source=source)
    if as_json:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}:{exc.lineno}:{exc.colno}: JSON syntax error: {exc.msg}"
            ) from None
        except RecursionError:
            raise InputError(f"{source}: JSON nested too deeply to parse") from None
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            raise InputError(f"{source}: JSON value error: {exc}") from None
        check_data_depth(data, source=source)
        return data
    check_yaml_shape(text, source=source, loader=_SafeLoader)  # depth, aliases: before building
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise InputError(f"{source}{where}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: YAML syntax error: {exc}") from None
    except RecursionError:
        raise InputError(f"{source}: YAML nested too deeply to parse") from None
    except (ValueError, OverflowError) as exc:  # e.g. an integer of more than 4300 digits
        raise InputError(f"{source}: YAML value error: {exc}") from None


def _validate(
    data: Any, *, source: str | None, locator: Callable[[], Locator | None] | None
) -> Scenario:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        where = source or "scenario"
        raise InputError(
            f"{where}: a scenario must be a mapping of fields such as name, nodes, links "
            f"(got {type(data).__name__})"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        locate = locator() if locator is not None else None  # parse positions only on error
        raise input_error_from_validation(exc, source=source, locate=locate) from None


def scenario_from_dict(data: dict[str, Any], *, source: str | None = None) -> Scenario:
    """Validate a mapping as a :class:`Scenario`; problems raise one :class:`InputError`.

    Example:
        >>> scenario_from_dict({"nodes": [{"name": "A"}]}).nodes[0].kind
        'repeater'
    """
    return _validate(data, source=source, locator=None)


def scenario_from_text(text: str, *, fmt: str = "yaml", source: str = "<text>") -> Scenario:
    """Parse YAML (``fmt="yaml"``) or JSON text into a validated :class:`Scenario`.

    Text larger, deeper or with more YAML aliases than :mod:`qnetai.config.limits` allows is
    refused, and so is an empty document (no text, or comments only).
    """
    if fmt not in ("yaml", "json"):
        raise InputError(f"fmt must be 'yaml' or 'json' (got {fmt!r})")
    data = _parse(text, source=source, as_json=fmt == "json")
    if data is None:
        raise InputError(
            f"{source}: the scenario is empty (no fields; see `qnetai scenario export` for an "
            "example to start from)"
        )
    locator = (lambda: _yaml_locator(text)) if fmt == "yaml" else None
    return _validate(data, source=source, locator=locator)


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file: JSON for ``.json``, YAML otherwise.

    If ``path`` does not exist but is the name of a built-in scenario (``metro-6g``, see
    :data:`qnetai.config.BUILTIN_SCENARIOS`), that scenario is returned. Every problem
    (missing file, syntax, validation) raises :class:`InputError` naming the file, the
    field path and, for YAML, the line. Only regular files of at most
    :data:`~qnetai.config.limits.MAX_INPUT_BYTES` bytes are read (see
    :mod:`qnetai.config.limits`); an empty file is refused.
    """
    p = Path(path)
    if not p.exists():
        from qnetai.config.builtin import BUILTIN_SCENARIOS, builtin_scenario

        if str(path) in BUILTIN_SCENARIOS:
            return builtin_scenario(str(path))
        names = ", ".join(BUILTIN_SCENARIOS)
        raise InputError(f"{path}: no such file (built-in scenarios: {names})")
    raw = read_scenario_bytes(p, max_bytes=MAX_INPUT_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read scenario file ({exc})") from None
    fmt = "json" if p.suffix.lower() in JSON_SUFFIXES else "yaml"
    return scenario_from_text(text, fmt=fmt, source=str(path))


def scenario_to_dict(scenario: Scenario, *, include_defaults: bool = False) -> dict[str, Any]:
    """Plain JSON-compatible dict of ``scenario`` (defaults left out unless asked for)."""
    return scenario.model_dump(mode="json", exclude_defaults=not include_defaults)


def scenario_to_yaml(scenario: Scenario, *, include_defaults: bool = False) -> str:
    """YAML text of ``scenario``, fields in model order; loading it gives an equal scenario."""
    data = scenario_to_dict(scenario, include_defaults=include_defaults)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


def dump_scenario(scenario: Scenario, path: str | Path, *, include_defaults: bool = False) -> None:
    """Write ``scenario`` to ``path``: JSON for ``.json``, YAML otherwise."""
    p = Path(path)
    if p.suffix.lower() in JSON_SUFFIXES:
        data = scenario_to_dict(scenario, include_defaults=include_defaults)
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = scenario_to_yaml(scenario, include_defaults=include_defaults)
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot write scenario file ({exc})") from None


def scenario_json_schema() -> dict[str, Any]:
    """The JSON schema of a scenario file (draft 2020-12, as pydantic writes it)."""
    schema = Scenario.model_json_schema(mode="validation")
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema["title"] = "qnetai scenario"
    return schema
