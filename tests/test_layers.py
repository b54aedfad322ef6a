"""The layering: no module imports a layer above its own (not even lazily, in a function).

physics, config -> topology -> sim -> control -> ai -> plugins/facade -> results/report -> cli
(qkd sits beside control/ai, above sim).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import qnetai

SRC = Path(qnetai.__file__).parent

#: package (or module) -> qnetai packages it must never import.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "physics": (
        "config",
        "topology",
        "sim",
        "control",
        "ai",
        "qkd",
        "plugins",
        "facade",
        "results",
        "report",
        "cli",
    ),
    "config": (
        "physics",
        "topology",
        "sim",
        "control",
        "ai",
        "qkd",
        "plugins",
        "facade",
        "results",
        "report",
        "cli",
    ),
    "topology": ("sim", "control", "ai", "qkd", "plugins", "facade", "results", "report", "cli"),
    "sim": ("control", "ai", "qkd", "plugins", "facade", "results", "report", "cli"),
    "control": ("ai", "qkd", "plugins", "facade", "results", "report", "cli"),
    "ai": ("plugins", "facade", "results", "report", "cli"),
    "plugins.py": ("facade", "results", "report", "cli"),
    "facade.py": ("results", "report", "cli"),
    "results": ("report", "cli"),
}


def _imports(path: Path) -> set[str]:
    """The ``qnetai.X`` first components imported anywhere in ``path`` (lazy ones too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "qnetai":
                names += [f"qnetai.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "qnetai" and len(parts) > 1:
                out.add(parts[1])
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_upward_imports(layer):
    target = SRC / layer
    files = [target] if target.suffix == ".py" else sorted(target.rglob("*.py"))
    assert files
    bad = {
        str(f.relative_to(SRC)): sorted(_imports(f) & set(FORBIDDEN[layer]))
        for f in files
        if _imports(f) & set(FORBIDDEN[layer])
    }
    assert not bad, bad
