"""``qnetai --help`` from the static table: it matches the real commands and typer's page."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import subprocess
import sys

import pytest
import typer
from typer.main import get_command

from qnetai.cli._app import build_app
from qnetai.cli._commands import APP_HELP, COMMANDS, DOCS_HINT, modules_for
from qnetai.cli._registry import COMMAND_MODULES
from qnetai.cli._root_help import ROOT_OPTIONS


def _shown_help(command: object) -> str:
    """The help line typer's rich help shows for a command (``_make_command_help``)."""
    text = getattr(command, "short_help", None) or getattr(command, "help", None) or ""
    first = inspect.cleandoc(text).split("\n\n")[0]
    return first.replace("\b\n", "") if first.startswith("\b") else first.strip()


def test_static_table_matches_the_registered_commands() -> None:
    group = get_command(build_app())
    names = group.list_commands(None)  # type: ignore[attr-defined]
    assert [name for name, _, _ in COMMANDS] == names
    for name, help_text, _ in COMMANDS:
        assert help_text == _shown_help(group.get_command(None, name)), name  # type: ignore[attr-defined]


def test_static_table_names_every_module_of_each_command() -> None:
    registered: dict[str, list[str]] = {}
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"qnetai.cli.{module_name}")
        except ModuleNotFoundError:
            continue
        one = typer.Typer()
        one.callback()(lambda: None)
        module.register(one)
        for name in get_command(one).list_commands(None):  # type: ignore[attr-defined]
            registered.setdefault(name, []).append(module_name)
    assert {name: tuple(mods) for name, mods in registered.items()} == {
        name: mods for name, _, mods in COMMANDS
    }
    assert modules_for("no-such-command") is None


def test_root_help_texts_match_the_app() -> None:
    group = get_command(build_app())
    assert inspect.cleandoc(group.help or "") == APP_HELP
    assert group.epilog == DOCS_HINT
    ctx = group.make_context("qnetai", [], resilient_parsing=True)
    shown = [(p.opts[0], p.help) for p in group.get_params(ctx) if not getattr(p, "hidden", False)]
    assert tuple(shown) == ROOT_OPTIONS


def test_partial_app_shows_the_same_group_as_the_full_app() -> None:
    full = get_command(build_app())
    for name, _, modules in COMMANDS:
        part = get_command(build_app(modules)).get_command(None, name)  # type: ignore[attr-defined]
        whole = full.get_command(None, name)  # type: ignore[attr-defined]
        assert part.help == whole.help, name
        if isinstance(whole, typer.core.TyperGroup):
            assert part.list_commands(None) == whole.list_commands(None), name
            for sub in whole.list_commands(None):
                assert part.get_command(None, sub).help == whole.get_command(None, sub).help


def _help_page(fast: bool, argv: list[str], env: dict[str, str]) -> tuple[int, str, list[str]]:
    """``qnetai ARGV`` in a fresh interpreter: status, stdout, and whether typer was imported."""
    call = (
        f"from qnetai.cli.main import main\nmain({argv!r})"
        if fast
        else f"from qnetai.cli._app import build_app\nbuild_app()({argv!r})"
    )
    code = (
        "import atexit, json, sys\n"
        "sys.argv[0] = 'qnetai'\n"
        "atexit.register(lambda: sys.stderr.write('\\n@@' + json.dumps("
        "sorted(m for m in sys.modules if m.startswith(('typer', 'click', 'qnetai.cli.'))))))\n"
        f"{call}\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    return proc.returncode, proc.stdout, json.loads(proc.stderr.rsplit("\n@@", 1)[1])


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--help"], {"COLUMNS": "80"}),
        (["--help"], {"COLUMNS": "123", "FORCE_COLOR": "1"}),
        ([], {"COLUMNS": "60"}),
    ],
)
def test_fast_root_help_is_typers_page_without_typer(argv: list[str], env: dict[str, str]) -> None:
    code_fast, fast, mods_fast = _help_page(True, argv, env)
    code_typer, slow, mods_typer = _help_page(False, argv, env)
    assert (code_fast, fast) == (code_typer, slow)
    assert "typer" in mods_typer
    assert not [m for m in mods_fast if m.startswith(("typer", "click"))]
    assert not [m for m in mods_fast if m.endswith("_cmd")]


def test_a_command_imports_only_its_modules() -> None:
    code, out, mods = _help_page(True, ["run", "--help"], {"COLUMNS": "100"})
    assert code == 0 and "--no-report" in out
    assert [m for m in mods if m.endswith("_cmd")] == ["qnetai.cli.run_cmd"]
