"""A clone has nothing beside it: no file of the project may point outside its own tree."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: A relative path up to the shared folder, or its name as a path part: it only sits beside a work tree.
OUTSIDE = re.compile(r"\.\./shared|[\"']shared[\"']|\bshared/(?:seeds|PROVIDERS|STYLE|discord-api)")


def test_no_file_of_the_project_reads_or_names_material_beside_the_tree() -> None:
    files = [p for p in PROJECT_ROOT.iterdir() if p.is_file()]
    for folder in ("bot", "cogs", "tests", "bench", ".ci", "requirements"):
        files += [p for p in (PROJECT_ROOT / folder).rglob("*") if p.is_file()]
    offenders = []
    for path in files:
        if path.suffix in {".json", ".pyc"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        name = path.relative_to(PROJECT_ROOT)
        offenders += [f"{name}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert offenders == []
