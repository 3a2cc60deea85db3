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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Literal, Protocol

from babel.core import Locale
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

    #: The reader's locale (for a :class:`Text`, translated with ``text.translated(_.locale)``).
    locale: LocaleLike

    def __call__(self, message: str, /, **values: object) -> str: ...

    def number(self, value: int | float | Decimal) -> str: ...


def N_(message: str) -> str:
    """Marks ``message`` for the catalogs without translating it (it is translated where shown)."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for the catalogs (translated where shown, see
    :meth:`Text.counted`)."""
    return singular, plural


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


def enumeration(locale: LocaleLike, items: Iterable[str]) -> str:
    """``items`` one after another, every one alike, for values rather than a sentence: "a, b,
    c" in English and Dutch, "a、b、c" in Japanese and Chinese (the reader's list separator,
    without the "and" :func:`listing` puts before the last)."""
    parts = list(items)
    if not parts:
        return ""
    middle = Locale.parse(language_of(locale)).list_patterns["standard"]["middle"]
    return functools.reduce(middle.format, parts)


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


@dataclass(frozen=True)
class Text:
    """A text made where its reader is not known yet (the core, an exception), translated where
    it is shown: ``Text(N_("{value} is not accepted."), {"value": "'9:21'"})``.

    A value that is a ``Text`` is translated too, and a tuple of values is shown as a list in the
    reader's language. With ``plural`` and ``count`` (see :meth:`counted`) the form fitting
    ``count`` is chosen, as :func:`tn` does. ``str()`` gives the English text, for logs and for
    English readers.
    """

    message: str
    # Not hashed: the values are a dict (a frozen Text is still compared by them).
    values: Mapping[str, object] = field(default_factory=dict, hash=False)
    plural: str | None = None
    count: int | None = None

    def translated(self, locale: LocaleLike) -> str:
        values = {name: _shown(locale, value) for name, value in self.values.items()}
        if self.plural is not None and self.count is not None:
            return tn(locale, self.message, self.plural, self.count, **values)
        return t(locale, self.message, **values)

    def __str__(self) -> str:
        return self.translated(None)

    @classmethod
    def counted(cls, forms: tuple[str, str], count: int, **values: object) -> Text:
        """The form of ``forms`` (marked with :func:`Nn_`) that fits ``count``; ``{count}`` is
        filled too."""
        singular, plural = forms
        return cls(singular, values, plural, count)

    @classmethod
    def matching(cls, text: str, templates: Iterable[str]) -> Text:
        """``text`` as rendered in English from one of ``templates`` (its values found back);
        a text none of them produced is kept as it is (shown untranslated)."""
        for template in templates:
            match = _pattern(template).match(text)
            if match is not None:
                return cls(template, match.groupdict())
        return cls(text)


def _shown(locale: LocaleLike, value: object) -> object:
    if isinstance(value, Text):
        return value.translated(locale)
    if isinstance(value, tuple):
        return listing(locale, (str(_shown(locale, item)) for item in value))
    return value


def translated(locale: LocaleLike, text: str | Text) -> str:
    """``text`` in the reader's language: a :class:`Text`, or a catalog message without values."""
    return text.translated(locale) if isinstance(text, Text) else t(locale, text)


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


def translate_stored(
    locale: LocaleLike,
    text: str,
    templates: Iterable[str],
    parts: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """A text the bot stored in English (rendered from one of ``templates``), in the reader's
    language; a text no template produced (a provider's own words) is returned as it is.

    ``parts`` names the placeholders whose values were texts of their own when it was stored
    (a :class:`Text`, or a tuple of them shown as a list): each is read back from those
    templates and translated too, so no English is left inside the translated sentence.
    """
    read = _read_stored(text, tuple(templates), parts or {})
    return text if read is None else read.translated(locale)


def _read_stored(
    text: str, templates: Sequence[str], parts: Mapping[str, Sequence[str]]
) -> Text | None:
    """``text`` as the :class:`Text` it was rendered from in English, or None."""
    for template in templates:
        match = _pattern(template).match(text)
        if match is None:
            continue
        values: dict[str, object] = {}
        for name, value in match.groupdict().items():
            if name not in parts:
                values[name] = value
            elif (part := _read_part(value, parts[name])) is not None:
                values[name] = part
            else:
                break
        else:
            return Text(template, values)
    return None


def _read_part(value: str, templates: Sequence[str]) -> Text | tuple[Text, ...] | None:
    """A value that was one of ``templates``, or a list of them as English joins one (read as
    a list first: one item's value could hold the whole list, "the image `a` and the image
    `b`" being "the image `{file}`" too)."""
    items = _read_list(value, templates)
    return tuple(items) if items is not None else _read_stored(value, templates, {})


#: How English joins a list (see :func:`listing`): "a and b", "a, b, and c".
_PAIR, _NEXT, _LAST = " and ", ", ", ", and "


def _splits(value: str, separator: str) -> Iterator[tuple[str, str]]:
    """``value`` cut in two at each ``separator`` in it, the last one first."""
    start = value.rfind(separator)
    while start != -1:
        yield value[:start], value[start + len(separator) :]
        start = value.rfind(separator, 0, start)


def _read_list(value: str, templates: Sequence[str]) -> list[Text] | None:
    """The items of an English list of ``templates``. Every way of splitting it is tried, so a
    separator inside an item (a file named "a, and b.png") is no problem; where an item's value
    could also hold the next items, the reading with more items wins."""
    for head, tail in _splits(value, _LAST):
        last = _read_stored(tail, templates, {})
        rest = None if last is None else _read_series(head, templates)
        if last is not None and rest is not None:
            return [*rest, last]
    for head, tail in _splits(value, _PAIR):
        first, last = _read_stored(head, templates, {}), _read_stored(tail, templates, {})
        if first is not None and last is not None:
            return [first, last]
    return None


def _read_series(value: str, templates: Sequence[str]) -> list[Text] | None:
    """Two or more of ``templates`` joined by ", " (a long list, before its ", and ")."""
    for head, tail in _splits(value, _NEXT):
        last = _read_stored(tail, templates, {})
        if last is None:
            continue
        rest = _read_series(head, templates)
        if rest is None:
            one = _read_stored(head, templates, {})
            rest = None if one is None else [one]
        if rest is not None:
            return [*rest, last]
    return None
