"""The catalog API: which catalog a Discord locale reads, English as the fallback, placeholders,
plural forms, numbers, lists, texts the engine stored in English, and the command translator."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContext, TranslationContextLocation, locale_str

from bot.command_sync import command_payload, payload_digest
from bot.i18n import (
    N_,
    Nn_,
    Text,
    enumeration,
    gettext_for,
    language_of,
    listing,
    number,
    placeholders,
    t,
    tn,
    translate_stored,
)
from bot.i18n.translator import CatalogTranslator
from bot.jobs import ENGINE_MESSAGES
from bot.providers import errors

STATUS_EMPTY = (
    "You have no API key linked yet. Run /key link, choose the provider and paste your key; it "
    "is checked without spending credits and stored encrypted."
)


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        (discord.Locale.american_english, "en"),
        (discord.Locale.british_english, "en"),
        (discord.Locale.dutch, "nl"),
        (discord.Locale.japanese, "ja"),
        (discord.Locale.chinese, "zh_CN"),
        # Traditional Chinese readers get English, not Simplified characters.
        (discord.Locale.taiwan_chinese, "en"),
        (discord.Locale.german, "en"),
        ("ja", "ja"),
        ("zh-CN", "zh_CN"),
        (None, "en"),
    ],
)
def test_each_discord_locale_reads_its_catalog_or_english(
    locale: discord.Locale | str | None, language: str
) -> None:
    assert language_of(locale) == language


def test_a_text_reads_in_the_members_language_and_falls_back_to_english() -> None:
    assert t(discord.Locale.british_english, STATUS_EMPTY) == STATUS_EMPTY
    assert t(discord.Locale.german, STATUS_EMPTY) == STATUS_EMPTY
    assert t(discord.Locale.japanese, STATUS_EMPTY).startswith("まだAPIキーが登録されていません")
    assert t(discord.Locale.dutch, STATUS_EMPTY).startswith("Je hebt nog geen API-sleutel")
    assert t(discord.Locale.chinese, STATUS_EMPTY).startswith("你还没有绑定任何 API 密钥")
    # A text no catalog has (a new one, before it is translated) is shown in English.
    assert t(discord.Locale.japanese, "Not in any catalog {x}", x=1) == "Not in any catalog 1"


def test_placeholders_are_filled_after_translation() -> None:
    text = "You have no API key linked for {provider}. Link one with /key link."
    assert t("ja", text, provider="seed2.io") == (
        "seed2.io のAPIキーが登録されていません。/key link で登録してください。"
    )
    assert placeholders("{a} and {b} and {a}") == ["a", "b", "a"]
    # Without values a text is shown as it is: braces need no escaping.
    assert t("en-US", "a {literal} brace") == "a {literal} brace"


def test_plural_forms_follow_each_language() -> None:
    singular = (
        "You already have {count} job waiting, the most one member can have; nothing was sent "
        "and nothing was charged. /jobs list shows it; /jobs cancel removes it if you no longer "
        "need it. Or try again when it has started."
    )
    plural = (
        "You already have {count} jobs waiting, the most one member can have; nothing was sent "
        "and nothing was charged. /jobs list shows them; /jobs cancel removes one you no longer "
        "need. Or try again when some have started."
    )
    assert tn("en-US", singular, plural, 1).startswith("You already have 1 job waiting")
    assert tn("en-US", singular, plural, 2).startswith("You already have 2 jobs waiting")
    assert tn("nl", singular, plural, 1).startswith("Je hebt al 1 taak in de wachtrij")
    assert tn("nl", singular, plural, 3).startswith("Je hebt al 3 taken in de wachtrij")
    assert tn("ja", singular, plural, 3).startswith("すでに3件のジョブが待機中")


def test_numbers_and_lists_read_as_in_each_language() -> None:
    assert number("en-US", 6000) == "6,000"
    assert number("nl", 6000) == "6.000"
    assert number("ja", 6000) == "6,000"
    assert listing("en-US", ["a", "b", "c"]) == "a, b, and c"
    assert listing("nl", ["a", "b", "c"]) == "a, b en c"
    assert listing("ja", ["a", "b", "c"]) == "a、b、c"
    assert listing("nl", ["a", "b"], alternatives=True) == "a of b"
    # Values one after another, no "and": the reader's separator.
    assert enumeration("en-US", ["a", "b", "c"]) == "a, b, c"
    assert enumeration("nl", ["a", "b"]) == "a, b"
    assert enumeration("ja", ["a", "b", "c"]) == "a、b、c"
    assert enumeration("zh-CN", ["a", "b"]) == "a、b"
    assert enumeration("ja", []) == ""
    _ = gettext_for("nl")
    assert _.number(1160) == "1.160"
    assert _("Rules") == "Regels"


def test_marking_a_text_changes_nothing() -> None:
    assert N_("Try again later.") == "Try again later."
    assert t("ja", errors.ProviderError.advice) == "時間をおいてもう一度お試しください。"


@pytest.mark.parametrize("template", ENGINE_MESSAGES)
def test_what_the_engine_stored_in_english_reads_in_the_members_language(template: str) -> None:
    values = {name: f"<{name}>" for name in placeholders(template)}
    stored = template.format(**values)
    for locale in ("nl", "ja", "zh-CN"):
        shown = translate_stored(locale, stored, ENGINE_MESSAGES)
        assert shown == t(locale, template, **values)
        assert shown != stored
        assert all(value in shown for value in values.values())
    assert translate_stored("en-GB", stored, ENGINE_MESSAGES) == stored


@pytest.mark.parametrize(
    "files",
    [
        ["frame.png"],
        ["frame.png", "dusk.png"],
        ["a, and b.png", "c and d.png", "e, f.png"],
        ["x.png", "y.png", "z.png", "w.png"],
    ],
)
def test_a_stored_text_whose_values_were_texts_reads_wholly_in_the_members_language(
    files: list[str],
) -> None:
    """An input that was gone, stored in English with the job the engine failed: the sentence,
    the list of inputs and the reason in it are each read back and translated."""
    labels = (N_("the start frame `{file}`"), N_("the end frame `{file}`"))
    gone = N_(
        "Cannot use {inputs} of job #{job_id}: {why}. Nothing was sent and nothing was charged; "
        "{advice}."
    )
    why = N_("its copy on the job's status card was deleted or can no longer be read")
    advice = N_("start a new request with the file attached")
    parts = {"inputs": labels, "why": (why,), "advice": (advice,)}
    inputs = tuple(Text(labels[i % 2], {"file": name}) for i, name in enumerate(files))
    text = Text(gone, {"inputs": inputs, "job_id": 7, "why": Text(why), "advice": Text(advice)})
    stored = str(text)

    for locale in ("nl", "ja", "zh-CN"):
        assert translate_stored(locale, stored, [gone], parts) == text.translated(locale)
        assert translate_stored(locale, stored, [gone], parts) != stored
    assert translate_stored("en-GB", stored, [gone], parts) == stored
    # A value none of its texts made: the whole text as it came, not half translated.
    odd = stored.replace(str(Text(why)), "the moon ate it")
    assert translate_stored("ja", odd, [gone], parts) == odd


def test_a_providers_own_words_are_shown_as_they_came() -> None:
    said = "Task failed: content policy violation"
    assert translate_stored("ja", said, ENGINE_MESSAGES) == said


async def test_the_translator_localizes_descriptions_and_choices_but_never_names() -> None:
    translator = CatalogTranslator()
    await translator.load()

    @app_commands.command(name="help", description="Show only one part (default: everything)")
    async def command(interaction: discord.Interaction) -> None: ...

    description = locale_str("Show only one part (default: everything)")
    where = TranslationContext(TranslationContextLocation.command_description, command)
    assert await translator.translate(description, discord.Locale.japanese, where) == (
        "一部だけを表示（既定：すべて）"
    )
    assert await translator.translate(description, discord.Locale.british_english, where) is None
    assert await translator.translate(description, discord.Locale.german, where) is None
    named = TranslationContext(TranslationContextLocation.command_name, command)
    assert await translator.translate(locale_str("help"), discord.Locale.japanese, named) is None
    choice = app_commands.Choice(name="Writing prompts", value="prompts")
    chosen = TranslationContext(TranslationContextLocation.choice_name, choice)
    assert await translator.translate(
        locale_str("Writing prompts"), discord.Locale.dutch, chosen
    ) == ("Prompts schrijven")
    # A model's own name has no translation: Discord shows it as it is.
    label = locale_str("Seedance 2 (seedance2ai)")
    assert await translator.translate(label, discord.Locale.japanese, chosen) is None


async def test_registration_hashes_the_translated_payload() -> None:
    """A changed translation registers the commands again: the digest covers localizations."""
    tree = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))

    @tree.command(name="help", description="Show only one part (default: everything)")
    async def command(interaction: discord.Interaction) -> None: ...

    plain = await command_payload(tree, None)
    await tree.set_translator(CatalogTranslator())
    localized = await command_payload(tree, None)

    [entry] = localized
    assert set(entry["description_localizations"]) == {"nl", "ja", "zh-CN"}
    assert entry["name_localizations"] == {}
    assert payload_digest(localized) != payload_digest(plain)
    assert payload_digest(localized) == payload_digest(await command_payload(tree, None))


def test_a_text_made_in_the_core_is_translated_where_it_is_shown() -> None:
    """``Text``: a catalog text and its values, kept until the reader is known (a refusal made
    in the request models, an error raised far from the interaction)."""
    tier = N_("is not supported on the {tier} quality tier.")
    problem = Text(tier, {"tier": "mini"})
    assert str(problem) == "is not supported on the mini quality tier."
    assert problem.translated("ja") == t("ja", tier, tier="mini") != str(problem)
    # Values that are Texts are translated too; a tuple is a list in the reader's language.
    item = N_("item {number}: {problem}")
    nested = Text(item, {"number": 2, "problem": problem})
    assert nested.translated("nl") == t("nl", item, number=2, problem=t("nl", tier, tier="mini"))
    frames = (
        Text(N_("the start frame `{file}`"), {"file": "a.png"}),
        Text(N_("the image `{file}`"), {"file": "b.png"}),
    )
    assert str(Text("{inputs}", {"inputs": frames})) == (
        "the start frame `a.png` and the image `b.png`"
    )
    assert Text("{inputs}", {"inputs": frames}).translated("nl") == listing(
        "nl", [frame.translated("nl") for frame in frames]
    )
    # Counted: the form that fits, with the reader's digits.
    most = Nn_("takes at most {count} character.", "takes at most {count} characters.")
    assert str(Text.counted(most, 1)) == "takes at most 1 character."
    assert str(Text.counted(most, 2000)) == "takes at most 2,000 characters."
    assert Text.counted(most, 2000).translated("nl") == tn("nl", *most, 2000)
    assert "2.000" in tn("nl", *most, 2000)
    # Found back from an English text one of the templates made.
    assert Text.matching("is not supported on the pro quality tier.", [tier]) == Text(
        tier, {"tier": "pro"}
    )
    said = "a provider's own words"
    assert Text.matching(said, [tier]).translated("ja") == said
