"""End to end through the Discord fake: members read the bot in their own Discord language, and
the commands are registered with descriptions in Dutch, Japanese and Simplified Chinese."""

from __future__ import annotations

from typing import Any, cast

import discord
import pytest

from bot.i18n.catalogs import COMMANDS, translations
from bot.models import Provider
from cogs.keys import LinkKeyButton, LinkKeyModal, link_key_view
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload, slash_command_interaction

LOCALIZED = ("nl", "ja", "zh-CN")
CATALOG = {"nl": "nl", "ja": "ja", "zh-CN": "zh_CN"}


def ask(
    fake: FakeDiscord, name: str, locale: str, sub: str | None = None, **options: Any
) -> Payload:
    return slash_command_interaction(
        name,
        subcommand=sub,
        options=options,
        channel=fake.text_channel,
        user=fake.member_user,
        locale=locale,
    )


def answer(fake: FakeDiscord, interaction: Payload) -> dict[str, Any]:
    [callback] = fake.callbacks_for(interaction)
    assert callback.data is not None
    return callback.data


def button_labels(data: dict[str, Any]) -> list[str]:
    return [c["label"] for row in data.get("components", []) for c in row["components"]]


def translated(locale: str, text: str) -> str:
    return translations(CATALOG[locale], COMMANDS).gettext(text)


