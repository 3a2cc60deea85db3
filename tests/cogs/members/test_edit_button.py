"""The Edit button under a result: a form pre-filled with the job's prompt and main options;
what it sends is a new job, checked exactly like /video and /image, refused privately (naming
the allowed values) before any request when a value is wrong.

The real cogs and engine on SQLite, the seedance2ai fake, and the fake Discord.
"""

from __future__ import annotations

from bot.storage import JobState
from tests.cogs.bots import Start, ephemeral_texts, image, member, settled, video
from tests.cogs.members.common import (
    BOB_KEY,
    KEY,
    PROMPT,
    click,
    form_inputs,
    jobs_of,
    result_post,
    submit_form,
)
from tests.discord.fake import FakeDiscord
from tests.discord.harness import dispatch
from tests.discord.payloads import Payload
from tests.fakes.seedance2ai import FakeSeedance2AI

NEW_PROMPT = "A heron lifting off the reeds at dawn, wings spread, slow motion"


def form_of(fake: FakeDiscord, press: Payload) -> Payload:
    """The form the bot answered a button press with."""
    [shown] = fake.callbacks_for(press)
    assert shown.type == 9, "answered with a form"
    assert shown.data is not None
    return shown.data


async def test_edit_opens_the_job_pre_filled_and_sends_the_changed_job(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    await dispatch(
        bot, video(discord_fake, prompt=PROMPT, model="seedance2", aspect_ratio="16:9", duration=5)
    )
    [first] = await jobs_of(bot, member(discord_fake))
    first = await settled(bot, first.id, JobState.DELIVERED)
    post = await result_post(discord_fake, first)
    thread = discord_fake.channel(post["channel_id"])

    press = click(discord_fake, post, "Edit")
    await dispatch(bot, press)

    form = form_of(discord_fake, press)
    assert form["title"] == f"Edit job #{first.id}"
    values = {label: c.get("value") for label, c in form_inputs(form).items()}
    assert values == {
        "Prompt": PROMPT,
        "Model": "seedance2",
        "Aspect ratio": "16:9",
        "Duration (seconds)": "5",
        "Resolution": "720p",
    }
    assert len(provider.posts()) == 1

    # A value the model does not take: refused privately, naming the allowed ones; no job.
    wrong = submit_form(discord_fake, form, {"Aspect ratio": "5:4"}, channel=thread)
    await dispatch(bot, wrong)
    [refused] = ephemeral_texts(discord_fake, wrong)
    assert "`aspect_ratio`" in refused
    assert "Allowed: 1:1, 21:9, 4:3, 3:4, 16:9, 9:16, adaptive" in refused
    assert "Nothing was sent" in refused
    unknown = submit_form(discord_fake, form, {"Model": "a-better-model"}, channel=thread)
    await dispatch(bot, unknown)
    [refused] = ephemeral_texts(discord_fake, unknown)
    assert "`model`" in refused
    assert "seedance2" in refused
    assert len(await jobs_of(bot, member(discord_fake))) == 1
    assert len(provider.posts()) == 1

    # The changed values: a new job with them, the rest as before.
    changes = {"Prompt": NEW_PROMPT, "Aspect ratio": "9:16", "Duration (seconds)": "10 s"}
    send = submit_form(discord_fake, form, changes, channel=thread)
    await dispatch(bot, send)

    [_, second] = await jobs_of(bot, member(discord_fake))
    await settled(bot, second.id, JobState.DELIVERED)
    assert len(provider.posts()) == 2
    sent = provider.posts()[1].body
    assert (sent["prompt"], sent["aspect_ratio"], sent["duration"]) == (NEW_PROMPT, "9:16", "10")
    assert sent["resolution"] == "720p"
    assert provider.posts()[1].headers["Authorization"] == f"Bearer {KEY}"


async def test_edit_can_switch_the_model_and_is_charged_to_whoever_sends_it(
    discord_fake: FakeDiscord, start: Start, provider: FakeSeedance2AI
) -> None:
    bot = await start()
    await bot.keys.link(member(discord_fake), "seedance2ai", KEY)
    await dispatch(bot, image(discord_fake, prompt=PROMPT, model="gpt-image-2", batch_count=2))
    [first] = await jobs_of(bot, member(discord_fake))
    first = await settled(bot, first.id, JobState.DELIVERED)
    post = await result_post(discord_fake, first)
    bob = discord_fake.add_user("bob")
    await bot.keys.link(int(bob["id"]), "seedance2ai", BOB_KEY)

    press = click(discord_fake, post, "Edit", user=bob)
    await dispatch(bot, press)
    form = form_of(discord_fake, press)
    values = {label: c.get("value") for label, c in form_inputs(form).items()}
    assert values["Number of images"] == "2"
    assert values["Resolution"] == "1K"

    # Nano Banana Pro takes no batch count: named, with where it works, before anything is sent.
    channel = discord_fake.channel(post["channel_id"])
    switch = {"Model": "nano-banana-pro"}
    refused_press = submit_form(discord_fake, form, switch, channel=channel, user=bob)
    await dispatch(bot, refused_press)
    [refused] = ephemeral_texts(discord_fake, refused_press)
    assert "`batch_count`" in refused
    assert "GPT Image 2" in refused
    assert await bot.jobs.recent_for_user(int(bob["id"])) == []

    switch["Number of images"] = ""
    send = submit_form(discord_fake, form, switch, channel=channel, user=bob)
    await dispatch(bot, send)

    [made] = await bot.jobs.recent_for_user(int(bob["id"]))
    assert made.endpoint == "nano-banana-pro"
    await settled(bot, made.id, JobState.DELIVERED)
    assert len(provider.posts()) == 2
    assert provider.posts()[1].headers["Authorization"] == f"Bearer {BOB_KEY}"
    assert provider.charges[BOB_KEY] == [8]
    assert provider.charges[KEY] == [12]  # only the first job, on Alice's key
