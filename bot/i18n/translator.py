"""Command, option and choice texts in the member's Discord language.

discord.py asks the tree's translator for every name, description and choice name when it builds
the registration payload (and ``bot.command_sync`` hashes that translated payload, so a changed
translation registers again). Descriptions and choice names come from the ``commands`` catalog.

Names are not translated, on purpose: ``/key link``, ``/video … aspect_ratio`` are what /help,
every error message, the README and members helping each other in a shared server refer to, and
what the request models name in their refusals. A Japanese member typing ``/key`` finds the same
command their Dutch neighbour does; the descriptions under it are in their own language.
"""

from __future__ import annotations

from discord import Locale, app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.i18n.catalogs import COMMANDS, SOURCE_LANGUAGE, language_of, load, translations

#: What stays as written in every language (see the module's docstring).
UNTRANSLATED = frozenset(
    {
        TranslationContextLocation.command_name,
        TranslationContextLocation.group_name,
        TranslationContextLocation.parameter_name,
    }
)


class CatalogTranslator(app_commands.Translator):
    """Reads the ``commands`` catalog; set with ``tree.set_translator`` in ``setup_hook``."""

    async def load(self) -> None:
        # Every catalog, both domains: a broken .po file stops the start, not a command.
        load()

    async def translate(
        self, string: locale_str, locale: Locale, context: TranslationContextTypes
    ) -> str | None:
        if context.location in UNTRANSLATED:
            return None
        language = language_of(locale)
        if language == SOURCE_LANGUAGE:
            return None
        text = translations(language, COMMANDS).gettext(string.message)
        # Untranslated (or the same, like a model's name): no localization, Discord shows the text.
        return None if text == string.message else text
