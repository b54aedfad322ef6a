"""The ``qnetai`` command: a typer app to which every sub-command module attaches itself.

Start-up: ``qnetai`` and ``qnetai --help`` print the root help from a static table
(:mod:`qnetai.cli._root_help`, no typer import); ``qnetai NAME ...`` builds the app with
only the command modules that register ``NAME`` (:func:`qnetai.cli._commands.modules_for`).
``app`` (the full app, every module registered) is built on first access, for tests and
for callers that embed it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from qnetai.cli._commands import DOCS_HINT, modules_for

if TYPE_CHECKING:
    import typer

    app: typer.Typer  # built on first access (module __getattr__)

__all__ = ["DOCS_HINT", "app", "main"]

_FULL_APP: Any = None


def __getattr__(name: str) -> Any:
    """``app``: the full typer app, built once on first use."""
    global _FULL_APP
    if name == "app":
        if _FULL_APP is None:
            from qnetai.cli._app import build_app

            _FULL_APP = build_app()
        return _FULL_APP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into a clear message and exit code 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args == ["--help"]:
        from qnetai.cli._root_help import print_root_help

        print_root_help(trailing_line=bool(args))
        sys.exit(0 if args else 2)  # typer: help and status 2 without arguments
    from qnetai._optional import MissingExtraError
    from qnetai.cli._app import build_app
    from qnetai.cli._common import print_error
    from qnetai.errors import InputError

    modules = modules_for(args[0])
    app = _FULL_APP if modules is None and _FULL_APP is not None else build_app(modules)
    try:
        app(args=args, standalone_mode=True)
    except InputError as exc:
        print_error(exc)  # verbatim: the message may quote user text with "[" or ":"
        sys.exit(2)
    except MissingExtraError as exc:  # an optional dependency: the message names the extra
        print_error(exc)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
