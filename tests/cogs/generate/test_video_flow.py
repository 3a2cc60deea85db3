"""One /video from invocation to the file in the thread, as Discord and the provider see it.

The real cogs, the real engine on SQLite, the seedance2ai fake serving the result file, and the
fake Discord answering every request (and checking each body against Discord's spec).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest

from bot.storage import JobState
from tests.cogs.bots import Start, buttons, settled, video
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import (
    autocomplete_interaction,
    component_interaction,
    slash_command_interaction,
)
from tests.fakes.seedance2ai import FakeSeedance2AI

KEY = "sk_live_video_flow_key_000111"
PROMPT = "A glass train crossing a snowy mountain bridge at dawn, drone shot"


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 1_000}) as fake:
        fake.serve_media_bytes = 256 * 1024
        yield fake


async def test_a_video_from_command_to_the_file_in_its_thread(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    ask = video(discord_fake, prompt=PROMPT, model="seedance2", duration=6, resolution="720p")

    await dispatch(bot, ask)

    # 1. Acknowledged at once (deferred, public), then the status card became the response.
    assert [c.type for c in discord_fake.callbacks_for(ask)] == [5]
    card = discord_fake.original_response(ask)
    assert card is not None
    assert not card.get("flags", 0) & 64
    assert "Seedance 2" in str(card["embeds"][0])
    # 2. A thread was started from the card, named from the prompt.
    [thread] = discord_fake.threads_of(discord_fake.text_channel)
    assert thread["name"].startswith("A glass train crossing")
    # 3. The job was recorded with where to deliver, then sent with the member's key.
    [job] = await bot.jobs.recent_for_user(member)
    assert job.destination.message_id == int(card["id"])
    assert job.destination.thread_id == int(thread["id"])
    # 4. The engine polls the provider and delivers the result in the thread.
    done = await discord_fake.wait_for(
        lambda: any(discord_fake.files_of(m) for m in discord_fake.messages_in(thread)),
        within=10.0,
    )
    assert done
    [post] = [m for m in discord_fake.messages_in(thread) if discord_fake.files_of(m)]
    [upload] = discord_fake.files_of(post)
    [posted] = provider.posts()
    assert posted.headers["Authorization"] == f"Bearer {KEY}"
    assert posted.body["duration"] == "6"
    task_id = next(iter(provider.tasks))
    assert upload.filename.endswith(".mp4")
    assert upload.data == provider.media[f"{task_id}.mp4"]
    assert f"<@{member}>" in post["content"]
    assert "123" in str(post["embeds"])  # the seed the provider reported
    assert {"Re-roll", "Extend", "Details", "Delete"} <= set(buttons(post))

    await settled(bot, job.id, JobState.DELIVERED)
    # 5. Everything after the command went through the bot token, never the interaction
    #    webhook (whose token expires after 15 minutes).
    paths = [r.path for r in discord_fake.requests]
    first_post = next(i for i, p in enumerate(paths) if p == f"/channels/{thread['id']}/messages")
    assert not [p for p in paths[first_post:] if p.startswith(("/webhooks/", "/interactions/"))]
    assert provider.total_charged() == 30


async def test_an_image_batch_of_three_is_charged_three_and_posts_three_files(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    """`/image model:gpt-image-2 batch_count:3`: every image paid for is delivered (8.2)."""
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    ask = slash_command_interaction(
        "image", options={"prompt": "Three red foxes in fresh snow", "model": "gpt-image-2", "batch_count": 3},
        channel=discord_fake.text_channel, user=discord_fake.member_user,
    )  # fmt: skip

    await dispatch(bot, ask)

    [thread] = discord_fake.threads_of(discord_fake.text_channel)
    post = await discord_fake.wait_for(
        lambda: next((m for m in discord_fake.messages_in(thread) if discord_fake.files_of(m)), None),
        within=10.0,
    )  # fmt: skip
    [job] = await bot.jobs.recent_for_user(member)
    task_id = next(iter(provider.tasks))
    files = discord_fake.files_of(post)
    assert [f.filename for f in files] == [f"job-{job.id}-{i}.png" for i in (1, 2, 3)]
    assert [f.data for f in files] == [provider.media[f"{task_id}-{i}.png"] for i in range(3)]
    assert post["content"] == f"<@{member}> your 3 images are ready."
    assert provider.total_charged() == 3 * 6


async def test_an_impossible_combination_is_refused_before_any_job(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    ask = video(
        discord_fake, prompt=PROMPT, model="seedance2", resolution="4k", quality_tier="standard"
    )

    await dispatch(bot, ask)

    [answer] = discord_fake.callbacks_for(ask)
    assert answer.type == 4
    assert answer.data is not None
    assert answer.data["flags"] & 64
    assert "`resolution`" in answer.data["content"]
    assert "720p, 1080p" in answer.data["content"]
    assert await bot.jobs.recent_for_user(member) == []
    assert provider.requests == []


async def test_no_key_for_the_model_offers_the_link_button(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    ask = video(discord_fake, prompt=PROMPT, model="seed2-fast")

    await dispatch(bot, ask)

    [answer] = discord_fake.callbacks_for(ask)
    assert answer.data is not None
    assert answer.data["flags"] & 64
    assert "seed2" in answer.data["content"]
    assert "key:link:seed2" in str(answer.data["components"])
    assert await bot.jobs.recent_for_user(int(discord_fake.member_user["id"])) == []


async def test_autocomplete_offers_only_what_the_model_accepts(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    standard = autocomplete_interaction(
        "video", focused="resolution", value="", channel=discord_fake.text_channel,
        user=discord_fake.member_user, options={"model": "seedance2", "quality_tier": "standard"},
    )  # fmt: skip
    pro = autocomplete_interaction(
        "video", focused="resolution", value="", channel=discord_fake.text_channel,
        user=discord_fake.member_user, options={"model": "seedance2", "quality_tier": "pro"},
    )  # fmt: skip

    await dispatch(bot, standard)
    await dispatch(bot, pro)

    [first] = discord_fake.callbacks_for(standard)
    [second] = discord_fake.callbacks_for(pro)
    assert first.type == 8
    assert [c["value"] for c in first.data["choices"]] == ["720p", "1080p"]  # type: ignore[index]
    assert [c["value"] for c in second.data["choices"]] == ["720p", "1080p", "1080p-plus", "4k"]  # type: ignore[index]


async def test_re_roll_works_after_a_restart_with_a_new_seed(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    await dispatch(bot, video(discord_fake, prompt=PROMPT, model="seedance2", seed=7))
    [thread] = discord_fake.threads_of(discord_fake.text_channel)
    await discord_fake.wait_for(
        lambda: any(discord_fake.files_of(m) for m in discord_fake.messages_in(thread)), within=10.0
    )
    [post] = [m for m in discord_fake.messages_in(thread) if discord_fake.files_of(m)]
    await bot.close()

    again = await start()  # a new process on the same database
    click = component_interaction(
        post, buttons(post)["Re-roll"], channel=discord_fake.channel(thread["id"]),
        user=discord_fake.member_user,
    )  # fmt: skip
    await dispatch(again, click)

    jobs = await again.jobs.recent_for_user(member)
    assert len(jobs) == 2
    newest, first = jobs
    assert newest.request["prompt"] == first.request["prompt"] == PROMPT
    assert first.request["seed"] == 7
    assert newest.request["seed"] != 7
    await discord_fake.wait_for(lambda: len(provider.posts()) == 2, within=10.0)
    assert provider.posts()[1].body["seed"] == newest.request["seed"]


async def test_missing_thread_permission_is_explained_and_the_result_goes_to_the_channel(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    no_threads = discord.Permissions(309237763072)
    no_threads.create_public_threads = False
    ask = slash_command_interaction(
        "video", options={"prompt": PROMPT, "model": "seedance2"},
        channel=discord_fake.text_channel, user=discord_fake.member_user,
        app_permissions=no_threads,
    )  # fmt: skip

    await dispatch(bot, ask)

    assert discord_fake.threads_of(discord_fake.text_channel) == []
    notes = [
        r.json for r in discord_fake.requests
        if r.method == "POST" and r.path.startswith("/webhooks/") and r.json
    ]  # fmt: skip
    assert any("Create Public Threads" in str(n.get("content")) for n in notes)
    assert any(n.get("flags", 0) & 64 for n in notes)
    await discord_fake.wait_for(
        lambda: any(
            discord_fake.files_of(m) for m in discord_fake.messages_in(discord_fake.text_channel)
        ),
        within=10.0,
    )
