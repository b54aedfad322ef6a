"""``qnetai report RUN``: HTML again, PDF through headless Chromium, clear errors."""

import json
import shutil

import pytest

from qnetai.cli.main import main
from qnetai.report.pdf import CHROMIUM_ENV, pdf_page_count
from qnetai.results import write_run
from qnetai.results.synthetic import synthetic_result

HAS_CHROMIUM = any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))


def _run(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return info.value.code or 0, out, err


@pytest.fixture()
def run_dir(tmp_path):
    return write_run(
        synthetic_result(nodes=4, deliveries=20, seed=5), tmp_path / "run", catalogue=False
    )


def test_html_again_inside_the_run_folder(run_dir, capsys):
    code, out, _ = _run(["report", str(run_dir), "--json"], capsys)
    assert code == 0
    doc = json.loads(out)
    html = (run_dir / "report.html").read_text()
    assert doc["path"] == str(run_dir / "report.html") and doc["bytes"] == len(html.encode())
    assert html.startswith("<!DOCTYPE html>") and 'id="link-generation"' in html
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.skipif(not HAS_CHROMIUM, reason="needs Debian's chromium")
def test_pdf_has_pages(run_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    out_pdf = tmp_path / "paper.pdf"
    code, out, _ = _run(
        ["report", str(run_dir), "--format", "pdf", "-o", str(out_pdf), "--json"], capsys
    )
    assert code == 0
    data = out_pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = pdf_page_count(data)
    assert pages >= 2 and json.loads(out)["pages"] == pages
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper.pdf", "run"]  # no temp left


def test_missing_chromium_is_a_clear_error(run_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    code, _, err = _run(["report", str(run_dir), "--format", "pdf"], capsys)
    assert code == 2
    assert "needs a headless Chromium" in err and "apt-get install chromium" in err
    assert not (run_dir / "report.pdf").exists()
    assert not [p.name for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def test_bad_input(run_dir, tmp_path, capsys):
    code, _, err = _run(["report", str(run_dir), "--format", "svg"], capsys)
    assert code == 2 and "--format must be one of html, pdf" in err
    code, _, err = _run(["report", str(tmp_path / "nothing")], capsys)
    assert code == 2 and "not a qnetai run folder" in err
    code, _, err = _run(
        ["report", str(run_dir), "--format", "pdf", "--chromium", "/no/such"], capsys
    )
    assert code == 2 and "/no/such is not an executable" in err
