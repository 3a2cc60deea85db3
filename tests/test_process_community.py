"""A community server trying the bot for the first time, through the program users run.

``python -m bot`` runs in its own process, with real settings from the environment and an empty
working directory, against the local Discord fake (which starts with no commands: the bot
registers them itself) and the seedanceapi fake. A new admin sets the server up with /settings,
members run /video and /help, all as INTERACTION_CREATE events through the fake's gateway, and
the bot is stopped with SIGTERM and started again. The fake answers interactions only within
Discord's 3 s window and checks every body the bot sends against Discord's OpenAPI spec.

seedanceapi jobs are sent with a callback URL (``PUBLIC_URL`` and ``HTTP_PORT`` set), so a job
is not polled until its callback arrives; the test delivers that callback itself, which makes the
bot poll at once instead of after the 10 s a first poll would take.
"""

from __future__ import annotations

import re
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord
import pytest

from tests.clock import eventually
from tests.discord.fake import FakeDiscord
from tests.discord.payloads import (
    MEMBER_PERMISSIONS,
    Payload,
    member_payload,
    modal_submit_interaction,
    slash_command_interaction,
    text_channel_payload,
    thread_payload,
)
from tests.discord.world import EPHEMERAL, LOADING, Callback
from tests.fakes.base import Recorded
from tests.fakes.seedanceapi import FakeSeedanceApi
from tests.process import BotProcess, bot_environment

#: What /settings asks of whoever runs it: Manage Server (Discord's bit 5).
MANAGE_GUILD = discord.Permissions(manage_guild=True)
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_GUILD
#: The server's own seedanceapi key (seedanceapi keys have no recognisable prefix).
SERVER_KEY = "sapi-community-server-key-S3rv"
PUBLIC_URL = "https://bot.example.com"
PROMPT = "Paper lanterns rising over a dark lake, slow dolly out, festival night"
KEY_PROVIDER_FIELD = "key-form:provider"
KEY_FIELD = "key-form:key"
#: Japanese script (hiragana, katakana) and CJK ideographs.
JAPANESE = re.compile(r"[\u3040-\u30ff]")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
#: A daily limit of one job, as /settings and its refusals word it.
ONE_A_DAY = re.compile(r"\b1 jobs?\b.* any 24 hours")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Community:
    """The fake Discord with a server that has a second channel, the provider fake, and the
    settings the bot is started with (the same for every start, as a deployment's would be)."""

    fake: FakeDiscord
    provider: FakeSeedanceApi
    data: Path
    cwd: Path
    port: int
    #: The channel the admin will allow; ``fake.text_channel`` (#general) stays disallowed.
    studio: Payload

    def environment(self) -> dict[str, str]:
        return bot_environment(
            self.fake,
            self.data,
            SEEDANCEAPI_BASE_URL=self.provider.base_url,
            HTTP_PORT=str(self.port),
            PUBLIC_URL=PUBLIC_URL,
        )

    async def start(self) -> BotProcess:
        sessions = len(self.fake.gateway.identified)
        bot = await BotProcess.start(self.cwd, self.environment())
        try:
            await bot.wait_for_line(r"Job engine started")
            await self.fake.gateway.wait_ready(count=sessions + 1)
            await bot.wait_for_line(r"Ready as ")
        except (TimeoutError, AssertionError):
            await bot.stop(signal.SIGKILL)
            raise AssertionError(f"the bot did not come up; it logged:\n{bot.stderr}") from None
        return bot

    @property
    def studio_thread(self) -> Payload:
        [thread] = self.fake.threads_of(self.studio)
        return thread

    def command_id(self, name: str) -> str:
        return str(next(c["id"] for c in self.fake.world.commands[None] if c["name"] == name))


@pytest.fixture
async def community(tmp_path: Path) -> AsyncIterator[Community]:
    # Discord's own 3 s window for the first answer to an interaction.
    async with FakeDiscord(response_window=3.0) as fake:
        assert fake.world.commands == {}  # the bot must register its commands itself
        # Added before the bot starts, so its GUILD_CREATE carries it.
        studio = fake.add_channel(text_channel_payload("ai-studio", guild_id=fake.guild["id"]))
        fake.add_channel(
            thread_payload(
                "renders",
                guild_id=fake.guild["id"],
                parent_id=studio["id"],
                owner_id=fake.member_user["id"],
            )
        )
        keys = {SERVER_KEY: 1_000_000}
        async with FakeSeedanceApi(keys=keys, polls_to_finish=1, send_callbacks=False) as provider:
            # Results on the fake's own (loopback, http) host: posted as links, never fetched.
            provider.serve_media_bytes = 4096
            cwd = tmp_path / "deployment"
            cwd.mkdir()
            yield Community(fake, provider, cwd / "data", cwd, free_port(), studio)
            assert fake.schema_errors == [], fake.schema_errors
            assert fake.unhandled == [], fake.unhandled


