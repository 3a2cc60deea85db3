"""/video and /image beyond the happy path: long prompts, inputs kept for days, every result
button, and the tree-level error handler.

The real cogs and engine on SQLite, the provider fakes, and the fake Discord with Discord's CDN
(:mod:`tests.discord.cdn`): attachments carry real ``https://cdn.discordapp.com`` links (the
request models take nothing else), are downloaded through the bot's ``get_from_cdn``, and are
signed afresh whenever the bot fetches their message.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import discord
import pytest
from discord import app_commands

from bot.app import SeedanceBot
from bot.models import InvalidParameters, Problem, Provider
from bot.storage import Job, JobState
from tests.cogs.bots import (
    EPHEMERAL,
    FAST,
    Start,
    bots_on,
    buttons,
    ephemeral_texts,
    image,
    prompt_form_submit,
    settled,
    video,
)
from tests.cogs.bots import member as alice
from tests.discord.cdn import CdnFakeDiscord, assert_discord_was_satisfied
from tests.discord.fixtures import UNREACHABLE_URL, MakeSeedanceBot
from tests.discord.harness import dispatch
from tests.discord.payloads import (
    MEMBER_PERMISSIONS,
    Payload,
    component_interaction,
)
from tests.fakes.base import Fault
from tests.fakes.seed2 import FakeSeed2
from tests.fakes.seedance2ai import FakeSeedance2AI

KEY = "sk_live_generate_more_alice_01"
BOB_KEY = "sk_live_generate_more_bob_0002"
SEED2_KEY = "sk-s2-generate-more-alice-01"
SEEDANCEAPI_KEY = "sk-generate-more-alice-000001"
PROMPT = "A paper boat drifting down a rain gutter at dusk, close tracking shot"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
MP4 = b"\x00\x00\x00\x18ftypmp42" + bytes(range(64))


# -- the world ---------------------------------------------------------------------------------


@pytest.fixture
async def discord_fake() -> AsyncIterator[CdnFakeDiscord]:
    """Overrides the harness fixture for this module: the same fake, with Discord's CDN."""
    async with CdnFakeDiscord() as fake:
        yield fake
    assert_discord_was_satisfied(fake)


@pytest.fixture
async def seedance2ai() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 10_000, BOB_KEY: 10_000}) as fake:
        fake.serve_media_bytes = 64 * 1024
        yield fake


@pytest.fixture
async def seed2() -> AsyncIterator[FakeSeed2]:
    async with FakeSeed2(keys={SEED2_KEY: 100_000}) as fake:
        fake.serve_media_bytes = 64 * 1024
        yield fake


@pytest.fixture
async def start(
    make_seedance_bot: MakeSeedanceBot, seedance2ai: FakeSeedance2AI, seed2: FakeSeed2
) -> AsyncIterator[Start]:
    """``await start()``: a logged-in bot (a second call is a restart on the same database);
    ``await start(config)`` with another engine configuration."""
    urls = {
        Provider.SEEDANCE2AI: seedance2ai.base_url,
        Provider.SEED2: seed2.base_url,
        Provider.SEEDANCEAPI: UNREACHABLE_URL,
    }
    async with bots_on(make_seedance_bot, urls) as start:
        yield start


def click(
    fake: CdnFakeDiscord,
    message: Payload,
    label: str,
    user: Payload | None = None,
    *,
    permissions: discord.Permissions = MEMBER_PERMISSIONS,
) -> Payload:
    """``user`` presses the button labelled ``label`` under ``message`` (in its channel)."""
    payload = component_interaction(
        message,
        buttons(message)[label],
        channel=fake.channel(message["channel_id"]),
        user=user or fake.member_user,
    )
    payload["member"]["permissions"] = str(permissions.value)
    return payload


async def jobs_of(bot: SeedanceBot, user_id: int) -> list[Job]:
    """The member's jobs, oldest first."""
    return list(reversed(await bot.jobs.recent_for_user(user_id)))


async def delivered_post(fake: CdnFakeDiscord, channel_id: str, within: float = 10.0) -> Payload:
    """The first result message (one with buttons) posted in ``channel_id``."""

    def post() -> Payload | None:
        return next(
            (m for m in fake.messages_in(channel_id) if "Details" in buttons(m)),
            None,
        )

    return await fake.wait_for(post, within=within)


def path_of(url: str) -> str:
    return urlsplit(url).path


# -- 1. long prompts ---------------------------------------------------------------------------


