"""/key link, status and unlink, driven through the Discord fake with the provider fakes behind.

Every test also checks the one promise this cog exists for: the key a member pastes never shows
up in anything Discord received, in the log, or in the database in clear.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.app import SeedanceBot
from bot.logs import RedactingFilter
from bot.models import Provider
from bot.providers import ProviderClient, RetryPolicy, SeedanceApiClient, build_clients
from cogs import keys as keys_cog
from cogs.keys import LinkKeyButton, link_key_view
from tests.discord import fixtures as discord_fixtures
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import UNREACHABLE_URL, MakeSeedanceBot
from tests.discord.harness import dispatch, stop_bot
from tests.discord.payloads import (
    Payload,
    component_interaction,
    message_payload,
    modal_submit_interaction,
    slash_command_interaction,
)
from tests.fakes.base import FakeApi, Fault
from tests.fakes.seed2 import FakeSeed2
from tests.fakes.seedance2ai import FakeSeedance2AI
from tests.fakes.seedanceapi import FakeSeedanceApi

# The Discord harness's fixtures, used here by name.
discord_fake = discord_fixtures.discord_fake
make_bot = discord_fixtures.make_bot
make_seedance_bot = discord_fixtures.make_seedance_bot

#: Keys the provider fakes accept; each ends in four characters that make its fingerprint.
KEYS = {
    Provider.SEEDANCE2AI: "sk_live_keys_cog_secret_7Q2x",
    Provider.SEEDANCEAPI: "sapi_keys_cog_secret_k9Lm",
    Provider.SEED2: "sk-s2-keys-cog-secret-W4nd",
}
#: A key no fake knows: the providers answer 401.
UNKNOWN_KEY = "sk_live_never_issued_key_Zz99"
PROVIDER_FIELD = "key-form:provider"
KEY_FIELD = "key-form:key"
Start = Callable[[], Awaitable[SeedanceBot]]
FAST_RETRY = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02, total_budget=5.0)


@pytest.fixture
async def providers() -> AsyncIterator[dict[Provider, FakeApi]]:
    fakes: dict[Provider, FakeApi] = {
        Provider.SEEDANCE2AI: FakeSeedance2AI(keys={KEYS[Provider.SEEDANCE2AI]: 1000}),
        Provider.SEEDANCEAPI: FakeSeedanceApi(keys={KEYS[Provider.SEEDANCEAPI]: 1000}),
        Provider.SEED2: FakeSeed2(keys={KEYS[Provider.SEED2]: 1000}),
    }
    for fake in fakes.values():
        await fake.__aenter__()
    yield fakes
    for fake in fakes.values():
        await fake.__aexit__(None, None, None)


@pytest.fixture
async def clients(
    providers: dict[Provider, FakeApi],
) -> AsyncIterator[dict[Provider, ProviderClient]]:
    async with aiohttp.ClientSession() as session:
        urls = {provider: fake.base_url for provider, fake in providers.items()}
        yield build_clients(session, urls, timeout=5.0, retry=FAST_RETRY)


@pytest.fixture
async def start(
    make_seedance_bot: MakeSeedanceBot, clients: dict[Provider, ProviderClient]
) -> Start:
    """A SeedanceBot (every extension loaded by its setup_hook) with a redactor to inspect."""

    async def make() -> SeedanceBot:
        return await make_seedance_bot(clients=clients, redactor=RedactingFilter())

    return make


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def command(fake: FakeDiscord, sub: str, user: Payload | None = None, **options: Any) -> Payload:
    return slash_command_interaction(
        "key",
        subcommand=sub,
        options=options,
        channel=fake.text_channel,
        user=user or fake.member_user,
    )


async def open_form(bot: SeedanceBot, fake: FakeDiscord, **options: Any) -> dict[str, Any]:
    """Run /key link and return the modal Discord was asked to show."""
    ask = command(fake, "link", **options)
    await dispatch(bot, ask)
    [shown] = fake.callbacks_for(ask)
    assert shown.type == 9
    assert shown.data is not None
    return shown.data


async def submit_form(
    bot: SeedanceBot,
    fake: FakeDiscord,
    modal: dict[str, Any],
    provider: Provider,
    key: str,
    user: Payload | None = None,
) -> str:
    """Submit the link form; returns the ephemeral answer the member saw."""
    submit = modal_submit_interaction(
        modal["custom_id"],
        values={PROVIDER_FIELD: [provider.value], KEY_FIELD: key},
        channel=fake.text_channel,
        user=user or fake.member_user,
    )
    await dispatch(bot, submit)
    # Deferred first (the check may take seconds), then the answer replaces "thinking...".
    assert [c.type for c in fake.callbacks_for(submit)] == [5]
    answer = fake.original_response(submit)
    assert answer is not None
    assert answer["flags"] & 64, "the answer must be ephemeral"
    return str(answer["content"])


async def link(bot: SeedanceBot, fake: FakeDiscord, provider: Provider, key: str) -> str:
    return await submit_form(bot, fake, await open_form(bot, fake), provider, key)


def user_id(user: Payload) -> int:
    return int(user["id"])


def components_of(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The modal's inputs by custom id, each checked to sit inside a Label."""
    found = {}
    for row in modal["components"]:
        assert row["type"] == 18, "each input is wrapped in a Label"
        found[row["component"]["custom_id"]] = row["component"]
    return found