@pytest.fixture
async def bot(community: Community) -> AsyncIterator[BotProcess]:
    process = await community.start()
    try:
        yield process
    finally:
        code = await process.stop(signal.SIGTERM)
        assert_clean(process)
        assert code == 0, process.stderr


def assert_clean(process: BotProcess) -> None:
    """Nothing a deployment's operator would have to look into."""
    assert "Traceback" not in process.stderr, process.stderr
    assert SERVER_KEY not in process.stderr, "the server's key reached the log"
    errors = [line for line in process.lines if " ERROR " in line or line.startswith("error:")]
    assert errors == [], process.stderr


# -- driving it as people would -----------------------------------------------------------------


async def send(community: Community, payload: Payload) -> list[Callback]:
    """Deliver an interaction through the gateway; its first answer (within Discord's 3 s, or
    the fake refuses it and nothing is ever recorded)."""
    fake = community.fake
    fake.register_interaction(payload)
    await fake.gateway.dispatch("INTERACTION_CREATE", payload)
    try:
        return await eventually(lambda: fake.callbacks_for(payload), within=10.0)
    except AssertionError:
        late = [r for r in fake.requests if payload["id"] in r.path]
        raise AssertionError(
            f"interaction {payload['data'].get('name') or payload['data'].get('custom_id')} "
            f"got no answer (requests for it: {[(r.path, r.status) for r in late]})"
        ) from None


def private_texts(fake: FakeDiscord, payload: Payload) -> list[str]:
    """What the one who sent ``payload`` alone saw: answers and follow-ups, once written."""
    texts = [
        str(c.data.get("content") or "")
        for c in fake.callbacks_for(payload)
        if c.type == 4 and c.data and c.data.get("flags", 0) & EPHEMERAL
    ]
    record = fake.world.interactions[payload["token"]]
    for message_id in record.message_ids:
        message = fake.world.messages.get(message_id)
        if message is not None and message["flags"] & EPHEMERAL and not message["flags"] & LOADING:
            texts.append(message["content"])
    return [text for text in dict.fromkeys(texts) if text]


async def private_answer(community: Community, payload: Payload) -> str:
    """Send ``payload`` and wait for the private answer (deferred ones included)."""
    await send(community, payload)
    texts = await eventually(lambda: private_texts(community.fake, payload), within=10.0)
    return "\n".join(texts)


def settings(
    community: Community, subcommand: str, group: str | None = None, **options: Any
) -> Payload:
    """``/settings [group] subcommand options...`` from the server's owner, in #general."""
    fake = community.fake
    return slash_command_interaction(
        "settings",
        subcommand=subcommand,
        group=group,
        options=options,
        channel=fake.text_channel,
        user=fake.owner_user,
        member_permissions=ADMIN_PERMISSIONS,
        command_id=community.command_id("settings"),
    )


def member_runs(
    community: Community,
    name: str,
    *,
    channel: Payload | None = None,
    user: Payload | None = None,
    locale: str = "en-US",
    **options: Any,
) -> Payload:
    """``/name options...`` from a plain member (Alice by default), in #general by default."""
    fake = community.fake
    who = user or fake.member_user
    return slash_command_interaction(
        name,
        options=options,
        channel=channel or fake.text_channel,
        user=who,
        member=member_payload(who, permissions=MEMBER_PERMISSIONS),
        command_id=community.command_id(name),
        locale=locale,
    )


async def allow_channel(community: Community, channel: Payload) -> str:
    return await private_answer(community, settings(community, "add", "channels", channel=channel))


