"""``qnetai report RUN``: render a run folder's report again, as HTML or as a PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qnetai.cli._common import console, exit_input_error, print_json
from qnetai.errors import QnetaiError

FORMATS = ("html", "pdf")


def report_command(
    run: Annotated[Path, typer.Argument(help="Run folder written by `qnetai run`.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="html (report.html, self-contained) or pdf (printed by a headless Chromium).",
        ),
    ] = "html",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (default: report.html or report.pdf inside the run folder).",
        ),
    ] = None,
    chromium: Annotated[
        str | None,
        typer.Option(
            "--chromium",
            help="Chromium executable for --format pdf (default: $QNETAI_CHROMIUM, or "
            "chromium on PATH).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document only.")] = False,
) -> None:
    """Render the report of a run folder again (with this version's sections), as HTML or PDF.

    The file is written atomically. Example: ``qnetai report runs/metro-6g-... --format pdf``.
    """
    try:
        if fmt not in FORMATS:
            raise QnetaiError(f"--format must be one of {', '.join(FORMATS)} (got {fmt!r})")
        from qnetai._atomic_files import replace_atomic
        from qnetai.report import render_html
        from qnetai.results import read_run

        view = read_run(run)
        out = output if output is not None else view.path / f"report.{fmt}"
        html = render_html(view)
        if fmt == "pdf":
            from qnetai.report.pdf import html_to_pdf, pdf_page_count

            path = html_to_pdf(html, out, chromium=chromium)
            pages = pdf_page_count(path.read_bytes())
        else:
            path = replace_atomic(out, lambda p: p.write_text(html, encoding="utf-8"))
            pages = None
    except (QnetaiError, OSError) as exc:
        exit_input_error(exc)
    size = path.stat().st_size
    if json_out:
        print_json(
            {"run": str(run), "format": fmt, "path": str(path), "bytes": size, "pages": pages}
        )
        return
    extra = f", {pages} pages" if pages is not None else ""
    console.print(f"report: [bold]{path}[/] ({size / 1e6:.2f} MB{extra})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``qnetai report``."""
    app.command("report")(report_command)
