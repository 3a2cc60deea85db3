"""Languages: what members read, in their Discord language (English, Dutch, Japanese,
Simplified Chinese; English for everyone else).

``t(interaction.locale, "Linked your **{name}** key.", name=...)`` translates one message;
``gettext_for(locale)`` gives a ``_`` for code that composes many; ``N_`` marks a text where it is
written (the core, which has no reader) for translation where it is shown, and ``Text`` carries
such a text with its values until then. The catalogs are gettext
``.po`` files under ``locales/`` (see :mod:`bot.i18n.catalogs`); ``python -m bot.i18n`` adds new
texts to them. Command descriptions reach Discord through :mod:`bot.i18n.translator`.

No discord import here: the core may mark its texts.
"""

from bot.i18n.catalogs import (
    CATALOGS,
    N_,
    SOURCE_LANGUAGE,
    LocaleLike,
    Nn_,
    Text,
    Translate,
    enumeration,
    gettext_for,
    language_of,
    listing,
    load,
    number,
    placeholders,
    t,
    tn,
    translate_stored,
    translated,
)

__all__ = [
    "CATALOGS",
    "N_",
    "SOURCE_LANGUAGE",
    "LocaleLike",
    "Nn_",
    "Text",
    "Translate",
    "enumeration",
    "gettext_for",
    "language_of",
    "listing",
    "load",
    "number",
    "placeholders",
    "t",
    "tn",
    "translate_stored",
    "translated",
]
