"""griffe extension: read a Google-style ``Example:`` section as ``Examples:``.

Also shows Sphinx roles (``:func:`x` ``), which Markdown does not know, as inline code.

qnetai's docstrings head their doctests ``Example:``; griffe parses only ``Examples:`` as an
examples section (code), and would otherwise render the ``>>>`` lines as Markdown text, where
``x["a"]`` reads as a link reference and fails the strict build.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
#: Sphinx cross-reference roles (``:func:`~pkg.name` ``), shown as plain code in Markdown.
_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|data|meth|attr|obj|exc|const):`~?([^`]+)`")


class ExamplesSection(griffe.Extension):
    """Rename ``Example:`` headers to ``Examples:``; Sphinx roles become inline code."""

    def on_instance(self, *, obj: Any, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one."""
        doc = getattr(obj, "docstring", None)
        if doc is not None:
            doc.value = _ROLE.sub(r"`\1`", _EXAMPLE.sub(r"\1Examples:", doc.value))
