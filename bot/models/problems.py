"""Structured validation problems, so every layer can explain a rejected request in plain words."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import ValidationError

from bot.i18n import N_, LocaleLike, Nn_, Text, t, translated


@dataclass(frozen=True)
class Problem:
    """One reason a request cannot be sent, tied to the parameter that has to change."""

    field: str
    #: In English (logs, tests, English readers).
    message: str
    allowed: tuple[str, ...] = ()
    #: Other parameters involved in a cross-field rule (changing any of them fixes it).
    related: tuple[str, ...] = ()
    #: ``message`` as a catalog text with its values, translated where it is shown; None: a text
    #: from elsewhere (shown as it is, or as the catalog has it).
    text: Text | None = dataclasses.field(default=None, compare=False, hash=False)

    @classmethod
    def of(
        cls,
        name: str,
        message: str,
        allowed: tuple[str, ...] = (),
        related: tuple[str, ...] = (),
        **values: object,
    ) -> Problem:
        """A problem whose ``message`` (marked with ``N_``) is filled with ``values``."""
        return cls.made(name, Text(message, values), allowed, related)

    @classmethod
    def made(
        cls, name: str, text: Text, allowed: tuple[str, ...] = (), related: tuple[str, ...] = ()
    ) -> Problem:
        return cls(name, str(text), allowed, related, text)

    def __str__(self) -> str:
        return self.translated(None)

    def reason(self, locale: LocaleLike) -> str:
        """What is wrong, in the reader's language (without the parameter's name)."""
        return translated(locale, self.text or self.message)

    def translated(self, locale: LocaleLike) -> str:
        """The parameter, what is wrong and the allowed values, in the reader's language."""
        line = t(locale, "`{option}`: {problem}", option=self.field, problem=self.reason(locale))
        if self.allowed:
            line += " " + t(locale, "Allowed: {values}.", values=", ".join(self.allowed))
        return line

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


def _describe(error: Mapping[str, Any], facts: FieldFacts) -> Text:
    """Turn a pydantic error into a sentence a Discord user can act on."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    strings = kind.startswith("string")
    if kind == "missing":
        return Text(N_("is required."))
    if kind == "extra_forbidden":
        return Text(N_("is not a parameter of this endpoint."))
    if kind == "literal_error":
        return Text(N_("{value} is not accepted."), {"value": repr(error.get("input"))})
    if kind in {"string_too_short", "too_short"} and "min_length" in ctx:
        if strings:
            least = Nn_("needs at least {count} character.", "needs at least {count} characters.")
        else:
            least = Nn_("needs at least {count} item.", "needs at least {count} items.")
        return Text.counted(least, ctx["min_length"])
    if kind in {"string_too_long", "too_long"} and "max_length" in ctx:
        if strings:
            most = Nn_("takes at most {count} character.", "takes at most {count} characters.")
        else:
            most = Nn_("takes at most {count} item.", "takes at most {count} items.")
        return Text.counted(most, ctx["max_length"])
    if kind in {"greater_than_equal", "less_than_equal"}:
        low, high = facts.bounds.get("ge"), facts.bounds.get("le")
        if low is not None and high is not None:
            return Text(N_("must be between {low} and {high}."), {"low": low, "high": high})
    if kind.startswith("int_") or kind.startswith("bool_") or kind.startswith("string_type"):
        # pydantic's own words for the type: English only.
        return Text(
            N_("{value} is not a valid value ({reason})."),
            {"value": repr(error.get("input")), "reason": error["msg"].lower()},
        )
    original = ctx.get("error")
    if isinstance(original, ValueError) and original.args and isinstance(original.args[0], Text):
        # A validator's own text, raised as ``ValueError(Text(...))``.
        return original.args[0]
    carried = ctx.get("text")
    if isinstance(carried, Text):
        # A custom error's own text, carried in its context (see ``urls``).
        return carried
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return Text(message if message.endswith(".") else message + ".")


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
        text = _describe(item, field_facts)
        if len(loc) > 1 and isinstance(loc[1], int):
            text = Text(N_("item {number}: {problem}"), {"number": loc[1] + 1, "problem": text})
        allowed = field_facts.allowed if item["type"] in {"literal_error", "missing"} else ()
        problems.append(Problem.made(name, text, allowed))
    return problems
