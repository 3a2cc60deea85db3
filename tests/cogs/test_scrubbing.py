"""A provider failure that quotes the member's key reaches neither SQLite nor the public thread.

The real cogs and engine on SQLite, the seedanceapi fake (whose keys have no known prefix, so
only the client that holds the key can hide it), and the fake Discord.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.app import SeedanceBot
from bot.jobs import EngineConfig, PollPlan
from bot.models import Provider
from bot.providers import RetryPolicy, build_clients
from bot.storage import JobState
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot
from tests.discord.harness import dispatch
from tests.discord.payloads import slash_command_interaction
from tests.fakes.seedanceapi import FakeSeedanceApi

#: A seedanceapi key: no sk_ prefix, nothing in its shape gives it away.
KEY = "Zq7Lw4Rt8Yp3Nb6Hc1Xm9Kd2Vf5"
OTHER_KEY = "sk_live_someoneelse_0123456789abcdef"
PROMPT = "A lighthouse in a storm, waves breaking over the rocks, slow push in"
FAST = EngineConfig(
    plan=PollPlan(first_fraction=0.0, interval=0.05, core_interval=0.05, tail_interval=0.05),
    delivery_retry_delay=0.05,
)


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedanceApi]:
    # Never finishes on its own: the test fails the task with the message it wants.
    fake = FakeSeedanceApi(keys={KEY: 1_000}, polls_to_finish=10**9)
    async with fake:
        yield fake


@pytest.fixture
async def bot(
    make_seedance_bot: MakeSeedanceBot, provider: FakeSeedanceApi
) -> AsyncIterator[SeedanceBot]:
    async with aiohttp.ClientSession() as session:
        urls = {p: provider.base_url for p in Provider}
        fast = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
        clients = build_clients(session, urls, timeout=5.0, retry=fast)
        yield await make_seedance_bot(clients=clients, engine_config=FAST)


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

    for _ in range(500):
        final = await bot.jobs.get(job.id)
        if final is not None and final.state is JobState.DELIVERED:
            break
        await asyncio.sleep(0.02)
    assert final is not None
    assert final.state is JobState.DELIVERED, final

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
