"""/video in the readers' languages, end to end through the Discord fake: what only the member
reads follows their Discord language; the public card and result follow the server's (and keep
it when the engine edits the card later); and every generation form and button fits Discord's
limits in every language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any, cast

import discord
import pytest

from bot.i18n import gettext_for
from bot.models import MediaKind, Provider
from bot.storage import Destination, Job, JobOutcome, JobState
from cogs.generate._buttons import card_view, result_view
from cogs.generate._card import describe_duration, result_embed, result_job_id, status_embed
from cogs.generate._edit import EditForm
from cogs.generate._flow import Ask, PromptModal
from cogs.generate._preferences import RATIO_NOT_APPLIED
from cogs.generate._requests import IMAGE_MODELS, VIDEO_MODELS
from tests.cogs.bots import Start, bots_on, buttons, ephemeral_texts, settled
from tests.cogs.members.common import card_of, result_post
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeSeedanceBot
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload, component_interaction, slash_command_interaction
from tests.fakes.seedance2ai import FakeSeedance2AI

KEY = "sk_live_languages_key_00000001"
PROMPT = "A paper boat drifting down a rainy street at night, neon reflections, low angle"
LOCALES = ("en-US", "nl", "ja", "zh-CN")
#: What a Japanese member and a Dutch server read (the catalogs' own wording, whatever the
#: reviewers make it).
JA, NL = gettext_for("ja"), gettext_for("nl")


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 100_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake


@pytest.fixture
async def start(
    make_seedance_bot: MakeSeedanceBot, provider: FakeSeedance2AI
) -> AsyncIterator[Start]:
    async with bots_on(make_seedance_bot, {p: provider.base_url for p in Provider}) as go:
        yield go


def video(
    fake: FakeDiscord, *, locale: str, guild_locale: str = "en-US", **options: Any
) -> Payload:
    return slash_command_interaction(
        "video",
        options=options,
        channel=fake.text_channel,
        user=fake.member_user,
        locale=locale,
        guild_locale=guild_locale,
    )


def field(embed: dict[str, Any], name: str) -> str:
    [value] = [f["value"] for f in embed["fields"] if f["name"] == name]
    return str(value)


async def test_a_japanese_member_is_refused_in_japanese_naming_the_option(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    ask = video(
        discord_fake,
        locale="ja",
        prompt=PROMPT,
        model="seedance2",
        quality_tier="standard",
        resolution="4k",
    )

    await dispatch(bot, ask)

    [refusal] = ephemeral_texts(discord_fake, ask)
    lines = refusal.splitlines()
    assert lines[0] == JA("Nothing was sent and nothing was charged. Please change:")
    # The option and its values as members type them; the sentence in Japanese.
    reason = JA("{resolution} is only available on the pro quality tier.", resolution="4k")
    allowed = JA("Allowed: {values}.", values="720p, 1080p")
    assert (
        lines[1]
        == f"• {JA('`{option}`: {problem}', option='resolution', problem=reason)} {allowed}"
    )
    assert not reason.isascii()  # Japanese, not the English fallback
    assert await bot.jobs.recent_for_user(member) == []
    assert provider.posts() == []


async def test_a_japanese_member_without_a_key_is_asked_for_one_naming_the_site(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    ask = video(discord_fake, locale="ja", prompt=PROMPT, model="seedanceapi")

    await dispatch(bot, ask)

    [told] = ephemeral_texts(discord_fake, ask)
    # The site the member signs up on, as every other message names it, not the provider's id.
    assert told == JA(
        "{model} needs your own {provider} API key. Link it, then try again.",
        model=VIDEO_MODELS["seedanceapi"].label,
        provider="seedanceapi.org",
    )
    assert "seedanceapi.org" in told
    [answer] = discord_fake.callbacks_for(ask)
    assert answer.data is not None
    assert list(buttons(answer.data)) == [JA("Link a {name} key", name="seedanceapi.org")]
    assert provider.requests == []


async def test_a_dutch_server_gets_a_dutch_card_and_result_while_the_member_reads_japanese(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    member = int(discord_fake.member_user["id"])
    await bot.keys.link(member, "seedance2ai", KEY)
    # A ratio Seedance 2 does not take: the member is told privately what was used instead.
    await bot.preferences.update(member, aspect_ratio="5:4")
    ask = video(discord_fake, locale="ja", guild_locale="nl", prompt=PROMPT, model="seedance2")

    await dispatch(bot, ask)

    [job] = await bot.jobs.recent_for_user(member)
    assert (job.destination.locale, job.destination.owner_locale) == ("nl", "ja")
    [note] = ephemeral_texts(discord_fake, ask)
    assert note == JA(
        RATIO_NOT_APPLIED, preferred="5:4", model="Seedance 2 (seedance2ai)", used="16:9"
    )
    assert not note.isascii()

    job = await settled(bot, job.id, JobState.DELIVERED)
    # The card, as the engine last edited it, in the server's language.
    [card] = card_of(discord_fake, job)["embeds"]
    assert card["title"] == f"Seedance 2 (seedance2ai) · {NL('video')}"
    assert job.finished_at is not None
    assert job.submitted_at is not None
    took = describe_duration(job.finished_at - job.submitted_at, "nl")
    done = NL("Done in {took}. The result is posted below.", took=took)
    assert field(card, NL("Status")) == done
    assert f"{NL('aspect ratio')} 16:9" in field(card, NL("Parameters"))
    assert field(card, NL("Requested by")) == f"<@{member}>"
    assert card["footer"]["text"] == NL("Job #{job_id} · status", job_id=job.id)
    assert "Requested by" not in [f["name"] for f in card["fields"]]

    post = await result_post(discord_fake, job)
    ready = NL("Your video is ready.")
    assert post["content"] == f"<@{member}> {ready[:1].lower()}{ready[1:]}"
    [embed] = post["embeds"]
    assert embed["title"] == f"Seedance 2 (seedance2ai) · {NL('done')}"
    assert embed["footer"]["text"] == NL("Job #{job_id}", job_id=job.id)
    shown = set(buttons(post))
    assert {NL(label) for label in ("Re-roll", "Edit", "Extend", "Details", "Delete")} <= shown
    assert "Re-roll" not in shown

    # Pressed by the member: the answer only they see is in their language.
    details = component_interaction(
        post,
        buttons(post)[NL("Details")],
        channel=discord_fake.channel(post["channel_id"]),
        user=discord_fake.member_user,
        locale="ja",
    )
    await dispatch(bot, details)
    [answer] = ephemeral_texts(discord_fake, details)
    head = JA("**Job #{job_id}** · {model} · {state}", job_id=job.id, model="Seedance 2", state="")
    assert answer.startswith(head)
    assert JA("Provider task: `{task}`", task=job.remote_task_id) in answer
    assert not head.isascii()


# -- rendering, without Discord --------------------------------------------------------------


#: The state a job with each outcome ends in.
ENDED = {
    JobOutcome.SUCCEEDED: JobState.SUCCEEDED,
    JobOutcome.FAILED: JobState.FAILED,
    JobOutcome.UNCERTAIN: JobState.UNCERTAIN,
}


def a_job(kind: MediaKind, outcome: JobOutcome | None = None) -> Job:
    choice = next(iter((VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS).values()))
    made = outcome is JobOutcome.SUCCEEDED
    return Job(
        id=4321, owner_id=77, destination=Destination(1, 2, None, 3),
        provider=choice.provider, endpoint=choice.endpoint_id,
        request={"prompt": PROMPT, **choice.fixed},
        idempotency_key="job-4321", state=ENDED[outcome] if outcome else JobState.QUEUED,
        created_at=1.0, updated_at=1.0, finished_at=95.0 if outcome else None,
        video_url="https://cdn.example.com/v.mp4" if made and kind is MediaKind.VIDEO else None,
        image_urls=("https://cdn.example.com/i.png",) if made and kind is MediaKind.IMAGE else (),
        credits_charged=30 if outcome else None,
        error_code="server_error" if outcome is JobOutcome.FAILED else None,
    )  # fmt: skip


def labels(view: discord.ui.View) -> list[str]:
    return [str(getattr(item, "item", item).label) for item in view.children]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_result_is_recognised_in_whatever_language_it_was_posted(locale: str) -> None:
    job = a_job(MediaKind.VIDEO, JobOutcome.SUCCEEDED)
    assert job.outcome is JobOutcome.SUCCEEDED
    assert result_job_id(result_embed(job, locale)) == job.id
    assert result_job_id(status_embed(job, None, None, locale)) is None


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(MediaKind))
def test_generation_forms_and_buttons_fit_discords_limits_in_every_language(
    locale: str, kind: MediaKind
) -> None:
    models = VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS
    for choice in models.values():
        request = {"prompt": PROMPT, **choice.fixed}
        job = replace(a_job(kind), endpoint=choice.endpoint_id, request=request)
        form = EditForm(cast(Any, None), job, choice, cast(Any, None), locale)
        prompt_form = PromptModal(cast(Any, None), Ask(kind, choice.key, None), choice, locale)
        for modal in (form, prompt_form):
            payload = modal.to_dict()
            assert 1 <= len(payload["title"]) <= 45
            for row in payload["components"]:
                [text_input] = row["components"]
                assert 1 <= len(text_input["label"]) <= 45, text_input
                assert len(text_input.get("placeholder", "")) <= 100, text_input
    for outcome in JobOutcome:
        job = a_job(kind, outcome)
        assert job.outcome is outcome
        for view in (result_view(job, locale), card_view(job, locale)):
            assert all(1 <= len(label) <= 80 for label in labels(view)), labels(view)
        if locale != "en-US":
            # Translated, not left in English.
            assert labels(result_view(job, locale)) != labels(result_view(job))
