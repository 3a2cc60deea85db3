"""No member-facing sentence is left outside the catalogs in the modules that speak through them.

In each converted module, every string literal that reads like prose (two words or more) must be
the text of a ``t``/``tn``/``_``/``N_`` call, a docstring, a logging or exception message (for
operators, in English), or be listed below with the reason it is not translated. An f-string
with words in it never reaches a member there either: texts take named placeholders instead.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The modules whose member-facing texts all go through the catalogs.
CONVERTED = (
    "bot/tree.py",
    "bot/jobs/errors.py",
    "bot/providers/errors.py",
    "cogs/_errors.py",
    "cogs/error_handler.py",
    "cogs/help.py",
    "cogs/keys.py",
)
#: Calls whose first text argument is a message id.
TRANSLATING = {"t", "tn", "_", "N_"}
#: Calls whose texts are for operators (logs, tracebacks), not members.
FOR_OPERATORS = {"debug", "info", "warning", "error", "exception", "log_scrubbed"}
#: Calls whose texts reach Discord through the command translator (the ``commands`` catalog,
#: checked by test_catalogs.py against the tree itself).
COMMAND_TEXTS = {"command", "describe", "Group", "Choice", "choices"}
#: Literals that read like prose but are not member-facing sentences: (module, text) -> why.
NOT_MEMBER_TEXT: dict[tuple[str, str], str] = {
    ("cogs/keys.py", "Link an API key"): "the form's class-level title, replaced per member",
    ("cogs/keys.py", "Remove key"): "the button's class-level label, replaced per member",
    ("cogs/keys.py", "/key link"): "a command as members type it, in every language",
    ("cogs/help.py", "Linking your API key"): "a topic choice name: the command translator",
    ("cogs/help.py", "Models: settings, files and prices"): "a topic choice name, likewise",
    ("cogs/help.py", "Writing prompts"): "a topic choice name, likewise",
}
PROSE = re.compile(r"[A-Za-z]{2,}[,;:]? +[A-Za-z]{2,}")


def docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def exempt(tree: ast.AST) -> set[int]:
    """Literals inside translating calls, operator messages, command texts, exceptions' own
    messages and docstrings."""
    found = docstrings(tree)
    for node in ast.walk(tree):
        inside: list[ast.AST] = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in TRANSLATING | FOR_OPERATORS | COMMAND_TEXTS:
                inside = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.Raise) and node.exc is not None:
            inside = [node.exc]
        elif isinstance(node, ast.ClassDef) and any(
            getattr(base, "id", "").endswith(("Error", "Exception")) for base in node.bases
        ):
            # An exception's own text (``super().__init__(...)``): logs and tracebacks.
            inside = [
                call
                for call in ast.walk(node)
                if isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "__init__"
            ]
        for part in inside:
            found.update(id(n) for n in ast.walk(part))
    return found


def stray_texts(name: str) -> Iterator[str]:
    source = (PROJECT_ROOT / name).read_text(encoding="utf-8")
    tree = ast.parse(source, filename=name)
    skip = exempt(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and PROSE.search(node.value)
            and (name, node.value) not in NOT_MEMBER_TEXT
        ):
            yield f"{name}:{node.lineno}: {node.value!r}"


@pytest.mark.parametrize("name", CONVERTED)
def test_member_texts_go_through_the_catalogs(name: str) -> None:
    assert list(stray_texts(name)) == []


def test_the_scan_sees_a_stray_text(tmp_path: Path) -> None:
    module = tmp_path / "stray.py"
    module.write_text(
        'await reply(interaction, "Your linked keys:")\n'
        'await reply(interaction, t(locale, "Your linked keys:"))\n'
        'log.info("Linked a key for %s", user)\n'
        'embed = discord.Embed(title=f"Key from {source}")\n'
    )
    tree = ast.parse(module.read_text())
    skip = exempt(tree)
    strays = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in skip
        if PROSE.search(n.value)
    ]
    assert strays == ["Your linked keys:", "Key from "]
