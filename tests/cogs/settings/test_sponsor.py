"""The server's sponsor key: an admin links it through the same private form and key check as
/key link; members without a key of their own generate with it (submitted and polled with it,
within the server's limits, their cards saying who pays), a member's own key always wins, and
/settings usage shows what it paid.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import SeedanceBot
from bot.i18n import t
from bot.jobs import KEY_REJECTED
from bot.storage import JobState, server_key_owner
from tests.cogs.bots import Start, member, settled
from tests.cogs.settings.admin import (
    ADMIN_PERMISSIONS,
    admin,
    member_command,
    private_texts,
    settings_command,
)
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload, modal_submit_interaction, slash_command_interaction
from tests.fakes.base import Recorded
from tests.fakes.seedance2ai import FakeSeedance2AI

SERVER_KEY = "sk_live_server_sponsor_key_S3rv"
OWN_KEY = "sk_live_members_own_key_0wnK"
PROMPT = "Lanterns rising over a dark lake, slow dolly out, festival night"
PROVIDER_FIELD = "key-form:provider"
KEY_FIELD = "key-form:key"


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={SERVER_KEY: 1_000_000, OWN_KEY: 1_000_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


def server(fake: FakeDiscord) -> int:
    return server_key_owner(int(fake.guild["id"]))


def sent_with(provider: FakeSeedance2AI, key: str) -> list[Recorded]:
    return [r for r in provider.requests if r.headers.get("Authorization") == f"Bearer {key}"]


def video(fake: FakeDiscord, user: Payload | None = None, **options: Any) -> Payload:
    return member_command(fake, "video", user=user, prompt=PROMPT, model="seedance2", **options)


async def link_server_key(bot: SeedanceBot, fake: FakeDiscord, key: str) -> str:
    """/settings sponsor link, then the form sent with ``key``; the admin's private answer."""
    ask = settings_command(fake, "link", group="sponsor", provider="seedance2ai")
    await dispatch(bot, ask)
    [shown] = fake.callbacks_for(ask)
    assert shown.type == 9, "a private form, as /key link opens"
    assert shown.data is not None
    assert shown.data["title"] == "Link the server's API key"
    submit = modal_submit_interaction(
        shown.data["custom_id"],
        values={PROVIDER_FIELD: ["seedance2ai"], KEY_FIELD: key},
        channel=fake.text_channel,
        user=fake.owner_user,
    )
    submit["member"]["permissions"] = str(ADMIN_PERMISSIONS.value)
    await dispatch(bot, submit)
    answer = fake.original_response(submit)
    assert answer is not None
    assert answer["flags"] & 64
    return str(answer["content"])