async def link_server_key(community: Community, key: str) -> str:
    """/settings sponsor link, and the form sent back with ``key``: what the admin was told."""
    fake = community.fake
    ask = settings(community, "link", "sponsor", provider="seedanceapi")
    [form] = await send(community, ask)
    assert form.type == 9, "a form, as /key link opens"
    assert form.data is not None
    assert form.data["title"] == "Link the server's API key"
    submit = modal_submit_interaction(
        form.data["custom_id"],
        values={KEY_PROVIDER_FIELD: ["seedanceapi"], KEY_FIELD: key},
        channel=fake.text_channel,
        user=fake.owner_user,
    )
    submit["member"]["permissions"] = str(ADMIN_PERMISSIONS.value)
    said = await private_answer(community, submit)
    assert key not in said
    return said


def with_key(provider: FakeSeedanceApi, key: str) -> list[Recorded]:
    return [r for r in provider.requests if r.headers.get("Authorization") == f"Bearer {key}"]


async def call_back(community: Community, callback_url: str) -> None:
    """What the reverse proxy in front of the bot forwards: the provider's callback."""
    path = urlsplit(callback_url).path
    assert callback_url == PUBLIC_URL + path
    url = f"http://127.0.0.1:{community.port}{path}"
    async with aiohttp.ClientSession() as http, http.post(url, json={}) as answer:
        assert answer.status == 202, await answer.text()


def card_of(fake: FakeDiscord, payload: Payload) -> Payload | None:
    """The public status card a /video became (its original response, once it has an embed)."""
    message = fake.original_response(payload)
    if message is None or message["flags"] & (EPHEMERAL | LOADING) or not message["embeds"]:
        return None
    return message


async def wait_for_card(fake: FakeDiscord, payload: Payload, *, done: bool = False) -> Payload:
    """The card once it is posted (``done``: once its status says the job is done)."""

    def ready() -> Payload | None:
        card = card_of(fake, payload)
        if card is None or (done and not fields_of(card)["Status"].startswith("Done")):
            return None
        return card

    card = await eventually(ready, within=10.0)
    assert card is not None
    return card


def fields_of(card: Payload) -> dict[str, str]:
    return {f["name"]: f["value"] for f in card["embeds"][0].get("fields", [])}


# -- the tests --------------------------------------------------------------------------------


def registered_settings(community: Community) -> Payload:
    [command] = [c for c in community.fake.world.commands[None] if c["name"] == "settings"]
    return command


async def test_settings_is_registered_for_server_managers_only(
    community: Community, bot: BotProcess
) -> None:
    registered = registered_settings(community)
    # Discord shows it only to members who can manage the server (a server may grant it to
    # more roles under Integrations), and never in a DM with the bot.
    assert registered["default_member_permissions"] == str(MANAGE_GUILD.value)
    assert registered["dm_permission"] is False
    # Every other command is for everyone.
    others = [c for c in community.fake.world.commands[None] if c["name"] != "settings"]
    assert {c["name"]: c["default_member_permissions"] for c in others} == {
        c["name"]: None for c in others
    }


async def test_settings_is_registered_for_the_guild_context_only(
    community: Community, bot: BotProcess
) -> None:
    assert registered_settings(community).get("contexts") == [0]


async def test_settings_descriptions_are_registered_in_dutch_japanese_and_chinese(
    community: Community, bot: BotProcess
) -> None:
    registered = registered_settings(community)
    missing: list[str] = []

    def check(node: Payload, path: str) -> None:
        localized = node.get("description_localizations") or {}
        for locale in ("nl", "ja", "zh-CN"):
            text = localized.get(locale)
            if not text or text == node["description"]:
                missing.append(f"{path} [{locale}]")
        assert not node.get("name_localizations"), f"{path} has translated names"
        for option in node.get("options") or []:
            check(option, f"{path} {option['name']}")

    check(registered, "/settings")
    assert missing == [], f"{len(missing)} descriptions without a translation: " + ", ".join(
        missing[:10]
    )
    localized = registered["description_localizations"]
    assert JAPANESE.search(localized["ja"]) or CHINESE.search(localized["ja"])
    assert CHINESE.search(localized["zh-CN"])
    assert "zh-TW" not in localized  # Traditional Chinese readers get English


