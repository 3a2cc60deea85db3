"""The fake's world and its injected failures, seen through real discord.py calls."""

from __future__ import annotations

import io

import discord
import pytest

from bot.app import SeedanceBot
from tests.discord.fake import FakeDiscord
from tests.discord.fixtures import MakeBot, MakeSeedanceBot
from tests.discord.harness import dispatch, plain_bot
from tests.discord.payloads import APPLICATION_ID, slash_command_interaction

MESSAGES = "/channels/{channel_id}/messages"


async def text_channel(fake: FakeDiscord, bot: discord.Client) -> discord.TextChannel:
    channel = bot.get_channel(int(fake.text_channel["id"]))
    assert isinstance(channel, discord.TextChannel)
    return channel


def deferring_bot() -> discord.ext.commands.Bot:
    bot = plain_bot()

    @bot.tree.command(description="Defers and stops")
    async def wait(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)

    jobs = discord.app_commands.Group(name="jobs", description="Your jobs")

    @jobs.command(description="Show one job")
    async def show(interaction: discord.Interaction, job: int) -> None:
        await interaction.response.send_message(f"Job {job}", ephemeral=True)

    bot.tree.add_command(jobs)
    return bot


async def test_missing_permissions_for_threads(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    channel = await text_channel(discord_fake, await make_bot())
    message = await channel.send("result")
    discord_fake.forbid(channel.id, "create_thread")

    with pytest.raises(discord.Forbidden) as caught:
        await message.create_thread(name="result")

    assert (caught.value.code, caught.value.text) == (50013, "Missing Permissions")
    await channel.send("sending is still allowed")


async def test_closed_dms(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    user = await bot.fetch_user(int(discord_fake.member_user["id"]))
    await user.send("first", file=discord.File(io.BytesIO(b"clip"), filename="clip.mp4"))
    discord_fake.close_dms(discord_fake.member_user)

    with pytest.raises(discord.Forbidden) as caught:
        await user.send("second")

    assert caught.value.code == 50007
    [sent] = discord_fake.messages_in(discord_fake.dm_channel(discord_fake.member_user))
    assert sent["content"] == "first"
    assert [(f.filename, f.data) for f in discord_fake.files_of(sent)] == [("clip.mp4", b"clip")]


async def test_deleted_channel(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    channel = await text_channel(discord_fake, bot)
    discord_fake.delete_channel(discord_fake.text_channel)

    with pytest.raises(discord.NotFound) as caught:
        await channel.send("result")

    assert caught.value.code == 10003
    assert bot.get_channel(channel.id) is None  # CHANNEL_DELETE reached the cache


async def test_rate_limit_is_waited_out(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    channel = await text_channel(discord_fake, await make_bot())
    discord_fake.rate_limit("POST", MESSAGES, retry_after=0.02)

    await channel.send("eventually")

    assert [r.status for r in discord_fake.requests_to("POST", MESSAGES)] == [429, 200]


async def test_scripted_failure(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    channel = await text_channel(discord_fake, await make_bot())
    discord_fake.fail("POST", MESSAGES, status=503)

    with pytest.raises(discord.DiscordServerError):
        await channel.send("lost")
    await channel.send("kept")

    assert [m["content"] for m in discord_fake.messages_in(channel.id)] == ["kept"]


async def test_forum_post_with_a_file(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot()
    forum = bot.get_channel(int(discord_fake.forum_channel["id"]))
    assert isinstance(forum, discord.ForumChannel)

    post = await forum.create_thread(
        name="A cat", content="Rendered", file=discord.File(io.BytesIO(b"mp4"), filename="cat.mp4")
    )

    [thread] = discord_fake.threads_of(discord_fake.forum_channel)
    assert thread["id"] == str(post.thread.id) == str(post.message.id)
    [starter] = discord_fake.messages_in(thread)
    assert starter["content"] == "Rendered"
    assert [f.filename for f in discord_fake.files_of(starter)] == ["cat.mp4"]


async def test_answering_after_three_seconds_fails(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot(deferring_bot())
    discord_fake.response_window = 0.0
    payload = slash_command_interaction(
        "wait", channel=discord_fake.text_channel, user=discord_fake.member_user
    )

    with pytest.raises(AssertionError) as caught:
        await dispatch(bot, payload)

    invoke_error = caught.value.__cause__
    assert isinstance(invoke_error, discord.app_commands.CommandInvokeError)
    assert isinstance(invoke_error.original, discord.NotFound)
    assert invoke_error.original.code == 10062


async def test_expired_token_refuses_follow_ups(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot(deferring_bot())
    payload = slash_command_interaction(
        "wait", channel=discord_fake.text_channel, user=discord_fake.member_user
    )
    done = await dispatch(bot, payload)
    assert done.interaction is not None
    await done.interaction.followup.send("in time")
    discord_fake.expire_interaction(payload)

    with pytest.raises(discord.HTTPException) as caught:
        await done.interaction.followup.send("too late")

    assert (caught.value.status, caught.value.code) == (401, 50027)
    original = discord_fake.original_response(payload)
    assert original is not None
    assert original["content"] == "in time"
    assert original["flags"] == 64


async def test_slash_command_in_a_dm(discord_fake: FakeDiscord, make_bot: MakeBot) -> None:
    bot = await make_bot(deferring_bot())
    dm = discord_fake.dm_channel(discord_fake.member_user)
    payload = slash_command_interaction("wait", channel=dm, user=discord_fake.member_user)

    done = await dispatch(bot, payload)

    assert done.interaction is not None
    assert isinstance(done.interaction.channel, discord.DMChannel)
    assert isinstance(done.interaction.user, discord.User)
    assert [c.type for c in discord_fake.callbacks_for(payload)] == [5]


async def test_seedance_bot_logs_in(
    discord_fake: FakeDiscord, make_seedance_bot: MakeSeedanceBot
) -> None:
    bot = await make_seedance_bot()

    assert isinstance(bot, SeedanceBot)
    assert bot.user is not None
    assert str(bot.user.id) == APPLICATION_ID
    assert bot.application_id == int(APPLICATION_ID)
    guild = bot.get_guild(int(discord_fake.guild["id"]))
    assert guild is not None
    assert guild.me is not None
    assert bot.is_ready()


async def test_subcommand_with_permissions_and_locale(
    discord_fake: FakeDiscord, make_bot: MakeBot
) -> None:
    bot = await make_bot(deferring_bot())
    payload = slash_command_interaction(
        "jobs",
        subcommand="show",
        options={"job": 7},
        channel=discord_fake.text_channel,
        user=discord_fake.member_user,
        app_permissions=discord.Permissions(view_channel=True, send_messages=True),
        locale="de",
    )

    done = await dispatch(bot, payload)

    interaction = done.interaction
    assert interaction is not None
    assert interaction.command is not None
    assert interaction.command.qualified_name == "jobs show"
    assert interaction.locale is discord.Locale.german
    assert interaction.app_permissions.send_messages
    assert not interaction.app_permissions.create_public_threads
    assert isinstance(interaction.user, discord.Member)
    [callback] = discord_fake.callbacks_for(payload)
    assert callback.data is not None
    assert callback.data["content"] == "Job 7"
