"""What members are told when their money is at stake, from /video to the message they get.

- A submit that seed2 (no idempotency keys) answered with a 5xx after creating the task: one
  task, one charge, an uncertain job whose owner is told where to check, and a "Send again"
  button that sends it once more, once.
- An empty balance at submit: said privately (ephemeral while the command's interaction lives,
  else by DM); the public card and thread only say the job could not be started.
- A provider failing a job's polls: its status card says since when, and that the bot keeps
  trying.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.jobs import Progress, ProgressKind
from bot.models import Provider
from bot.storage import Destination, Job, JobState
from cogs.generate._card import status_embed
from tests.cogs.bots import (
    EPHEMERAL,
    Start,
    bots_on,
    buttons,
    ephemeral_texts,
    member,
    settled,
    video,
)
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import UNREACHABLE_URL, MakeSeedanceBot
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload, component_interaction
from tests.fakes.base import Fault
from tests.fakes.seed2 import FakeSeed2

SEED2_KEY = "sk-s2-members-money-alice-01"
PROMPT = "A lighthouse keeper climbing a spiral staircase in a storm, handheld camera"


@pytest.fixture
async def seed2() -> AsyncIterator[FakeSeed2]:
    async with FakeSeed2(keys={SEED2_KEY: 100_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


@pytest.fixture
async def start(make_seedance_bot: MakeSeedanceBot, seed2: FakeSeed2) -> AsyncIterator[Start]:
    urls = {
        Provider.SEED2: seed2.base_url,
        Provider.SEEDANCE2AI: UNREACHABLE_URL,
        Provider.SEEDANCEAPI: UNREACHABLE_URL,
    }
    async with bots_on(make_seedance_bot, urls) as start:
        yield start


def public_texts(fake: FakeDiscord, *channels: Any) -> str:
    """Everything anyone in these channels can read: contents and embeds."""
    return "\n".join(
        f"{m.get('content', '')} {m.get('embeds', '')}"
        for channel in channels
        for m in fake.messages_in(channel)
        if not m.get("flags", 0) & EPHEMERAL
    )


async def result_post(fake: FakeDiscord, channel_id: str, within: float = 10.0) -> Payload:
    def post() -> Payload | None:
        return next((m for m in fake.messages_in(channel_id) if m.get("components")), None)

    found = await fake.wait_for(post, within=within)
    assert found is not None
    return found


# -- 1. a 5xx after seed2 created the task -------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503])
async def test_a_5xx_after_the_task_was_made_is_one_charge_and_the_owner_decides(
    discord_fake: FakeDiscord, start: Start, seed2: FakeSeed2, status: int
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seed2", SEED2_KEY)
    broken = seed2.error_body(status, "internal", "upstream failed")
    seed2.inject(Fault("respond_after", status=status, body=broken, method="POST"))

    await dispatch(bot, video(discord_fake, prompt=PROMPT, model="seed2-fast"))
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, job.id, JobState.UNCERTAIN)
    thread = str(job.destination.thread_id)
    post = await result_post(discord_fake, thread)

    # One request, one task, one charge: never a second one behind the member's back.
    assert len(seed2.posts()) == 1
    assert len(seed2.tasks) == 1
    assert seed2.charges[SEED2_KEY] == [2900]
    # Told plainly: what happened, that it may have been charged, where to look, what to press.
    content = post["content"]
    assert content.startswith(f"<@{member(discord_fake)}> job #{job.id} was sent to seed2.io")
    assert "no confirmation came back" in content
    assert "may have been charged" in content
    assert "https://seed2.io" in content
    assert "**Send again**" in content
    assert set(buttons(post)) == {"Send again", "Details"}
    card = discord_fake.world.messages[str(job.destination.message_id)]
    assert "did not confirm" in str(card["embeds"])

    # The owner presses Send again: sent once more, once.
    press = component_interaction(
        post, buttons(post)["Send again"], channel=discord_fake.channel(thread),
        user=discord_fake.member_user,
    )  # fmt: skip
    await dispatch(bot, press)
    done = await settled(bot, job.id, JobState.DELIVERED, JobState.SUCCEEDED)
    again = component_interaction(
        post, buttons(post)["Send again"], channel=discord_fake.channel(thread),
        user=discord_fake.member_user,
    )  # fmt: skip
    await dispatch(bot, again)

    assert "queued again" in ephemeral_texts(discord_fake, press)[0]
    assert ephemeral_texts(discord_fake, again) == [
        f"Job #{job.id} is no longer waiting for a decision."
    ]
    assert done.remote_task_id is not None
    assert len(seed2.posts()) == 2
    assert len(seed2.tasks) == 2
    assert seed2.charges[SEED2_KEY] == [2900, 2900]


# -- 2. an empty balance is the member's business --------------------------------------------------


@pytest.mark.parametrize("interaction", ["alive", "expired"])
async def test_insufficient_credits_are_told_privately_and_the_card_only_says_not_started(
    discord_fake: FakeDiscord, start: Start, seed2: FakeSeed2, interaction: str
) -> None:
    seed2.credits[SEED2_KEY] = 1_234  # a 5 s fast clip costs 2,900
    bot = await start()
    await bot.keys.link(member(discord_fake), "seed2", SEED2_KEY)
    ask = video(discord_fake, prompt=PROMPT, model="seed2-fast")
    if interaction == "expired":
        # The answer is slow enough for the command's 15 minutes to pass first.
        seed2.inject(Fault("delay", seconds=0.3, method="POST"))

    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    if interaction == "expired":
        discord_fake.expire_interaction(ask)
    await settled(bot, job.id, JobState.DELIVERED)
    dm = discord_fake.dm_channel(discord_fake.member_user)

    def told() -> bool:
        private = ephemeral_texts(discord_fake, ask) + [
            m["content"] for m in discord_fake.messages_in(dm)
        ]
        return any("insufficient points balance" in text for text in private)

    await discord_fake.wait_for(told, within=5.0)

    assert seed2.tasks == {}
    assert seed2.total_charged() == 0
    private = ephemeral_texts(discord_fake, ask)
    dms = [m["content"] for m in discord_fake.messages_in(dm)]
    where = private if interaction == "alive" else dms
    [message] = [t for t in where if "insufficient points balance" in t]
    assert f"job #{job.id} could not be started" in message.lower()
    assert "Top up" in message
    if interaction == "alive":
        assert dms == []
    # In public, no balance, no advice to top up: only that it could not be started (the
    # card's published price stays).
    thread, channel = str(job.destination.thread_id), discord_fake.text_channel
    shown = public_texts(discord_fake, thread, channel)
    for secret in ("balance", "insufficient", "Top up", "points", "empty"):
        assert secret not in shown
    card = discord_fake.world.messages[str(job.destination.message_id)]
    assert "Could not be started" in str(card["embeds"])
    assert [m for m in discord_fake.messages_in(thread) if m.get("components")] == []


# -- 3. the card while the provider is not answering ---------------------------------------------


def running_job(**changes: Any) -> Job:
    job = Job(
        id=41,
        owner_id=1234,
        destination=Destination(),
        provider="seed2",
        endpoint="seed2",
        request={"prompt": PROMPT, "model": "seedance_2.0_fast", "duration": 5},
        idempotency_key="k",
        state=JobState.RUNNING,
        created_at=1_700_000_000.0,
        updated_at=1_700_000_000.0,
        submitted_at=1_700_000_010.0,
        remote_task_id="456",
    )
    return replace(job, **changes)


def status_of(progress: Progress) -> str:
    embed = status_embed(progress.job, progress, None)
    [field] = [f for f in embed.fields if f.name == "Status"]
    return str(field.value)


def test_the_card_says_the_provider_is_not_answering_and_that_the_bot_keeps_trying() -> None:
    job = running_job()
    outage = Progress(
        job, ProgressKind.RUNNING, elapsed=190.0, failing_since=job.submitted_at + 70.0
    )

    text = status_of(outage)

    assert "seed2.io has not been answering for 2 min" in text
    assert "still trying" in text
    assert f"<t:{int(job.submitted_at + 70.0)}:t>" in text  # the clock time, in every timezone
    healthy = status_of(replace(outage, failing_since=None))
    assert "not answering" not in healthy
    assert healthy.startswith("Generating: 3 min 10 s so far")
