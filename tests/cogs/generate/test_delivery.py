"""The Discord delivery port: status cards, threads, results, and every fallback.

Discord is the local fake from ``tests/discord`` (every body checked against Discord's OpenAPI
spec); result files come from a local aiohttp server on 127.0.0.1 serving files of chosen sizes.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import discord
import pytest
from aiohttp import web

from bot.app import SeedanceBot
from bot.i18n import t
from bot.jobs import DeliveryOutcome, EngineConfig, JobEngine, Progress, ProgressKind, ScaledClock
from bot.models import Provider, Seed2Request, Seedance2Request
from bot.net import Downloader
from bot.providers import DESCRIPTIONS, Seedance2AIClient
from bot.storage import DeliveryState, Destination, Job, JobState
from bot.storage.jobs import image_urls_json
from cogs.generate._card import LinkReason, Media, message_texts, result_job_id, result_text
from cogs.generate._delivery import CardThrottle, DiscordDelivery
from cogs.generate._threads import (
    describe_missing_permissions,
    missing_permissions,
    open_thread,
    thread_name,
)
from tests.clock import ManualClock, settle
from tests.cogs.bots import settled
from tests.discord import fixtures as discord_fixtures
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot
from tests.discord.payloads import Payload, thread_payload
from tests.fakes.downloads import loopback_downloader
from tests.fakes.seedance2ai import FakeSeedance2AI

MiB = 1024 * 1024
OWNER = 4242


def make_job(**changes: Any) -> Job:
    job = Job(
        id=12,
        owner_id=OWNER,
        destination=Destination(),
        provider="seedance2ai",
        endpoint="seedance2",
        request={"prompt": "A glass train crossing a snowy bridge at dawn", "duration": "5"},
        idempotency_key="job-test",
        state=JobState.SUCCEEDED,
        created_at=1_700_000_000.0,
        updated_at=1_700_000_000.0,
        submitted_at=1_700_000_010.0,
        finished_at=1_700_000_100.0,
        video_url="https://cdn.example/out.mp4",
        seed=77,
        credits_charged=30,
    )
    return replace(job, **changes)


# -- pure parts --------------------------------------------------------------------------------


def test_thread_name_is_one_clean_line_of_at_most_100_characters() -> None:
    prompt = "  <@123> A **cat**\nsurfing\t@everyone a wave " + "at sunset, " * 20
    name = thread_name(prompt, 7)
    assert len(name) <= 100
    assert name.startswith("A **cat** surfing a wave at sunset")
    assert "\n" not in name
    assert "<@" not in name
    assert "@everyone" not in name
    assert name.endswith("…")
    assert thread_name(" <@1> \n ", 7) == "Job #7"
    assert thread_name("Short prompt", 1) == "Short prompt"


def _channel(kind: discord.ChannelType) -> discord.PartialMessageable:
    return discord.PartialMessageable(state=None, id=1, type=kind)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            discord.ChannelType.text,
            ["Attach Files", "Create Public Threads", "Send Messages in Threads"],
        ),
        (
            discord.ChannelType.news,
            ["Attach Files", "Create Public Threads", "Send Messages in Threads"],
        ),
        (discord.ChannelType.public_thread, ["Send Messages in Threads", "Attach Files"]),
        (discord.ChannelType.voice, ["Attach Files"]),
        (discord.ChannelType.private, []),
        (discord.ChannelType.group, []),
    ],
)
def test_missing_permissions_counts_threads_only_where_one_would_be_made(
    kind: discord.ChannelType, expected: list[str]
) -> None:
    granted = discord.Permissions(send_messages=True, embed_links=True)
    assert missing_permissions(granted, _channel(kind)) == expected
    everything = discord.Permissions(
        send_messages=True,
        embed_links=True,
        attach_files=True,
        create_public_threads=True,
        send_messages_in_threads=True,
    )
    assert missing_permissions(everything, _channel(kind)) == []


def test_missing_permissions_are_explained_with_their_consequence() -> None:
    text = describe_missing_permissions(["Send Messages", "Create Public Threads"])
    assert "Send Messages and Create Public Threads" in text
    assert "by DM" in text
    assert "in this channel instead of a thread" in text
    assert describe_missing_permissions([]) == ""


def test_result_text_explains_each_link() -> None:
    job = make_job(video_url=None, image_urls=("https://x/1.png", "https://x/2.png", "https://x/3.png"), endpoint="gpt-image-2")  # fmt: skip
    media = [
        Media("https://x/1.png", "job-12-1.png", link_reason=None),
        Media("https://x/2.png", "job-12-2.png", size=12 * MiB, link_reason=LinkReason.TOO_LARGE),
        Media("https://x/3.png", "job-12-3.png", link_reason=LinkReason.UNREACHABLE),
    ]
    lines = result_text(job, media, 10 * MiB, mention=True)
    assert lines[0] == f"<@{OWNER}> your 3 images are ready."
    assert lines[1] == (
        "Image 2 is too large to upload here (12 MB): the limit is 10 MB, so here is a link "
        "instead: https://x/2.png"
    )
    assert lines[2].startswith("I could not download image 3 from the provider")
    assert "expire" in lines[-1]
    assert result_text(job, media[:1], 10 * MiB, mention=False) == ["Your image is ready."]


def test_long_link_lists_are_split_into_messages_discord_accepts() -> None:
    lines = [
        "<@1> your 4 images are ready.",
        *(f"image {i}: https://x/{'a' * 900}" for i in range(4)),
    ]
    messages = message_texts(lines)
    assert len(messages) == 2
    assert all(len(m) <= 2000 for m in messages)
    assert "\n".join(messages) == "\n".join(lines)
    assert message_texts(["short"]) == ["short"]


# -- the card throttle -------------------------------------------------------------------------


@dataclass
class Edits:
    seen: list[tuple[float, ProgressKind, float | None]] = field(default_factory=list)
    clock: ManualClock = field(default_factory=ManualClock)
    fail: bool = False

    async def __call__(self, progress: Progress) -> None:
        self.seen.append((self.clock.now(), progress.kind, progress.elapsed))
        if self.fail:
            raise RuntimeError("Discord fell over")


def running(job: Job, elapsed: float) -> Progress:
    return Progress(job, ProgressKind.RUNNING, elapsed=elapsed)


async def test_card_edits_are_coalesced_to_one_per_window() -> None:
    edits = Edits()
    throttle = CardThrottle(edits, interval=5.0, clock=edits.clock, sleep=edits.clock.sleep)
    job = make_job(state=JobState.RUNNING)
    throttle.submit(running(job, 1))
    await settle()
    for elapsed in (2, 3, 4):  # all inside the window: only the last is worth sending
        throttle.submit(running(job, elapsed))
    await settle()
    assert edits.seen == [(0.0, ProgressKind.RUNNING, 1)]
    await edits.clock.advance(4.9)
    assert len(edits.seen) == 1
    await edits.clock.advance(0.1)
    assert edits.seen[1] == (5.0, ProgressKind.RUNNING, 4)
    # Nothing new: the worker ends once its window has passed.
    await edits.clock.advance(5)
    assert not throttle.busy
    assert len(edits.seen) == 2


async def test_final_card_edits_go_out_at_once() -> None:
    edits = Edits()
    throttle = CardThrottle(edits, interval=5.0, clock=edits.clock, sleep=edits.clock.sleep)
    job = make_job(state=JobState.RUNNING)
    throttle.submit(running(job, 1))
    await settle()
    throttle.submit(running(job, 2))
    await edits.clock.advance(1)
    throttle.submit(Progress(job, ProgressKind.FINISHED))  # replaces the pending update
    await settle()
    assert edits.seen == [(0.0, ProgressKind.RUNNING, 1), (1.0, ProgressKind.FINISHED, None)]
    assert not throttle.busy
    # Another job is throttled on its own.
    other = make_job(id=13, state=JobState.RUNNING)
    throttle.submit(running(other, 1))
    throttle.submit(Progress(job, ProgressKind.CANCELLED))
    await settle()
    assert [kind for _, kind, _ in edits.seen[2:]] == [ProgressKind.RUNNING, ProgressKind.CANCELLED]
    await throttle.aclose()


async def test_a_failing_edit_does_not_stop_later_ones() -> None:
    edits = Edits(fail=True)
    throttle = CardThrottle(edits, interval=5.0, clock=edits.clock, sleep=edits.clock.sleep)
    job = make_job(state=JobState.RUNNING)
    throttle.submit(running(job, 1))
    await settle()
    throttle.submit(running(job, 2))
    await edits.clock.advance(5)
    assert [e[2] for e in edits.seen] == [1, 2]
    await throttle.aclose()
    assert not throttle.busy


def test_result_footer_names_the_job_and_status_cards_do_not_count() -> None:
    from cogs.generate._card import result_embed, status_embed

    job = make_job()
    assert result_job_id(result_embed(job)) == 12
    assert result_job_id(status_embed(job, None, None)) is None
    assert result_job_id(discord.Embed(title="x")) is None


# -- a media server ----------------------------------------------------------------------------


@dataclass
class Served:
    data: bytes
    content_type: str
    #: Send without Content-Length (chunked), so only the bytes tell the size.
    chunked: bool = False
    requests: int = 0
    #: Bytes written before the client went away (or all of them).
    written: int = 0
    #: Called just before the last chunk goes out (to look at the client mid-download).
    before_last_chunk: Callable[[], None] | None = None


class MediaServer:
    """Provider result files on 127.0.0.1, with chosen sizes; knows how much each one sent."""

    def __init__(self) -> None:
        self.files: dict[str, Served] = {}
        self.base = ""

    def add(self, name: str, size: int, content_type: str, *, chunked: bool = False) -> str:
        pattern = bytes(range(256))
        data = (pattern * (size // 256 + 1))[:size]
        self.files[name] = Served(data, content_type, chunked)
        return f"{self.base}/files/{name}"

    async def _file(self, request: web.Request) -> web.StreamResponse:
        served = self.files.get(request.match_info["name"])
        if served is None:
            return web.Response(status=404)
        served.requests += 1
        response = web.StreamResponse(headers={"Content-Type": served.content_type})
        if served.chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(served.data)
        await response.prepare(request)
        try:
            for start in range(0, len(served.data), 64 * 1024):
                if start + 64 * 1024 >= len(served.data) and served.before_last_chunk:
                    served.before_last_chunk()
                await response.write(served.data[start : start + 64 * 1024])
                served.written = start + len(served.data[start : start + 64 * 1024])
                await asyncio.sleep(0)
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response


@pytest.fixture
async def media() -> AsyncIterator[MediaServer]:
    server = MediaServer()
    app = web.Application()
    app.router.add_get("/files/{name}", server._file)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


# -- against the fake Discord ------------------------------------------------------------------

discord_fake = discord_fixtures.discord_fake
make_bot = discord_fixtures.make_bot
make_seedance_bot = discord_fixtures.make_seedance_bot
MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"
SEED2_REQUEST = {"prompt": "A cat playing piano in the rain", "model": "seedance_2.0_fast", "duration": 5, "ratio": "16:9"}  # fmt: skip


@dataclass
class Scene:
    """A logged-in bot, its delivery port, the fake Discord and a status card in #general."""

    bot: SeedanceBot
    fake: FakeDiscord
    delivery: DiscordDelivery
    clock: ManualClock
    card: Payload
    owner: Payload

    @property
    def channel_id(self) -> int:
        return int(self.fake.text_channel["id"])

    def post_card(self, channel: Payload) -> Payload:
        embed = discord.Embed(title="Preparing…").to_dict()
        return self.fake.world.post_message(channel["id"], {"embeds": [embed]}, [])

    async def card_message(self, card: Payload | None = None) -> discord.Message:
        card = card or self.card
        channel = self.bot.get_partial_messageable(int(card["channel_id"]))
        return await channel.fetch_message(int(card["id"]))

    def job(self, **changes: Any) -> Job:
        destination = Destination(
            guild_id=int(self.fake.guild["id"]),
            channel_id=int(self.card["channel_id"]),
            message_id=int(self.card["id"]),
        )
        return make_job(owner_id=int(self.owner["id"]), destination=destination, **changes)

    def posted(self, channel: Payload | str | int) -> list[Payload]:
        """Messages the bot posted in a channel, the status card left out."""
        cid = str(channel if isinstance(channel, str | int) else channel["id"])
        return [m for m in self.fake.messages_in(cid) if m["id"] != self.card["id"]]


