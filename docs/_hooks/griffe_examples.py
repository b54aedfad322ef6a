"""griffe extension: read a Google-style ``Example:`` section as ``Examples:``.

qnetai's docstrings head their doctests ``Example:``; griffe parses only ``Examples:`` as an
examples section (code), and would otherwise render the ``>>>`` lines as Markdown text, where
``x["a"]`` reads as a link reference and fails the strict build.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class ExamplesSection(griffe.Extension):
    """Rename ``Example:`` section headers to ``Examples:`` in every docstring."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite the header of ``obj``'s docstring, if it has one."""
        doc = getattr(obj, "docstring", None)
        if doc is not None and "Example:" in doc.value:
            doc.value = _EXAMPLE.sub(r"\1Examples:", doc.value)
