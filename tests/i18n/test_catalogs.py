"""Every text in every language: present, translated, same placeholders, within Discord's limits.

The catalogs must hold exactly what the code asks for: the texts marked in ``bot/`` and ``cogs/``
(``t``, ``tn``, ``_``, ``N_``) and the descriptions and choice names of the command tree. When a
test here fails after a text was added or changed, run ``python -m bot.i18n`` and translate the
new entries in ``bot/i18n/locales/*/LC_MESSAGES/*.po``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.i18n import CATALOGS, placeholders
from bot.i18n.catalogs import COMMANDS, DOMAINS, MESSAGES, catalog_path, translations
from bot.i18n.extract import command_texts, loaded_tree, message_template

LANGUAGES = sorted(CATALOGS.values())
#: Discord's limit on a command, option or choice description, and on a choice name.
DESCRIPTION_MAX = 100
#: Discord's limit on message content.
CONTENT_MAX = 2000
#: A placeholder value longer than any the bot puts in (a provider name, a masked key, a reason
#: the provider gave is clipped to the message anyway).
LONG_VALUE = "x" * 120

#: Translations that may read exactly like the English text, per language, and why.
SAME_AS_ENGLISH: dict[str, set[str | tuple[str, ...]]] = {
    # Dutch uses these words and formats as English does.
    "nl": {
        "{seconds} s",
        "`{option}` {values} ({how})",
        "Provider",
        "Video",
        "{provider}: {caps}",
        "{provider}: {caps}.",
        "{member}: {recent} | {longer}",
        "**{label}**: {value}",
        ("{count} credit", "{count} credits"),
        ("{count} credit ({usd})", "{count} credits ({usd})"),
        # A card's and a form's words, and a problem after the option it is about.
        "model",
        "Model",
        "type",
        "seed",
        "Seed",
        "Status",
        "Credits",
        "Details",
        "Prompt",
        "video",
        "video {index}",
        "{minutes} min",
        "{minutes} min {seconds} s",
        "`{option}`: {problem}",
        "`{option}` {problem}",
    },
    "ja": set(),
    "zh_CN": set(),
}
#: Commands still being built, whose texts change from day to day: their descriptions may be
#: missing from the catalogs (Discord shows the English text) until they settle, named here with
#: the reason. Every other command must be translated.
PENDING: dict[str, str] = {}
#: Discord markup that must survive translation: code spans (and bold, counted below).
CODE = re.compile(r"`[^`]+`")


def catalog(language: str, domain: str) -> Catalog:
    with catalog_path(language, domain).open("rb") as source:
        return read_po(source, locale=language, domain=domain)


def entries(language: str, domain: str) -> Iterator[Message]:
    for message in catalog(language, domain):
        if message.id:
            yield message


def source_forms(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


def translated_forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


async def _tree_texts() -> dict[str, set[str]]:
    return await command_texts(await loaded_tree())


@pytest.fixture(scope="module")
def tree_texts() -> dict[str, set[str]]:
    """What the command tree asks the translator for (built once for the module)."""
    return asyncio.run(_tree_texts())


def test_every_catalog_compiles() -> None:
    for language in LANGUAGES:
        for domain in DOMAINS:
            assert translations(language, domain) is not None


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_the_code_marks_is_in_the_catalog(language: str) -> None:
    wanted = {message.id for message in message_template() if message.id}
    held = {message.id for message in entries(language, MESSAGES) if all(translated_forms(message))}
    missing = sorted(str(text) for text in wanted - held)
    assert not missing, f"run python -m bot.i18n, then translate in {language}:\n" + "\n".join(
        missing
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_description_and_choice_is_in_the_catalog(
    language: str, tree_texts: dict[str, set[str]]
) -> None:
    held = {message.id for message in entries(language, COMMANDS) if message.string}
    missing = sorted(
        text for text, used in tree_texts.items() if text not in held and used - set(PENDING)
    )
    assert not missing, f"run python -m bot.i18n, then translate in {language}:\n" + "\n".join(
        missing
    )


async def _payloads() -> list[dict[str, Any]]:
    tree = await loaded_tree()
    return [command.to_dict(tree) for command in tree.get_commands()]


def test_pending_commands_exist() -> None:
    # A command that is gone, or done, leaves the list (see PENDING).
    names = {command["name"] for command in asyncio.run(_payloads())}
    assert set(PENDING) <= names


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_translation_is_reviewed_and_translated(language: str, domain: str) -> None:
    problems = []
    for message in entries(language, domain):
        forms = translated_forms(message)
        if message.fuzzy:
            problems.append(f"fuzzy (review it, then drop the flag): {message.id!r}")
        if not any(forms):
            continue  # not translated yet: the tests above say whether that is allowed
        if not all(form.strip() for form in forms):
            problems.append(f"a plural form is missing: {message.id!r}")
        elif (
            any(form in source_forms(message) for form in forms)
            and message.id not in SAME_AS_ENGLISH[language]
        ):
            problems.append(f"same as English: {message.id!r}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def command_names() -> list[str]:
    """Every command as members type it (``key link``, ``help``), longest first."""

    async def names() -> list[str]:
        tree = await loaded_tree()
        return [command.qualified_name for command in tree.walk_commands()]

    return sorted(asyncio.run(names()), key=len, reverse=True)


def commands_named(text: str, names: list[str]) -> set[str]:
    return {name for name in names if re.search(rf"(?<![\w/])/{re.escape(name)}(?![\w-])", text)}


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_placeholders_code_and_commands(
    language: str, domain: str, command_names: list[str]
) -> None:
    problems = []
    for message in entries(language, domain):
        english = source_forms(message)[-1]
        wanted_names = sorted(set(placeholders(english)))
        wanted_code = sorted(CODE.findall(english))
        wanted_commands = commands_named(english, command_names)
        for form in translated_forms(message):
            if not form:
                continue  # not translated yet
            if sorted(set(placeholders(form))) != wanted_names:
                problems.append(f"placeholders {placeholders(form)} != {wanted_names}: {form!r}")
            if sorted(CODE.findall(form)) != wanted_code:
                problems.append(f"code spans differ: {form!r}")
            if commands_named(form, command_names) != wanted_commands:
                problems.append(f"commands differ ({wanted_commands}): {form!r}")
            if form.count("**") != english.count("**"):
                problems.append(f"bold markers differ: {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_command_texts_fit_discord(language: str) -> None:
    for message in entries(language, COMMANDS):
        assert len(message.string) <= DESCRIPTION_MAX, (language, message.string)


@pytest.mark.parametrize("language", LANGUAGES)
def test_messages_fit_a_discord_message_with_long_values(language: str) -> None:
    for message in entries(language, MESSAGES):
        for form in translated_forms(message):
            names = placeholders(form)
            rendered = form.format_map(dict.fromkeys(names, LONG_VALUE)) if names else form
            assert len(rendered) <= CONTENT_MAX, (language, message.id)