async def test_members_without_a_key_generate_with_the_servers_own_key(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()

    said = await link_server_key(bot, discord_fake, SERVER_KEY)

    assert "Linked the server's **seedance2ai.io** key `••••S3rv`" in said
    assert SERVER_KEY not in said
    [check] = sent_with(provider, SERVER_KEY)
    assert check.method == "GET", "checked without spending credits, as /key link checks"
    assert (await bot.keys.get(server(discord_fake), "seedance2ai")) is not None
    assert "seedance2ai.io `••••S3rv`" in await admin(bot, discord_fake, "show")

    ask = video(discord_fake)
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    assert job.paid_by == server(discord_fake)
    job = await settled(bot, job.id, JobState.DELIVERED)

    assert job.error_code is None
    assert job.video_url
    # Submitted and polled with the server's key (the fake answers polls only to the key that
    # submitted), and nothing else was sent.
    with_server_key = sent_with(provider, SERVER_KEY)
    assert [r.method for r in with_server_key].count("POST") == 1
    assert len(with_server_key) == len(provider.requests) >= 3
    card = discord_fake.original_response(ask)
    assert card is not None
    fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
    assert fields["Paid by"] == "the server's key"

    usage = await admin(bot, discord_fake, "usage")
    assert f"<@{member(discord_fake)}>: 1 job · " in usage
    assert "Paid by the server's key: 1 job · " in usage


async def test_a_members_own_key_always_wins(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await link_server_key(bot, discord_fake, SERVER_KEY)
    bob = discord_fake.add_user("bob")
    await bot.keys.link(int(bob["id"]), "seedance2ai", OWN_KEY)
    before = len(sent_with(provider, SERVER_KEY))

    ask = video(discord_fake, user=bob)
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(int(bob["id"]))
    job = await settled(bot, job.id, JobState.DELIVERED)

    assert job.paid_by is None
    assert len(sent_with(provider, OWN_KEY)) >= 2
    assert len(sent_with(provider, SERVER_KEY)) == before
    card = discord_fake.original_response(ask)
    assert card is not None
    assert "Paid by" not in str(card["embeds"])


async def test_the_servers_key_pays_only_within_the_per_member_limits(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await link_server_key(bot, discord_fake, SERVER_KEY)
    await admin(bot, discord_fake, "limits", per_day=1)
    await dispatch(bot, video(discord_fake))
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, job.id, JobState.DELIVERED)
    posts = len(provider.posts())

    again = video(discord_fake)
    await dispatch(bot, again)

    [refused] = private_texts(discord_fake, again)
    assert "1 job per member in any 24 hours" in refused
    assert len(provider.posts()) == posts


async def test_unlinking_the_servers_key_sends_members_to_link_their_own(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await link_server_key(bot, discord_fake, SERVER_KEY)

    said = await admin(bot, discord_fake, "unlink", group="sponsor", provider="seedance2ai")

    assert "Removed the server's **seedance2ai.io** key `••••S3rv`" in said
    assert await bot.keys.get(server(discord_fake), "seedance2ai") is None
    ask = video(discord_fake)
    await dispatch(bot, ask)
    [told] = private_texts(discord_fake, ask)
    # The provider by its site, as every other message names it.
    assert "needs your own seedance2ai.io API key" in told
    assert await bot.jobs.recent_for_user(member(discord_fake)) == []
    assert provider.posts() == []
    again = await admin(bot, discord_fake, "unlink", group="sponsor", provider="seedance2ai")
    assert "no seedance2ai.io key linked" in again


async def test_a_server_key_the_provider_refuses_is_the_admins_to_fix(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await link_server_key(bot, discord_fake, SERVER_KEY)
    provider.credits.pop(SERVER_KEY)  # revoked on the provider's dashboard: 401

    ask = video(discord_fake)
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    job = await settled(bot, job.id, JobState.DELIVERED)

    assert job.error_code == KEY_REJECTED
    told = " ".join(private_texts(discord_fake, ask))
    assert "this server's key" in told
    assert "/settings sponsor link" in told
    assert "refused" in await admin(bot, discord_fake, "show")
    # No longer offered to members: they are asked for a key of their own.
    after = video(discord_fake)
    await dispatch(bot, after)
    assert "needs your own" in " ".join(private_texts(discord_fake, after))
    assert len(provider.posts()) == 1


async def test_a_job_the_servers_key_pays_is_polled_with_it_after_a_restart(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    provider.polls_to_finish = 100_000  # still rendering when the bot stops
    bot = await start()
    await link_server_key(bot, discord_fake, SERVER_KEY)
    await dispatch(bot, video(discord_fake))
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    job = await settled(bot, job.id, JobState.RUNNING)
    await bot.close()
    assert job.remote_task_id is not None
    provider.finish(job.remote_task_id)

    again = await start()  # the next process, on the same database

    done = await settled(again, job.id, JobState.DELIVERED)
    assert done.error_code is None
    assert done.paid_by == server(discord_fake)
    assert len(sent_with(provider, SERVER_KEY)) == len(provider.requests)


#: A seedanceapi key for the server (seedanceapi has video models only).
VIDEO_ONLY_SERVER_KEY = "sapi-server-key-for-video-only-V1d0"


@pytest.mark.parametrize("locale", ["en-US", "ja"])
async def test_a_servers_key_that_makes_no_images_says_so_on_image(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI, locale: str
) -> None:
    bot = await start()
    await bot.keys.link(server(discord_fake), "seedanceapi", VIDEO_ONLY_SERVER_KEY)

    ask = slash_command_interaction(
        "image",
        options={"prompt": PROMPT},
        channel=discord_fake.text_channel,
        user=discord_fake.member_user,
        locale=locale,
    )
    await dispatch(bot, ask)

    [told] = private_texts(discord_fake, ask)
    generic = (
        "Link an API key for one of the providers first; your generations use your own credits."
    )
    assert told != t(locale, generic)
    # Why the server's key does not help, and both ways out: the member's own key for the site
    # with image models, or the admins linking one for the server.
    for named in ("seedanceapi.org", "seedance2ai.io", "/key link", "/settings sponsor link"):
        assert named in told, told
    if locale == "en-US":
        assert "cannot make images" in told
    else:
        assert "cannot make images" not in told
        assert any("\u3040" <= c <= "\u30ff" for c in told), told
    [answer] = discord_fake.callbacks_for(ask)
    assert answer.data is not None
    [button] = [c for row in answer.data["components"] for c in row["components"]]
    assert button["custom_id"] == "key:link:seedance2ai", "the form opens on the image site"
    assert await bot.jobs.recent_for_user(member(discord_fake)) == []
    assert provider.requests == []


async def test_the_log_names_the_server_whose_sponsor_key_was_linked_or_unlinked(
    discord_fake: FakeDiscord,
    start: Start,
    provider: FakeSeedance2AI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start()
    guild = int(discord_fake.guild["id"])
    caplog.set_level(logging.INFO, logger="cogs")

    await link_server_key(bot, discord_fake, SERVER_KEY)
    await admin(bot, discord_fake, "unlink", group="sponsor", provider="seedance2ai")

    lines = [record.getMessage() for record in caplog.records]
    assert any(
        line.startswith(f"Server {guild} linked its sponsor key for seedance2ai ••••S3rv")
        for line in lines
    ), lines
    assert any(
        line.startswith(f"Server {guild} unlinked its sponsor key for seedance2ai ••••S3rv")
        for line in lines
    ), lines
    # Not as a member with the negated server id, and the key itself never.
    assert not [line for line in lines if f"-{guild}" in line], lines
    assert not [line for line in lines if SERVER_KEY in line]
