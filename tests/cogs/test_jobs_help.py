"""/jobs and /help: what members see, from real jobs in a real SQLite file.

The /help models section is generated from the request models, so these tests read the allowed
values from the models too: a model that changes shows up in /help without anyone editing it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import discord
import pytest

from bot.app import SeedanceBot
from bot.jobs import EngineConfig
from bot.models import (
    GptImage2Request,
    ProviderRequest,
    Seed2Request,
    Seedance2Request,
    SeedanceApiRequest,
    endpoint_for,
)
from bot.providers import errors, seed2, seedanceapi
from bot.storage import (
    ApiKeyStore,
    Database,
    DeliveryState,
    Destination,
    Job,
    JobState,
    JobStore,
    KeyCipher,
)
from cogs import help as help_cog
from cogs.generate import ALL_MODELS, IMAGE_MODELS, VIDEO_MODELS, ModelChoice
from tests.discord import fixtures as discord_fixtures
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot, seedance_settings
from tests.discord.harness import dispatch
from tests.discord.payloads import (
    Payload,
    autocomplete_interaction,
    component_interaction,
    slash_command_interaction,
)
from tests.discord.world import EPHEMERAL

# The harness's fixtures, under their own names so pytest finds them in this module.
discord_fake = discord_fixtures.discord_fake
make_bot = discord_fixtures.make_bot
make_seedance_bot = discord_fixtures.make_seedance_bot

# -- /help: pure checks over the embeds --------------------------------------------------------

TOPICS = [None, "keys", "models", "prompts"]


def assert_within_discord_limits(messages: list[list[discord.Embed]]) -> None:
    """Discord's embed limits, per embed and per message."""
    assert messages
    for embeds in messages:
        assert 1 <= len(embeds) <= 10
        assert sum(len(embed) for embed in embeds) <= 6000
        for embed in embeds:
            assert 1 <= len(embed.title or "") <= 256
            assert len(embed.description or "") <= 4096
            assert len(embed.fields) <= 25
            for field in embed.fields:
                assert 1 <= len(field.name or "") <= 256
                assert 1 <= len(field.value or "") <= 1024
            assert len(embed.footer.text or "") <= 2048


def field_value(embed: discord.Embed, starts: str) -> str:
    return next(str(f.value) for f in embed.fields if str(f.name).startswith(starts))


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or ""]
    parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    return "\n".join(parts)


def model_embed_of(choice: ModelChoice, embeds: list[discord.Embed]) -> discord.Embed:
    matches = [e for e in embeds if e.title == choice.label]
    assert len(matches) == 1, choice.key
    return matches[0]


def settings_line(embed: discord.Embed, option: str) -> str:
    settings = field_value(embed, "Settings")
    lines = [line for line in settings.splitlines() if line.startswith(f"• `{option}` ")]
    assert len(lines) == 1, (embed.title, option, settings)
    return lines[0]


def numbers_shown(line: str) -> set[int]:
    """Every whole number a line shows, with ``a–b`` ranges expanded."""
    line = re.sub(r"\(default [^)]*\)", "", line)
    shown: set[int] = set()
    for low, high in re.findall(r"(\d+)\N{EN DASH}(\d+)", line):
        shown |= set(range(int(low), int(high) + 1))
    line = re.sub(r"\d+\N{EN DASH}\d+", "", line)
    shown |= {int(n) for n in re.findall(r"\b\d+\b", line)}
    return shown


def durations_of(choice: ModelChoice) -> set[int]:
    model, field = choice.request_model, choice.options["duration"]
    values = model.choices(field)
    if values:
        return {int(v) for v in values}
    bounds = model.bounds(field)
    return set(range(bounds["ge"], bounds["le"] + 1))


@pytest.mark.parametrize("topic", TOPICS)
def test_help_embeds_fit_discord_limits(topic: str | None) -> None:
    assert_within_discord_limits(help_cog.into_messages(help_cog.help_embeds(topic)))


def test_messages_split_before_any_limit() -> None:
    big = [discord.Embed(title=f"{n}", description="x" * 2500) for n in range(5)]
    small = [discord.Embed(title=f"{n}", description="x") for n in range(23)]
    for embeds in (big, small, big + small):
        messages = help_cog.into_messages(embeds)
        assert_within_discord_limits(messages)
        assert [e for m in messages for e in m] == embeds


