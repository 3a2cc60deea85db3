"""The harness drives real discord.py objects end to end, with a throwaway bot defined here."""

from __future__ import annotations

import io
import re
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeBot
from tests.discord.harness import dispatch
from tests.discord.payloads import (
    autocomplete_interaction,
    component_interaction,
    modal_submit_interaction,
    slash_command_interaction,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24 + b"fake picture"
STYLES = ["Watercolor", "Water ink", "Oil paint", "Pixel art"]


class RetryButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"retry:(?P<job>[0-9]+)"
):
    """A button that outlives the bot: its state is in its custom id."""

    def __init__(self, job: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Retry",
                emoji="\N{CLOCKWISE RIGHTWARDS AND LEFTWARDS OPEN CIRCLE ARROWS}",
                style=discord.ButtonStyle.primary,
                custom_id=f"retry:{job}",
            )
        )
        self.job = job

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RetryButton:
        return cls(int(match["job"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"Retrying job {self.job}", view=None)


class NameModal(discord.ui.Modal, title="Name your key"):
    name: discord.ui.Label[NameModal] = discord.ui.Label(
        text="Name", component=discord.ui.TextInput(custom_id="name", max_length=32)
    )
    provider: discord.ui.Label[NameModal] = discord.ui.Label(
        text="Provider",
        component=discord.ui.Select(
            custom_id="provider",
            options=[discord.SelectOption(label=p, value=p) for p in ("seed2", "seedanceapi")],
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        assert isinstance(self.name.component, discord.ui.TextInput)
        assert isinstance(self.provider.component, discord.ui.Select)
        name, provider = self.name.component.value, self.provider.component.values[0]
        await interaction.response.send_message(f"Saved {name} for {provider}", ephemeral=True)


class ThrowawayBot(commands.Bot):
    """Stands in for the project's bot: commands and buttons registered in setup_hook."""

    def __init__(self) -> None:
        super().__init__(command_prefix=commands.when_mentioned, intents=discord.Intents.default())

    async def setup_hook(self) -> None:
        self.add_dynamic_items(RetryButton)
        self.tree.add_command(render)
        self.tree.add_command(name_key)
        self.tree.add_command(fail_job)


@app_commands.command(description="Render a picture")
@app_commands.describe(
    prompt="What to draw", steps="Diffusion steps", image="Start image", style="Style"
)
async def render(
    interaction: discord.Interaction,
    prompt: str,
    steps: app_commands.Range[int, 1, 50],
    image: discord.Attachment,
    style: str = "Watercolor",
) -> None:
    await interaction.response.defer(thinking=True)
    start = await image.read()
    embed = discord.Embed(title=f"Render: {prompt}", description=f"{steps} steps, {style}")
    embed.set_image(url="attachment://result.png")
    result = discord.File(io.BytesIO(start + b"+rendered"), filename="result.png")
    await interaction.followup.send(embed=embed, file=result)
    original = await interaction.edit_original_response(content=f"Done: {image.filename}")
    thread = await original.create_thread(name=f"render {prompt}"[:100])
    await thread.send("Full size attached", file=discord.File(io.BytesIO(PNG), filename="full.png"))


@render.autocomplete("style")
async def render_style(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    matches = [s for s in STYLES if current.lower() in s.lower()]
    return [app_commands.Choice(name=s, value=s.lower()) for s in matches][:25]


@app_commands.command(name="name-key", description="Name a key")
async def name_key(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(NameModal())


@app_commands.command(name="fail-job", description="Report a failed job")
async def fail_job(interaction: discord.Interaction, job: int) -> None:
    view = discord.ui.View(timeout=None).add_item(RetryButton(job))
    await interaction.response.send_message(f"Job {job} failed", view=view)


async def test_slash_command_defers_follows_up_edits_and_threads(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    fake = discord_fake
    bot = await make_bot(ThrowawayBot())
    upload = fake.host_attachment("cat.png", PNG)
    payload = slash_command_interaction(
        "render",
        options={"prompt": "a cat", "steps": 20, "image": upload, "style": "oil paint"},
        channel=fake.text_channel,
        user=fake.member_user,
    )

    done = await dispatch(bot, payload)

    assert done.interaction is not None
    assert isinstance(done.interaction.channel, discord.TextChannel)
    assert [c.type for c in fake.callbacks_for(payload)] == [5]
    # The follow-up after a deferral replaced the "thinking..." message: it is the original.
    [original] = fake.messages_in(fake.text_channel)
    assert original == fake.original_response(payload)
    assert original["content"] == "Done: cat.png"
    assert original["flags"] & 128 == 0
    assert original["flags"] & 32
    [embed] = original["embeds"]
    assert embed["title"] == "Render: a cat"
    assert embed["description"] == "20 steps, oil paint"
    assert embed["image"]["url"] == original["attachments"][0]["url"]
    [result] = fake.files_of(original)
    assert (result.filename, result.data) == ("result.png", PNG + b"+rendered")
    [thread] = fake.threads_of(fake.text_channel)
    assert thread["name"] == "render a cat"
    assert thread["id"] == original["id"]
    [post] = fake.messages_in(thread)
    assert post["content"] == "Full size attached"
    assert [(f.filename, f.data) for f in fake.files_of(post)] == [("full.png", PNG)]
    assert bot.get_channel(int(thread["id"])) is not None  # THREAD_CREATE reached the cache
    assert fake.schema_errors == []


async def test_autocomplete_returns_choices(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot(ThrowawayBot())
    payload = autocomplete_interaction(
        "render",
        focused="style",
        value="wat",
        options={"prompt": "a cat"},
        channel=discord_fake.text_channel,
        user=discord_fake.member_user,
    )

    await dispatch(bot, payload)

    [callback] = discord_fake.callbacks_for(payload)
    assert callback.type == 8
    assert callback.data == {
        "choices": [
            {"name": "Watercolor", "value": "watercolor"},
            {"name": "Water ink", "value": "water ink"},
        ]
    }


async def test_modal_round_trip(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    fake = discord_fake
    bot = await make_bot(ThrowawayBot())
    ask = slash_command_interaction("name-key", channel=fake.text_channel, user=fake.member_user)
    await dispatch(bot, ask)
    [shown] = fake.callbacks_for(ask)
    assert shown.type == 9
    assert shown.data is not None
    assert shown.data["title"] == "Name your key"
    assert [c["type"] for c in shown.data["components"]] == [18, 18]  # Labels

    submit = modal_submit_interaction(
        shown.data["custom_id"],
        values={"name": "Work key", "provider": ["seed2"]},
        channel=fake.text_channel,
        user=fake.member_user,
    )
    await dispatch(bot, submit)

    [answer] = fake.callbacks_for(submit)
    assert answer.type == 4
    assert answer.data is not None
    assert answer.data["content"] == "Saved Work key for seed2"
    assert answer.data["flags"] == 64
    reply = fake.original_response(submit)
    assert reply is not None
    assert reply["flags"] & 64


async def test_dynamic_button_works_after_a_restart(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    fake = discord_fake
    first = await make_bot(ThrowawayBot())
    report = slash_command_interaction(
        "fail-job", options={"job": 42}, channel=fake.text_channel, user=fake.member_user
    )
    await dispatch(first, report)
    message = fake.original_response(report)
    assert message is not None
    assert message["content"] == "Job 42 failed"
    await first.close()

    restarted = await make_bot(ThrowawayBot())
    click = component_interaction(
        message, "retry:42", channel=fake.text_channel, user=fake.member_user
    )
    await dispatch(restarted, click)

    [callback] = fake.callbacks_for(click)
    assert callback.type == 7
    assert message["content"] == "Retrying job 42"
    assert message["components"] == []


async def test_unknown_button_is_reported(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot(ThrowawayBot())
    channel = discord_fake.text_channel
    report = slash_command_interaction(
        "fail-job", options={"job": 7}, channel=channel, user=discord_fake.member_user
    )
    await dispatch(bot, report)
    message = discord_fake.original_response(report)
    assert message is not None
    message["components"][0]["components"][0]["custom_id"] = "gone:7"
    click = component_interaction(message, "gone:7", channel=channel, user=discord_fake.member_user)

    with pytest.raises(AssertionError, match="nothing in the bot handles"):
        await dispatch(bot, click)


async def test_handler_exceptions_fail_the_dispatch(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot(ThrowawayBot())
    payload = slash_command_interaction(
        "render",
        options={"prompt": "x", "steps": 1, "image": discord_fake.host_attachment("a.png", PNG)},
        channel=discord_fake.text_channel,
        user=discord_fake.member_user,
    )
    discord_fake.forbid(discord_fake.text_channel, "create_thread")

    with pytest.raises(AssertionError, match="render") as caught:
        await dispatch(bot, payload)

    forbidden = caught.value.__cause__
    assert isinstance(forbidden, app_commands.CommandInvokeError)
    assert isinstance(forbidden.original, discord.Forbidden)
    assert forbidden.original.code == 50013


async def test_schema_check_catches_an_invalid_body(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot()
    channel = bot.get_channel(int(discord_fake.text_channel["id"]))
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="x" * 257))

    assert caught.value.status == 400
    assert caught.value.code == 50035
    assert discord_fake.schema_errors == [
        "POST /channels/{channel_id}/messages: embeds/0/title: fails maxLength 256"
    ]
    discord_fake.schema_errors.clear()  # seen; the teardown check would fail the test otherwise


async def test_schema_check_catches_raw_http(discord_fake: FakeDiscord) -> None:
    url = f"{discord_fake.api_url}/channels/{discord_fake.text_channel['id']}/messages"
    headers = {"Authorization": f"Bot {discord_fake.token}"}
    async with aiohttp.ClientSession() as session:
        answer = await session.post(url, json={"content": "x" * 4001}, headers=headers)
        assert answer.status == 400
        assert (await answer.json())["code"] == 50035

    assert discord_fake.schema_errors == [
        "POST /channels/{channel_id}/messages: content: fails maxLength 4000"
    ]
    assert discord_fake.messages_in(discord_fake.text_channel) == []
    discord_fake.schema_errors.clear()


async def test_command_sync_is_checked_against_the_spec(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot(ThrowawayBot())

    synced = await bot.tree.sync()

    assert sorted(c.name for c in synced) == ["fail-job", "name-key", "render"]
    assert discord_fake.requests_to("PUT", "/applications/{application_id}/commands")
