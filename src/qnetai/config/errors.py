"""Turn pydantic validation errors into one readable line per problem.

Each line names the field path, what is allowed and the value given, e.g.
``links[2].length_km: Input should be greater than or equal to 0 (got -3)``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from qnetai.config.limits import MAX_SHOWN_CHARS, short_repr
from qnetai.errors import InputError

#: ``loc -> "line 3, column 5"`` (or None when the place is unknown).
Locator = Callable[[tuple[int | str, ...]], str | None]

_MAX_SHOWN = MAX_SHOWN_CHARS  # longest value echoed back in "(got ...)"
_MAX_LINES = 25  # problems listed before "... and N more"


def format_loc(loc: Sequence[int | str]) -> str:
    """Write a pydantic ``loc`` tuple as a field path.

    Example:
        >>> format_loc(("links", 2, "length_km"))
        'links[2].length_km'
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _clean_loc(loc: Sequence[int | str]) -> tuple[int | str, ...]:
    """Drop the tags pydantic adds inside unions (``function-after[...]``, ``float`` ...)."""
    return tuple(p for p in loc if isinstance(p, int) or not ("[" in p or "-" in p or p in _TAGS))


_TAGS = {"int", "float", "str", "bool", "list", "tuple", "dict", "none", "literal"}


def _unwrap_models(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic model classes reachable inside an annotation (Optional, list, tuple...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    if typing.get_origin(annotation) is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found.extend(_unwrap_models(arg))
    return found


def model_at(root: type[BaseModel], loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The model class that owns the field at ``loc`` (None if the path leaves the models)."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        candidates = _unwrap_models(model.model_fields[part].annotation)
        model = candidates[0] if candidates else None
    return model


def _shown(value: Any) -> str | None:
    """A short echo of a value (None for mappings: nothing useful to echo).

    Built by :func:`~qnetai.config.limits.short_repr` from a bounded sample of the value, so
    a huge (or alias-expanded) list costs no more than a short one.
    """
    if isinstance(value, dict):
        return None
    if isinstance(value, str):
        return short_repr(value, max_chars=_MAX_SHOWN)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of {value.bit_length():,} bits"
    return short_repr(value, max_chars=_MAX_SHOWN)


def _message(error: ErrorDetails, root: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    msg = str(error["msg"])
    if kind == "extra_forbidden":
        owner = model_at(root, loc[:-1])
        allowed = ", ".join(owner.model_fields) if owner is not None else "?"
        return f"unknown field (allowed: {allowed})"
    if kind == "missing":
        return "field required"
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        return msg  # our validators already echo the value
    if kind == "assertion_error":
        return msg.removeprefix("Assertion failed, ")
    if "input" in error:
        got = _shown(error["input"])
        if got is not None:
            return f"{msg} (got {got})"
    return msg


def validation_error_lines(
    exc: ValidationError,
    *,
    root: type[BaseModel] | None = None,
    locate: Locator | None = None,
) -> list[str]:
    """One line per problem: ``path: what is allowed (got value)`` [`` (line L, column C)``].

    ``root`` is the model that was validated (used to list allowed fields of unknown ones);
    ``locate`` maps a path to a place in the source file.

    Example:
        >>> from qnetai.config.models import LinkSpec
        >>> try:
        ...     LinkSpec.model_validate({"endpoints": ["A", "B"], "length_km": -3})
        ... except ValidationError as e:
        ...     print(validation_error_lines(e, root=LinkSpec)[0])
        length_km: Input should be greater than or equal to 0 (got -3)
    """
    if root is None:
        from qnetai.config.models import Scenario

        root = Scenario
    lines = []
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        line = f"{format_loc(loc)}: {_message(error, root, loc)}"
        where = locate(loc) if locate is not None else None
        if where:
            line += f" ({where})"
        lines.append(line)
    return lines


def input_error_from_validation(
    exc: ValidationError,
    *,
    source: str | Path | None = None,
    root: type[BaseModel] | None = None,
    locate: Locator | None = None,
) -> InputError:
    """An :class:`InputError` listing every problem of ``exc`` (and the file it came from)."""
    lines = validation_error_lines(exc, root=root, locate=locate)
    return input_error_from_lines(lines, source=source)


def input_error_from_lines(lines: Sequence[str], *, source: str | Path | None = None) -> InputError:
    """An :class:`InputError` whose message is a header plus one indented line per problem."""
    where = f" {source}" if source is not None else ""
    count = len(lines)
    if count == 1:
        return InputError(f"invalid scenario{where}: {lines[0]}")
    shown = list(lines[:_MAX_LINES])
    if count > _MAX_LINES:
        shown.append(f"... and {count - _MAX_LINES} more")
    body = "\n".join(f"  {line}" for line in shown)
    return InputError(f"invalid scenario{where}: {count} problems\n{body}")
