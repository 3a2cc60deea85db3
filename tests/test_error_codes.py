"""Errors are told apart by their type or their ``error_code``, never by their class name.

A class name is for people (log lines, messages). What a job stores, and what code compares or
looks up, is the error's stable ``error_code``: renaming a class can then never change what a
job records, nor how a stored job reads.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("bot", "cogs")
#: Modules where a class name may stand outside an f-string, and why.
SHOWN = {
    "bot/metrics.py": "the outcome label of an error that has no code",
    "bot/web/server.py": "the text shown for an OSError that has none",
}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for folder in FOLDERS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            name = path.relative_to(PROJECT_ROOT).as_posix()
            yield name, ast.parse(path.read_text(encoding="utf-8"), filename=name)


def is_class_name(node: ast.AST) -> bool:
    """``type(x).__name__``, ``x.__class__.__name__`` or ``SomeClass.__name__``."""
    return isinstance(node, ast.Attribute) and node.attr == "__name__"


def compared_or_looked_up(tree: ast.AST) -> Iterator[int]:
    """Lines where a class name is compared, matched, or used as a key."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            operands = [node.slice]
        elif isinstance(node, ast.Match):
            operands = [node.subject]
        else:
            continue
        if any(is_class_name(part) for operand in operands for part in ast.walk(operand)):
            yield node.lineno


def stored(tree: ast.AST) -> Iterator[int]:
    """Lines where a class name is used other than inside an f-string (shown to people)."""
    shown: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            shown.update(id(part) for part in ast.walk(node))
    for node in ast.walk(tree):
        if is_class_name(node) and id(node) not in shown:
            yield node.lineno


def test_no_code_compares_or_looks_up_a_class_name() -> None:
    offences = [
        f"{name}:{line}" for name, tree in modules() for line in compared_or_looked_up(tree)
    ]
    assert not offences, f"compare error_code (or isinstance), not class names: {offences}"


def test_a_class_name_is_only_shown_never_stored() -> None:
    offences = [
        f"{name}:{line}" for name, tree in modules() if name not in SHOWN for line in stored(tree)
    ]
    assert not offences, f"store error.error_code, not the class name: {offences}"


@pytest.mark.parametrize(
    ("source", "compares", "stores"),
    [
        ("if type(error).__name__ == 'UnauthorizedError': pass", True, True),
        ("advice = ADVICE[error.__class__.__name__]", True, True),
        ("match type(error).__name__:\n    case 'NotFoundError':\n        pass", True, True),
        ("fail(job, type(error).__name__, error.message)", False, True),
        ("log.warning(f'failed ({type(error).__name__})')", False, False),
        ("if error.error_code == 'UnauthorizedError': pass", False, False),
    ],
)
def test_the_checks_catch_what_they_are_for(source: str, compares: bool, stores: bool) -> None:
    tree = ast.parse(source)
    assert bool(list(compared_or_looked_up(tree))) is compares
    assert bool(list(stored(tree))) is stores
