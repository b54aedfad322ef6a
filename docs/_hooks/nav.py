"""mkdocs hook: a navigation that tolerates pages being added or not yet written.

Entries of ``nav`` whose page does not exist are dropped (so a planned page never breaks the
strict build) and every top-level page not listed is appended under "More" (so a page another
part of the project adds shows up without editing ``mkdocs.yml``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _keep(entries: list[Any], docs: Path, seen: set[str]) -> list[Any]:
    kept: list[Any] = []
    for entry in entries:
        if isinstance(entry, dict):
            (title, target), *_ = entry.items()
            if isinstance(target, list):
                inner = _keep(target, docs, seen)
                if inner:
                    kept.append({title: inner})
            elif isinstance(target, str) and (
                target.startswith("http") or (docs / target).is_file()
            ):
                seen.add(target)
                kept.append(entry)
        elif isinstance(entry, str) and (docs / entry).is_file():
            seen.add(entry)
            kept.append(entry)
    return kept


def _title(page: Path) -> str:
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return page.stem.replace("-", " ").replace("_", " ").capitalize()


def on_config(config: Any, **_: Any) -> Any:
    """Drop nav entries without a page; append unlisted top-level pages under "More"."""
    docs = Path(config["docs_dir"])
    nav = config.get("nav")
    if not nav:
        return config
    seen: set[str] = set()
    kept = _keep(list(nav), docs, seen)
    extra = [
        {_title(p): p.name}
        for p in sorted(docs.glob("*.md"))
        if p.name not in seen and not p.name.startswith("_")
    ]
    if extra:
        kept.append({"More": extra})
    config["nav"] = kept
    return config