@pytest.mark.parametrize("choice", list(ALL_MODELS.values()), ids=list(ALL_MODELS))
def test_models_section_shows_each_models_own_values(choice: ModelChoice) -> None:
    embed = model_embed_of(choice, help_cog.models_embeds())
    model = choice.request_model
    ratio_line = settings_line(embed, "aspect_ratio")
    for value in model.choices(choice.options["aspect_ratio"]):
        assert re.search(rf"(?<![\w:]){re.escape(value)}(?![\w:])", ratio_line), (value, ratio_line)
    if "duration" in choice.options:
        assert numbers_shown(settings_line(embed, "duration")) == durations_of(choice)
    prompt_max = model.bounds("prompt")["max_length"]
    assert f"{prompt_max:,} characters" in embed_text(embed)


def test_models_section_lists_every_video_and_image_model() -> None:
    embeds = help_cog.models_embeds()
    overview = embeds[0]
    video, image = field_value(overview, "Video"), field_value(overview, "Image")
    assert all(choice.label in video for choice in VIDEO_MODELS.values())
    assert all(choice.label in image for choice in IMAGE_MODELS.values())
    for choice in ALL_MODELS.values():
        model_embed_of(choice, embeds)


def test_a_changed_model_shows_up_in_help(monkeypatch: pytest.MonkeyPatch) -> None:
    class Narrowed(SeedanceApiRequest):
        aspect_ratio: Literal["1:1", "5:2"] = "5:2"  # type: ignore[assignment]
        duration: Literal["4", "6"] = "6"  # type: ignore[assignment]

    original = ModelChoice.request_model

    def request_model(self: ModelChoice) -> Any:
        return Narrowed if self.key == "seedanceapi" else original.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(ModelChoice, "request_model", property(request_model))
    embed = model_embed_of(VIDEO_MODELS["seedanceapi"], help_cog.models_embeds())
    ratio_line = settings_line(embed, "aspect_ratio")
    assert "5:2" in ratio_line
    assert "(default 5:2)" in ratio_line
    assert "9:21" not in ratio_line
    assert numbers_shown(settings_line(embed, "duration")) == {4, 6}


def test_rules_come_from_the_models() -> None:
    embeds = help_cog.models_embeds()
    seedance2 = embed_text(model_embed_of(VIDEO_MODELS["seedance2"], embeds))
    assert "4k is only available on the pro quality tier" in seedance2
    assert "`seed` is not supported on the real channel" in seedance2
    assert "`seed` is not supported on the mini quality tier" in seedance2
    gpt = embed_text(model_embed_of(IMAGE_MODELS["gpt-image-2"], embeds))
    assert "auto only works with 1K resolution" in gpt


def test_prices_are_the_documented_tables() -> None:
    embeds = help_cog.models_embeds()
    table = embed_text(model_embed_of(VIDEO_MODELS["seedanceapi"], embeds))
    for (resolution, duration, _), credits in seedanceapi.PRICES.items():
        row = next(line for line in table.splitlines() if line.startswith(resolution))
        assert str(credits) in row, (resolution, duration, credits)
    assert "1 credit = $0.005" in table
    for key in ("seed2-fast", "seed2-premium"):
        choice = VIDEO_MODELS[key]
        plain, with_refs = seed2.RATES[choice.fixed["model"]]
        text = embed_text(model_embed_of(choice, embeds))
        assert f"{plain:,} credits per second" in text
        assert f"{with_refs:,} with reference" in text
        assert "10,000 credits = $1" in text
    assert "$0.29" in embed_text(model_embed_of(VIDEO_MODELS["seed2-fast"], embeds))
    for key in ("seedance2", "seedance", "gpt-image-2", "nano-banana-pro"):
        assert "publishes no price list" in embed_text(model_embed_of(ALL_MODELS[key], embeds))


def test_keys_and_prompts_topics_say_what_matters() -> None:
    keys = embed_text(help_cog.keys_embed())
    for phrase in ("/key link", "/key status", "/key unlink", "spends no credits", "encrypted"):
        assert phrase in keys
    # Who pays: the member's own key, or the server's sponsor key, and which wins.
    for phrase in ("your own account", "the server's", "your own key always wins"):
        assert phrase in keys
    prompts = embed_text(help_cog.prompts_embed())
    for phrase in (
        "film director",
        "Strictly edit the supplied source video",
        "Continue from the supplied previous clip",
        "Shot 1",
        "no watermark",
        "@image_file_1",
        "@image_file_2",
        "asset://",
    ):
        assert phrase in prompts


