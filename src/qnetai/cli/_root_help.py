"""``qnetai --help`` from the static command table, without importing typer (start-up time).

typer's rich help imports typer, click and ``typer.rich_utils`` (rich.markdown,
markdown-it, rich.traceback, pygments: about 0.2 s here, more than the 0.15 s budget of the
whole command), then every command module. This module prints the same page with rich
alone: the layout and styles of ``typer.rich_utils.rich_format_help`` (typer 0.29) applied
to :data:`qnetai.cli._commands.COMMANDS`. ``tests/cli/test_startup_help.py`` compares its
output with typer's, plain and in colour, so a change on either side fails there.

Example:
    >>> import io
    >>> from rich.console import Console
    >>> buf = io.StringIO()
    >>> print_root_help("qnetai", console=Console(file=buf, width=100, color_system=None))
    >>> "Usage: qnetai [OPTIONS] COMMAND [ARGS]..." in buf.getvalue()
    True
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Iterator
from types import ModuleType

from rich.align import Align
from rich.columns import Columns
from rich.console import Console, RenderableType, group
from rich.highlighter import RegexHighlighter
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme

from qnetai.cli._commands import APP_HELP, COMMANDS, DOCS_HINT

# typer.rich_utils' styles (the defaults of typer 0.29)
_THEME = {
    "option": "bold cyan",
    "switch": "bold green",
    "negative_option": "bold magenta",
    "negative_switch": "bold red",
    "types": "bold yellow",
    "types_sep": "dim",
    "usage": "yellow",
}
_STYLE_USAGE_COMMAND = "bold"
_STYLE_PANEL_BORDER = "dim"
_STYLE_COMMANDS_FIRST_COLUMN = "bold cyan"

#: The root options: (option, help). ``--help`` is click's help option.
ROOT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("--version", "Print the version and exit."),
    ("--help", "Show this message and exit."),
)


class _OptionHighlighter(RegexHighlighter):
    """typer's highlighter of options, switches, types and ``Usage:``."""

    highlights = [  # noqa: RUF012 - rich reads this class attribute
        r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
        r"(?P<types>\<[^\>]+\>)",
        r"(?P<usage>Usage: )",
    ]


_HIGHLIGHTER = _OptionHighlighter()


def program_name(main_module: ModuleType | None = None) -> str:
    """The program name click would print: ``qnetai``, or ``python -m pkg.mod`` under ``-m``.

    Example:
        >>> import types
        >>> program_name(types.ModuleType("__main__"))  # a script, not python -m
        'qnetai'
    """
    main = sys.modules["__main__"] if main_module is None else main_module
    path = sys.argv[0] if sys.argv and sys.argv[0] else "qnetai"
    package = getattr(main, "__package__", None)
    if package in (None, ""):
        name = os.path.basename(path)
        return name if name not in ("", "-c") else "qnetai"
    module = os.path.splitext(os.path.basename(path))[0]
    if module != "__main__":
        package = f"{package}.{module}"
    return f"python -m {str(package).lstrip('.')}"


def _console() -> Console:
    """The help console of typer: colours, terminal and width from the same variables."""
    width = os.environ.get("TERMINAL_WIDTH")
    force: bool | None = (
        True
        if os.environ.get("GITHUB_ACTIONS")
        or os.environ.get("FORCE_COLOR")
        or os.environ.get("PY_COLORS")
        else None
    )
    if os.environ.get("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    return Console(
        theme=Theme(_THEME),
        highlighter=_HIGHLIGHTER,
        color_system="auto",
        force_terminal=force,
        width=int(width) if width else None,
    )


def _rich_text(text: str, style: str = "") -> Text:
    return _HIGHLIGHTER(Text.from_markup(inspect.cleandoc(text), style=style))


@group()
def _help_text() -> Iterator[RenderableType]:
    yield _rich_text(APP_HELP.replace("\n", " ").strip())


def _panel_table(*, highlight: bool) -> Table:
    """The borderless table typer's rich help puts inside each panel."""
    return Table(
        highlight=highlight,
        show_header=False,
        expand=True,
        box=None,
        show_lines=False,
        leading=0,
        border_style=None,
        row_styles=None,
        pad_edge=False,
        padding=(0, 1),
    )


def _options_panel() -> Panel:
    table = _panel_table(highlight=True)
    for option, help_text in ROOT_OPTIONS:
        table.add_row(
            _HIGHLIGHTER(option),
            _HIGHLIGHTER(""),
            "",
            "",
            Text(style="bold yellow", overflow="fold"),
            Columns([_rich_text(help_text)]),
        )
    return Panel(table, border_style=_STYLE_PANEL_BORDER, title="Options", title_align="left")


def _commands_panel() -> Panel:
    table = _panel_table(highlight=False)
    width = max(len(name) for name, _, _ in COMMANDS)
    table.add_column(style=_STYLE_COMMANDS_FIRST_COLUMN, no_wrap=True, width=width)
    table.add_column("Description", justify="left", no_wrap=False, ratio=10)
    for name, help_text, _modules in COMMANDS:
        table.add_row(Text(name), _rich_text(help_text.strip()))
    return Panel(table, border_style=_STYLE_PANEL_BORDER, title="Commands", title_align="left")


def print_root_help(
    prog: str | None = None, *, console: Console | None = None, trailing_line: bool = False
) -> None:
    """Print ``qnetai --help`` (typer's rich layout) from :data:`~qnetai.cli._commands.COMMANDS`.

    ``trailing_line``: the empty line typer's ``--help`` ends with (not without arguments).
    """
    out = _console() if console is None else console
    usage = f"Usage: {prog or program_name()} [OPTIONS] COMMAND [ARGS]..."
    out.print(Padding(_HIGHLIGHTER(usage), 1), style=_STYLE_USAGE_COMMAND)
    out.print(Padding(Align(_help_text(), pad=False), (0, 1, 1, 1)))
    out.print(_options_panel())
    out.print(_commands_panel())
    out.print(Padding(Align(_rich_text(DOCS_HINT), pad=False), 1))
    if trailing_line:
        print()  # after --help, click echoes its (empty) plain help after typer's rich one
