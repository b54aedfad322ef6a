"""The ``qnetai`` command: a typer app to which every sub-command module attaches itself."""

from __future__ import annotations

import sys

import typer

from qnetai.cli import _registry
from qnetai.cli._common import drop_flag_type_noise, print_error
from qnetai.errors import InputError

#: Where the documentation lives (also shown at the end of ``qnetai --help``).
DOCS_HINT = (
    "Documentation: the docs/ folder of the repository (mkdocs serve, or mkdocs build into"
    " site/); the API reference is generated from the docstrings."
)

drop_flag_type_noise()

app = typer.Typer(
    name="qnetai",
    help="AI-driven quantum networks: simulate, secure and control a 6G quantum network.",
    epilog=DOCS_HINT,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version_callback(value: bool) -> None:
    if value:
        from qnetai import __version__

        print(f"qnetai {__version__}")
        raise typer.Exit()


@app.callback()
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


_registry.register_all(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning user errors into a clear message and exit code 2."""
    try:
        app(args=argv, standalone_mode=True)
    except InputError as exc:
        print_error(exc)  # verbatim: the message may quote user text with "[" or ":"
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
