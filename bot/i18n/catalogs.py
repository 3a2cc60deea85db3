"""The message catalogs: gettext ``.po`` files under ``locales/``, compiled in memory with Babel.

There is no compiled ``.mo`` file to forget: each catalog is read with Babel at start-up (or at
first use), its translated entries compiled into a :class:`gettext.GNUTranslations` in memory,
and kept for the life of the process. A fuzzy or empty entry counts as untranslated, so its
English text is shown.

Message ids are the English texts themselves, with named ``{placeholders}`` filled in after
translation (``str.format``), so English needs no catalog and a missing translation falls back
to it. Two domains: ``messages`` (what members read) and ``commands`` (command, option and choice
descriptions, read by :mod:`bot.i18n.translator` for Discord's localizations).

No discord import: the core marks its member-facing texts with :func:`N_` and the Discord layer
translates them with the member's locale.
"""

from __future__ import annotations

import functools
import gettext
import io
import re
import string
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Literal, Protocol

from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

#: Where the catalogs live: ``locales/<language>/LC_MESSAGES/<domain>.po``.
LOCALES = Path(__file__).resolve().parent / "locales"
MESSAGES = "messages"
COMMANDS = "commands"
DOMAINS = (MESSAGES, COMMANDS)

#: Discord locale -> catalog folder. Every other locale (en-US, en-GB, and the languages the bot
#: has no catalog for) reads the English source texts. zh-TW is left out on purpose: Traditional
#: Chinese readers get English rather than Simplified characters.
CATALOGS: Mapping[str, str] = {"nl": "nl", "ja": "ja", "zh-CN": "zh_CN"}
#: The language of the message ids, and the fallback.
SOURCE_LANGUAGE = "en"

#: A Discord locale (``discord.Locale``, whose value is the code), its code, or None (English).
LocaleLike = Enum | str | None


class Translate(Protocol):
    """A translation function bound to one language: ``_("Hello {name}", name=...)``."""

    def __call__(self, message: str, /, **values: object) -> str: ...

    def number(self, value: int | float | Decimal) -> str: ...


def N_(message: str) -> str:
    """Marks ``message`` for the catalogs without translating it (it is translated where shown)."""
    return message


def language_of(locale: LocaleLike) -> str:
    """The catalog folder for a Discord locale, or ``"en"`` for English and every fallback."""
    code = str(getattr(locale, "value", locale) or "")
    return CATALOGS.get(code, SOURCE_LANGUAGE)


def catalog_path(language: str, domain: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{domain}.po"


@functools.cache
def translations(language: str, domain: str = MESSAGES) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` for ``domain`` (English: no catalog, the ids)."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    with catalog_path(language, domain).open("rb") as source:
        catalog = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load() -> None:
    """Compile every catalog now, so a broken ``.po`` file stops the start, not a command."""
    for language in CATALOGS.values():
        for domain in DOMAINS:
            translations(language, domain)


def number(locale: LocaleLike, value: int | float | Decimal) -> str:
    """``value`` with the reader's digit grouping and decimal sign (6,000 / 6.000 / 1,5)."""
    return format_decimal(value, locale=language_of(locale))


def listing(locale: LocaleLike, items: Iterable[str], *, alternatives: bool = False) -> str:
    """``items`` as a list in the reader's language: "a, b, and c", "a、b、c", "a, b en c"
    (with ``alternatives``: "a or b", "a または b")."""
    style: Literal["or", "standard"] = "or" if alternatives else "standard"
    return format_list(list(items), style=style, locale=language_of(locale))


def _fill(text: str, values: Mapping[str, object]) -> str:
    # Without values the text is shown as it is: braces in it need no escaping.
    return text.format_map(values) if values else text


def t(locale: LocaleLike, message: str, /, **values: object) -> str:
    """``message`` in the reader's language, its ``{placeholders}`` filled with ``values``."""
    text = translations(language_of(locale)).gettext(message)
    return _fill(text, values)


def tn(locale: LocaleLike, singular: str, plural: str, count: int, /, **values: object) -> str:
    """The form of ``singular``/``plural`` that fits ``count`` (``{count}`` is filled too)."""
    text = translations(language_of(locale)).ngettext(singular, plural, count)
    return _fill(text, {"count": number(locale, count), **values})


class _Bound:
    """:func:`t` with the locale given once (what :func:`gettext_for` returns)."""

    def __init__(self, locale: LocaleLike) -> None:
        self.locale = locale

    def __call__(self, message: str, /, **values: object) -> str:
        return t(self.locale, message, **values)

    def number(self, value: int | float | Decimal) -> str:
        return number(self.locale, value)


def gettext_for(locale: LocaleLike) -> Translate:
    """A translation function for one reader, for code that composes many texts (``_``)."""
    return _Bound(locale)


# -- stored texts --------------------------------------------------------------------------------


def placeholders(message: str) -> list[str]:
    """The names of ``message``'s ``{placeholders}``, in order."""
    return [name for _, name, _, _ in string.Formatter().parse(message) if name is not None]


@functools.cache
def _pattern(template: str) -> re.Pattern[str]:
    parts, seen = [], set()
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("".join(parts) + r"\Z", re.S)


def translate_stored(locale: LocaleLike, text: str, templates: Iterable[str]) -> str:
    """A text the bot stored in English (rendered from one of ``templates``), in the reader's
    language; a text no template produced (a provider's own words) is returned as it is."""
    for template in templates:
        match = _pattern(template).match(text)
        if match is not None:
            return t(locale, template, **match.groupdict())
    return text
