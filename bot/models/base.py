"""The base of every request model: strict parsing, structured problems, allowed values for the UI."""

from __future__ import annotations

import types
import typing
import unicodedata
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from bot.i18n import N_, Text
from bot.models.problems import FieldFacts, InvalidParameters, Problem, problems_from

#: A JSON boolean and nothing else: "yes" or 1 from a hand-built body is a mistake, not a flag.
Flag = Annotated[bool, Field(strict=True)]

#: Unicode categories that draw nothing on their own: separators (spaces, line breaks), controls,
#: format characters (zero-width space/joiners, direction marks, BOM), surrogates, unassigned,
#: and combining marks without a letter to sit on.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Cn", "Mn", "Me"})
#: Letters and symbols that are drawn as blank space (Hangul fillers, the blank Braille pattern).
_BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_character(text: str) -> bool:
    """Whether ``text`` shows anything at all (not only spaces, invisible or control characters)."""
    return any(
        char not in _BLANK_GLYPHS and unicodedata.category(char) not in _INVISIBLE_CATEGORIES
        for char in text
    )


def visible_prompt(value: str) -> str:
    """Field validator for every prompt: something must be visible, or nothing can be generated."""
    if not has_visible_character(value):
        raise ValueError(
            Text(
                N_(
                    "must not be blank: it has no visible character (only spaces, invisible or "
                    "control characters)."
                )
            )
        )
    return value


def _literal_values(annotation: Any) -> tuple[str, ...]:
    """The choices of a ``Literal`` field, also when wrapped in ``Optional``/``Annotated``."""
    origin = get_origin(annotation)
    if origin is Literal:
        return tuple(str(v) for v in get_args(annotation))
    if origin in {Union, types.UnionType, typing.Annotated}:
        for arg in get_args(annotation):
            found = _literal_values(arg)
            if found:
                return found
    return ()


def _annotated_metadata(annotation: Any) -> list[Any]:
    """Constraints attached inside ``Optional[Annotated[list[...], Field(...)]]``."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        found: list[Any] = []
        for meta in annotation.__metadata__:
            found.extend(meta.metadata if isinstance(meta, FieldInfo) else [meta])
        return found
    if origin in {Union, types.UnionType}:
        return [meta for arg in get_args(annotation) for meta in _annotated_metadata(arg)]
    return []


class ProviderRequest(BaseModel):
    """A request body for one provider endpoint, valid by construction.

    Field names are the Python spelling of the parameter; ``to_wire`` produces the exact JSON the
    API documents (aliases included). Subclasses state cross-field rules in ``rule_problems`` so the
    same rules serve validation and the choices Discord offers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    #: Human title of the endpoint, used in messages.
    title: ClassVar[str] = "request"

    @classmethod
    def rule_problems(cls, values: Mapping[str, Any]) -> list[Problem]:
        """Cross-field rules over possibly partial ``values`` (missing keys are unknown)."""
        return []

    @model_validator(mode="after")
    def _enforce_rules(self) -> Self:
        problems = self.rule_problems(self.model_dump())
        if problems:
            raise InvalidParameters(problems)
        return self

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        """Validate ``data`` or raise :class:`InvalidParameters` naming every field to change."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as error:
            raise InvalidParameters(problems_from(error, cls.field_facts())) from None

    def to_wire(self) -> dict[str, Any]:
        """The JSON body to send: documented names, defaults spelled out, unset options left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def field_facts(cls) -> dict[str, FieldFacts]:
        """Facts per field, under both its Python name and its wire alias (errors report the alias)."""
        facts: dict[str, FieldFacts] = {}
        for name, info in cls.model_fields.items():
            facts[name] = FieldFacts(cls.choices(name), cls.bounds(name), name)
            if info.alias:
                facts[info.alias] = facts[name]
        return facts

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...]:
        """Every value an enumerated field can ever take (empty for free-form fields)."""
        return _literal_values(cls.model_fields[name].annotation)

    @classmethod
    def bounds(cls, name: str) -> dict[str, Any]:
        """Numeric and length limits of a field: any of ``ge``, ``le``, ``min_length``, ``max_length``."""
        info = cls.model_fields[name]
        found: dict[str, Any] = {}
        for meta in [*info.metadata, *_annotated_metadata(info.annotation)]:
            for key in ("ge", "le", "min_length", "max_length"):
                value = getattr(meta, key, None)
                if value is not None:
                    found[key] = value
        return found

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {
            name: info.default
            for name, info in cls.model_fields.items()
            if not info.is_required() and info.default is not None
        }

    @classmethod
    def allowed(cls, name: str, given: Mapping[str, Any] | None = None) -> tuple[str, ...]:
        """The values of ``name`` that the other ``given`` parameters still permit.

        Drives Discord autocomplete: after choosing ``quality_tier=standard`` the resolution list no
        longer offers ``4k``. Unknown parameters fall back to their defaults. A value is only ruled
        out by a conflict with something known: a rule that merely asks for a parameter not given
        yet (``image-to-video`` needs ``image_url``) leaves the value on offer, since it can still
        be added.
        """
        context = {**cls.defaults(), **(given or {})}
        known = {key for key, value in context.items() if value is not None}

        def rules_out(problem: Problem) -> bool:
            return problem.involves(name) and (problem.field == name or problem.field in known)

        return tuple(
            value
            for value in cls.choices(name)
            if not any(rules_out(p) for p in cls.rule_problems({**context, name: value}))
        )