# -- /jobs and /help through Discord ---------------------------------------------------------

CIPHER = KeyCipher(["jobs and help tests"])
VIDEO_URL = "https://cdn.seedance2ai.example/videos/sd2_done.mp4"
IMAGE_URLS = (
    "https://cdn.seedance2ai.example/img/fox-1.png",
    "https://cdn.seedance2ai.example/img/fox-2.png",
)
THREAD_ID = 1_190_000_000_000_000_777
CARD_ID = 1_190_000_000_000_000_778


@dataclass
class Scene:
    """A SeedanceBot on the Discord fake, over a database holding jobs in every state."""

    bot: SeedanceBot
    fake: FakeDiscord
    jobs: dict[str, Job]
    alice: int
    bob: int

    def command(self, name: str, subcommand: str | None = None, **options: Any) -> Payload:
        return slash_command_interaction(
            name,
            subcommand=subcommand,
            options=options,
            channel=self.fake.text_channel,
            user=self.fake.member_user,
        )

    async def answer(self, payload: Payload) -> Payload:
        """Dispatch ``payload`` and return the one ephemeral message that answered it."""
        await dispatch(self.bot, payload, fake=self.fake)
        [callback] = self.fake.callbacks_for(payload)
        assert callback.type == 4
        message = self.fake.original_response(payload)
        assert message is not None
        assert message["flags"] & EPHEMERAL
        return message

    async def choices(self, subcommand: str, typed: str) -> list[dict[str, Any]]:
        payload = autocomplete_interaction(
            "jobs",
            subcommand=subcommand,
            focused="id",
            value=typed,
            focused_type=discord.AppCommandOptionType.integer,
            channel=self.fake.text_channel,
            user=self.fake.member_user,
        )
        await dispatch(self.bot, payload, fake=self.fake)
        [callback] = self.fake.callbacks_for(payload)
        assert callback.type == 8
        assert callback.data is not None
        return list(callback.data["choices"])


async def record(
    store: JobStore, owner: int, request: ProviderRequest, where: Destination, **changes: Any
) -> Job:
    spec = endpoint_for(request)
    job = await store.create(
        owner_id=owner,
        provider=spec.provider.value,
        endpoint=spec.id,
        request=request.model_dump(mode="json", exclude_none=True),
        destination=where,
    )
    return await store.update(job.id, **changes) if changes else job


async def record_jobs(store: JobStore, fake: FakeDiscord, alice: int, bob: int) -> dict[str, Job]:
    now = time.time()
    guild, channel = int(fake.guild["id"]), int(fake.text_channel["id"])
    in_thread = Destination(guild, channel, THREAD_ID, CARD_ID)
    in_channel = Destination(guild, channel, None, CARD_ID)
    in_dm = Destination(None, int(fake.dm_channel(fake.member_user)["id"]), None, None)
    done = {"delivery_state": DeliveryState.DELIVERED, "submitted_at": now - 400}
    seedance2 = Seedance2Request.parse({"prompt": "A glass train crossing a snowy bridge at dawn"})
    jobs = {
        "video": await record(
            store, alice, seedance2, in_thread, state=JobState.DELIVERED, video_url=VIDEO_URL,
            seed=77, credits_charged=30, finished_at=now - 300, **done,
        ),
        "failed": await record(
            store, alice, SeedanceApiRequest.parse({"prompt": "Mountains at sunrise"}), in_thread,
            state=JobState.DELIVERED, error_code="InsufficientCreditsError",
            error_message="Not enough credits", credits_charged=0, finished_at=now - 290, **done,
        ),
        "fast": await record(
            store, alice, Seed2Request.parse({"prompt": "A cat playing piano"}), in_thread,
            state=JobState.DELIVERED, video_url=VIDEO_URL, credits_charged=2900,
            finished_at=now - 200, **done,
        ),
        "uncertain": await record(
            store, alice,
            Seed2Request.parse({"prompt": "A dog on a skateboard", "model": "seedance_2.0"}),
            in_channel, state=JobState.UNCERTAIN, error_code="SubmitOutcomeUnknownError",
            error_message="The bot restarted while sending this job.", **done,
        ),
        "image": await record(
            store, alice,
            GptImage2Request.parse({"prompt": "A red fox in the snow", "type": "text-to-image",
                                    "resolution": "1K", "aspect_ratio": "auto", "batch_count": 2}),
            in_dm, state=JobState.DELIVERED, image_urls_json=json.dumps(IMAGE_URLS),
            credits_charged=12, finished_at=now - 100, submitted_at=now - 160,
            delivery_state=DeliveryState.KEPT,
        ),
        # Polled again only in an hour, so it stays running for the whole test.
        "running": await record(
            store, alice, seedance2, in_thread, state=JobState.RUNNING, remote_task_id="sd2_run",
            submitted_at=now - 125, next_poll_at=now + 3600,
        ),
        # Alice may run one job at a time (see the fixture): these two wait behind "running".
        "queued1": await record(store, alice, seedance2, in_thread),
        "queued2": await record(store, alice, seedance2, in_thread),
        # Bob's waits to retry a refused submit in an hour: cancellable, but not by Alice.
        "bobs": await record(store, bob, seedance2, in_channel, next_poll_at=now + 3600),
    }  # fmt: skip
    return jobs


