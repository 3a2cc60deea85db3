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
    "cogs/jobs.py",
    "cogs/preferences.py",
    "cogs/settings/__init__.py",
    "cogs/settings/_audit.py",
    "cogs/settings/_commands.py",
    "cogs/settings/_groups.py",
    "cogs/settings/_overview.py",
    "cogs/settings/_rule_commands.py",
    "cogs/settings/_rules.py",
    "cogs/settings/_spending.py",
    "cogs/settings/_sponsor.py",
    "bot/models/base.py",
    "bot/models/problems.py",
    "bot/models/seed2.py",
    "bot/models/seedance2ai.py",
    "bot/models/seedanceapi.py",
    "bot/models/urls.py",
    "cogs/generate/__init__.py",
    "cogs/generate/_buttons.py",
    "cogs/generate/_card.py",
    "cogs/generate/_commands.py",
    "cogs/generate/_delivery.py",
    "cogs/generate/_edit.py",
    "cogs/generate/_flow.py",
    "cogs/generate/_inputs.py",
    "cogs/generate/_policy.py",
    "cogs/generate/_preferences.py",
    "cogs/generate/_requests.py",
    "cogs/generate/_threads.py",
)
#: Calls whose first text argument is a message id.
TRANSLATING = {"t", "tn", "_", "N_", "Nn_"}
#: Calls whose texts are for operators (logs, tracebacks), not members.
FOR_OPERATORS = {"debug", "info", "warning", "error", "exception", "log_scrubbed"}
#: Calls whose texts reach Discord through the command translator (the ``commands`` catalog,
#: checked by test_catalogs.py against the tree itself).
COMMAND_TEXTS = {"command", "describe", "Group", "Choice", "choices"}
#: Class keywords that reach Discord the same way (a group cog's description).
COMMAND_KEYWORDS = {"group_description"}
#: Literals that read like prose but are not member-facing sentences: (module, text) -> why.
NOT_MEMBER_TEXT: dict[tuple[str, str], str] = {
    ("cogs/keys.py", "Link an API key"): "the form's class-level title, replaced per member",
    ("cogs/keys.py", "Remove key"): "the button's class-level label, replaced per member",
    ("cogs/keys.py", "/key link"): "a command as members type it, in every language",
    ("cogs/help.py", "Linking your API key"): "a topic choice name: the command translator",
    ("cogs/help.py", "Models: settings, files and prices"): "a topic choice name, likewise",
    ("cogs/help.py", "Writing prompts"): "a topic choice name, likewise",
    ("cogs/settings/_sponsor.py", "/settings sponsor link"): "a command, as /key link above",
    ("bot/models/problems.py", "Value error, "): "pydantic's own prefix, taken off its messages",
    ("bot/models/seedance2ai.py", "GPT Image 2"): "a model's own name, the same everywhere",
    ("bot/models/seedance2ai.py", "Nano Banana Pro"): "a model's own name, likewise",
    ("cogs/generate/_buttons.py", "Continue from the supplied previous clip. "): (
        "the start of an extension's prompt, for the model (the prompt guide's words)"
    ),
    ("cogs/generate/_flow.py", " could not be queued"): "the audit log reason of a removed thread",
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
        if isinstance(node, ast.ClassDef):
            inside += [k.value for k in node.keywords if k.arg in COMMAND_KEYWORDS]
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


def marked_in_f_strings(name: str) -> Iterator[str]:
    """Texts marked inside an f-string: the extractor reads an f-string as one token (before
    Python 3.12), so they never reach the catalogs and are shown in English."""
    source = (PROJECT_ROOT / name).read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source, filename=name)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and getattr(call.func, "id", "") in TRANSLATING
                and any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args)
            ):
                yield f"{name}:{call.lineno}: {ast.unparse(call)}"


@pytest.mark.parametrize("name", CONVERTED)
def test_no_text_is_marked_inside_an_f_string(name: str) -> None:
    assert list(marked_in_f_strings(name)) == []


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