def assert_never_leaked(fake: FakeDiscord, logs: pytest.LogCaptureFixture, *secrets: str) -> None:
    """No body Discord received, no file and no log line contains any of ``secrets``."""
    sent = [json.dumps(r.json) for r in fake.requests] + [
        f.data.decode("utf-8", "replace") for r in fake.requests for f in r.files
    ]
    for secret in secrets:
        assert all(secret not in body for body in sent), "a key reached Discord"
        assert secret not in logs.text, "a key reached the log"
        for record in logs.records:
            if record.exc_info and record.exc_info[1] is not None:
                assert secret not in str(record.exc_info[1])


async def stored_ciphertexts(bot: SeedanceBot) -> list[bytes | str]:
    async with bot.database.connection.execute("SELECT ciphertext FROM api_keys") as cursor:
        return [row["ciphertext"] for row in await cursor.fetchall()]


# -- /key link -------------------------------------------------------------------------------------


async def test_link_opens_a_modal_with_a_provider_select_and_a_key_field(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()

    modal = await open_form(bot, discord_fake, provider="seed2")

    fields = components_of(modal)
    select, key = fields[PROVIDER_FIELD], fields[KEY_FIELD]
    assert select["type"] == 3
    assert select["min_values"] == select["max_values"] == 1
    options = {o["value"]: o for o in select["options"]}
    assert set(options) == {p.value for p in Provider}
    assert [v for v, o in options.items() if o.get("default")] == ["seed2"]
    assert [o["label"] for o in select["options"]] == [
        "seedance2ai.io",
        "seedanceapi.org",
        "seed2.io",
    ]
    assert key["type"] == 4
    assert key["style"] == 1
    assert key["required"] is True
    assert key["max_length"] == keys_cog.MAX_KEY_LENGTH
    assert "sk-s2-…" in key["placeholder"]
    assert "value" not in key or not key["value"]


async def test_link_without_a_provider_preselects_nothing(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()

    modal = await open_form(bot, discord_fake)

    select = components_of(modal)[PROVIDER_FIELD]
    assert not any(o.get("default") for o in select["options"])


@pytest.mark.parametrize("provider", list(Provider))
async def test_a_valid_key_is_stored_encrypted_and_shown_masked(
    discord_fake: FakeDiscord,
    start: Start,
    providers: dict[Provider, FakeApi],
    logs: pytest.LogCaptureFixture,
    provider: Provider,
) -> None:
    bot = await start()
    key = KEYS[provider]

    answer = await link(bot, discord_fake, provider, f"  {key}\n")  # pasted with stray spaces

    member = user_id(discord_fake.member_user)
    assert await bot.keys.reveal(member, provider) == key
    linked = await bot.keys.get(member, provider)
    assert linked is not None
    assert linked.verified_at is not None
    assert linked.masked in answer
    assert keys_cog.PROVIDER_NAMES[provider] in answer
    assert all(key not in str(c) for c in await stored_ciphertexts(bot))
    # Checked for free: one read at the provider, nothing submitted, nothing charged.
    assert providers[provider].posts() == []
    assert providers[provider].total_charged() == 0
    assert [r.method for r in providers[provider].requests] == ["GET"]
    assert bot.redactor is not None
    assert bot.redactor.redact(key) == "***"
    assert_never_leaked(discord_fake, logs, key)


async def test_the_engine_uses_the_newly_linked_key(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    member = user_id(discord_fake.member_user)
    await bot.keys.link(member, Provider.SEED2, "sk-s2-an-older-key-0000")
    await bot.engine.refresh_key(member, Provider.SEED2)

    answer = await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])

    assert "It replaces `••••0000`" in answer
    assert await bot.engine._api_key(member, Provider.SEED2) == KEYS[Provider.SEED2]


async def test_a_rejected_key_is_not_stored(
    discord_fake: FakeDiscord, start: Start, logs: pytest.LogCaptureFixture
) -> None:
    bot = await start()

    answer = await link(bot, discord_fake, Provider.SEEDANCE2AI, UNKNOWN_KEY)

    assert "seedance2ai.io rejected that key" in answer
    assert "nothing was stored" in answer
    assert await bot.keys.for_user(user_id(discord_fake.member_user)) == []
    assert_never_leaked(discord_fake, logs, UNKNOWN_KEY)


async def test_a_key_for_another_provider_is_pointed_out(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()

    answer = await link(bot, discord_fake, Provider.SEEDANCE2AI, KEYS[Provider.SEED2])

    assert "looks like a seed2.io key" in answer
    assert await bot.keys.for_user(user_id(discord_fake.member_user)) == []


async def test_a_provider_outage_stores_nothing(
    discord_fake: FakeDiscord,
    start: Start,
    providers: dict[Provider, FakeApi],
    logs: pytest.LogCaptureFixture,
) -> None:
    bot = await start()
    outage = {"code": 503, "message": "upstream unavailable", "data": None}
    providers[Provider.SEED2].inject(
        *(Fault("respond", status=503, body=outage) for _ in range(FAST_RETRY.max_attempts))
    )

    answer = await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])

    assert "could not check that key" in answer
    assert "nothing was stored" in answer
    assert "try /key link again" in answer.lower()
    assert await bot.keys.for_user(user_id(discord_fake.member_user)) == []
    assert_never_leaked(discord_fake, logs, KEYS[Provider.SEED2])


