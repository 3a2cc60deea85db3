"""Structured validation problems, so every layer can explain a rejected request in plain words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One reason a request cannot be sent, tied to the parameter that has to change."""

    field: str
    message: str
    allowed: tuple[str, ...] = ()
    #: Other parameters involved in a cross-field rule (changing any of them fixes it).
    related: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"`{self.field}`: {self.message}"
        if self.allowed:
            text += f" Allowed: {', '.join(self.allowed)}."
        return text

    def involves(self, name: str) -> bool:
        return name == self.field or name in self.related


class InvalidParameters(ValueError):
    """A request was rejected before anything was sent; ``problems`` says why."""

    #: Stable name of this failure.
    error_code: ClassVar[str] = "InvalidParameters"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.field for p in self.problems))


@dataclass(frozen=True)
class FieldFacts:
    """What the request model knows about one field, used to explain its errors."""

    allowed: tuple[str, ...] = ()
    bounds: Mapping[str, Any] = field(default_factory=dict)
    #: The Python name of the field, when errors report it under its wire alias.
    name: str = ""


def _count(number: int, kind: str) -> str:
    unit = "character" if kind.startswith("string") else "item"
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _describe(error: Mapping[str, Any], facts: FieldFacts) -> str:
    """Turn a pydantic error into a sentence a Discord user can act on."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required."
    if kind == "extra_forbidden":
        return "is not a parameter of this endpoint."
    if kind == "literal_error":
        return f"{error.get('input')!r} is not accepted."
    if kind in {"string_too_short", "too_short"} and "min_length" in ctx:
        return f"needs at least {_count(ctx['min_length'], kind)}."
    if kind in {"string_too_long", "too_long"} and "max_length" in ctx:
        return f"takes at most {_count(ctx['max_length'], kind)}."
    if kind in {"greater_than_equal", "less_than_equal"}:
        low, high = facts.bounds.get("ge"), facts.bounds.get("le")
        if low is not None and high is not None:
            return f"must be between {low} and {high}."
    if kind.startswith("int_") or kind.startswith("bool_") or kind.startswith("string_type"):
        return f"{error.get('input')!r} is not a valid value ({error['msg'].lower()})."
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return message if message.endswith(".") else message + "."


def problems_from(error: ValidationError, facts: Mapping[str, FieldFacts]) -> list[Problem]:
    """Convert a pydantic ``ValidationError`` into our structured problems."""
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        original = (item.get("ctx") or {}).get("error")
        if isinstance(original, InvalidParameters):
            problems.extend(original.problems)
            continue
        loc = item["loc"]
        reported = str(loc[0]) if loc else "request"
        field_facts = facts.get(reported, FieldFacts())
        name = field_facts.name or reported
        message = _describe(item, field_facts)
        if len(loc) > 1 and isinstance(loc[1], int):
            message = f"item {loc[1] + 1}: {message}"
        allowed = field_facts.allowed if item["type"] in {"literal_error", "missing"} else ()
        problems.append(Problem(name, message, allowed))
    return problems
