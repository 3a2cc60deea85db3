"""The program users run: ``python -m bot`` in its own process against the local Discord fake.

Nothing is handed to the fake that only the bot should put there: it starts with no commands, so
the commands it answers must have come through Discord's registration route, and the interaction
reaches the bot through the fake's gateway, as on a real server.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.discord.fake import FakeDiscord
from tests.discord.payloads import APPLICATION_ID, slash_command_interaction
from tests.process import BotProcess, bot_environment

COMMANDS_ROUTE = "/applications/{application_id}/commands"
GUILD_COMMANDS_ROUTE = "/applications/{application_id}/guilds/{guild_id}/commands"


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(response_window=None) as fake:
        assert fake.world.commands == {}  # the bot must register its commands itself
        yield fake


async def start(fake: FakeDiscord, tmp_path: Path, **env: str) -> BotProcess:
    sessions = len(fake.gateway.identified)
    bot = await BotProcess.start(tmp_path, bot_environment(fake, tmp_path / "data", **env))
    await bot.wait_for_line(r"Job engine started")
    try:
        await fake.gateway.wait_ready(count=sessions + 1)
    except TimeoutError:
        raise AssertionError(f"the bot never identified; it logged:\n{bot.stderr}") from None
    return bot


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_commands_are_registered_once_answered_through_the_gateway_and_sigterm_exits_0(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    port = free_port()
    bot = await start(fake, tmp_path, HTTP_PORT=str(port))
    try:
        await bot.wait_for_line(r"Ready as .* in 1 server\(s\); invite link: https://discord\.com/")
        # Operators can watch it: healthy once connected, and metrics in Prometheus' format.
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                assert answer.status == 200, await answer.text()
            async with http.get(f"http://127.0.0.1:{port}/metrics") as answer:
                assert "seedance_delivery_lag_seconds_bucket" in await answer.text()

        syncs = fake.requests_to("PUT", COMMANDS_ROUTE)
        assert len(syncs) == 1, bot.stderr
        registered = {command["name"] for command in fake.world.commands[None]}
        assert {"help", "video", "image", "key", "jobs"} <= registered
        await bot.wait_for_line(r"Registered \d+ slash command\(s\) globally")

        # /help as Discord would send it: with the id Discord gave the command at registration.
        help_id = next(c["id"] for c in fake.world.commands[None] if c["name"] == "help")
        payload = slash_command_interaction(
            "help", channel=fake.text_channel, user=fake.member_user, command_id=help_id
        )
        fake.register_interaction(payload)
        await fake.gateway.dispatch("INTERACTION_CREATE", payload)
        answers = await fake.wait_for(lambda: fake.callbacks_for(payload), within=10.0)
        assert answers[0].type == 4  # a message, at once
        assert answers[0].data["flags"] & 64  # private to the member
        # The rest of the help follows as private follow-ups, finished before the stop below.
        followups = await fake.wait_for(
            lambda: [r for r in fake.requests if r.path.startswith("/webhooks/")], within=10.0
        )
        help_text = str([answers[0].data, *(r.json for r in followups)])
        assert "/video" in help_text
        assert "/key link" in help_text
        assert fake.schema_errors == []
    finally:
        code = await bot.stop(signal.SIGTERM)
    assert code == 0, bot.stderr
    assert "Traceback" not in bot.stderr, bot.stderr
    await_line = [line for line in bot.lines if "Stopped cleanly" in line]
    assert len(await_line) == 1, bot.stderr

    # A restart with the same commands registers nothing: Discord limits command creation.
    again = await start(fake, tmp_path)
    try:
        await again.wait_for_line(r"Slash commands up to date \(\d+ registered globally\)")
        assert len(fake.requests_to("PUT", COMMANDS_ROUTE)) == 1
    finally:
        assert await again.stop(signal.SIGINT) == 0, again.stderr


async def test_a_development_server_gets_the_commands_instead_of_everyone(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    guild_id = fake.guild["id"]
    bot = await start(fake, tmp_path, DISCORD_GUILD_ID=guild_id)
    try:
        await bot.wait_for_line(rf"Registered \d+ slash command\(s\) to server {guild_id}")
        assert fake.requests_to("PUT", COMMANDS_ROUTE) == []
        synced = fake.requests_to("PUT", GUILD_COMMANDS_ROUTE)
        assert [r.params["guild_id"] for r in synced] == [guild_id]
        assert {c["name"] for c in fake.world.commands[guild_id]} >= {"help", "video"}
    finally:
        assert await bot.stop() == 0, bot.stderr


async def test_a_gateway_closed_for_good_exits_1_with_one_line(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    fake.gateway.refuse_with = 4014
    bot = await BotProcess.start(tmp_path, bot_environment(fake, tmp_path / "data"))
    code = await bot.wait()
    assert code == 1, bot.stderr
    errors = [line for line in bot.lines if line.startswith("error:")]
    assert errors == [
        "error: Discord closed the gateway connection (code 4014): the bot asks for a "
        "privileged intent that is not enabled; this bot needs none, so check that the token "
        "belongs to this bot"
    ], bot.stderr
    assert "Traceback" not in bot.stderr


def test_the_invite_link_has_the_readme_scopes_and_permissions() -> None:
    from bot.app import invite_url

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    template = "https://discord.com/oauth2/authorize?client_id=<APPLICATION_ID>"
    line = next(line.strip() for line in readme.splitlines() if template in line)
    assert invite_url(int(APPLICATION_ID)) == line.replace("<APPLICATION_ID>", APPLICATION_ID)


async def test_sigterm_lets_an_answer_in_progress_finish_and_refuses_new_commands(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    bot = await start(fake, tmp_path)
    await bot.wait_for_line(r"Ready as ")
    help_id = next(c["id"] for c in fake.world.commands[None] if c["name"] == "help")
    first = slash_command_interaction(
        "help", channel=fake.text_channel, user=fake.member_user, command_id=help_id
    )
    fake.register_interaction(first)
    # Every follow-up of /help is slowed down, so the stop arrives while the answer is written.
    fake.delay("POST", "/webhooks/{application_id}/{token}", seconds=0.3)
    await fake.gateway.dispatch("INTERACTION_CREATE", first)
    await fake.wait_for(lambda: fake.callbacks_for(first), within=10.0)
    bot.process.send_signal(signal.SIGTERM)
    await bot.wait_for_line(r"Stopping \(SIGTERM\)")

    late = slash_command_interaction(
        "help", channel=fake.text_channel, user=fake.owner_user, command_id=help_id
    )
    fake.register_interaction(late)
    await fake.gateway.dispatch("INTERACTION_CREATE", late)

    assert await bot.wait() == 0, bot.stderr
    assert "Traceback" not in bot.stderr, bot.stderr
    followups = [r for r in fake.requests if r.path.startswith("/webhooks/")]
    assert len(followups) >= 1
    assert all(r.status == 200 for r in followups)
    refused = fake.callbacks_for(late)
    if refused:  # the gateway may already be closed: then Discord never delivers it at all
        assert "restarting" in str(refused[0].data)
        assert refused[0].data["flags"] & 64