async def test_an_unreachable_provider_stores_nothing(
    discord_fake: FakeDiscord, start: Start, logs: pytest.LogCaptureFixture
) -> None:
    bot = await start()
    # Nothing listens on the discard port: every connection is refused.
    bot.clients[Provider.SEEDANCEAPI] = SeedanceApiClient(
        bot.session, UNREACHABLE_URL, retry=FAST_RETRY, timeout=5.0
    )

    answer = await link(bot, discord_fake, Provider.SEEDANCEAPI, KEYS[Provider.SEEDANCEAPI])

    assert "could not check that key" in answer
    assert "nothing was stored" in answer
    assert await bot.keys.for_user(user_id(discord_fake.member_user)) == []
    assert_never_leaked(discord_fake, logs, KEYS[Provider.SEEDANCEAPI])


async def test_text_that_cannot_be_a_key_is_refused_before_any_request(
    discord_fake: FakeDiscord, start: Start, providers: dict[Provider, FakeApi]
) -> None:
    bot = await start()
    modal = await open_form(bot, discord_fake)
    submit = modal_submit_interaction(
        modal["custom_id"],
        values={PROVIDER_FIELD: ["seed2"], KEY_FIELD: "sk-s2 my key\nsecond line"},
        channel=discord_fake.text_channel,
        user=discord_fake.member_user,
    )

    await dispatch(bot, submit)

    [answer] = discord_fake.callbacks_for(submit)
    assert answer.type == 4
    assert answer.data is not None
    assert answer.data["flags"] == 64
    assert "does not look like an API key" in answer.data["content"]
    assert "my key" not in answer.data["content"]
    assert providers[Provider.SEED2].requests == []


