"""/jobs stats: the member's own jobs per provider over the last 7 and 30 days, by outcome, with
the credits charged minus refunded; said plainly when there is nothing to count.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

import time

from bot.storage import DeliveryState, Destination, JobState, JobStore
from tests.cogs.bots import Start, command, member, settled, video
from tests.cogs.members.common import KEY, PROMPT, embed_text, jobs_of, private_embeds
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.fakes.seedance2ai import FakeSeedance2AI

DAY = 86_400.0


async def test_stats_count_the_members_jobs_and_credits_per_period(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    alice = member(discord_fake)

    empty = command(discord_fake, "jobs", subcommand="stats")
    await dispatch(bot, empty)
    [shown] = private_embeds(discord_fake, empty)
    assert shown["description"] == (
        "You have no jobs in the last 30 days. Start one with /video or /image."
    )

    await bot.keys.link(alice, "seedance2ai", KEY)
    # This week: one clip made (30 credits), one that failed (charged, then refunded).
    await dispatch(bot, video(discord_fake, prompt=PROMPT, model="seedance2"))
    [made] = await jobs_of(bot, alice)
    await settled(bot, made.id, JobState.DELIVERED)
    provider.outcome = "fail"
    await dispatch(bot, video(discord_fake, prompt=PROMPT, model="seedance2"))
    failed = (await jobs_of(bot, alice))[-1]
    failed = await settled(bot, failed.id, JobState.DELIVERED)
    assert (failed.credits_charged, failed.credits_refunded) == (30, 30)
    # Twelve days ago: a clip of 20 credits; and one of someone else's, which is not counted.
    earlier = JobStore(bot.database, clock=lambda: time.time() - 12 * DAY)
    for owner in (alice, alice + 1):
        old = await earlier.create(
            owner_id=owner,
            provider="seedance2ai",
            endpoint="seedance",
            request={"prompt": PROMPT},
            destination=Destination(),
        )
        await earlier.update(
            old.id,
            state=JobState.DELIVERED,
            video_url="https://cdn.seedance2ai.test/old.mp4",
            credits_charged=20,
            delivery_state=DeliveryState.DELIVERED,
        )

    ask = command(discord_fake, "jobs", subcommand="stats")
    await dispatch(bot, ask)

    [shown] = private_embeds(discord_fake, ask)
    [field] = shown["fields"]
    assert field["name"] == "seedance2ai.io"
    assert field["value"].splitlines() == [
        "**Last 7 days**: 2 jobs (1 done, 1 failed) · 30 credits charged",
        "**Last 30 days**: 3 jobs (2 done, 1 failed) · 50 credits charged",
    ]
    assert "charged minus refunded" in embed_text(shown)
    assert len(provider.posts()) == 2  # the two jobs; asking for stats sends nothing
