"""Layers point one way: the core never imports the Discord layer, and SQL stays in storage.

``bot/`` is the application and its core; ``cogs/`` is what a Discord user touches, and it plugs
its parts (delivery port, input refresher, buttons, error reporter) in when it is set up. An
import of ``cogs`` anywhere under ``bot/`` — at the top of a module or inside a function —
would make the core depend on the edge again. Likewise only ``bot/storage`` speaks SQL; every
other module goes through its repositories.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DISCORD_LAYER = "cogs"
#: Modules that speak SQL; everything else uses the repositories they offer.
STORAGE = "bot/storage"
SQL_DRIVERS = frozenset({"sqlite3", "aiosqlite"})
SQL_CALLS = frozenset({"execute", "executemany", "executescript", "fetchone", "fetchall"})
SQL_TEXT = re.compile(
    r"^\s*(SELECT\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TABLE|INDEX)\s"
    r"|ALTER\s+TABLE\s|DROP\s+TABLE\s|PRAGMA\s)"
)


def modules(*folders: str) -> Iterator[tuple[str, ast.Module]]:
    for folder in folders:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            name = path.relative_to(PROJECT_ROOT).as_posix()
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def imported_names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module an ``import`` or ``from ... import`` names, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            # ``from cogs import keys`` names the package; ``from x import cogs`` too.
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def imports_of(tree: ast.AST, package: str) -> list[tuple[int, str]]:
    return [
        (line, name)
        for line, name in imported_names(tree)
        if name == package or name.startswith(f"{package}.")
    ]


def sql_outside_storage(name: str, tree: ast.AST) -> list[str]:
    found = []
    for line, module in imported_names(tree):
        if module.split(".")[0] in SQL_DRIVERS:
            found.append(f"{name}:{line}: imports {module}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            found.append(f"{name}:{node.lineno}: calls .{node.func.attr}()")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.match(node.value)
        ):
            found.append(f"{name}:{node.lineno}: SQL text {node.value[:40]!r}")
    return found


def test_the_core_never_imports_the_discord_layer() -> None:
    found = sorted(
        {
            f"{name}:{line}"
            for name, tree in modules("bot")
            for line, _ in imports_of(tree, DISCORD_LAYER)
        }
    )
    assert found == [], "bot/ must not depend on cogs/:\n" + "\n".join(found)


def test_only_storage_speaks_sql() -> None:
    found = [
        problem
        for name, tree in modules("bot", "cogs")
        if not name.startswith(f"{STORAGE}/")
        for problem in sql_outside_storage(name, tree)
    ]
    assert found == [], "SQL outside bot/storage:\n" + "\n".join(found)


def test_the_scans_see_what_they_look_for() -> None:
    # A function-local import is found as well as a top-level one, in every spelling.
    source = """
import cogs
from cogs._errors import report

def setup_hook():
    from cogs.generate import setup
    import cogs.keys as keys
    from cogs import jobs
"""
    assert sorted({line for line, _ in imports_of(ast.parse(source), "cogs")}) == [2, 3, 6, 7, 8]
    assert imports_of(ast.parse("from cogsworth import x\nimport bot.cogs_like"), "cogs") == []
    # Storage itself is what the SQL scan would catch, so it is scanned with the same rules.
    storage = [
        problem for name, tree in modules(STORAGE) for problem in sql_outside_storage(name, tree)
    ]
    assert any("calls .execute()" in problem for problem in storage)
    assert any("SQL text" in problem for problem in storage)
    assert sql_outside_storage("x.py", ast.parse("log.info('Update your key, then retry')")) == []