# -- /key status -----------------------------------------------------------------------------------


async def test_status_lists_masked_keys_and_when_they_were_checked(
    discord_fake: FakeDiscord, start: Start, logs: pytest.LogCaptureFixture
) -> None:
    bot = await start()
    await link(bot, discord_fake, Provider.SEEDANCE2AI, KEYS[Provider.SEEDANCE2AI])
    await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])
    ask = command(discord_fake, "status")

    await dispatch(bot, ask)

    [callback] = discord_fake.callbacks_for(ask)
    assert callback.type == 4
    assert callback.data is not None
    assert callback.data["flags"] == 64
    text = callback.data["content"]
    linked = await bot.keys.for_user(user_id(discord_fake.member_user))
    for item in linked:
        assert item.verified_at is not None
        line = next(line for line in text.splitlines() if item.masked in line)
        assert keys_cog.PROVIDER_NAMES[Provider(item.provider)] in line
        assert f"<t:{int(item.verified_at)}:R>" in line
    assert "Not linked: seedanceapi.org" in text
    assert_never_leaked(discord_fake, logs, *KEYS.values())


async def test_status_of_a_member_without_keys_says_how_to_link_one(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    ask = command(discord_fake, "status")

    await dispatch(bot, ask)

    [callback] = discord_fake.callbacks_for(ask)
    assert callback.data is not None
    assert "/key link" in callback.data["content"]
    [row] = callback.data["components"]
    assert row["components"][0]["custom_id"] == "key:link:any"


# -- /key unlink -----------------------------------------------------------------------------------


async def ask_to_unlink(
    bot: SeedanceBot, fake: FakeDiscord, provider: Provider
) -> tuple[Payload, Payload]:
    """Run /key unlink; returns the ephemeral question (a message) and its interaction."""
    ask = command(fake, "unlink", provider=provider.value)
    await dispatch(bot, ask)
    question = fake.original_response(ask)
    assert question is not None
    assert question["flags"] & 64
    return question, ask


def button(message: Payload, label: str) -> str:
    for row in message["components"]:
        for component in row["components"]:
            if component.get("label") == label:
                return str(component["custom_id"])
    raise LookupError(label)


async def press(
    bot: SeedanceBot, fake: FakeDiscord, message: Payload, label: str, user: Payload
) -> Payload:
    click = component_interaction(
        message, button(message, label), channel=fake.text_channel, user=user
    )
    await dispatch(bot, click)
    return click


async def test_unlink_after_confirming_removes_the_key(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    member = user_id(discord_fake.member_user)
    await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])
    question, _ = await ask_to_unlink(bot, discord_fake, Provider.SEED2)
    assert "••••W4nd" in question["content"]

    click = await press(bot, discord_fake, question, "Remove key", discord_fake.member_user)

    [callback] = discord_fake.callbacks_for(click)
    assert callback.type == 7  # the question itself turns into the answer
    assert question["content"].startswith("Removed your **seed2.io** key `••••W4nd`")
    assert question["components"] == []
    assert await bot.keys.get(member, Provider.SEED2) is None
    assert await bot.engine._api_key(member, Provider.SEED2) is None


async def test_unlink_cancelled_keeps_the_key(discord_fake: FakeDiscord, start: Start) -> None:
    bot = await start()
    await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])
    question, _ = await ask_to_unlink(bot, discord_fake, Provider.SEED2)

    await press(bot, discord_fake, question, "Cancel", discord_fake.member_user)

    assert question["content"].startswith("Kept your seed2.io key")
    assert question["components"] == []
    member = user_id(discord_fake.member_user)
    assert await bot.keys.reveal(member, Provider.SEED2) == KEYS[Provider.SEED2]


async def test_only_the_member_who_asked_can_confirm(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])
    question, _ = await ask_to_unlink(bot, discord_fake, Provider.SEED2)

    click = await press(bot, discord_fake, question, "Remove key", discord_fake.owner_user)

    [callback] = discord_fake.callbacks_for(click)
    assert callback.type == 4
    assert callback.data is not None
    assert callback.data["flags"] == 64
    assert "Only the member who ran /key unlink" in callback.data["content"]
    member = user_id(discord_fake.member_user)
    assert await bot.keys.reveal(member, Provider.SEED2) == KEYS[Provider.SEED2]
    # The member can still answer afterwards.
    await press(bot, discord_fake, question, "Remove key", discord_fake.member_user)
    assert await bot.keys.get(member, Provider.SEED2) is None


