"""Bounds on scenario input: file size, nesting depth, YAML aliases, echoed values.

A scenario file is refused, with one :class:`~qnetai.errors.InputError` naming the limit,
before it can cost much memory or time:

* :data:`MAX_INPUT_BYTES` (16 MiB): at most this many bytes are read (one more byte is read
  to tell a larger file apart); a larger file or text is refused. Only regular files are
  read: a device (``/dev/zero``), a FIFO or a socket is refused without opening it.
* :data:`MAX_DEPTH` (64): nesting of mappings and sequences. A scenario needs about 6 levels.
  YAML is checked on libyaml's event stream (no recursion) before anything is built; JSON by
  the parser's recursion guard and an iterative walk of the result.
* :data:`MAX_ALIASES` (10,000) YAML aliases (``*name``), and :data:`MAX_ALIAS_NODES`
  (100,000): the nodes that aliases (and ``<<`` merges) add when expanded. A "billion laughs"
  bomb of a few hundred bytes is refused after reading its events, in milliseconds.
* :data:`MAX_SHOWN_CHARS`: values echoed in error messages go through :func:`short_repr`,
  which looks at a bounded number of items at a bounded depth (never the whole value).

The limits on the work a valid scenario implies (nodes, links, requests, events, relay
steps) are in :mod:`qnetai.topology.runnable`.

Example:
    >>> short_repr([[1, 2, 3]] * 10**6, max_chars=30)
    '[[1, 2, 3], [1, 2, 3], [1, ...'
"""

from __future__ import annotations

import reprlib
import stat
from pathlib import Path
from typing import Any

import yaml

from qnetai.errors import InputError

#: Largest scenario file or text accepted (bytes).
MAX_INPUT_BYTES = 16 * 1024 * 1024
#: Deepest nesting of mappings/sequences accepted.
MAX_DEPTH = 64
#: Most YAML aliases (``*name``) accepted in one document.
MAX_ALIASES = 10_000
#: Most YAML nodes that aliases and merge keys may add when expanded.
MAX_ALIAS_NODES = 100_000
#: Longest value echoed back in an error message (characters).
MAX_SHOWN_CHARS = 60


def _mib(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:g} MiB"


def read_scenario_bytes(path: str | Path, *, max_bytes: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` bytes; InputError otherwise.

    The file type is checked before opening (so a FIFO cannot block) and at most
    ``max_bytes + 1`` bytes are read (so ``/proc`` files that report size 0 are bounded too).
    """
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise InputError(f"{path}: cannot read scenario file ({exc})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory, not a scenario file")
    if not stat.S_ISREG(mode):
        kind = (
            "a character device"
            if stat.S_ISCHR(mode)
            else "a block device"
            if stat.S_ISBLK(mode)
            else "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise InputError(f"{path}: is {kind}; a scenario must be a regular file")
    try:
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read scenario file ({exc})") from None
    if len(data) > max_bytes:
        raise InputError(
            f"{path}: scenario file larger than the limit of {_mib(max_bytes)} "
            f"({max_bytes:,} bytes)"
        )
    return data


def check_text_size(text: str, *, source: str, max_bytes: int = MAX_INPUT_BYTES) -> None:
    """Refuse scenario text longer than ``max_bytes`` characters (a lower bound on its bytes)."""
    if len(text) > max_bytes:
        raise InputError(
            f"{source}: scenario text larger than the limit of {_mib(max_bytes)} "
            f"({len(text):,} > {max_bytes:,} characters)"
        )


def check_yaml_shape(
    text: str,
    *,
    source: str,
    loader: Any,
    max_depth: int = MAX_DEPTH,
    max_aliases: int = MAX_ALIASES,
    max_alias_nodes: int = MAX_ALIAS_NODES,
) -> None:
    """Refuse YAML nested deeper than ``max_depth`` or whose aliases expand too far.

    Reads libyaml's event stream once (no tree is built, no recursion): each collection's
    expanded node count is summed on a stack, remembered for its anchor and added again at
    each alias of it, so the expansion is known exactly without being made. Syntax errors
    are left to the real parse (they stop the scan silently).
    """
    sizes: dict[str, int] = {}  # anchor -> expanded nodes of its value
    stack: list[list[Any]] = []  # [anchor, expanded nodes so far]
    aliases = 0
    added = 0  # nodes contributed by aliases
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                size = sizes.get(event.anchor, 1) if event.anchor is not None else 1
                added += size
                where = _where(event)
                if aliases > max_aliases:
                    raise InputError(
                        f"{source}{where}: more than {max_aliases:,} YAML aliases "
                        f"(limit {max_aliases:,})"
                    )
                if added > max_alias_nodes:
                    raise InputError(
                        f"{source}{where}: YAML aliases expand to more than "
                        f"{max_alias_nodes:,} nodes (limit {max_alias_nodes:,}; alias "
                        f"*{event.anchor} alone is {size:,} nodes)"
                    )
                if stack:
                    stack[-1][1] += size
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = 1
                if stack:
                    stack[-1][1] += 1
            elif isinstance(event, yaml.CollectionStartEvent):
                if len(stack) >= max_depth:
                    raise InputError(
                        f"{source}{_where(event)}: nested deeper than the limit of "
                        f"{max_depth} levels"
                    )
                stack.append([event.anchor, 1])
            elif isinstance(event, yaml.CollectionEndEvent) and stack:
                anchor, size = stack.pop()
                if anchor is not None:
                    sizes[anchor] = size
                if stack:
                    stack[-1][1] += size
    except yaml.YAMLError:
        return  # reported with its position by the real parse


def _where(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def check_data_depth(data: Any, *, source: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse parsed data (dicts/lists) nested deeper than ``max_depth`` (iterative walk)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth >= max_depth:
            raise InputError(f"{source}: nested deeper than the limit of {max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxstring = _REPR.maxother = MAX_SHOWN_CHARS
_REPR.maxlong = 40


def short_repr(value: Any, *, max_chars: int = MAX_SHOWN_CHARS) -> str:
    """A repr of ``value`` cut to ``max_chars`` characters, built from a bounded sample.

    At most 6 items per container and 3 levels are looked at, so a huge (or alias-shared,
    exponentially large) structure costs no more than a small one.
    """
    text = _REPR.repr(value)
    if len(text) > max_chars:
        text = text[: max_chars - 3] + "..."
    return text
