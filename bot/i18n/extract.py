"""Finding every translatable text, and bringing the ``.po`` files up to date with them.

``messages``: every literal passed to ``t``, ``tn``, ``_``, ``N_`` or ``Nn_`` in ``bot/`` and
``cogs/``, found with Babel's extractor. ``commands``: every description and choice name discord.py asks the
tree's translator for, found by asking (names stay as written, see :mod:`bot.i18n.translator`),
less the providers' and models' own names, which read the same in every language.

Run ``python -m bot.i18n`` after adding or changing a text: new texts are added to each
language's catalog untranslated, gone ones are dropped (a changed text counts as new). The tests
in ``tests/i18n`` fail until each new entry is translated.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from discord import Locale, app_commands
from discord.app_commands import TranslationContextTypes, locale_str
from pydantic import SecretStr

from bot.app import SeedanceBot
from bot.i18n.catalogs import CATALOGS, COMMANDS, DOMAINS, MESSAGES, catalog_path
from bot.i18n.translator import UNTRANSLATED
from bot.providers.registry import DESCRIPTIONS
from bot.settings import Settings
from bot.storage import Database, KeyCipher

#: The project's source folders, beside ``bot/``.
PROJECT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "cogs")
#: How the code marks texts: t(locale, text), tn(locale, singular, plural, n), _(text), N_(text),
#: Nn_(singular, plural).
KEYWORDS: dict[str, Any] = {"t": (2,), "tn": (2, 3), "_": None, "N_": None, "Nn_": (1, 2)}
#: A comment starting with this right above a text is shown to translators.
COMMENT_TAG = "i18n:"
#: Catalog headers never change on their own, so an update only shows real changes in a diff.
STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)
PROJECT_NAME = "seedance-discord-bot"

#: What reads the same in every language: the providers' and models' own names.
PROPER_NAMES = frozenset(
    {described.name for described in DESCRIPTIONS.values()}
    | {choice.label for described in DESCRIPTIONS.values() for choice in described.choices}
)


def new_catalog(domain: str, locale: str | None = None) -> Catalog:
    return Catalog(
        locale=locale,
        domain=domain,
        project=PROJECT_NAME,
        version="",
        copyright_holder="",
        msgid_bugs_address="",
        creation_date=STABLE_DATE,
        revision_date=STABLE_DATE,
        last_translator="",
        language_team="",
        fuzzy=False,
    )


def message_template(root: Path = PROJECT) -> Catalog:
    """Every text the code marks for the ``messages`` domain, in the order it appears."""
    template = new_catalog(MESSAGES)
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            root / folder,
            keywords=KEYWORDS,
            comment_tags=(COMMENT_TAG,),
            strip_comment_tags=True,
        ):
            template.add(
                message,
                locations=[(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


class _Recorder(app_commands.Translator):
    """Notes every text discord.py would have translated, in order, with the top-level
    command it belongs to."""

    def __init__(self) -> None:
        self.command = ""
        self.texts: dict[str, set[str]] = {}

    async def translate(
        self, string: locale_str, locale: Locale, context: TranslationContextTypes
    ) -> str | None:
        if context.location not in UNTRANSLATED and string.message != "…":
            self.texts.setdefault(string.message, set()).add(self.command)
        return None


async def command_texts(tree: app_commands.CommandTree[Any]) -> dict[str, set[str]]:
    """Every description and choice name of ``tree``'s global commands that is translated, in
    order, with the names of the top-level commands that use it."""
    recorder = _Recorder()
    for command in tree.get_commands():
        recorder.command = command.name
        await command.get_translated_payload(tree, recorder)
    return {text: used for text, used in recorder.texts.items() if text not in PROPER_NAMES}


def command_template(texts: Iterable[str]) -> Catalog:
    template = new_catalog(COMMANDS)
    for text in texts:
        template.add(text)
    return template


async def loaded_tree() -> app_commands.CommandTree[Any]:
    """The command tree with every extension loaded, on a bot that never logs in."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            _env_file=None,
            discord_token=SecretStr("catalog-update-never-logs-in"),
            database_path=Path(folder) / "bot.sqlite3",
        )
        database = await Database.open(settings.database_path)
        try:
            async with aiohttp.ClientSession() as session:
                bot = SeedanceBot(
                    settings=settings,
                    session=session,
                    clients={},
                    database=database,
                    cipher=KeyCipher(["catalog-update-secret-never-used-0123456789"]),
                )
                for extension in SeedanceBot.EXTENSIONS:
                    await bot.load_extension(extension)
                return bot.tree
        finally:
            await database.close()


def render(catalog: Catalog) -> bytes:
    output = io.BytesIO()
    write_po(output, catalog, width=0, include_lineno=False, ignore_obsolete=True)
    return output.getvalue()


def updated(language: str, domain: str, template: Catalog) -> Catalog:
    """``language``'s catalog for ``domain`` with exactly ``template``'s entries."""
    path = catalog_path(language, domain)
    if path.exists():
        with path.open("rb") as source:
            catalog = read_po(source, locale=language, domain=domain)
    else:
        catalog = new_catalog(domain, language)
    # A changed text is a new one to translate: no fuzzy guesses from similar old texts.
    catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
    catalog.revision_date = STABLE_DATE
    return catalog


async def update(root: Path = PROJECT) -> list[Path]:
    """Bring every catalog up to date with the code; returns the files that changed."""
    templates = {
        MESSAGES: message_template(root),
        COMMANDS: command_template(await command_texts(await loaded_tree())),
    }
    changed = []
    for language in CATALOGS.values():
        for domain in DOMAINS:
            path = catalog_path(language, domain)
            text = render(updated(language, domain, templates[domain]))
            if not path.exists() or path.read_bytes() != text:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(text)
                changed.append(path)
    return changed
