"""The Cancel button on the status card of a job waiting in its owner's queue: only its owner
may press it, it takes the job out without any request to the provider, the card says so, and
the button is gone once the job is sent; it works on cards posted before a restart.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

import copy
from dataclasses import replace

from bot.app import SeedanceBot
from bot.storage import Job, JobState
from tests.cogs.bots import FAST, Start, buttons, ephemeral_texts, member, settled, video
from tests.cogs.members.common import KEY, PROMPT, card_of, click, jobs_of
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.fakes.seedance2ai import FakeSeedance2AI

#: One job runs at a time, so the next ones wait in the member's queue.
ONE_AT_A_TIME = replace(FAST, max_running_per_user=1)


async def queue_behind_a_running_job(
    bot: SeedanceBot, fake: FakeDiscord, provider: FakeSeedance2AI, waiting: int
) -> tuple[Job, list[Job]]:
    """The member's first /video runs (and keeps running); ``waiting`` more wait behind it.
    Returns the running job and the waiting ones, each card showing its Cancel button."""
    provider.polls_to_finish = 100_000
    await bot.keys.link(member(fake), "seedance2ai", KEY)
    await dispatch(bot, video(fake, prompt=PROMPT, model="seedance2"))
    [first] = await jobs_of(bot, member(fake))
    running = await settled(bot, first.id, JobState.RUNNING)
    for _ in range(waiting):
        await dispatch(bot, video(fake, prompt=PROMPT, model="seedance2"))
    queued = (await jobs_of(bot, member(fake)))[1:]
    for job in queued:
        await fake.wait_for(lambda job=job: "Cancel" in buttons(card_of(fake, job)), within=5.0)
    assert "Cancel" not in buttons(card_of(fake, running))
    return running, queued


async def test_the_owner_cancels_a_waiting_job_from_its_card_and_nothing_is_sent(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start(ONE_AT_A_TIME)
    running, [second, third] = await queue_behind_a_running_job(bot, discord_fake, provider, 2)
    card = copy.deepcopy(card_of(discord_fake, second))  # as the member's client shows it

    # Someone else presses it: refused privately, the job still waits.
    bob = discord_fake.add_user("bob")
    stranger = click(discord_fake, card, "Cancel", user=bob)
    await dispatch(bot, stranger)
    assert ephemeral_texts(discord_fake, stranger) == [
        f"Only the member who asked for job #{second.id} can cancel it."
    ]
    assert (await settled(bot, second.id, JobState.QUEUED)).state is JobState.QUEUED

    # Its owner presses it: cancelled, the card says so and loses the button.
    owner = click(discord_fake, card, "Cancel")
    await dispatch(bot, owner)

    [answer] = ephemeral_texts(discord_fake, owner)
    assert answer == f"Cancelled job #{second.id}. It was never sent, so nothing was charged."
    await settled(bot, second.id, JobState.CANCELLED)

    def card_says_cancelled() -> bool:
        shown = card_of(discord_fake, second)
        return "Cancelled before it was sent" in str(shown["embeds"]) and not buttons(shown)

    assert await discord_fake.wait_for(card_says_cancelled, within=5.0)
    # The third job moved up: its card still offers Cancel, and only one request was ever sent.
    assert "Cancel" in buttons(card_of(discord_fake, third))
    assert len(provider.posts()) == 1

    # Pressed again (a stale copy of the card): said privately, nothing changes.
    again = click(discord_fake, card, "Cancel")
    await dispatch(bot, again)
    assert ephemeral_texts(discord_fake, again) == [f"Job #{second.id} is already cancelled."]

    # Once the running job ends, the third is sent: its Cancel button goes, and a stale press
    # is refused privately.
    stale = copy.deepcopy(card_of(discord_fake, third))
    assert running.remote_task_id is not None
    provider.finish(running.remote_task_id)
    await settled(bot, third.id, JobState.RUNNING)
    assert await discord_fake.wait_for(
        lambda: "Cancel" not in buttons(card_of(discord_fake, third)), within=10.0
    )
    late = click(discord_fake, stale, "Cancel")
    await dispatch(bot, late)
    [refused] = ephemeral_texts(discord_fake, late)
    assert "already been sent" in refused
    assert (await settled(bot, third.id, JobState.RUNNING)).state is JobState.RUNNING
    assert len(provider.posts()) == 2
    assert [p.body["prompt"] for p in provider.posts()] == [PROMPT, PROMPT]


async def test_the_cancel_button_works_on_a_card_posted_before_a_restart(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start(ONE_AT_A_TIME)
    _, [waiting] = await queue_behind_a_running_job(bot, discord_fake, provider, 1)
    card = card_of(discord_fake, waiting)
    await bot.close()

    again = await start(ONE_AT_A_TIME)  # a new process on the same database
    press = click(discord_fake, card, "Cancel")
    await dispatch(again, press)

    assert ephemeral_texts(discord_fake, press) == [
        f"Cancelled job #{waiting.id}. It was never sent, so nothing was charged."
    ]
    await settled(again, waiting.id, JobState.CANCELLED)
    assert len(provider.posts()) == 1