@pytest.fixture
async def scene(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot, tmp_path: Path
) -> Scene:
    fake = discord_fake
    alice, bob = int(fake.member_user["id"]), int(fake.owner_user["id"])
    settings = seedance_settings(tmp_path)
    database = await Database.open(settings.database_path)
    try:
        keys = ApiKeyStore(database, CIPHER)
        for provider in ("seedance2ai", "seed2"):
            await keys.link(alice, provider, f"sk_live_jobs_help_test_{provider}")
        jobs = await record_jobs(JobStore(database), fake, alice, bob)
    finally:
        await database.close()
    bot = await make_seedance_bot(
        settings=settings, cipher=CIPHER, engine_config=EngineConfig(max_running_per_user=1)
    )
    return Scene(bot, fake, jobs, alice, bob)


def fields_by_job(embed: Payload) -> dict[int, str]:
    found = {}
    for field in embed["fields"]:
        match = re.match(r"#(\d+) · ", field["name"])
        assert match, field["name"]
        found[int(match[1])] = field["value"]
    return found


def custom_ids(message: Payload) -> list[str]:
    return [c["custom_id"] for row in message["components"] for c in row["components"]]


def field_named(embed: Payload, name: str) -> str:
    return str(next(f["value"] for f in embed["fields"] if f["name"] == name))


async def test_list_shows_each_state_cost_and_link(scene: Scene) -> None:
    message = await scene.answer(scene.command("jobs", "list"))

    [embed] = message["embeds"]
    shown = fields_by_job(embed)
    jobs = {name: job.id for name, job in scene.jobs.items()}
    assert list(shown) == sorted((i for n, i in jobs.items() if n != "bobs"), reverse=True)
    guild, channel = scene.fake.guild["id"], scene.fake.text_channel["id"]
    thread_link = f"https://discord.com/channels/{guild}/{THREAD_ID}"
    video = shown[jobs["video"]]
    assert "**done**" in video
    assert "Charged 30 credits" in video
    assert thread_link in video
    assert "**failed**" in shown[jobs["failed"]]
    assert "Nothing charged" in shown[jobs["failed"]]
    assert "Charged 2,900 credits ($0.29)" in shown[jobs["fast"]]
    assert "not confirmed" in shown[jobs["uncertain"]]
    assert f"https://discord.com/channels/{guild}/{channel}/{CARD_ID}" in shown[jobs["uncertain"]]
    dm = scene.fake.dm_channel(scene.fake.member_user)["id"]
    assert f"https://discord.com/channels/@me/{dm}" in shown[jobs["image"]]
    assert f"not posted anywhere: see /jobs show {jobs['image']}" in shown[jobs["image"]]
    assert "generating for 2 min" in shown[jobs["running"]]
    assert "waiting, #1 in your queue" in shown[jobs["queued1"]]
    assert "waiting, #2 in your queue" in shown[jobs["queued2"]]
    names = {f["name"] for f in embed["fields"]}
    assert f"#{jobs['fast']} · Seedance 2.0 fast (seed2)" in names
    assert f"#{jobs['uncertain']} · Seedance 2.0 premium (seed2)" in names