async def test_an_unanswered_question_keeps_the_key(
    discord_fake: FakeDiscord, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start()
    # load_extension executed its own copy of the module: patch the one the bot runs.
    monkeypatch.setattr(sys.modules["cogs.keys"], "CONFIRM_TIMEOUT", 0.05)
    await link(bot, discord_fake, Provider.SEED2, KEYS[Provider.SEED2])
    question, _ = await ask_to_unlink(bot, discord_fake, Provider.SEED2)

    await discord_fake.wait_for(lambda: question["content"].startswith("No answer"))

    assert question["components"] == []
    member = user_id(discord_fake.member_user)
    assert await bot.keys.get(member, Provider.SEED2) is not None


async def test_unlinking_a_provider_without_a_key_says_so(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    ask = command(discord_fake, "unlink", provider="seedanceapi")

    await dispatch(bot, ask)

    [callback] = discord_fake.callbacks_for(ask)
    assert callback.type == 4
    assert callback.data is not None
    assert callback.data["flags"] == 64
    assert "no seedanceapi.org key linked" in callback.data["content"]
    assert "components" not in callback.data or not callback.data["components"]


# -- the persistent "link a key" button -----------------------------------------------------------


def link_button_message(fake: FakeDiscord, provider: str | None) -> Payload:
    """An ephemeral "no linked key" message as another cog would have sent it before a restart."""
    view = link_key_view(provider)
    return message_payload(
        channel_id=fake.text_channel["id"],
        author=fake.world.bot_user,
        content="You have no linked key for that provider.",
        components=view.to_components(),
        flags=64,
    )


def test_link_key_view_holds_one_persistent_button() -> None:
    view = link_key_view("seed2")
    [item] = view.children
    assert isinstance(item, LinkKeyButton)
    assert item.custom_id == "key:link:seed2"
    assert view.is_persistent()
    assert view.timeout is None
    assert link_key_view(None).children[0].custom_id == "key:link:any"  # type: ignore[attr-defined]
    assert link_key_view("no-such-provider").children[0].custom_id == "key:link:any"  # type: ignore[attr-defined]


async def test_link_button_opens_the_form_after_a_restart(
    discord_fake: FakeDiscord, start: Start, logs: pytest.LogCaptureFixture
) -> None:
    fake = discord_fake
    first = await start()
    ask = command(fake, "status")
    await dispatch(first, ask)
    no_keys = fake.original_response(ask)
    assert no_keys is not None
    sent_by_another_cog = link_button_message(fake, "seed2")
    await stop_bot(fake, first)

    restarted = await start()
    click = component_interaction(
        sent_by_another_cog, "key:link:seed2", channel=fake.text_channel, user=fake.member_user
    )
    await dispatch(restarted, click)

    [shown] = fake.callbacks_for(click)
    assert shown.type == 9
    assert shown.data is not None
    select = components_of(shown.data)[PROVIDER_FIELD]
    assert [o["value"] for o in select["options"] if o.get("default")] == ["seed2"]
    answer = await submit_form(restarted, fake, shown.data, Provider.SEED2, KEYS[Provider.SEED2])
    assert "••••W4nd" in answer
    member = user_id(fake.member_user)
    assert await restarted.keys.reveal(member, Provider.SEED2) == KEYS[Provider.SEED2]

    # The /key status button from before the restart works too, with no provider chosen.
    click_any = component_interaction(
        no_keys, "key:link:any", channel=fake.text_channel, user=fake.member_user
    )
    await dispatch(restarted, click_any)
    [shown_any] = fake.callbacks_for(click_any)
    assert shown_any.type == 9
    assert shown_any.data is not None
    select_any = components_of(shown_any.data)[PROVIDER_FIELD]
    assert not any(o.get("default") for o in select_any["options"])
    assert_never_leaked(fake, logs, KEYS[Provider.SEED2])