@pytest.fixture
async def scene(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot, clock: ManualClock
) -> AsyncIterator[Scene]:
    bot = await make_seedance_bot()
    delivery = DiscordDelivery(
        bot, clock=clock, sleep=clock.sleep, downloader=loopback_downloader(bot.settings)
    )
    card = discord_fake.world.post_message(
        discord_fake.text_channel["id"], {"embeds": [{"title": "Preparing…"}]}, []
    )
    yield Scene(bot, discord_fake, delivery, clock, card, discord_fake.member_user)
    await delivery.aclose()


def files_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


def patches(fake: FakeDiscord) -> list[Payload]:
    return [r.json for r in fake.requests_to("PATCH", MESSAGE)]


def field_value(embed: Payload, name: str) -> str:
    return next(str(f["value"]) for f in embed["fields"] if f["name"] == name)


def assert_bot_token_only(fake: FakeDiscord) -> None:
    """Nothing went through an interaction webhook: all of it works hours later."""
    assert not [r for r in fake.requests if r.path.startswith(("/webhooks/", "/interactions/"))]
    assert not fake.schema_errors


async def test_status_card_edits_are_throttled_and_final_ones_prompt(scene: Scene) -> None:
    fake, delivery, clock = scene.fake, scene.delivery, scene.clock
    job = scene.job(
        provider="seed2", endpoint="seed2", request=SEED2_REQUEST, state=JobState.QUEUED,
        video_url=None, seed=None, credits_charged=None, finished_at=None, submitted_at=None,
    )  # fmt: skip
    await delivery.publish(Progress(job, ProgressKind.QUEUED, queue_position=2))
    await fake.wait_for(lambda: len(patches(fake)) == 1)
    card = patches(fake)[0]["embeds"][0]
    assert card["title"] == "Seedance 2.0 fast (seed2) · video"
    assert card["description"] == "A cat playing piano in the rain"
    assert field_value(card, "Status") == "Queued: 1 of your jobs ahead of it."
    assert field_value(card, "Parameters") == "duration 5 s · aspect ratio 16:9"
    expected = scene.bot.clients[Provider.SEED2].estimate_cost(Seed2Request.parse(SEED2_REQUEST))
    assert field_value(card, "Cost estimate") == str(expected) == "2,900 credits ($0.29)"
    assert field_value(card, "Requested by") == f"<@{scene.owner['id']}>"
    assert card["footer"]["text"] == "Job #12 · status"

    running = replace(job, state=JobState.RUNNING, submitted_at=time.time())
    await delivery.publish(Progress(running, ProgressKind.SUBMITTED, elapsed=0.0))
    for elapsed in (10.0, 20.0):
        await delivery.publish(Progress(running, ProgressKind.RUNNING, elapsed=elapsed))
    await settle()
    assert len(patches(fake)) == 1, "inside the 5 s window nothing more is sent"
    await clock.advance(5)
    await fake.wait_for(lambda: len(patches(fake)) == 2)
    status = field_value(patches(fake)[1]["embeds"][0], "Status")
    assert status.startswith("Generating: 20 s so far (started <t:")

    await clock.advance(1)
    await delivery.publish(Progress(running, ProgressKind.RUNNING, elapsed=30.0))
    done = replace(running, state=JobState.SUCCEEDED, finished_at=running.submitted_at + 95)  # type: ignore[operator]
    await delivery.publish(Progress(done, ProgressKind.FINISHED))
    # The final edit does not wait for the window, and the update it replaced is never sent.
    await fake.wait_for(lambda: len(patches(fake)) == 3)
    final = patches(fake)[2]["embeds"][0]
    assert field_value(final, "Status") == "Done in 1 min 35 s. The result is posted below."
    assert final["color"] == discord.Colour.green().value
    await clock.advance(10)
    assert len(patches(fake)) == 3
    stored = fake.world.messages[scene.card["id"]]
    assert stored["embeds"][0]["fields"][0]["value"].startswith("Done")
    assert_bot_token_only(fake)