async def test_list_without_jobs_says_how_to_start(scene: Scene) -> None:
    payload = slash_command_interaction(
        "jobs", subcommand="list", channel=scene.fake.text_channel, user=scene.fake.add_user("new")
    )
    message = await scene.answer(payload)
    [embed] = message["embeds"]
    assert "No jobs yet" in embed["description"]


async def test_show_a_video_result_with_its_buttons(scene: Scene) -> None:
    job = scene.jobs["video"]
    message = await scene.answer(scene.command("jobs", "show", id=job.id))

    assert VIDEO_URL in message["content"]
    assert "links expire" in message["content"]
    [embed] = message["embeds"]
    assert embed["title"].startswith("Seedance 2")
    assert embed["title"].endswith("· done")
    assert field_named(embed, "Seed") == "77"
    assert f"/{THREAD_ID})" in field_named(embed, "Where")
    ids = custom_ids(message)
    assert f"job:reroll:{job.id}" in ids
    assert f"job:extend:{job.id}" in ids
    assert f"job:details:{job.id}" in ids
    assert not any(i.startswith("job:delete:") for i in ids)


async def test_show_an_image_result_kept_for_jobs_show(scene: Scene) -> None:
    job = scene.jobs["image"]
    message = await scene.answer(scene.command("jobs", "show", id=job.id))

    assert all(url in message["content"] for url in IMAGE_URLS)
    assert f"job:animate:{job.id}" in custom_ids(message)


async def test_show_a_failure_explains_it(scene: Scene) -> None:
    message = await scene.answer(scene.command("jobs", "show", id=scene.jobs["failed"].id))

    job = scene.jobs["failed"]
    # An empty balance: the job never started.
    assert message["content"].startswith(f"Job #{job.id} could not be started.")
    assert errors.InsufficientCreditsError.advice in message["content"]
    assert "Not enough credits" in message["content"]
    [embed] = message["embeds"]
    assert embed["title"].endswith("· failed")
    assert f"job:reroll:{job.id}" in custom_ids(message)


async def test_show_an_uncertain_job_offers_to_send_it_again(scene: Scene) -> None:
    job = scene.jobs["uncertain"]
    message = await scene.answer(scene.command("jobs", "show", id=job.id))

    [embed] = message["embeds"]
    assert embed["title"].endswith("· not confirmed")
    assert "dashboard" in message["content"]
    assert errors.SubmitOutcomeUnknownError.advice in message["content"]
    assert f"job:again:{job.id}" in custom_ids(message)

    click = component_interaction(
        message,
        f"job:again:{job.id}",
        channel=scene.fake.text_channel,
        user=scene.fake.member_user,
    )
    await dispatch(scene.bot, click, fake=scene.fake)
    answer = scene.fake.original_response(click)
    assert answer is not None
    assert "queued again" in answer["content"]
    requeued = await scene.bot.jobs.get(job.id)
    assert requeued is not None
    assert requeued.state is JobState.QUEUED


async def test_show_a_running_and_a_waiting_job(scene: Scene) -> None:
    running = await scene.answer(scene.command("jobs", "show", id=scene.jobs["running"].id))
    first = await scene.answer(scene.command("jobs", "show", id=scene.jobs["queued1"].id))
    second = await scene.answer(scene.command("jobs", "show", id=scene.jobs["queued2"].id))

    status = field_named(running["embeds"][0], "Status")
    assert status.startswith("Generating: 2 min")
    # As on its card: a progress bar and when jobs like it are done, as a Discord timestamp.
    assert "Should be done" in status
    assert re.search(r"<t:\d+:R>|any moment now", status)
    assert field_named(first["embeds"][0], "Status") == "Queued: next to start."
    assert field_named(second["embeds"][0], "Status") == "Queued: 1 of your jobs ahead of it."
    assert running["components"] == []


@pytest.mark.parametrize("whose", ["bobs", "unknown"])
async def test_show_only_finds_your_own_jobs(scene: Scene, whose: str) -> None:
    job_id = scene.jobs["bobs"].id if whose == "bobs" else 999_999
    message = await scene.answer(scene.command("jobs", "show", id=job_id))

    assert message["content"] == f"You have no job #{job_id}. /jobs list shows your recent ones."
    assert message["embeds"] == []


