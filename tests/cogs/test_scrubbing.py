"""A provider failure that quotes the member's key reaches neither SQLite nor the public thread.

The real cogs and engine on SQLite, the seedanceapi fake (whose keys have no known prefix, so
only the client that holds the key can hide it), and the fake Discord.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.app import SeedanceBot
from bot.storage import JobState
from tests.cogs.bots import Start, settled
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import slash_command_interaction
from tests.fakes.seedanceapi import FakeSeedanceApi

#: A seedanceapi key: no sk_ prefix, nothing in its shape gives it away.
KEY = "Zq7Lw4Rt8Yp3Nb6Hc1Xm9Kd2Vf5"
OTHER_KEY = "sk_live_someoneelse_0123456789abcdef"
PROMPT = "A lighthouse in a storm, waves breaking over the rocks, slow push in"


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedanceApi]:
    # Never finishes on its own: the test fails the task with the message it wants.
    fake = FakeSeedanceApi(keys={KEY: 1_000}, polls_to_finish=10**9)
    async with fake:
        yield fake


@pytest.fixture
async def bot(start: Start) -> SeedanceBot:
    return await start()


def everything_posted(fake: FakeDiscord) -> str:
    """Every body the bot sent Discord and every message now in the world, as one text."""
    sent = [repr(r.json) for r in fake.requests]
    stored = [repr(m) for m in fake.world.messages.values()]
    return "\n".join(sent + stored)


async def test_a_failure_quoting_the_key_is_stored_and_posted_without_it(
    discord_fake: FakeDiscord, bot: SeedanceBot, provider: FakeSeedanceApi
) -> None:
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedanceapi", KEY)
    ask = slash_command_interaction(
        "video",
        options={"prompt": PROMPT, "model": "seedanceapi"},
        channel=discord_fake.text_channel,
        user=discord_fake.member_user,
    )

    await dispatch(bot, ask)
    await discord_fake.wait_for(lambda: provider.tasks, within=10.0)
    [task_id] = provider.tasks
    provider.finish(task_id, fail=f"Upstream rejected Authorization {KEY} (see also {OTHER_KEY})")
    [job] = await bot.jobs.recent_for_user(member)

    final = await settled(bot, job.id, JobState.DELIVERED)

    # The provider's answer did quote the key, in the message and in the raw payload.
    assert final.error_message == "Upstream rejected Authorization *** (see also ***)"
    row: Any = (
        sqlite3.connect(bot.settings.database_path)
        .execute("SELECT error_message, raw_json FROM jobs WHERE id = ?", (job.id,))
        .fetchone()
    )
    assert row is not None
    assert row[1] is not None
    assert "FAILED" in row[1]
    for stored in row:
        assert KEY not in stored
        assert OTHER_KEY not in stored
    [thread] = discord_fake.threads_of(discord_fake.text_channel)
    posted = [m["content"] for m in discord_fake.messages_in(thread)]
    assert any("Upstream rejected Authorization ***" in text for text in posted), posted
    everything = everything_posted(discord_fake)
    assert KEY not in everything
    assert OTHER_KEY not in everything
