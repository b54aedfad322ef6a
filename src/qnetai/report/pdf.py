"""Print a report to PDF through a headless Chromium (Debian's ``chromium`` package).

The report's HTML goes to a temporary file; Chromium loads it with a virtual-time budget
(enough for the inlined plotly.js to decompress and draw every figure) and prints it with
the report's print style sheet. The PDF is written atomically: Chromium prints into a
temporary file beside the target, which is checked (a ``%PDF`` header) and renamed over it.

Example:
    >>> find_chromium("/no/such/browser")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    qnetai.errors.InputError: ...
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from qnetai._atomic_files import replace_atomic
from qnetai.errors import InputError

#: Environment variable naming the Chromium executable (overrides the search).
CHROMIUM_ENV = "QNETAI_CHROMIUM"
#: Executables tried in order when neither an argument nor the environment names one.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Virtual time (ms) Chromium gives the page's scripts before printing.
VIRTUAL_TIME_BUDGET_MS = 15_000


def find_chromium(executable: str | os.PathLike[str] | None = None) -> Path:
    """The Chromium executable: ``executable``, ``$QNETAI_CHROMIUM``, or one on ``PATH``.

    Raises :class:`qnetai.errors.InputError` saying how to install it when none is found.
    """
    wanted = executable if executable is not None else os.environ.get(CHROMIUM_ENV)
    if wanted:
        path = shutil.which(str(wanted))
        if path is None:
            raise InputError(
                f"chromium: {wanted} is not an executable (PDF export prints the report "
                "through a headless Chromium)"
            )
        return Path(path)
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise InputError(
        "PDF export needs a headless Chromium and none was found on PATH: install Debian's "
        f"chromium package (apt-get install chromium) or set {CHROMIUM_ENV} to the browser's "
        "executable; the HTML report (report.html) needs no browser to be written"
    )


def html_to_pdf(
    html: str,
    out: str | os.PathLike[str],
    *,
    chromium: str | os.PathLike[str] | None = None,
    timeout_s: float = 180.0,
) -> Path:
    """Print the HTML document ``html`` to the PDF file ``out`` (atomically); returns its path.

    Raises :class:`qnetai.errors.InputError` when Chromium is missing, fails, times out or
    writes no PDF (nothing is left at ``out`` then; an existing file there is kept).
    """
    exe = find_chromium(chromium)
    target = Path(out).absolute()
    if not target.parent.is_dir():
        raise InputError(f"output: folder {target.parent} does not exist")
    with tempfile.TemporaryDirectory(prefix="qnetai-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        profile = Path(tmp) / "profile"

        def fill(pdf: Path) -> None:
            pdf.unlink()  # Chromium writes a new file; a left-over empty one would pass
            cmd = [
                str(exe),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
                f"--print-to-pdf={pdf}",
                page.as_uri(),
            ]
            try:
                proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
            except subprocess.TimeoutExpired as exc:
                raise InputError(
                    f"chromium: printing the report took longer than {timeout_s:g} s"
                ) from exc
            except OSError as exc:
                raise InputError(f"chromium: could not start {exe} ({exc})") from exc
            if proc.returncode != 0 or not pdf.is_file():
                tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
                raise InputError(
                    f"chromium: printing to PDF failed (exit status {proc.returncode}): "
                    + " | ".join(tail)
                )
            with open(pdf, "rb") as fh:
                if fh.read(5) != b"%PDF-":
                    raise InputError(f"chromium: {exe} wrote a file that is not a PDF")

        return replace_atomic(target, fill)


def pdf_page_count(data: bytes) -> int:
    """Pages of a PDF counted by its ``/Type /Page`` objects (no PDF library needed).

    Example:
        >>> pdf_page_count(b"%PDF-1.4 << /Type /Page >> << /Type /Pages >>")
        1
    """
    import re

    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))
