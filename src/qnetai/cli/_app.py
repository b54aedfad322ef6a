"""The typer app of ``qnetai``: the root callback and the command modules registered on it."""

from __future__ import annotations

from collections.abc import Sequence

import typer

from qnetai.cli import _registry
from qnetai.cli._commands import APP_HELP, DOCS_HINT
from qnetai.cli._common import drop_flag_type_noise


def _version_callback(value: bool) -> None:
    if value:
        from qnetai import __version__

        print(f"qnetai {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        callback=_version_callback,
        is_eager=True,
    ),
) -> None:
    """AI-driven quantum networks: simulate, secure and control a 6G quantum network."""


def build_app(modules: Sequence[str] | None = None) -> typer.Typer:
    """The ``qnetai`` app with the command modules ``modules`` registered (None: all of them).

    ``qnetai NAME ...`` builds it with :func:`qnetai.cli._commands.modules_for` ``(NAME)``
    only; every module registers what it registers in the full app, in the same order.

    Example:
        >>> from typer.main import get_command
        >>> get_command(build_app(["run_cmd"])).list_commands(None)
        ['run', 'runs']
    """
    drop_flag_type_noise()
    app = typer.Typer(
        name="qnetai",
        help=APP_HELP,
        epilog=DOCS_HINT,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    app.callback()(_root)
    _registry.register_all(app, modules=modules)
    return app