async def test_registration_carries_descriptions_and_choices_in_each_language(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    await make_seedance_bot()
    registered = {command["name"]: command for command in discord_fake.world.commands[None]}

    help_command = registered["help"]
    assert set(help_command["description_localizations"]) == set(LOCALIZED)
    assert help_command["description_localizations"]["ja"] == (
        "キーの登録方法、各モデルの設定と料金、プロンプトのコツ"
    )
    # Names stay what /help, the errors and other members call them.
    assert not help_command.get("name_localizations")
    [topic] = help_command["options"]
    assert not topic.get("name_localizations")
    assert set(topic["description_localizations"]) == set(LOCALIZED)
    for choice in topic["choices"]:
        assert set(choice["name_localizations"]) == set(LOCALIZED)
        for locale in LOCALIZED:
            assert choice["name_localizations"][locale] == translated(locale, choice["name"])

    key = registered["key"]
    subcommands = {option["name"]: option for option in key["options"]}
    assert set(subcommands) >= {"link", "status", "unlink"}
    for command in [key, *subcommands.values()]:
        assert set(command["description_localizations"]) == set(LOCALIZED), command["name"]
        assert not command.get("name_localizations")
    [provider] = subcommands["link"]["options"]
    assert provider["description_localizations"]["zh-CN"] == "在表单中预先选好的服务商"
    # The providers' names read the same everywhere: nothing to localize.
    assert all(not choice.get("name_localizations") for choice in provider["choices"])

    video = registered["video"]
    assert video["description_localizations"]["nl"] == translated("nl", video["description"])
    for option in video["options"]:
        assert set(option["description_localizations"]) == set(LOCALIZED), option["name"]


async def test_video_and_image_say_who_pays_in_each_language(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    """A member without a key of their own may generate on the server's sponsor key: the
    commands must not say only "with your own API key"."""
    await make_seedance_bot()
    registered = {command["name"]: command for command in discord_fake.world.commands[None]}

    for name in ("video", "image"):
        command = registered[name]
        assert "your own API key" in command["description"], command["description"]
        assert "the server's" in command["description"], command["description"]
        assert len(command["description"]) <= 100
        localized = command["description_localizations"]
        assert set(localized) == set(LOCALIZED)
        for locale in LOCALIZED:
            assert localized[locale] == translated(locale, command["description"])
            assert localized[locale] != command["description"], (name, locale)
        assert "サーバー" in localized["ja"]
        assert "服务器" in localized["zh-CN"]
        assert "server" in localized["nl"]


async def test_a_japanese_member_reads_help_in_japanese(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    bot = await make_seedance_bot()
    question = ask(discord_fake, "help", "ja", topic="keys")

    await dispatch(bot, question)

    data = answer(discord_fake, question)
    assert data["flags"] & 64
    [embed] = data["embeds"]
    assert embed["title"] == "APIキーの登録"
    # Who pays: the member's own account, or the server's key where an admin linked one.
    first = embed["description"].splitlines()[0]
    assert "あなた自身のアカウント" in first
    assert "サーバー" in first
    assert "**/key link**" in embed["description"]
    assert any("キーの発行元" in field["value"] for field in embed["fields"])


async def test_a_dutch_member_reads_the_models_help_in_dutch(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    bot = await make_seedance_bot()
    question = ask(discord_fake, "help", "nl", topic="models")

    await dispatch(bot, question)

    embeds = answer(discord_fake, question)["embeds"]
    assert embeds[0]["title"] == "Modellen"
    fields = {field["name"] for embed in embeds[1:] for field in embed["fields"]}
    assert {"Instellingen", "Prijs"} <= fields
    # Dutch digit grouping, and the models' own names as they are.
    assert any("prompt tot 10.000 tekens" in embed["description"] for embed in embeds[1:])
    assert any(embed["title"] == "Seedance 2 (seedance2ai)" for embed in embeds)


async def test_key_status_reads_in_each_members_language(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    bot = await make_seedance_bot()
    dutch = ask(discord_fake, "key", "nl", sub="status")
    await dispatch(bot, dutch)
    data = answer(discord_fake, dutch)
    assert data["content"].startswith("Je hebt nog geen API-sleutel gekoppeld.")
    assert button_labels(data) == ["Een API-sleutel koppelen"]

    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, Provider.SEED2.value, "sk-s2-i18n-test-key-0000")
    japanese = ask(discord_fake, "key", "ja", sub="status")
    await dispatch(bot, japanese)
    lines = answer(discord_fake, japanese)["content"].splitlines()
    assert lines[0] == "登録済みのキー："
    assert lines[1].startswith("• **seed2.io** `••••0000`：")
    assert lines[1].endswith("に確認済み")
    assert lines[2] == "-# 未登録：seedance2ai.io、seedanceapi.org。/key link で追加できます。"

    british = ask(discord_fake, "key", "en-GB", sub="status")
    await dispatch(bot, british)
    assert answer(discord_fake, british)["content"].startswith("Your linked keys:")


async def test_the_link_form_and_the_unlink_question_are_in_the_members_language(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    bot = await make_seedance_bot()
    form = ask(discord_fake, "key", "ja", sub="link")
    await dispatch(bot, form)
    [shown] = discord_fake.callbacks_for(form)
    assert shown.type == 9
    assert shown.data is not None
    assert shown.data["title"] == "APIキーを登録"
    labels = [row["label"] for row in shown.data["components"]]
    assert labels == ["プロバイダー", "APIキー"]

    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, Provider.SEED2.value, "sk-s2-i18n-test-key-0000")
    unlink = ask(discord_fake, "key", "zh-CN", sub="unlink", provider=Provider.SEED2.value)
    await dispatch(bot, unlink)
    data = answer(discord_fake, unlink)
    assert data["content"].startswith("要移除你的 **seed2.io** 密钥 `••••0000` 吗？")
    assert button_labels(data) == ["移除密钥", "取消"]


@pytest.mark.parametrize("locale", ["en-US", *LOCALIZED])
async def test_forms_and_buttons_fit_discords_limits_in_every_language(locale: str) -> None:
    for provider in [None, *Provider]:
        form = LinkKeyModal(cast(Any, None), provider, locale)
        assert 1 <= len(form.title) <= 45
        for label in form.children:
            assert isinstance(label, discord.ui.Label)
            assert 1 <= len(label.text) <= 45
            assert len(label.description or "") <= 100
        assert len(form.key_input.placeholder or "") <= 100
        assert len(form.provider_select.placeholder or "") <= 150
        for option in form.provider_select.options:
            assert len(option.description or "") <= 100
        [dynamic] = link_key_view(provider.value if provider else None, locale).children
        assert isinstance(dynamic, LinkKeyButton)
        assert 1 <= len(dynamic.item.label or "") <= 80
