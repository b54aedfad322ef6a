"""The Examples in the physics docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["__init__", "bell", "bounds", "density", "links", "noise", "operations", "summary"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(
        "qnetai.physics" if name == "__init__" else f"qnetai.physics.{name}"
    )
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