async def test_a_deleted_card_is_not_edited_again(scene: Scene) -> None:
    fake, delivery = scene.fake, scene.delivery
    job = scene.job(state=JobState.RUNNING)
    del fake.world.messages[scene.card["id"]]
    await delivery.publish(Progress(job, ProgressKind.RUNNING, elapsed=1.0))
    await fake.wait_for(lambda: len(patches(fake)) == 1)
    await scene.clock.advance(5)
    await delivery.publish(Progress(job, ProgressKind.RUNNING, elapsed=9.0))
    await scene.clock.advance(5)
    await settle()
    assert len(patches(fake)) == 1
    await delivery.cards.aclose()


async def test_the_result_file_is_uploaded_in_the_thread(
    scene: Scene, media: MediaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = scene.fake
    temporary = tmp_path / "temporary"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    video = media.add("result-abc.mp4", 3 * MiB + 17, "video/mp4", chunked=True)
    mid_download: list[tuple[str, int]] = []
    media.files["result-abc.mp4"].before_last_chunk = lambda: mid_download.extend(
        (path.name, path.stat().st_size) for path in temporary.rglob("*") if path.is_file()
    )
    job = scene.job(video_url=video)
    channel = scene.bot.get_channel(scene.channel_id)

    thread_id = await open_thread(await scene.card_message(), job, channel=channel)

    assert thread_id == int(scene.card["id"])
    thread = fake.world.channels[str(thread_id)]
    assert thread["name"] == "A glass train crossing a snowy bridge at dawn"
    job = replace(job, destination=replace(job.destination, thread_id=thread_id))
    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(thread)
    assert message["content"] == f"<@{scene.owner['id']}> your video is ready."
    [upload] = fake.files_of(message)
    assert upload.filename == "job-12.mp4"
    assert upload.data == media.files["result-abc.mp4"].data
    [request] = fake.requests_to("POST", MESSAGES)
    mentions = request.json["allowed_mentions"]
    assert mentions["parse"] == [], "no @everyone, no roles"
    assert [str(user) for user in mentions["users"]] == [scene.owner["id"]]
    embed = message["embeds"][0]
    assert embed["footer"]["text"] == "Job #12"
    assert field_value(embed, "Seed") == "77"
    assert field_value(embed, "Credits") == "30 charged"
    assert field_value(embed, "Took") == "1 min 30 s"
    assert field_value(embed, "Model") == "Seedance 2 (seedance2ai)"
    assert not scene.posted(fake.text_channel), "nothing but the card in the channel"
    # Streamed to a temporary file as it arrived, which is gone once uploaded.
    [(name, written)] = mid_download
    assert name == "job-12.mp4"
    assert 0 < written < 3 * MiB + 17
    assert files_in(temporary) == []
    assert_bot_token_only(fake)


@pytest.mark.parametrize("chunked", [False, True], ids=["announced", "streamed"])
async def test_a_file_above_the_upload_limit_is_posted_as_a_link(
    scene: Scene, media: MediaServer, chunked: bool
) -> None:
    size = 40 * MiB
    video = media.add("huge.mp4", size, "video/mp4", chunked=chunked)
    job = scene.job(video_url=video)

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(scene.fake.text_channel)
    assert message["attachments"] == []
    lines = message["content"].split("\n")
    assert lines[0] == f"<@{scene.owner['id']}> your video is ready."
    shown = " (40 MB)" if not chunked else ""
    assert lines[1] == (
        f"The video is too large to upload here{shown}: the limit is 10 MB, so here is a link "
        f"instead: {video}"
    )
    assert lines[2] == "-# Provider links expire after a while: download the file soon."
    # The download stopped at the limit rather than fetching all 40 MB.
    await asyncio.sleep(0.05)
    assert media.files["huge.mp4"].written < size
    assert_bot_token_only(scene.fake)


async def test_a_batch_of_images_arrives_in_one_message(scene: Scene, media: MediaServer) -> None:
    urls = tuple(media.add(f"img{i}.png", 1000 + i, "image/png") for i in range(3))
    job = scene.job(
        endpoint="gpt-image-2", video_url=None, image_urls=urls, seed=None,
        request={"prompt": "Three foxes", "type": "text-to-image", "resolution": "1K", "aspect_ratio": "1:1", "batch_count": 3},
    )  # fmt: skip

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(scene.fake.text_channel)
    assert message["content"] == f"<@{scene.owner['id']}> your 3 images are ready."
    files = scene.fake.files_of(message)
    assert [f.filename for f in files] == ["job-12-1.png", "job-12-2.png", "job-12-3.png"]
    assert [f.data for f in files] == [media.files[f"img{i}.png"].data for i in range(3)]
    assert field_value(message["embeds"][0], "Seed") == "not reported"
    assert len(scene.fake.requests_to("POST", MESSAGES)) == 1


def image_job(scene: Scene, urls: tuple[str, ...], batch_count: int, **changes: Any) -> Job:
    request = {"prompt": "Foxes", "type": "text-to-image", "resolution": "1K", "aspect_ratio": "1:1", "batch_count": batch_count}  # fmt: skip
    return scene.job(
        endpoint="gpt-image-2", video_url=None, image_urls=urls, seed=None, request=request,
        **changes,
    )  # fmt: skip


async def test_twelve_results_post_as_ten_files_then_two(scene: Scene, media: MediaServer) -> None:
    """Discord takes 10 files a message: the rest follow in another one, none is dropped."""
    urls = tuple(media.add(f"img{i}.png", 500 + i, "image/png") for i in range(12))
    job = image_job(scene, urls, batch_count=12)

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    first, second = scene.posted(scene.fake.text_channel)
    assert first["content"] == f"<@{scene.owner['id']}> your 12 images are ready."
    assert result_job_id(discord.Embed.from_dict(first["embeds"][0])) == 12
    names = [f.filename for f in scene.fake.files_of(first) + scene.fake.files_of(second)]
    assert names == [f"job-12-{i}.png" for i in range(1, 13)]
    assert len(scene.fake.files_of(first)) == 10
    data = [f.data for f in scene.fake.files_of(first) + scene.fake.files_of(second)]
    assert data == [media.files[f"img{i}.png"].data for i in range(12)]
    [_, more] = scene.fake.requests_to("POST", MESSAGES)
    assert more.json["allowed_mentions"]["parse"] == []
    assert not more.json["allowed_mentions"].get("users")
    assert_bot_token_only(scene.fake)


async def test_only_as_many_results_as_were_paid_for_are_fetched(
    scene: Scene, media: MediaServer
) -> None:
    urls = tuple(media.add(f"img{i}.png", 700 + i, "image/png") for i in range(5))
    job = image_job(scene, urls, batch_count=3)

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(scene.fake.text_channel)
    assert message["content"] == f"<@{scene.owner['id']}> your 3 images are ready."
    assert len(scene.fake.files_of(message)) == 3
    assert [media.files[f"img{i}.png"].requests for i in range(5)] == [1, 1, 1, 0, 0]
    assert urls[3] not in str(message)
    assert urls[4] not in str(message)

    # A video job is one video: images beside it are not fetched either.
    video = media.add("clip.mp4", 2000, "video/mp4")
    extra = media.add("extra.png", 900, "image/png")
    await scene.delivery.deliver(
        scene.job(id=13, video_url=video, image_urls=(extra,)), repeat=False
    )
    [_, clip] = scene.posted(scene.fake.text_channel)
    assert [f.filename for f in scene.fake.files_of(clip)] == ["job-13.mp4"]
    assert media.files["extra.png"].requests == 0


async def test_results_on_private_addresses_or_plain_http_are_never_fetched(
    scene: Scene, media: MediaServer
) -> None:
    """The bot as deployed (default settings): a result URL pointing into the bot's own network
    is posted as a link, never downloaded and re-posted (8.4)."""
    # The production download path, from the default settings (no http, public hosts only).
    production = scene.bot.settings.model_copy(update={"allow_http_downloads": False})
    strict = DiscordDelivery(scene.bot, downloader=Downloader.from_settings(production))
    local = media.add("secret.png", 1000, "image/png")
    urls = (local, "https://169.254.169.254/latest/meta-data/iam.png", "https://10.1.2.3/x.png")
    job = image_job(scene, urls, batch_count=3)
    try:
        assert await strict.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED
    finally:
        await strict.aclose()

    [message] = scene.posted(scene.fake.text_channel)
    assert message["attachments"] == []
    assert media.files["secret.png"].requests == 0
    assert (
        "I could not download image 1 from the provider, so here is its link" in message["content"]
    )


async def test_files_too_large_together_become_links(scene: Scene, media: MediaServer) -> None:
    urls = tuple(media.add(f"big{i}.png", 4 * MiB, "image/png") for i in range(2))
    job = image_job(scene, urls, batch_count=2)
    scene.fake.fail("POST", MESSAGES, status=413, code=40005, message="Request entity too large")

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(scene.fake.text_channel)
    assert message["attachments"] == []
    assert (
        f"too large to upload together, so here is a link to image 1: {urls[0]}"
        in message["content"]
    )
    assert urls[1] in message["content"]


async def test_a_failure_posts_the_mapped_error_in_the_same_place(scene: Scene) -> None:
    thread_id = await open_thread(
        await scene.card_message(), scene.job(), channel=scene.bot.get_channel(scene.channel_id)
    )
    assert thread_id is not None
    # (An empty balance is not posted here: it goes to the owner privately, see
    # tests/cogs/test_uncertain_and_private.py.)
    job = scene.job(
        state=JobState.FAILED, video_url=None, seed=None, credits_charged=30, credits_refunded=30,
        error_code="InvalidRequestError", error_message="video_url could not be probed",
    )  # fmt: skip
    job = replace(job, destination=replace(job.destination, thread_id=thread_id))

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(thread_id)
    assert message["content"] == (
        f"<@{scene.owner['id']}> job #12 failed.\n"
        "The provider refused these parameters. Change them and try again.\n"
        "-# seedance2ai: video_url could not be probed"
    )
    embed = message["embeds"][0]
    assert embed["title"] == "Seedance 2 (seedance2ai) · failed"
    assert embed["color"] == discord.Colour.red().value
    assert field_value(embed, "Credits") == "30 charged, 30 refunded"
    assert embed["footer"]["text"] == "Job #12"


async def test_an_uncertain_job_says_what_to_do(scene: Scene) -> None:
    job = scene.job(
        state=JobState.UNCERTAIN, video_url=None, seed=None, credits_charged=None,
        error_code="SubmitOutcomeUnknownError", error_message="The connection dropped while sending.",
    )  # fmt: skip

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(scene.fake.text_channel)
    content = message["content"]
    assert content.startswith(
        f"<@{scene.owner['id']}> job #12 was sent to seedance2ai.io, but no confirmation came back"
    )
    assert "it may have been charged" in content
    assert "your dashboard at https://seedance2ai.io" in content
    assert "press **Send again**" in content
    assert "The connection dropped while sending." in content
    assert message["embeds"][0]["title"] == "Seedance 2 (seedance2ai) · not confirmed"


@pytest.mark.parametrize("locale", ["nl", "ja", "zh-CN"])
@pytest.mark.parametrize("provider", list(Provider))
async def test_an_uncertain_job_names_where_to_check_in_the_cards_language(
    scene: Scene, provider: Provider, locale: str
) -> None:
    described = DESCRIPTIONS[provider]
    job = scene.job(
        state=JobState.UNCERTAIN, video_url=None, seed=None, credits_charged=None,
        provider=provider.value, endpoint=described.endpoints[0].id,
        error_code="SubmitOutcomeUnknownError", error_message="The connection dropped while sending.",
    )  # fmt: skip
    job = replace(job, destination=replace(job.destination, locale=locale))

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(scene.fake.text_channel)
    where = t(locale, described.account_page)
    assert where != described.account_page, f"{described.account_page!r} has no {locale} text"
    assert where in message["content"]
    assert described.site in where, "the page's address stays as it is, to open it"
    assert described.account_page not in message["content"]


async def test_a_repeated_delivery_does_not_post_twice(scene: Scene, media: MediaServer) -> None:
    job = scene.job(video_url=media.add("v.mp4", 1000, "video/mp4"))
    # Before anything was posted, a repeat posts (the card in the same channel is not a result).
    assert await scene.delivery.deliver(job, repeat=True) is DeliveryOutcome.DELIVERED
    assert len(scene.posted(scene.fake.text_channel)) == 1
    # Another job's result is no reason to skip this one's.
    other = replace(job, id=13)
    assert await scene.delivery.deliver(other, repeat=True) is DeliveryOutcome.DELIVERED
    assert len(scene.posted(scene.fake.text_channel)) == 2

    assert await scene.delivery.deliver(job, repeat=True) is DeliveryOutcome.DELIVERED

    assert len(scene.posted(scene.fake.text_channel)) == 2
    assert media.files["v.mp4"].requests == 2, "not even downloaded again"


def names_posted(scene: Scene, channel: Payload | str | int) -> list[str]:
    """Every file the bot posted in a channel, in order."""
    return [f.filename for m in scene.posted(channel) for f in scene.fake.files_of(m)]


def results_posted(scene: Scene, channel: Payload | str | int, job_id: int) -> list[Payload]:
    """The messages in a channel that carry ``job_id``'s result embed."""
    return [
        m
        for m in scene.posted(channel)
        if any(result_job_id(discord.Embed.from_dict(e)) == job_id for e in m["embeds"])
    ]


async def test_a_crash_between_the_messages_of_a_result_posts_only_the_rest(
    scene: Scene, media: MediaServer
) -> None:
    """12 images are two messages; the bot dies after the first: the next run posts the second."""
    fake = scene.fake
    urls = tuple(media.add(f"img{i}.png", 500 + i, "image/png") for i in range(12))
    job = image_job(scene, urls, batch_count=12)
    # The second message gets a 500: discord.py waits a second before trying it again, and the
    # bot is killed in that second (no message 2 exists).
    fake.fail("POST", MESSAGES, status=500, message="Internal Server Error", after=1)
    first_run = asyncio.create_task(scene.delivery.deliver(job, repeat=False))
    await fake.wait_for(
        lambda: [r.status for r in fake.requests_to("POST", MESSAGES)] == [200, 500]
    )
    first_run.cancel()
    await asyncio.gather(first_run, return_exceptions=True)
    assert names_posted(scene, fake.text_channel) == [f"job-12-{i}.png" for i in range(1, 11)]

    # After the restart: a new delivery port, told that this may be a repeat.
    restarted = DiscordDelivery(scene.bot, downloader=loopback_downloader(scene.bot.settings))
    try:
        assert await restarted.deliver(job, repeat=True) is DeliveryOutcome.DELIVERED
        # Once all of it is there, another repeat posts (and downloads) nothing.
        assert await restarted.deliver(job, repeat=True) is DeliveryOutcome.DELIVERED
    finally:
        await restarted.aclose()

    assert names_posted(scene, fake.text_channel) == [f"job-12-{i}.png" for i in range(1, 13)]
    assert len(results_posted(scene, fake.text_channel, 12)) == 1
    assert len(scene.posted(fake.text_channel)) == 2
    assert [media.files[f"img{i}.png"].requests for i in range(12)] == [1] * 10 + [2, 2]
    assert_bot_token_only(fake)


async def test_a_link_given_before_the_crash_is_not_given_again(
    scene: Scene, media: MediaServer
) -> None:
    """Image 12 is too large (a link in the first message); image 11 is the second message."""
    fake = scene.fake
    urls = (
        *(media.add(f"img{i}.png", 500 + i, "image/png") for i in range(11)),
        media.add("huge.png", 11 * MiB, "image/png"),
    )
    job = image_job(scene, urls, batch_count=12)
    fake.fail("POST", MESSAGES, status=503, after=1)

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.RETRY
    assert await scene.delivery.deliver(job, repeat=True) is DeliveryOutcome.DELIVERED

    assert names_posted(scene, fake.text_channel) == [f"job-12-{i}.png" for i in range(1, 12)]
    contents = [m["content"] for m in scene.posted(fake.text_channel)]
    assert sum(content.count(urls[11]) for content in contents) == 1
    assert len(results_posted(scene, fake.text_channel, 12)) == 1
    assert media.files["img10.png"].requests == 2
    assert media.files["huge.png"].requests == 1, "a link already given is not fetched again"


# -- fallbacks ---------------------------------------------------------------------------------


async def test_no_permission_to_create_threads_delivers_in_the_channel(scene: Scene) -> None:
    scene.fake.forbid(scene.fake.text_channel, "create_thread")
    channel = scene.bot.get_channel(scene.channel_id)

    thread_id = await open_thread(await scene.card_message(), scene.job(), channel=channel)

    assert thread_id is None
    assert await scene.delivery.deliver(scene.job(video_url=None, image_urls=()), repeat=False) is DeliveryOutcome.DELIVERED  # fmt: skip
    assert len(scene.posted(scene.fake.text_channel)) == 1
    assert scene.fake.threads_of(scene.fake.text_channel) == []


async def test_app_permissions_without_threads_skip_the_thread(scene: Scene) -> None:
    channel = scene.bot.get_channel(scene.channel_id)
    allowed = discord.Permissions(send_messages=True, create_public_threads=True)
    thread_id = await open_thread(
        await scene.card_message(), "prompt", channel=channel, app_permissions=allowed
    )
    assert thread_id is None
    assert not scene.fake.requests_to(
        "POST", "/channels/{channel_id}/messages/{message_id}/threads"
    )


async def test_in_a_thread_the_result_goes_to_that_thread(scene: Scene) -> None:
    fake = scene.fake
    thread = fake.add_channel(
        thread_payload("ideas", guild_id=fake.guild["id"], parent_id=fake.text_channel["id"],
                       owner_id=scene.owner["id"])
    )  # fmt: skip
    scene.card = scene.post_card(thread)
    channel = scene.bot.get_channel(int(thread["id"]))
    assert isinstance(channel, discord.Thread)

    assert await open_thread(await scene.card_message(), scene.job(), channel=channel) is None

    job = scene.job(video_url=None, state=JobState.FAILED, error_code="ServerError")
    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED
    assert len(scene.posted(thread)) == 1
    assert fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/threads") == []


async def test_a_forum_a_dm_or_a_voice_chat_gets_no_thread(scene: Scene) -> None:
    fake = scene.fake
    forum = scene.bot.get_channel(int(fake.forum_channel["id"]))
    assert isinstance(forum, discord.ForumChannel)
    card = await scene.card_message()
    assert await open_thread(card, scene.job(), channel=forum) is None
    voice = discord.PartialMessageable(state=None, id=1, type=discord.ChannelType.voice)  # type: ignore[arg-type]
    assert await open_thread(card, scene.job(), channel=voice) is None
    group = discord.PartialMessageable(state=None, id=1, type=discord.ChannelType.group)  # type: ignore[arg-type]
    assert await open_thread(card, scene.job(), channel=group) is None
    assert fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/threads") == []

    # In a DM, the card and the result share the DM channel.
    dm = fake.dm_channel(scene.owner)
    scene.card = scene.post_card(dm)
    dm_channel = scene.bot.get_partial_messageable(int(dm["id"]), type=discord.ChannelType.private)
    assert await open_thread(await scene.card_message(), scene.job(), channel=dm_channel) is None
    job = replace(scene.job(video_url=None, image_urls=()), destination=Destination(channel_id=int(dm["id"]), message_id=int(scene.card["id"])))  # fmt: skip
    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED
    assert len(scene.posted(dm)) == 1
    assert fake.requests_to("POST", "/channels/{channel_id}/messages/{message_id}/threads") == []


async def test_a_deleted_thread_falls_back_to_its_channel(scene: Scene) -> None:
    channel = scene.bot.get_channel(scene.channel_id)
    thread_id = await open_thread(await scene.card_message(), scene.job(), channel=channel)
    assert thread_id is not None
    scene.fake.world.deleted_channels.add(str(thread_id))
    job = scene.job(video_url=None, state=JobState.FAILED, error_code="ServerError")
    job = replace(job, destination=replace(job.destination, thread_id=thread_id))

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED

    assert len(scene.posted(scene.fake.text_channel)) == 1


@pytest.mark.parametrize("what", ["deleted", "forbidden"])
async def test_a_channel_gone_or_closed_is_undeliverable_and_the_owner_gets_a_dm(
    scene: Scene, media: MediaServer, what: str
) -> None:
    fake = scene.fake
    channel = scene.bot.get_channel(scene.channel_id)
    thread_id = await open_thread(await scene.card_message(), scene.job(), channel=channel)
    video = media.add("clip.mp4", 2000, "video/mp4")
    job = scene.job(video_url=video)
    job = replace(job, destination=replace(job.destination, thread_id=thread_id))
    if what == "deleted":
        fake.delete_channel(fake.text_channel)
    else:
        fake.forbid(fake.text_channel, "send")

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.UNDELIVERABLE
    assert await scene.delivery.deliver_fallback(job) is DeliveryOutcome.DELIVERED

    [message] = scene.posted(fake.dm_channel(scene.owner))
    assert message["content"] == (
        f"I could not post this in <#{thread_id}> (it is gone, or I may not post there), so "
        "here it is.\nYour video is ready."
    )
    [upload] = fake.files_of(message)
    assert upload.data == media.files["clip.mp4"].data
    assert message["embeds"][0]["footer"]["text"] == "Job #12"
    # A repeated fallback finds the DM already there.
    assert await scene.delivery.deliver_fallback(job) is DeliveryOutcome.DELIVERED
    assert len(scene.posted(fake.dm_channel(scene.owner))) == 1
    assert_bot_token_only(fake)


async def test_closed_dms_are_undeliverable(scene: Scene) -> None:
    scene.fake.delete_channel(scene.fake.text_channel)
    scene.fake.close_dms(scene.owner)
    job = scene.job(video_url=None, state=JobState.FAILED, error_code="ServerError")

    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.UNDELIVERABLE
    assert await scene.delivery.deliver_fallback(job) is DeliveryOutcome.UNDELIVERABLE

    assert scene.posted(scene.fake.dm_channel(scene.owner)) == []


async def test_discord_errors_that_pass_are_retried(scene: Scene) -> None:
    job = scene.job(video_url=None, state=JobState.FAILED, error_code="ServerError")
    scene.fake.fail("POST", MESSAGES, status=503)
    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.RETRY
    scene.fake.fail("POST", MESSAGES, status=503)
    assert await scene.delivery.deliver_fallback(job) is DeliveryOutcome.RETRY
    # A short rate limit is waited out by discord.py itself.
    scene.fake.rate_limit("POST", MESSAGES, retry_after=0.05)
    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.DELIVERED
    assert len(scene.posted(scene.fake.text_channel)) == 1


async def test_a_job_without_a_destination_goes_to_the_owner(scene: Scene) -> None:
    job = replace(scene.job(video_url=None, state=JobState.FAILED), destination=Destination())
    assert await scene.delivery.deliver(job, repeat=False) is DeliveryOutcome.UNDELIVERABLE
    assert await scene.delivery.deliver_fallback(job) is DeliveryOutcome.DELIVERED
    [message] = scene.posted(scene.fake.dm_channel(scene.owner))
    assert message["content"].startswith("I could not post this where you asked for it")


# -- the whole way, with the real engine ---------------------------------------------------------

PROVIDER_KEY = "sk_live_delivery_test_key_0001"


async def test_a_job_travels_from_the_card_to_a_file_in_its_thread(scene: Scene) -> None:
    """The engine (simulated time) drives the port: card edits, then the file in the thread."""
    fake, bot = scene.fake, scene.bot
    provider = FakeSeedance2AI(keys={PROVIDER_KEY: 10_000}, polls_to_finish=2)
    provider.serve_media_bytes = 50_000
    async with provider:
        client = Seedance2AIClient(bot.session, provider.base_url, timeout=5.0)
        owner = int(scene.owner["id"])
        await bot.keys.link(owner, "seedance2ai", PROVIDER_KEY)
        engine = JobEngine(
            jobs=bot.jobs, keys=bot.keys, clients={"seedance2ai": client}, port=scene.delivery,
            config=EngineConfig(stop_grace=1.0), clock=ScaledClock(1000.0, start=time.time()),
        )  # fmt: skip
        await engine.start()
        try:
            request = Seedance2Request.parse({"prompt": "A lighthouse in a storm", "duration": "4"})
            channel = bot.get_channel(scene.channel_id)
            thread_id = await open_thread(await scene.card_message(), request, channel=channel)
            assert thread_id is not None
            destination = Destination(
                guild_id=int(fake.guild["id"]), channel_id=scene.channel_id,
                thread_id=thread_id, message_id=int(scene.card["id"]),
            )  # fmt: skip
            job = await engine.enqueue(owner_id=owner, request=request, destination=destination)

            [message] = await fake.wait_for(lambda: scene.posted(thread_id), within=10.0)
            stored = await bot.jobs.get(job.id)
            assert stored is not None
        finally:
            await engine.stop()
            await scene.delivery.aclose()

    assert fake.world.channels[str(thread_id)]["name"] == "A lighthouse in a storm"
    assert message["content"] == f"<@{owner}> your video is ready."
    [upload] = fake.files_of(message)
    assert upload.filename == f"job-{job.id}.mp4"
    assert upload.data == provider.media[f"{stored.remote_task_id}.mp4"]
    assert message["embeds"][0]["footer"]["text"] == f"Job #{job.id}"
    statuses = [field_value(body["embeds"][0], "Status") for body in patches(fake)]
    assert statuses[0] == "Queued: next to start."
    assert statuses[-1].startswith("Done in ")
    assert_bot_token_only(fake)


async def test_a_result_whose_second_message_fails_once_arrives_whole_after_the_retry(
    scene: Scene, media: MediaServer
) -> None:
    """The engine retries a delivery whose second message Discord refused (503): the retry,
    a possible repeat, posts the two missing images, and none of the first ten again."""
    fake, bot = scene.fake, scene.bot
    urls = tuple(media.add(f"img{i}.png", 500 + i, "image/png") for i in range(12))
    thread_id = await open_thread(
        await scene.card_message(), "Foxes", channel=bot.get_channel(scene.channel_id)
    )
    assert thread_id is not None
    owner = int(scene.owner["id"])
    created = await bot.jobs.create(
        owner_id=owner, provider="seedance2ai", endpoint="gpt-image-2",
        request={"prompt": "Foxes", "type": "text-to-image", "resolution": "1K", "aspect_ratio": "1:1", "batch_count": 12},
        destination=Destination(
            guild_id=int(fake.guild["id"]), channel_id=scene.channel_id,
            thread_id=thread_id, message_id=int(scene.card["id"]),
        ),
    )  # fmt: skip
    # Finished while the bot was down: the engine delivers it as soon as it starts.
    await bot.jobs.update(
        created.id, state=JobState.SUCCEEDED, remote_task_id="task-12",
        image_urls_json=image_urls_json(urls), finished_at=time.time(), credits_charged=120,
    )  # fmt: skip
    fake.fail("POST", MESSAGES, status=503, after=1)
    engine = JobEngine(
        jobs=bot.jobs, keys=bot.keys, clients={}, port=scene.delivery,
        config=EngineConfig(stop_grace=1.0), clock=ScaledClock(1000.0, start=time.time()),
    )  # fmt: skip
    await engine.start()
    try:
        stored = await settled(bot, created.id, JobState.DELIVERED)
    finally:
        await engine.stop()

    assert stored.delivery_state is DeliveryState.DELIVERED
    assert stored.delivery_attempts == 2
    assert [r.status for r in fake.requests_to("POST", MESSAGES)] == [200, 503, 200]
    names = names_posted(scene, thread_id)
    assert names == [f"job-{created.id}-{i}.png" for i in range(1, 13)], "12 files, each once"
    assert len(results_posted(scene, thread_id, created.id)) == 1
    assert [media.files[f"img{i}.png"].requests for i in range(12)] == [1] * 10 + [2, 2]
    assert_bot_token_only(fake)
