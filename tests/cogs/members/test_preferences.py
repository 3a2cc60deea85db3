"""/preferences: a member's defaults fill the /video and /image options they leave empty; an
option given explicitly wins; a preferred aspect ratio the chosen model does not take is not
sent, the model's default is, and the member is told so.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

from bot.app import SeedanceBot
from bot.storage import Job, JobState
from tests.cogs.bots import Start, command, ephemeral_texts, image, member, settled, video
from tests.cogs.members.common import KEY, PROMPT, embed_text, jobs_of, private_embeds
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload
from tests.fakes.seedance2ai import FakeSeedance2AI


def preferences(fake: FakeDiscord, subcommand: str, **options: object) -> Payload:
    return command(fake, "preferences", subcommand=subcommand, **options)


async def newest_job(bot: SeedanceBot, fake: FakeDiscord) -> Job:
    job = (await jobs_of(bot, member(fake)))[-1]
    return await settled(bot, job.id, JobState.DELIVERED)


async def test_preferences_fill_what_the_member_leaves_empty(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    saved = preferences(discord_fake, "set", video_model="seedance", aspect_ratio="9:16")
    await dispatch(bot, saved)
    [answer] = ephemeral_texts(discord_fake, saved)
    assert answer.startswith("Saved.")
    assert "Seedance (seedance2ai)" in answer
    assert "9:16" in answer

    # Nothing given: the preferred model and ratio.
    await dispatch(bot, video(discord_fake, prompt=PROMPT))
    job = await newest_job(bot, discord_fake)
    assert job.endpoint == "seedance"
    assert provider.posts()[-1].body["aspect_ratio"] == "9:16"

    # Given explicitly: the command wins.
    await dispatch(bot, video(discord_fake, prompt=PROMPT, model="seedance2", aspect_ratio="1:1"))
    job = await newest_job(bot, discord_fake)
    assert job.endpoint == "seedance2"
    assert provider.posts()[-1].body["aspect_ratio"] == "1:1"

    # /image has no preferred model: the first of a linked provider, with the preferred ratio.
    await dispatch(bot, image(discord_fake, prompt=PROMPT))
    job = await newest_job(bot, discord_fake)
    assert job.endpoint == "gpt-image-2"
    assert provider.posts()[-1].body["aspectRatio"] == "9:16"

    show = preferences(discord_fake, "show")
    await dispatch(bot, show)
    [shown] = private_embeds(discord_fake, show)
    text = embed_text(shown)
    assert "Seedance (seedance2ai)" in text
    assert "9:16" in text
    assert "Image model**: not set" in text

    # Cleared: back to the first model of a linked provider and its default ratio.
    clear = preferences(discord_fake, "clear")
    await dispatch(bot, clear)
    assert ephemeral_texts(discord_fake, clear) == [
        "Your preferences are cleared: every option uses the model's default again."
    ]
    await dispatch(bot, video(discord_fake, prompt=PROMPT))
    job = await newest_job(bot, discord_fake)
    assert job.endpoint == "seedance2"
    assert provider.posts()[-1].body["aspect_ratio"] == "16:9"
    assert len(provider.posts()) == 4


async def test_a_preferred_ratio_the_model_does_not_take_falls_back_and_says_so(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    saved = preferences(discord_fake, "set", aspect_ratio="3:2")
    await dispatch(bot, saved)
    [answer] = ephemeral_texts(discord_fake, saved)
    assert "3:2 is not available on" in answer
    assert "Seedance 2 (seedance2ai)" in answer

    ask = video(discord_fake, prompt=PROMPT, model="seedance2")
    await dispatch(bot, ask)

    await newest_job(bot, discord_fake)
    assert provider.posts()[-1].body["aspect_ratio"] == "16:9"
    notes = [t for t in ephemeral_texts(discord_fake, ask) if "aspect ratio" in t]
    assert notes == [
        "-# Your preferred aspect ratio 3:2 (/preferences) is not available on "
        "Seedance 2 (seedance2ai), so its default 16:9 was used."
    ]

    # Available on the model, but not with the other options given.
    await dispatch(bot, preferences(discord_fake, "set", aspect_ratio="auto"))
    ask = image(discord_fake, prompt=PROMPT, model="gpt-image-2", resolution="2K")
    await dispatch(bot, ask)
    await newest_job(bot, discord_fake)
    assert provider.posts()[-1].body["aspectRatio"] == "1:1"
    [note] = [t for t in ephemeral_texts(discord_fake, ask) if "aspect ratio" in t]
    assert "not available on GPT Image 2 (seedance2ai) with these options" in note
    assert "its default 1:1 was used" in note


async def test_an_aspect_ratio_no_model_takes_is_refused_naming_the_allowed_ones(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    refused = preferences(discord_fake, "set", aspect_ratio="7:5")
    await dispatch(bot, refused)

    [answer] = ephemeral_texts(discord_fake, refused)
    assert answer.startswith("No model takes the aspect ratio `7:5`. Allowed: 1:1, 21:9")
    assert (await bot.preferences.get(member(discord_fake))).aspect_ratio is None
    nothing = preferences(discord_fake, "set")
    await dispatch(bot, nothing)
    [answer] = ephemeral_texts(discord_fake, nothing)
    assert "at least one preference" in answer