async def test_no_prompt_opens_a_form_whose_parts_make_one_long_prompt(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    ask = video(discord_fake, model="seedance2", duration=6)

    await dispatch(bot, ask)

    [shown] = discord_fake.callbacks_for(ask)
    assert shown.type == 9
    assert shown.data is not None
    inputs = [c for row in shown.data["components"] for c in row["components"]]
    assert len(inputs) == 5
    assert all(c["type"] == 4 and c["style"] == 2 for c in inputs)  # paragraphs
    assert [c["required"] for c in inputs] == [True, False, False, False, False]
    assert await bot.jobs.recent_for_user(alice(discord_fake)) == []

    # Three parts, each within a text input's 4,000, together over an option's 6,000.
    parts = ["Scene one. " * 360, "Scene two, the bridge. " * 150, "Ending.", "", ""]
    submit = prompt_form_submit(discord_fake, shown.data, parts)
    await dispatch(bot, submit)

    prompt = "".join(parts)
    assert len(prompt) > 6000
    [job] = await bot.jobs.recent_for_user(alice(discord_fake))
    assert job.request["prompt"] == prompt
    assert job.request["duration"] == "6"  # the command's other options came along
    card = discord_fake.original_response(submit)
    assert card is not None
    assert not card["flags"] & EPHEMERAL
    await discord_fake.wait_for(lambda: seedance2ai.posts(), within=10.0)
    assert seedance2ai.posts()[0].body["prompt"] == prompt


async def test_a_txt_prompt_file_of_twelve_thousand_characters_is_read_from_discord(
    discord_fake: CdnFakeDiscord, start: Start, seed2: FakeSeed2
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seed2", SEED2_KEY)
    # Not ASCII, so a wrong decoding would show: "é" and "—" take two and three bytes in UTF-8.
    text = ("Café at dawn — steam rises, the camera drifts left. " * 240)[:12_000].strip()
    assert len(text) > 11_900
    prompt_file = discord_fake.cdn.attachment("prompt.txt", (text + "\n").encode())

    await dispatch(bot, video(discord_fake, model="seed2-fast", prompt_file=prompt_file))

    assert discord_fake.cdn.fetched == [prompt_file["url"]]
    [job] = await bot.jobs.recent_for_user(alice(discord_fake))
    assert job.request["prompt"] == text
    await discord_fake.wait_for(lambda: seed2.posts(), within=10.0)
    assert seed2.posts()[0].body["prompt"] == text


@pytest.mark.parametrize(
    ("filename", "content_type", "data", "said"),
    [
        ("prompt.pdf", "application/pdf", b"%PDF-1.7 a cat", "must be a .txt file"),
        ("prompt.txt", "text/plain", "Kaffee für zwei".encode("latin-1"), "must be UTF-8"),
    ],
    ids=["not-txt", "not-utf8"],
)
async def test_a_prompt_file_that_is_not_utf8_text_is_refused_without_a_job(
    discord_fake: CdnFakeDiscord,
    start: Start,
    seed2: FakeSeed2,
    filename: str,
    content_type: str,
    data: bytes,
    said: str,
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seed2", SEED2_KEY)
    prompt_file = discord_fake.cdn.attachment(filename, data, content_type=content_type)
    ask = video(discord_fake, model="seed2-fast", prompt_file=prompt_file)

    await dispatch(bot, ask)

    [answer] = ephemeral_texts(discord_fake, ask)
    assert said in answer
    assert "`prompt_file`" in answer
    assert await bot.jobs.recent_for_user(alice(discord_fake)) == []
    assert seed2.requests == []
    # No public trace: no card, no thread, no "thinking..." left behind.
    public = [m for m in discord_fake.messages_in(discord_fake.text_channel)
              if not m["flags"] & EPHEMERAL]  # fmt: skip
    assert public == []
    assert discord_fake.threads_of(discord_fake.text_channel) == []


async def test_a_prompt_file_over_the_models_limit_is_refused_naming_prompt(
    discord_fake: CdnFakeDiscord, start: Start
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedanceapi", SEEDANCEAPI_KEY)
    text = "A lighthouse keeper climbs the stairs, the lamp turns. " * 40
    assert len(text.strip()) > 2000
    prompt_file = discord_fake.cdn.attachment("long.txt", text.encode())
    ask = video(discord_fake, model="seedanceapi", prompt_file=prompt_file)

    await dispatch(bot, ask)

    [answer] = ephemeral_texts(discord_fake, ask)
    assert "`prompt`" in answer
    assert "2,000" in answer
    assert "Nothing was sent" in answer
    assert await bot.jobs.recent_for_user(alice(discord_fake)) == []
    public = [m for m in discord_fake.messages_in(discord_fake.text_channel)
              if not m["flags"] & EPHEMERAL]  # fmt: skip
    assert public == []


# -- 2. inputs kept for days -------------------------------------------------------------------


async def test_a_start_frame_is_kept_on_the_card_and_a_re_roll_days_later_uses_fresh_links(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    frame = discord_fake.cdn.attachment("frame.png", PNG)
    ask = video(discord_fake, prompt=PROMPT, model="seedance2", start_frame=frame)

    await dispatch(bot, ask)

    # The member's upload was copied onto the public card, byte for byte.
    card = discord_fake.original_response(ask)
    assert card is not None
    [kept] = card["attachments"]
    [copy] = discord_fake.files_of(card)
    assert copy.data == PNG
    assert kept["filename"] == "frame.png"
    assert frame["url"] in discord_fake.cdn.fetched
    # The request points at the card's copy, not at the upload that vanishes with the command.
    [first] = await bot.jobs.recent_for_user(alice(discord_fake))
    assert first.request["mode"] == "image-to-video"
    assert first.request["image_url"] == kept["url"]
    assert path_of(first.request["image_url"]) != path_of(frame["url"])
    [thread] = discord_fake.threads_of(discord_fake.text_channel)
    post = await delivered_post(discord_fake, thread["id"])
    assert seedance2ai.posts()[0].body["image_url"] == kept["url"]
    await bot.close()

    # Days later: every link handed out so far has expired; a new process answers the click.
    discord_fake.cdn.expire_signatures()
    assert not discord_fake.cdn.is_valid(first.request["image_url"])
    again = await start()
    downloads = len(discord_fake.cdn.fetched)
    await dispatch(again, click(discord_fake, post, "Re-roll"))

    newest = (await jobs_of(again, alice(discord_fake)))[-1]
    assert newest.id != first.id
    # The file on the first card, fetched under a new signature, copied onto the new card.
    [copied] = discord_fake.cdn.fetched[downloads:]
    assert path_of(copied) == path_of(first.request["image_url"])
    assert copied != first.request["image_url"]
    refreshed = newest.request["image_url"]
    [kept_again] = discord_fake.world.messages[str(newest.destination.message_id)]["attachments"]
    assert refreshed == kept_again["url"]
    assert discord_fake.cdn.is_valid(refreshed)
    assert await discord_fake.cdn.get(refreshed) == PNG
    await discord_fake.wait_for(lambda: len(seedance2ai.posts()) == 2, within=10.0)
    assert seedance2ai.posts()[1].body["image_url"] == refreshed


def result_of(fake: CdnFakeDiscord, job: Job) -> Payload | None:
    """The result message posted for ``job`` (the one whose buttons carry its id), if any."""
    return next(
        (m for m in fake.world.messages.values()
         if any(custom_id.endswith(f":{job.id}") for custom_id in buttons(m).values())),
        None,
    )  # fmt: skip


def public_messages(fake: CdnFakeDiscord) -> list[Payload]:
    return [m for m in fake.world.messages.values() if not m["flags"] & EPHEMERAL]


async def test_a_re_roll_of_a_re_roll_days_later_sends_the_provider_only_fresh_links(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    cdn = discord_fake.cdn
    ask = video(
        discord_fake, prompt=PROMPT, model="seedance2",
        start_frame=cdn.attachment("first.png", PNG),
        end_frame=cdn.attachment("last.png", PNG[::-1]),
    )  # fmt: skip
    await dispatch(bot, ask)
    [first] = await bot.jobs.recent_for_user(alice(discord_fake))
    post = await delivered_post(discord_fake, str(first.destination.thread_id))

    # The next day, a re-roll; its result is posted in turn.
    cdn.expire_signatures()
    await dispatch(bot, click(discord_fake, post, "Re-roll"))
    second = (await jobs_of(bot, alice(discord_fake)))[-1]
    assert second.id != first.id
    second_post = await discord_fake.wait_for(lambda: result_of(discord_fake, second), within=10.0)
    await bot.close()

    # Days later, in a new process: the re-roll of the re-roll.
    cdn.expire_signatures()
    again = await start()
    await dispatch(again, click(discord_fake, second_post, "Re-roll"))

    third = (await jobs_of(again, alice(discord_fake)))[-1]
    assert third.id != second.id
    await discord_fake.wait_for(lambda: len(seedance2ai.posts()) == 3, within=10.0)
    sent = seedance2ai.posts()[2].body
    assert cdn.is_valid(sent["image_url"]), sent["image_url"]
    assert cdn.is_valid(sent["end_image_url"]), sent["end_image_url"]
    assert await cdn.get(sent["image_url"]) == PNG
    assert await cdn.get(sent["end_image_url"]) == PNG[::-1]
    # Every card of the chain keeps its own copy of the inputs, so the chain can go on.
    for job in (second, third):
        card = discord_fake.world.messages[str(job.destination.message_id)]
        assert [f.data for f in discord_fake.files_of(card)] == [PNG, PNG[::-1]]


async def test_send_again_days_later_sends_the_provider_fresh_links(
    discord_fake: CdnFakeDiscord, start: Start, seed2: FakeSeed2
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seed2", SEED2_KEY)
    cdn = discord_fake.cdn
    seed2.inject(Fault("drop_after", method="POST"))
    ask = video(
        discord_fake, prompt="@image_file_1 dances", model="seed2-fast",
        start_frame=cdn.attachment("dancer.png", PNG),
        reference_1=cdn.attachment("moves.mp4", MP4, content_type="video/mp4"),
    )  # fmt: skip
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(alice(discord_fake))
    await settled(bot, job.id, JobState.UNCERTAIN)
    post = await delivered_post(discord_fake, str(job.destination.thread_id))
    await bot.close()

    # Days later the owner decides to send it again.
    cdn.expire_signatures()
    again = await start()
    await dispatch(again, click(discord_fake, post, "Send again"))

    await settled(again, job.id, JobState.SUCCEEDED, JobState.DELIVERED)
    assert len(seed2.posts()) == 2
    sent = seed2.posts()[1].body
    for url in sent["image_files"] + sent["video_files"]:
        assert cdn.is_valid(url), url
    assert [await cdn.get(url) for url in sent["image_files"]] == [PNG]
    assert [await cdn.get(url) for url in sent["video_files"]] == [MP4]


#: One running job per member, and every job's inputs refreshed right before it is sent (in
#: production only those that waited over an hour: links live about a day).
ONE_AT_A_TIME = replace(FAST, max_running_per_user=1, refresh_inputs_after=0.0)


async def queue_behind_a_running_job(
    fake: CdnFakeDiscord,
    bot: SeedanceBot,
    seedance2ai: FakeSeedance2AI,
    *,
    locale: str = "en-US",
    **options: Any,
) -> tuple[Job, Job, Payload]:
    """The member's first job runs (until the test finishes it); a second, with ``options``
    and asked by a member whose Discord is in ``locale``, waits behind it. Returns both jobs
    and the second's command."""
    seedance2ai.polls_to_finish = 10**9
    await dispatch(bot, video(fake, prompt=PROMPT, model="seedance2"))
    [first] = await bot.jobs.recent_for_user(alice(fake))
    first = await settled(bot, first.id, JobState.RUNNING)
    ask = video(fake, prompt=PROMPT, model="seedance2", **options)
    ask["locale"] = locale
    await dispatch(bot, ask)
    second = (await jobs_of(bot, alice(fake)))[-1]
    assert second.id != first.id
    await asyncio.sleep(0.2)  # it would have been sent by now, were it not for the cap
    assert (await settled(bot, second.id, JobState.QUEUED)).submit_attempts == 0
    assert len(seedance2ai.posts()) == 1
    return first, second, ask


async def test_a_job_queued_behind_the_cap_whose_links_expired_is_sent_with_fresh_ones(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start(ONE_AT_A_TIME)
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    cdn = discord_fake.cdn
    first, second, _ = await queue_behind_a_running_job(
        discord_fake, bot, seedance2ai, start_frame=cdn.attachment("frame.png", PNG)
    )
    stored = second.request["image_url"]
    assert cdn.is_valid(stored)
    # The first job takes a day: every link handed out so far expires meanwhile.
    cdn.expire_signatures()
    assert not cdn.is_valid(stored)

    assert first.remote_task_id is not None
    seedance2ai.polls_to_finish = 2  # the job behind it takes its usual time
    seedance2ai.finish(first.remote_task_id)
    await discord_fake.wait_for(lambda: len(seedance2ai.posts()) == 2, within=10.0)

    sent = seedance2ai.posts()[1].body["image_url"]
    assert cdn.is_valid(sent), sent
    assert path_of(sent) == path_of(stored)  # the same file on the card, signed afresh
    assert await cdn.get(sent) == PNG
    done = await settled(bot, second.id, JobState.SUCCEEDED, JobState.DELIVERED)
    assert done.request["image_url"] == sent  # stored with the job
    assert done.error_code is None


async def test_a_queued_job_whose_card_was_deleted_fails_privately_and_is_never_sent(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start(ONE_AT_A_TIME)
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    cdn = discord_fake.cdn
    first, second, ask = await queue_behind_a_running_job(
        discord_fake, bot, seedance2ai, start_frame=cdn.attachment("frame.png", PNG)
    )
    # Someone deletes the second job's card, and with it the only copy of its start frame.
    card = discord_fake.original_response(ask)
    assert card is not None
    del discord_fake.world.messages[card["id"]]
    cdn.expire_signatures()

    assert first.remote_task_id is not None
    seedance2ai.polls_to_finish = 2  # the job behind it takes its usual time
    seedance2ai.finish(first.remote_task_id)
    failed = await settled(bot, second.id, JobState.DELIVERED)

    assert failed.error_code == "InputExpired"
    assert failed.submit_attempts == 0
    assert failed.remote_task_id is None
    await asyncio.sleep(0.3)
    assert len(seedance2ai.posts()) == 1  # the first job's only
    # Told privately, naming the input; nothing about it in public.
    [told] = [t for t in ephemeral_texts(discord_fake, ask) if "frame.png" in t]
    assert f"job #{second.id} could not be started" in told.lower()
    assert "the start frame `frame.png`" in told
    assert "deleted" in told
    assert "nothing was charged" in told.lower()
    thread = str(second.destination.thread_id)
    public = [m for m in discord_fake.messages_in(thread) if not m["flags"] & EPHEMERAL]
    assert all("frame.png" not in str(m) for m in public)
    assert result_of(discord_fake, second) is None
    assert discord_fake.messages_in(discord_fake.dm_channel(discord_fake.member_user)) == []


async def test_a_japanese_member_reads_why_their_queued_job_failed_in_japanese(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start(ONE_AT_A_TIME)
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    cdn = discord_fake.cdn
    first, second, ask = await queue_behind_a_running_job(
        discord_fake,
        bot,
        seedance2ai,
        locale="ja",
        start_frame=cdn.attachment("frame.png", PNG),
        end_frame=cdn.attachment("dusk_and_after.png", PNG),
    )
    card = discord_fake.original_response(ask)
    assert card is not None
    del discord_fake.world.messages[card["id"]]
    cdn.expire_signatures()

    assert first.remote_task_id is not None
    seedance2ai.polls_to_finish = 2
    seedance2ai.finish(first.remote_task_id)
    failed = await settled(bot, second.id, JobState.DELIVERED)

    # Stored in English, for the log and the database.
    assert failed.error_message is not None
    assert failed.error_message.startswith("Cannot use the start frame `frame.png` and ")
    [told] = [t for t in ephemeral_texts(discord_fake, ask) if "frame.png" in t]
    reason = told.splitlines()[-1]
    assert reason.startswith("-# seedance2ai: "), told
    # The reason line too reads in Japanese, naming both inputs and the job.
    assert re.search(r"[\u3040-\u30ff]", reason), reason
    english = ("Cannot use", "start frame", "end frame", " and the ", "status card", "Nothing was")
    assert [words for words in english if words in reason] == [], reason
    for named in ("`frame.png`", "`dusk_and_after.png`", f"#{second.id}"):
        assert named in reason, reason
    assert len(seedance2ai.posts()) == 1


@pytest.mark.parametrize("button", ["Re-roll", "Send again"])
async def test_an_input_whose_card_was_deleted_is_refused_privately_before_anything_is_sent(
    discord_fake: CdnFakeDiscord,
    start: Start,
    seedance2ai: FakeSeedance2AI,
    seed2: FakeSeed2,
    button: str,
) -> None:
    bot = await start()
    frame = discord_fake.cdn.attachment("frame.png", PNG)
    provider: FakeSeedance2AI | FakeSeed2
    if button == "Re-roll":
        provider = seedance2ai
        await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
        ask = video(discord_fake, prompt=PROMPT, model="seedance2", start_frame=frame)
    else:
        provider = seed2
        await bot.keys.link(alice(discord_fake), "seed2", SEED2_KEY)
        seed2.inject(Fault("drop_after", method="POST"))
        ask = video(discord_fake, prompt=PROMPT, model="seed2-fast", start_frame=frame)
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(alice(discord_fake))
    post = await delivered_post(discord_fake, str(job.destination.thread_id))
    before = await settled(bot, job.id, JobState.DELIVERED, JobState.UNCERTAIN)
    # Someone deleted the status card, and with it the only copy of the input; days pass.
    card = discord_fake.original_response(ask)
    assert card is not None
    del discord_fake.world.messages[card["id"]]
    discord_fake.cdn.expire_signatures()
    posts, public = len(provider.posts()), len(public_messages(discord_fake))

    press = click(discord_fake, post, button)
    await dispatch(bot, press)

    [answer] = ephemeral_texts(discord_fake, press)
    # Named as the member knows it: what it was for (seed2 lists it among its images) and its file.
    assert ("the start frame `frame.png`" if button == "Re-roll" else "the image `frame.png`") in (
        answer
    )
    assert "deleted" in answer
    assert "nothing was charged" in answer.lower()
    assert [j.id for j in await bot.jobs.recent_for_user(alice(discord_fake))] == [job.id]
    after = await bot.jobs.get(job.id)
    assert after is not None
    assert (after.state, after.idempotency_key) == (before.state, before.idempotency_key)
    await asyncio.sleep(0.3)  # a queued job would have been sent by now
    assert len(provider.posts()) == posts
    assert len(public_messages(discord_fake)) == public  # no card, no "thinking..."


async def test_seed2_gets_the_start_frame_first_and_references_sorted_by_content_type(
    discord_fake: CdnFakeDiscord, start: Start, seed2: FakeSeed2
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seed2", SEED2_KEY)
    cdn = discord_fake.cdn
    # The file names say nothing; the content types Discord reports do.
    ask = video(
        discord_fake,
        prompt="@image_file_1 walks into the room of @image_file_2, to the beat",
        model="seed2-fast",
        start_frame=cdn.attachment("hero.png", PNG, content_type="image/png"),
        reference_1=cdn.attachment("take1", b"\x00\x00\x00\x18ftypmp42", content_type="video/mp4"),
        reference_2=cdn.attachment("beat", b"ID3\x04\x00 beat", content_type="audio/mpeg"),
        reference_3=cdn.attachment("room", PNG[::-1], content_type="image/jpeg"),
    )

    await dispatch(bot, ask)

    card = discord_fake.original_response(ask)
    assert card is not None
    on_card = {a["filename"]: a["url"] for a in card["attachments"]}
    assert set(on_card) == {"hero.png", "take1", "beat", "room"}
    [job] = await bot.jobs.recent_for_user(alice(discord_fake))
    assert job.request["image_files"] == [on_card["hero.png"], on_card["room"]]
    assert job.request["video_files"] == [on_card["take1"]]
    assert job.request["audio_files"] == [on_card["beat"]]
    await discord_fake.wait_for(lambda: seed2.posts(), within=10.0)
    sent = seed2.posts()[0].body
    assert sent["image_files"] == [on_card["hero.png"], on_card["room"]]
    assert sent["video_files"] == [on_card["take1"]]
    assert sent["audio_files"] == [on_card["beat"]]


# -- 3. buttons on a delivered result ----------------------------------------------------------


async def deliver_video(
    bot: SeedanceBot, fake: CdnFakeDiscord, **options: Any
) -> tuple[Job, Payload]:
    """Run /video to a result in its thread; returns the job and the result message."""
    before = {j.id for j in await bot.jobs.recent_for_user(alice(fake))}
    ask = video(fake, **{"prompt": PROMPT, "model": "seedance2", **options})
    await dispatch(bot, ask)
    [job] = [j for j in await bot.jobs.recent_for_user(alice(fake)) if j.id not in before]
    assert job.destination.thread_id is not None
    post = await delivered_post(fake, str(job.destination.thread_id))
    return job, post


async def test_extend_continues_a_seedance_2_clip_from_the_uploaded_file(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    first, post = await deliver_video(bot, discord_fake, duration=8, aspect_ratio="9:16")
    [clip] = post["attachments"]
    [clip_file] = discord_fake.files_of(post)
    assert clip["content_type"] == "video/mp4"

    extend = click(discord_fake, post, "Extend")
    await dispatch(bot, extend)

    second = (await jobs_of(bot, alice(discord_fake)))[-1]
    assert second.id != first.id
    assert second.endpoint == "seedance2"
    assert second.request["mode"] == "media-to-video"
    assert second.request["prompt"].startswith("Continue from the supplied previous clip.")
    assert second.request["prompt"].endswith(PROMPT)
    assert second.request["duration"] == "8"
    assert second.request["aspect_ratio"] == "9:16"
    # The clip is the file uploaded under the result, kept (like any input) on the new card.
    [source] = second.request["media_urls"]
    card = discord_fake.original_response(extend)
    assert card is not None
    [kept] = card["attachments"]
    assert source == kept["url"]
    assert discord_fake.files_of(card)[0].data == clip_file.data
    assert clip["url"] in discord_fake.cdn.fetched
    await discord_fake.wait_for(lambda: len(seedance2ai.posts()) == 2, within=10.0)
    assert seedance2ai.posts()[1].body["media_urls"] == [source]

    # Days later, after a restart, re-rolling the continuation still finds the clip.
    assert second.destination.channel_id == int(post["channel_id"])  # clicked in the thread
    extended = await discord_fake.wait_for(
        lambda: next(
            (m for m in discord_fake.messages_in(post["channel_id"])
             if buttons(m).get("Re-roll") == f"job:reroll:{second.id}"),
            None,
        ),
        within=10.0,
    )  # fmt: skip
    await bot.close()
    discord_fake.cdn.expire_signatures()
    again = await start()
    await dispatch(again, click(discord_fake, extended, "Re-roll"))

    third = (await jobs_of(again, alice(discord_fake)))[-1]
    [refreshed] = third.request["media_urls"]
    [kept_again] = discord_fake.world.messages[str(third.destination.message_id)]["attachments"]
    assert refreshed == kept_again["url"]  # copied from the extension's card onto the new one
    assert discord_fake.cdn.is_valid(refreshed)
    assert await discord_fake.cdn.get(refreshed) == clip_file.data


async def test_animate_turns_an_image_result_into_the_start_frame_of_a_video(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)  # images and video
    # The result image, served by the fake (the test bot may download from it: see fixtures).
    seedance2ai.image_output = {"image_urls": [f"{seedance2ai.root_url}/media/kite.png"]}
    seedance2ai.media["kite.png"] = PNG
    ask = image(discord_fake, prompt="A red kite over green hills", model="gpt-image-2")
    await dispatch(bot, ask)
    [picture] = await bot.jobs.recent_for_user(alice(discord_fake))
    post = await delivered_post(discord_fake, str(picture.destination.thread_id))
    [result_image] = post["attachments"]
    assert result_image["content_type"].startswith("image/")
    assert "Extend" not in buttons(post)

    animate = click(discord_fake, post, "Animate")
    await dispatch(bot, animate)

    clip = (await jobs_of(bot, alice(discord_fake)))[-1]
    assert clip.id != picture.id
    assert clip.endpoint == "seedance2"
    assert clip.request["mode"] == "image-to-video"
    assert clip.request["prompt"] == "A red kite over green hills"
    card = discord_fake.original_response(animate)
    assert card is not None
    [kept] = card["attachments"]
    assert clip.request["image_url"] == kept["url"]
    assert discord_fake.files_of(post)[0].data == PNG
    assert discord_fake.files_of(card)[0].data == PNG
    await discord_fake.wait_for(lambda: len(seedance2ai.posts()) == 2, within=10.0)
    assert seedance2ai.posts()[1].path.endswith("/video/seedance2")


async def test_details_show_every_parameter_but_no_discord_links(
    discord_fake: CdnFakeDiscord, start: Start, seed2: FakeSeed2
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seed2", SEED2_KEY)
    cdn = discord_fake.cdn
    ask = video(
        discord_fake, prompt="@image_file_1 dances", model="seed2-premium", duration=7,
        start_frame=cdn.attachment("dancer.png", PNG),
        reference_1=cdn.attachment("moves.mp4", b"\x00\x00\x00\x18ftypmp42"),
    )  # fmt: skip
    await dispatch(bot, ask)
    [job] = await bot.jobs.recent_for_user(alice(discord_fake))
    post = await delivered_post(discord_fake, str(job.destination.thread_id))

    details = click(discord_fake, post, "Details", user=discord_fake.owner_user)
    await dispatch(bot, details)

    [answer] = discord_fake.callbacks_for(details)
    assert answer.type == 4
    assert answer.data is not None
    assert answer.data["flags"] & EPHEMERAL
    text = answer.data["content"]
    assert f"Job #{job.id}" in text
    for shown in ('"prompt": "@image_file_1 dances"', '"model": "seedance_2.0"',
                  '"duration": 7', '"image_files"', '"video_files"'):  # fmt: skip
        assert shown in text
    assert "discordapp" not in text
    assert "(Discord file)" in text


@pytest.mark.parametrize("who", ["requester", "stranger", "moderator"])
async def test_delete_is_for_the_requester_and_members_who_manage_messages(
    discord_fake: CdnFakeDiscord, start: Start, who: str
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    _, post = await deliver_video(bot, discord_fake)
    bob = discord_fake.add_user("bob")
    user, permissions = {
        "requester": (discord_fake.member_user, MEMBER_PERMISSIONS),
        "stranger": (bob, MEMBER_PERMISSIONS),
        "moderator": (bob, MEMBER_PERMISSIONS | discord.Permissions(manage_messages=True)),
    }[who]

    delete = click(discord_fake, post, "Delete", user=user, permissions=permissions)
    await dispatch(bot, delete)

    [answer] = ephemeral_texts(discord_fake, delete)
    deletes = discord_fake.requests_to(
        "DELETE", f"/channels/{post['channel_id']}/messages/{post['id']}"
    )
    if who == "stranger":
        assert "Only the member who asked for it, or moderators" in answer
        assert post["id"] in discord_fake.world.messages
        assert deletes == []
    else:
        assert answer == "Deleted."
        assert post["id"] not in discord_fake.world.messages
        assert [r.status for r in deletes] == [204]


async def test_re_roll_by_another_member_is_charged_to_their_own_key(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    first, post = await deliver_video(bot, discord_fake, seed=11)
    bob = discord_fake.add_user("bob")
    await bot.keys.link(int(bob["id"]), "seedance2ai", BOB_KEY)

    await dispatch(bot, click(discord_fake, post, "Re-roll", user=bob))

    [rerolled] = await bot.jobs.recent_for_user(int(bob["id"]))
    assert rerolled.request["prompt"] == first.request["prompt"]
    assert rerolled.request["seed"] != 11
    assert [j.id for j in await bot.jobs.recent_for_user(alice(discord_fake))] == [first.id]
    await discord_fake.wait_for(lambda: len(seedance2ai.posts()) == 2, within=10.0)
    assert seedance2ai.posts()[1].headers["Authorization"] == f"Bearer {BOB_KEY}"
    assert seedance2ai.charges[BOB_KEY] == [30]
    assert seedance2ai.charges[KEY] == [30]  # the first clip only


async def test_re_roll_by_a_member_without_a_key_asks_them_to_link_one(
    discord_fake: CdnFakeDiscord, start: Start, seedance2ai: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    _, post = await deliver_video(bot, discord_fake)
    bob = discord_fake.add_user("bob")
    cards_before = len(discord_fake.messages_in(post["channel_id"]))

    reroll = click(discord_fake, post, "Re-roll", user=bob)
    await dispatch(bot, reroll)

    [answer] = ephemeral_texts(discord_fake, reroll)
    assert "needs your own seedance2ai.io API key" in answer  # the site, as members know it
    assert "key:link:seedance2ai" in str(discord_fake.callbacks_for(reroll)[0].data)
    assert await bot.jobs.recent_for_user(int(bob["id"])) == []
    public = [m for m in discord_fake.messages_in(post["channel_id"]) if not m["flags"] & EPHEMERAL]
    assert len(public) == cards_before  # no card for a job that does not exist
    assert len(seedance2ai.posts()) == 1


async def uncertain_seed2_job(
    bot: SeedanceBot, fake: CdnFakeDiscord, seed2: FakeSeed2
) -> tuple[Job, Payload]:
    """Alice's /video on seed2 whose connection drops after seed2 took it: did it? seed2 has no
    idempotency keys, so the job is uncertain. The job, and the post that says so."""
    await bot.keys.link(alice(fake), "seed2", SEED2_KEY)
    seed2.inject(Fault("drop_after", method="POST"))
    await dispatch(bot, video(fake, prompt=PROMPT, model="seed2-fast"))
    [job] = await bot.jobs.recent_for_user(alice(fake))
    uncertain = await settled(bot, job.id, JobState.UNCERTAIN)
    return uncertain, await delivered_post(fake, str(job.destination.thread_id))


async def test_send_again_requeues_an_uncertain_job_for_its_owner_only(
    discord_fake: CdnFakeDiscord, start: Start, seed2: FakeSeed2
) -> None:
    bot = await start()
    uncertain, post = await uncertain_seed2_job(bot, discord_fake, seed2)
    assert set(buttons(post)) == {"Send again", "Details"}
    assert len(seed2.posts()) == 1
    bob = discord_fake.add_user("bob")

    stranger = click(discord_fake, post, "Send again", user=bob)
    await dispatch(bot, stranger)

    assert ephemeral_texts(discord_fake, stranger) == [
        "Only the member who asked for this job can send it again."
    ]
    assert (await settled(bot, uncertain.id, JobState.UNCERTAIN)).idempotency_key == (
        uncertain.idempotency_key
    )

    owner = click(discord_fake, post, "Send again")
    await dispatch(bot, owner)

    [answer] = ephemeral_texts(discord_fake, owner)
    assert "queued again" in answer
    assert "charged for both" in answer
    again = await bot.jobs.get(uncertain.id)
    assert again is not None
    assert again.idempotency_key != uncertain.idempotency_key
    done = await settled(bot, uncertain.id, JobState.SUCCEEDED, JobState.DELIVERED)
    assert done.remote_task_id is not None
    assert len(seed2.posts()) == 2


async def test_a_button_that_fails_answers_the_member_like_a_command_would(
    discord_fake: CdnFakeDiscord, start: Start, seed2: FakeSeed2
) -> None:
    bot = await start()
    job, post = await uncertain_seed2_job(bot, discord_fake, seed2)
    await bot.keys.unlink(alice(discord_fake), "seed2")
    await bot.engine.refresh_key(alice(discord_fake), "seed2")

    again = click(discord_fake, post, "Send again")
    await dispatch(bot, again)  # fails the test if discord.py only logged an exception

    [answer] = ephemeral_texts(discord_fake, again)
    assert "no API key linked for seed2" in answer
    assert "/key link" in answer
    assert (await settled(bot, job.id, JobState.UNCERTAIN)).id == job.id


# -- 4. the tree-level error handler -----------------------------------------------------------


REFERENCE = re.compile(r"Something went wrong on our side\. .*reference `([0-9a-f]{8})`")


def boom(*_: Any, **__: Any) -> Any:
    raise RuntimeError("the database melted")


@pytest.mark.parametrize("where", ["before-any-answer", "after-the-card"])
async def test_an_unexpected_error_shows_a_reference_that_is_in_the_log(
    discord_fake: CdnFakeDiscord,
    start: Start,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    if where == "before-any-answer":
        monkeypatch.setattr(bot.keys, "for_user", boom)
    else:
        monkeypatch.setattr(bot.engine, "enqueue", boom)
    ask = video(discord_fake, prompt=PROMPT, model="seedance2")

    with caplog.at_level(logging.ERROR, logger="cogs"):
        await dispatch(bot, ask)

    [answer] = ephemeral_texts(discord_fake, ask)
    match = REFERENCE.search(answer)
    assert match is not None, answer
    assert "the database melted" not in answer  # no internals shown
    [record] = [r for r in caplog.records if match[1] in r.getMessage()]
    assert record.levelno == logging.ERROR
    assert "/video" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], app_commands.CommandInvokeError)
    assert isinstance(record.exc_info[1].original, RuntimeError)
    assert "Traceback" in caplog.text
    assert "the database melted" in caplog.text
    assert await bot.jobs.recent_for_user(alice(discord_fake)) == []


async def test_invalid_parameters_after_the_deferral_still_reach_the_member_privately(
    discord_fake: CdnFakeDiscord, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)

    async def refuse(**_: Any) -> Job:
        raise InvalidParameters([Problem("duration", "is not accepted right now.", ("5", "10"))])

    monkeypatch.setattr(bot.engine, "enqueue", refuse)
    ask = video(discord_fake, prompt=PROMPT, model="seedance2")

    await dispatch(bot, ask)

    assert [c.type for c in discord_fake.callbacks_for(ask)] == [5]  # deferred first
    follow_ups = [
        r.json
        for r in discord_fake.requests
        if r.method == "POST" and r.path.startswith("/webhooks/") and r.status == 200
    ]
    [problem] = [f for f in follow_ups if "`duration`" in str(f.get("content"))]
    assert problem["flags"] & EPHEMERAL
    assert "Allowed: 5, 10." in problem["content"]
    assert ephemeral_texts(discord_fake, ask) == [problem["content"]]
    # The public card was removed, so nothing about the refused job stays in the channel.
    deleted = [r for r in discord_fake.requests if r.method == "DELETE" and "@original" in r.path]
    assert len(deleted) == 1


@pytest.mark.parametrize("where", ["before-any-answer", "after-the-deferral"])
async def test_an_expired_interaction_is_logged_not_raised(
    discord_fake: CdnFakeDiscord,
    start: Start,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    where: str,
) -> None:
    bot = await start()
    await bot.keys.link(alice(discord_fake), "seedance2ai", KEY)
    ask = video(discord_fake, prompt=PROMPT, model="seedance2")

    def expire_then_fail(*_: Any, **__: Any) -> Any:
        discord_fake.expire_interaction(ask)  # 15 minutes pass while the command runs
        raise RuntimeError("too slow")

    if where == "before-any-answer":
        monkeypatch.setattr(bot.keys, "for_user", expire_then_fail)
    else:
        monkeypatch.setattr(bot.engine, "enqueue", expire_then_fail)

    with caplog.at_level(logging.WARNING, logger="cogs"):
        await dispatch(bot, ask)  # fails if anything escaped into discord.py

    refused = [r for r in discord_fake.requests if r.status in (401, 404)]
    assert refused, "the handler did try to answer"
    assert {(r.response or {}).get("code") for r in refused} <= {10062, 50027}
    assert any("Could not answer interaction" in r.getMessage() for r in caplog.records)
    assert any("too slow" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