async def test_a_member_outside_the_allowed_channel_is_told_where_privately_and_nothing_is_sent(
    community: Community, bot: BotProcess
) -> None:
    fake, studio = community.fake, community.studio
    said = await allow_channel(community, studio)
    assert f"<#{studio['id']}>" in said, said

    ask = member_runs(community, "video", prompt=PROMPT, model="seedanceapi")
    [answer] = await send(community, ask)

    assert answer.type == 4, "answered at once, with a message"
    assert answer.data is not None
    assert answer.data["flags"] & EPHEMERAL, "the refusal is for the member alone"
    refusal = str(answer.data["content"])
    assert f"<#{studio['id']}>" in refusal, refusal  # where they can generate instead
    # Nothing public, nothing at the provider.
    assert [m for m in fake.messages_in(fake.text_channel) if not m["flags"] & EPHEMERAL] == []
    assert fake.threads_of(fake.text_channel) == []
    assert community.provider.requests == []

    # In the allowed channel, and in its threads, the same member gets past the rule (to the
    # key they still lack).
    for channel in (studio, community.studio_thread):
        there = member_runs(community, "video", channel=channel, prompt=PROMPT, model="seedanceapi")
        text = await private_answer(community, there)
        assert f"<#{studio['id']}>" not in text, text
        assert "only in some channels" not in text, text
        assert "key" in text.lower(), text
    assert community.provider.requests == []


async def test_a_member_without_a_key_generates_on_the_servers_key(
    community: Community, bot: BotProcess
) -> None:
    fake, provider = community.fake, community.provider
    said = await link_server_key(community, SERVER_KEY)
    assert "Linked the server's **seedanceapi.org** key `••••S3rv`" in said, said
    [check] = with_key(provider, SERVER_KEY)
    assert check.method == "GET", "checked without spending credits"
    shown = await private_answer(community, settings(community, "show"))
    assert "`••••S3rv`" in shown, shown
    assert SERVER_KEY not in shown

    ask = member_runs(community, "video", prompt=PROMPT, model="seedanceapi")
    [first] = await send(community, ask)
    assert first.type == 5, "a public 'thinking…' that becomes the card"

    # Submitted with the server's key, which the member never saw.
    [task] = await eventually(lambda: list(provider.tasks.values()), within=10.0)
    assert task.key == SERVER_KEY
    [submit] = [r for r in with_key(provider, SERVER_KEY) if r.method == "POST"]
    assert submit.path == "/v1/generate"
    card = await wait_for_card(fake, ask)
    assert fields_of(card).get("Paid by") == "the server's key", card["embeds"][0]
    assert SERVER_KEY not in str(card)

    # The provider calls back; the bot polls with the same key and posts the result.
    await call_back(community, task.body["callback_url"])
    polls = await eventually(
        lambda: [
            r
            for r in with_key(provider, SERVER_KEY)
            if r.path == "/v1/status" and r.query.get("task_id") == task.id
        ],
        within=10.0,
    )
    assert len(polls) == 1
    assert len(provider.requests) == len(with_key(provider, SERVER_KEY)), "no other key was used"
    [thread] = fake.threads_of(fake.text_channel)
    result = await eventually(
        lambda: [m for m in fake.messages_in(thread) if task.id in str(m) or m["embeds"]],
        within=10.0,
    )
    assert f"<@{fake.member_user['id']}>" in str(result), result

    finished = await wait_for_card(fake, ask, done=True)
    assert fields_of(finished)["Paid by"] == "the server's key"
    # Nothing the member alone had to be told.
    assert private_texts(fake, ask) == []

    usage = await private_answer(community, settings(community, "usage"))
    assert re.search(rf"<@{fake.member_user['id']}>: 1 jobs?\b", usage), usage
    assert re.search(r"Paid by the server's key: 1 jobs?\b", usage), usage


async def help_text(community: Community, locale: str) -> str:
    """Everything /help showed a member whose Discord is set to ``locale``."""
    fake = community.fake
    ask = member_runs(community, "help", locale=locale)
    [first] = await send(community, ask)
    assert first.type == 4, "answered at once"
    assert first.data is not None
    assert first.data["flags"] & EPHEMERAL
    # Anything longer follows as private follow-ups (none to wait for when it fits in one).
    record = fake.world.interactions[ask["token"]]
    followups = [fake.world.messages[m] for m in record.message_ids[1:]]
    assert all(m["flags"] & EPHEMERAL for m in followups)
    return str([first.data, *followups])


