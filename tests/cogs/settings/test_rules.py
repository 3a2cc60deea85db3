"""A server's rules as its members meet them: an admin sets each with /settings, a member runs
/video, and is refused privately, naming the rule, before anything is recorded or sent (or,
where the rule allows it, the job goes ahead as the rule says).

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest

from bot.app import SeedanceBot
from bot.storage import JobState
from tests.cogs.bots import Start, member, settled
from tests.cogs.settings.admin import (
    add_role,
    add_text_channel,
    admin,
    member_command,
    private_texts,
    public_messages,
    role_option,
)
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload
from tests.fakes.seedance2ai import FakeSeedance2AI

KEY = "sk_live_settings_rules_key_0001"
PROMPT = "A paper boat drifting down a rain gutter, close-up, evening light"


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 1_000_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


async def ready(start: Start, fake: FakeDiscord) -> SeedanceBot:
    bot = await start()
    await bot.keys.link(member(fake), "seedance2ai", KEY)
    return bot


def video(fake: FakeDiscord, **options: Any) -> Payload:
    return member_command(fake, "video", prompt=PROMPT, model="seedance2", **options)


# -- who may change them -------------------------------------------------------------------------


async def test_settings_is_registered_for_members_who_manage_the_server_only(
    discord_fake: FakeDiscord, start: Start
) -> None:
    await start()

    registered = {c["name"]: c for scope in discord_fake.world.commands.values() for c in scope}

    settings = registered["settings"]
    assert settings["default_member_permissions"] == str(
        discord.Permissions(manage_guild=True).value
    )
    # Servers only: ``contexts`` is what Discord reads (it ignores dm_permission when contexts
    # is sent); dm_permission false stays for clients that know only the older field.
    assert settings.get("contexts") == [0]
    assert settings.get("dm_permission") is False
    for name in ("video", "image", "key", "jobs"):
        assert registered[name].get("default_member_permissions") is None, name
    names = {option["name"] for option in settings["options"]}
    assert {
        "show", "channels", "roles", "models", "limits", "credits", "privacy", "audit",
        "sponsor", "usage",
    } <= names  # fmt: skip


# -- where and who -------------------------------------------------------------------------------


async def test_outside_the_allowed_channels_a_member_is_pointed_to_one(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    studio = add_text_channel(discord_fake, "ai-studio")
    said = await admin(bot, discord_fake, "add", group="channels", channel=studio)
    assert f"<#{studio['id']}>" in said

    here = video(discord_fake)
    await dispatch(bot, here)

    [refused] = private_texts(discord_fake, here)
    assert f"<#{studio['id']}>" in refused
    assert public_messages(discord_fake) == []
    assert await bot.jobs.recent_for_user(member(discord_fake)) == []
    assert provider.requests == []

    there = member_command(discord_fake, "video", channel=studio, prompt=PROMPT, model="seedance2")
    await dispatch(bot, there)
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, job.id, JobState.DELIVERED)
    assert len(provider.posts()) == 1

    await admin(bot, discord_fake, "clear", group="channels")
    await dispatch(bot, video(discord_fake))
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 2


async def test_only_members_with_an_allowed_role_generate(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    artists = add_role(discord_fake, "Artists")
    await admin(bot, discord_fake, "add", group="roles", role=role_option(artists))

    without = video(discord_fake)
    await dispatch(bot, without)

    [refused] = private_texts(discord_fake, without)
    assert f"<@&{artists['id']}>" in refused
    assert "Nothing was sent" in refused
    assert await bot.jobs.recent_for_user(member(discord_fake)) == []
    assert provider.requests == []

    await dispatch(bot, video(discord_fake, roles=(artists["id"],)))
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 1


async def test_a_model_the_server_does_not_allow_is_refused_naming_the_allowed_ones(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    said = await admin(bot, discord_fake, "add", group="models", model="seedance")
    assert "Seedance (seedance2ai)" in said

    asked = video(discord_fake)  # Seedance 2
    await dispatch(bot, asked)

    [refused] = private_texts(discord_fake, asked)
    assert "Seedance 2 (seedance2ai) is not allowed" in refused
    assert "Allowed models: Seedance (seedance2ai)" in refused
    assert await bot.jobs.recent_for_user(member(discord_fake)) == []
    assert provider.requests == []

    # Without a model, the first allowed one of a linked provider is used.
    await dispatch(bot, member_command(discord_fake, "video", prompt=PROMPT))
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    assert job.endpoint == "seedance"


# -- per-member limits ---------------------------------------------------------------------------


async def test_running_and_waiting_limits_queue_then_refuse(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    provider.polls_to_finish = 100_000  # the first job keeps running
    bot = await ready(start, discord_fake)
    too_high = await admin(bot, discord_fake, "limits", running=5)
    assert "at most 3" in too_high
    said = await admin(bot, discord_fake, "limits", running=1, waiting=1)
    assert "1 running at once" in said
    assert "1 waiting" in said

    await dispatch(bot, video(discord_fake))
    [first] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, first.id, JobState.RUNNING)
    second = video(discord_fake)
    await dispatch(bot, second)
    assert any("at most 1 of your jobs at once" in t for t in private_texts(discord_fake, second))
    third = video(discord_fake)
    await dispatch(bot, third)

    [refused] = private_texts(discord_fake, third)
    assert "at most 1 job waiting" in refused
    assert "/jobs cancel" in refused
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 2
    assert len(provider.posts()) == 1, "the second waits for the server's running limit"

    # Back to the bot's own limit: the waiting job is sent at once.
    await admin(bot, discord_fake, "limits", running=0)
    assert await discord_fake.wait_for(lambda: len(provider.posts()) == 2)


async def test_the_daily_job_limit_refuses_the_next_job_and_says_when_it_fits(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    await admin(bot, discord_fake, "limits", per_day=1)
    await dispatch(bot, video(discord_fake))
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, job.id, JobState.DELIVERED)

    again = video(discord_fake)
    await dispatch(bot, again)

    [refused] = private_texts(discord_fake, again)
    assert "1 job per member in any 24 hours" in refused
    assert f"<t:{int(job.created_at + 24 * 3600) + 1}:R>" in refused
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 1
    assert len(provider.posts()) == 1


# -- where cards and results go, and the audit channel --------------------------------------------


async def test_private_cards_and_results_go_to_the_members_dms(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    said = await admin(bot, discord_fake, "privacy", cards="private")
    assert "private" in said

    ask = video(discord_fake)
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, job.id, JobState.DELIVERED)

    dm = discord_fake.dm_channel(discord_fake.member_user)
    assert job.destination.private
    assert job.destination.guild_id == int(discord_fake.guild["id"])
    assert job.destination.channel_id == int(dm["id"])
    [told] = private_texts(discord_fake, ask)
    assert "in your DMs" in told
    assert dm["id"] in told

    def posted() -> list[str]:
        return [str(m["embeds"]) for m in discord_fake.messages_in(dm)]

    assert await discord_fake.wait_for(lambda: any("Done" in e for e in posted()))
    assert any(f"Job #{job.id}'" in e for e in posted()), "the result, under the card"
    assert public_messages(discord_fake) == []
    assert discord_fake.threads_of(discord_fake.text_channel) == []

    # DMs closed to the bot: refused before anything is recorded or sent.
    discord_fake.close_dms(discord_fake.member_user)
    closed = video(discord_fake)
    await dispatch(bot, closed)
    [refused] = private_texts(discord_fake, closed)
    assert "cannot send you direct messages" in refused
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 1
    assert len(provider.posts()) == 1


async def test_the_audit_channel_gets_one_line_per_finished_job(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    log_channel = add_text_channel(discord_fake, "bot-log")
    said = await admin(bot, discord_fake, "audit", channel=log_channel)
    assert f"<#{log_channel['id']}>" in said

    await dispatch(bot, video(discord_fake))
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    job = await settled(bot, job.id, JobState.DELIVERED)

    lines = await discord_fake.wait_for(lambda: discord_fake.messages_in(log_channel))
    [line] = [m["content"] for m in lines]
    assert f"Job #{job.id}" in line
    assert f"<@{member(discord_fake)}>" in line
    assert "Seedance 2 (seedance2ai)" in line
    assert "succeeded" in line
    assert f"{job.credits_charged:,} seedance2ai.io credits" in line


async def test_show_lists_every_setting(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await ready(start, discord_fake)
    before = await admin(bot, discord_fake, "show")
    assert "Channels: anywhere" in before
    assert "Server key: none" in before

    studio = add_text_channel(discord_fake, "ai-studio")
    artists = add_role(discord_fake, "Artists")
    await admin(bot, discord_fake, "add", group="channels", channel=studio)
    await admin(bot, discord_fake, "add", group="roles", role=role_option(artists))
    await admin(bot, discord_fake, "add", group="models", model="seedance2")
    await admin(bot, discord_fake, "limits", running=2, per_day=20)
    await admin(bot, discord_fake, "credits", provider="seedance2ai", per_member=5000)
    await admin(bot, discord_fake, "privacy", cards="private")
    await admin(bot, discord_fake, "audit", channel=studio)

    shown = await admin(bot, discord_fake, "show")

    assert f"Channels: <#{studio['id']}>" in shown
    assert f"Roles: <@&{artists['id']}>" in shown
    assert "Models: Seedance 2 (seedance2ai)" in shown
    assert "2 running at once · 10 (the bot's limit) waiting · 20 jobs in any 24 hours" in shown
    assert "seedance2ai.io: 5,000 per member" in shown
    assert "private, in each member's DMs" in shown
    assert f"Audit channel: <#{studio['id']}>" in shown