async def test_cancel_a_waiting_job_and_the_next_moves_up(scene: Scene) -> None:
    first, second = scene.jobs["queued1"], scene.jobs["queued2"]
    message = await scene.answer(scene.command("jobs", "cancel", id=first.id))

    assert message["content"] == (
        f"Cancelled job #{first.id}. It was never sent, so nothing was charged."
    )
    cancelled = await scene.bot.jobs.get(first.id)
    assert cancelled is not None
    assert cancelled.state is JobState.CANCELLED
    listing = await scene.answer(scene.command("jobs", "list"))
    shown = fields_by_job(listing["embeds"][0])
    assert "**cancelled**" in shown[first.id]
    assert "waiting, #1 in your queue" in shown[second.id]

    again = await scene.answer(scene.command("jobs", "cancel", id=first.id))
    assert again["content"] == f"Job #{first.id} is already cancelled."


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("running", "has already been sent: seedance2ai.io is generating it"),
        ("video", "has already finished (done)"),
        ("bobs", "You have no job #"),
    ],
)
async def test_cancel_refuses_what_it_cannot_stop(scene: Scene, which: str, expected: str) -> None:
    job = scene.jobs[which]
    message = await scene.answer(scene.command("jobs", "cancel", id=job.id))

    assert expected in message["content"]
    unchanged = await scene.bot.jobs.get(job.id)
    assert unchanged is not None
    assert unchanged.state is job.state


async def test_autocomplete_offers_only_your_jobs_at_most_25(scene: Scene) -> None:
    seedance2 = Seedance2Request.parse({"prompt": "An old lighthouse in a storm " * 8})
    extra = [
        await record(
            scene.bot.jobs, scene.alice, seedance2, Destination(), state=JobState.CANCELLED
        )
        for _ in range(30)
    ]
    mine = {job.id for job in extra} | {j.id for n, j in scene.jobs.items() if n != "bobs"}

    offered = await scene.choices("show", "")
    assert len(offered) == 25
    assert [c["value"] for c in offered] == sorted((j.id for j in extra), reverse=True)[:25]
    assert all(len(c["name"]) <= 100 for c in offered)
    assert offered[0]["name"].startswith(
        f"#{extra[-1].id} · Seedance 2 (seedance2ai) · cancelled · An old"
    )

    video = scene.jobs["video"]
    typed = await scene.choices("show", f"#{video.id}")
    assert video.id in [c["value"] for c in typed]
    assert {c["value"] for c in typed} <= mine
    bobs = scene.jobs["bobs"].id
    assert bobs not in {c["value"] for c in await scene.choices("show", str(bobs))}

    # Only waiting jobs can be cancelled: the two queued ones, behind 30 newer jobs.
    waiting = await scene.choices("cancel", "")
    assert [c["value"] for c in waiting] == [scene.jobs["queued2"].id, scene.jobs["queued1"].id]


def received_embed_chars(embed: Payload) -> int:
    """What Discord counts toward the 6,000 characters of a message's embeds."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    total += len((embed.get("footer") or {}).get("text", ""))
    return total + len((embed.get("author") or {}).get("name", ""))


@pytest.mark.parametrize("topic", TOPICS)
async def test_help_reaches_discord_within_every_limit(scene: Scene, topic: str | None) -> None:
    payload = scene.command("help", **({"topic": topic} if topic else {}))
    await dispatch(scene.bot, payload, fake=scene.fake)

    record_ = scene.fake.world.interactions[payload["token"]]
    messages = [scene.fake.world.messages[i] for i in record_.message_ids]
    assert messages
    titles = []
    for message in messages:
        assert message["flags"] & EPHEMERAL
        assert 1 <= len(message["embeds"]) <= 10
        assert sum(received_embed_chars(e) for e in message["embeds"]) <= 6000
        for embed in message["embeds"]:
            assert len(embed["title"]) <= 256
            assert len(embed.get("description", "")) <= 4096
            assert len(embed.get("fields", [])) <= 25
            assert all(
                len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in embed.get("fields", [])
            )
            titles.append(embed["title"])
    if topic in (None, "models"):
        assert {c.label for c in ALL_MODELS.values()} <= set(titles)
    if topic in (None, "keys"):
        assert "Linking your API key" in titles
    if topic in (None, "prompts"):
        assert "Writing a Seedance prompt" in titles
