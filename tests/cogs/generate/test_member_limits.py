"""Members' money and secrets, as Discord shows them: a bounded queue per member, a key the
provider refused, the long-prompt form answering mistakes, and no card or thread left stranded.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot import app as app_module
from bot.jobs import KEY_REJECTED
from bot.storage import Job, JobState
from tests.cogs.bots import EPHEMERAL, FAST, Start, command, member, prompt_form_submit, settled
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot, seedance_settings
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload
from tests.fakes.seedance2ai import FakeSeedance2AI
from tests.jobs.crash import kill

KEY = "sk_live_member_limits_key_0001"
PROMPT = "A red kite over a windy beach at noon, wide shot, the string taut"


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 100_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


def private_answer(fake: FakeDiscord, interaction: Payload) -> str:
    """The one ephemeral answer to ``interaction`` (a reply or a follow-up)."""
    texts = []
    record = fake.world.interactions[interaction["token"]]
    for message_id in record.message_ids:
        message = fake.world.messages.get(message_id)
        if message is not None and message["flags"] & EPHEMERAL:
            texts.append(message["content"])
    assert len(texts) == 1, texts
    return texts[0]


def visible_messages(fake: FakeDiscord) -> list[Payload]:
    return [m for m in fake.messages_in(fake.text_channel) if not m["flags"] & EPHEMERAL]


# -- a bounded queue per member ------------------------------------------------------------------


async def test_the_waiting_cap_refuses_privately_before_any_card_or_thread(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    provider.polls_to_finish = 100_000  # the first job keeps its running slot
    bot = await start(replace(FAST, max_running_per_user=1, max_waiting_per_user=2))
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    await dispatch(bot, command(discord_fake, "video", prompt=PROMPT, model="seedance2"))
    [running] = await bot.jobs.recent_for_user(member(discord_fake))
    await settled(bot, running.id, JobState.RUNNING)
    for _ in range(2):
        await dispatch(bot, command(discord_fake, "video", prompt=PROMPT, model="seedance2"))
    cards = len(visible_messages(discord_fake))
    threads = len(discord_fake.threads_of(discord_fake.text_channel))
    assert (cards, threads) == (3, 3)

    over = command(discord_fake, "video", prompt=PROMPT, model="seedance2")
    await dispatch(bot, over)

    [answer] = discord_fake.callbacks_for(over)
    assert answer.type == 4, "answered at once, not deferred into a public 'thinking…'"
    text = private_answer(discord_fake, over)
    assert "2 jobs waiting" in text
    assert "/jobs list" in text
    assert "/jobs cancel" in text
    assert len(visible_messages(discord_fake)) == cards
    assert len(discord_fake.threads_of(discord_fake.text_channel)) == threads
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 3
    assert len(provider.posts()) == 1


async def test_the_waiting_cap_comes_from_its_setting(
    make_seedance_bot: MakeSeedanceBot, tmp_path: Any
) -> None:
    settings = seedance_settings(tmp_path, max_waiting_jobs_per_user=4)

    bot = await make_seedance_bot(settings=settings)

    assert bot.engine.config.max_waiting_per_user == 4
    assert seedance_settings(tmp_path).max_waiting_jobs_per_user == 10


# -- a key the provider refuses ------------------------------------------------------------------


async def test_a_refused_key_is_told_once_shown_and_refused_until_linked_again(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    credits = provider.credits.pop(KEY)  # revoked on the provider's dashboard: 401
    first = command(discord_fake, "video", prompt=PROMPT, model="seedance2")

    await dispatch(bot, first)
    [job] = await bot.jobs.recent_for_user(member(discord_fake))
    job = await settled(bot, job.id, JobState.DELIVERED)

    assert job.error_code == KEY_REJECTED
    told = private_answer(discord_fake, first)
    assert "/key link" in told
    assert "refused" in told or "rejected" in told
    card = discord_fake.world.messages[str(job.destination.message_id)]
    assert "privately" in str(card["embeds"])
    assert len(provider.requests) == 1

    status = command(discord_fake, "key", subcommand="status")
    await dispatch(bot, status)
    assert "rejected" in private_answer(discord_fake, status)

    again = command(discord_fake, "video", prompt=PROMPT, model="seedance2")
    await dispatch(bot, again)

    [answer] = discord_fake.callbacks_for(again)
    assert answer.type == 4
    refused = private_answer(discord_fake, again)
    assert "/key link" in refused
    assert len(await bot.jobs.recent_for_user(member(discord_fake))) == 1
    assert len(provider.requests) == 1, "nothing more was sent with the refused key"

    # Linked again (after fixing it at the provider): accepted, and shown so.
    provider.credits[KEY] = credits
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    await bot.engine.refresh_key(member(discord_fake), "seedance2ai")
    status = command(discord_fake, "key", subcommand="status")
    await dispatch(bot, status)
    assert "rejected" not in private_answer(discord_fake, status)
    await dispatch(bot, command(discord_fake, "video", prompt=PROMPT, model="seedance2"))
    newest = (await bot.jobs.recent_for_user(member(discord_fake)))[0]
    assert (await settled(bot, newest.id, JobState.DELIVERED)).error_code is None


# -- the long-prompt form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [("\u200b\u200b\u200b\u200b", "`prompt`"), ("A kite " * 2000, "`prompt`")],
    ids=["invisible", "too-long-for-the-model"],
)
async def test_a_mistake_typed_into_the_long_prompt_form_is_answered_privately(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI, text: str, named: str
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    ask = command(discord_fake, "video", model="seedance2")
    await dispatch(bot, ask)
    [shown] = discord_fake.callbacks_for(ask)
    assert shown.type == 9
    assert shown.data is not None
    parts = [text[:4000], text[4000:8000], text[8000:12000], text[12000:16000], ""]
    submit = prompt_form_submit(discord_fake, shown.data, parts)

    await dispatch(bot, submit)

    answer = private_answer(discord_fake, submit)
    assert named in answer
    assert "Nothing was sent" in answer
    assert visible_messages(discord_fake) == []
    assert await bot.jobs.recent_for_user(member(discord_fake)) == []
    assert provider.requests == []


# -- nothing stranded ----------------------------------------------------------------------------


async def test_a_job_that_cannot_be_recorded_leaves_no_card_or_thread(
    discord_fake: FakeDiscord,
    start: Start,
    provider: FakeSeedance2AI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)

    async def broken(**_: Any) -> Job:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(bot.jobs, "create", broken)
    ask = command(discord_fake, "video", prompt=PROMPT, model="seedance2")

    await dispatch(bot, ask)

    assert discord_fake.threads_of(discord_fake.text_channel) == []
    assert visible_messages(discord_fake) == []
    assert "went wrong" in private_answer(discord_fake, ask)
    assert provider.requests == []


async def test_a_bot_killed_while_posting_the_card_finishes_that_card_after_a_restart(
    discord_fake: FakeDiscord,
    start: Start,
    provider: FakeSeedance2AI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)

    async def hang(*_: Any, **__: Any) -> int | None:
        await asyncio.Event().wait()  # the process dies here, between card and thread
        return None

    # The module the running bot loaded (each load of the extension imports it afresh).
    monkeypatch.setattr(sys.modules["cogs.generate._flow"], "open_thread", hang)
    monkeypatch.setattr(app_module, "INTERACTION_GRACE_SECONDS", 0.05)
    ask = command(discord_fake, "video", prompt=PROMPT, model="seedance2")
    with pytest.raises(AssertionError, match="still running"):
        await dispatch(bot, ask, within=1.0)
    card = discord_fake.original_response(ask)
    assert card is not None
    await kill(bot.engine)  # no clean-up of any kind, as a killed process
    await bot.close()

    again = await start()  # the next process, on the same database

    [job] = await again.jobs.recent_for_user(member(discord_fake))
    assert job.destination.message_id == int(card["id"])
    await settled(again, job.id, JobState.DELIVERED)

    def finished() -> bool:
        shown = discord_fake.world.messages[card["id"]]
        return "Done" in str(shown.get("embeds"))

    assert await discord_fake.wait_for(finished, within=10.0)
    assert "Preparing" not in str(discord_fake.world.messages[card["id"]]["embeds"])
    assert len(provider.posts()) == 1
