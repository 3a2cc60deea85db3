"""Credit caps per member and per server, in any 24 hours, enforced with each job's documented
price before it is sent; and /settings usage, with what providers reported charging.

The real cogs and engine on SQLite, the seed2 fake (which publishes its prices), and the fake
Discord.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.storage import JobState
from tests.cogs.bots import Start, member, settled
from tests.cogs.settings.admin import admin, member_command, private_texts
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.fakes.seed2 import FakeSeed2

ALICE_KEY = "sk-s2-alice-credits-key-0001"
BOB_KEY = "sk-s2-bob-credits-key-00002"
PROMPT = "A snail crossing a mossy log at dawn, macro lens, shallow depth of field"
#: Seedance 2.0 fast, 5 s without media references: 580 credits a second.
JOB_CREDITS = 2900


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeed2]:
    async with FakeSeed2(keys={ALICE_KEY: 1_000_000, BOB_KEY: 1_000_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


async def test_credit_caps_per_member_and_per_server_refuse_before_anything_is_sent(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeed2
) -> None:
    bot = await start()
    alice = member(discord_fake)
    bob = discord_fake.add_user("bob")
    await bot.keys.link(alice, "seed2", ALICE_KEY)
    await bot.keys.link(int(bob["id"]), "seed2", BOB_KEY)
    said = await admin(
        bot, discord_fake, "credits", provider="seed2", per_member=3000, per_server=5000
    )
    assert "seed2.io: 3,000 per member, 5,000 for the server" in said

    await dispatch(bot, member_command(discord_fake, "video", prompt=PROMPT, model="seed2-fast"))
    [job] = await bot.jobs.recent_for_user(alice)
    job = await settled(bot, job.id, JobState.DELIVERED)
    assert job.credits_charged == JOB_CREDITS

    again = member_command(discord_fake, "video", prompt=PROMPT, model="seed2-fast")
    await dispatch(bot, again)
    [refused] = private_texts(discord_fake, again)
    assert "3,000 credits per member in any 24 hours" in refused
    assert "You have used 2,900 and this job would cost 2,900 credits" in refused
    assert "Nothing was sent and nothing was charged" in refused

    theirs = member_command(
        discord_fake, "video", user=bob, prompt=PROMPT, model="seed2-fast", duration=4
    )
    await dispatch(bot, theirs)
    [refused] = private_texts(discord_fake, theirs)
    assert "5,000 credits for the whole server" in refused
    assert "Its members have used 2,900 and this job would cost 2,320 credits" in refused

    assert len(provider.posts()) == 1
    assert provider.total_charged() == JOB_CREDITS
    assert await bot.jobs.recent_for_user(int(bob["id"])) == []

    # No cap any more: the same request goes ahead.
    lifted = await admin(bot, discord_fake, "credits", provider="seed2", per_member=0, per_server=0)
    assert "no credit cap" in lifted
    await dispatch(bot, member_command(discord_fake, "video", prompt=PROMPT, model="seed2-fast"))
    assert len(await bot.jobs.recent_for_user(alice)) == 2


async def test_usage_shows_jobs_and_credits_per_member(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeed2
) -> None:
    bot = await start()
    alice = member(discord_fake)
    await bot.keys.link(alice, "seed2", ALICE_KEY)
    assert "No jobs on this server" in await admin(bot, discord_fake, "usage")
    for _ in range(2):
        await dispatch(
            bot, member_command(discord_fake, "video", prompt=PROMPT, model="seed2-fast")
        )
    for job in await bot.jobs.recent_for_user(alice):
        await settled(bot, job.id, JobState.DELIVERED)

    usage = await admin(bot, discord_fake, "usage")

    assert "last 7 days | last 30 days" in usage
    line = f"<@{alice}>: 2 jobs · 5,800 seed2.io | 2 jobs · 5,800 seed2.io"
    assert line in usage
    assert "server's key" not in usage