async def test_a_member_reading_japanese_gets_help_in_japanese(
    community: Community, bot: BotProcess
) -> None:
    english_titles = ["Linking your API key", "Writing prompts"]

    japanese = await help_text(community, "ja")
    assert JAPANESE.search(japanese), japanese[:2000]
    assert [title for title in english_titles if title in japanese] == [], japanese[:2000]
    # Command, option and model names are the same in every language.
    assert "/key link" in japanese
    assert "`model`" in japanese
    assert "Seedance 2.0 (seedanceapi)" in japanese

    dutch = await help_text(community, "nl")
    assert [title for title in english_titles if title in dutch] == [], dutch[:2000]
    chinese = await help_text(community, "zh-CN")
    assert CHINESE.search(chinese), chinese[:2000]
    assert not JAPANESE.search(chinese), chinese[:2000]
    # Traditional Chinese readers get English, not Simplified Chinese.
    traditional = await help_text(community, "zh-TW")
    assert "Linking your API key" in traditional, traditional[:2000]


async def test_a_japanese_member_refused_by_the_channel_rule_reads_it_in_japanese(
    community: Community, bot: BotProcess
) -> None:
    studio = community.studio
    await allow_channel(community, studio)
    ask = member_runs(community, "video", locale="ja", prompt=PROMPT, model="seedanceapi")
    refusal = await private_answer(community, ask)
    assert f"<#{studio['id']}>" in refusal, refusal
    assert JAPANESE.search(refusal), refusal
    assert community.provider.requests == []


async def test_a_japanese_member_without_a_key_is_asked_for_one_in_japanese(
    community: Community, bot: BotProcess
) -> None:
    ask = member_runs(community, "video", locale="ja", prompt=PROMPT, model="seedanceapi")
    [answer] = await send(community, ask)
    assert answer.data is not None
    assert answer.data["flags"] & EPHEMERAL
    text = str(answer.data["content"])
    assert "seedanceapi.org" in text, text
    assert JAPANESE.search(text), text
    buttons = str(answer.data.get("components"))
    assert "Link a" not in buttons, buttons
    assert community.provider.requests == []


async def test_settings_survive_a_restart(community: Community) -> None:
    fake, provider, studio = community.fake, community.provider, community.studio
    first = await community.start()
    try:
        await allow_channel(community, studio)
        await link_server_key(community, SERVER_KEY)
        limits = settings(community, "limits", per_day=1)
        assert ONE_A_DAY.search(await private_answer(community, limits))
    finally:
        code = await first.stop(signal.SIGTERM)
    assert code == 0, first.stderr
    assert_clean(first)
    assert len([line for line in first.lines if "Stopped cleanly" in line]) == 1, first.stderr

    again = await community.start()
    try:
        # The same commands: nothing registered again (Discord limits command creation).
        await again.wait_for_line(r"Slash commands up to date")
        assert len(fake.requests_to("PUT", "/applications/{application_id}/commands")) == 1

        shown = await private_answer(community, settings(community, "show"))
        assert f"Channels: <#{studio['id']}>" in shown, shown
        assert "`••••S3rv`" in shown, shown
        assert ONE_A_DAY.search(shown), shown

        # Still refused outside the allowed channel, with nothing sent.
        elsewhere = member_runs(community, "video", prompt=PROMPT, model="seedanceapi")
        refusal = await private_answer(community, elsewhere)
        assert f"<#{studio['id']}>" in refusal, refusal
        assert [r.method for r in provider.requests] == ["GET"], "only the key check so far"

        # Still paid by the server's key in the allowed one.
        there = member_runs(community, "video", channel=studio, prompt=PROMPT, model="seedanceapi")
        await send(community, there)
        [task] = await eventually(lambda: list(provider.tasks.values()), within=10.0)
        assert task.key == SERVER_KEY
        card = await wait_for_card(fake, there)
        assert fields_of(card).get("Paid by") == "the server's key"

        # And the daily limit still counts: a second job today is refused, saying when.
        more = member_runs(community, "video", channel=studio, prompt=PROMPT, model="seedanceapi")
        refusal = await private_answer(community, more)
        assert ONE_A_DAY.search(refusal), refusal
        assert re.search(r"<t:\d+:R>", refusal), refusal
        assert len(provider.tasks) == 1
    finally:
        code = await again.stop(signal.SIGTERM)
    assert code == 0, again.stderr
    assert_clean(again)
