"""Each way ``python -m bot`` can fail to start: one clear line, the right cause and exit code."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from bot.storage import ApiKeyStore, Database, Destination, JobStore, KeyCipher
from tests.discord.fake import FakeDiscord
from tests.discord.payloads import slash_command_interaction
from tests.process import BotProcess, bot_environment


async def run_to_exit(cwd: Path, env: dict[str, str]) -> tuple[int, list[str]]:
    bot = await BotProcess.start(cwd, env)
    code = await bot.wait()
    assert "Traceback" not in bot.stderr, bot.stderr
    return code, [line for line in bot.lines if line.startswith("error:")]


async def test_a_database_folder_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    env = bot_environment(None, tmp_path, DATABASE_PATH=str(blocker / "data" / "bot.sqlite3"))
    code, errors = await run_to_exit(tmp_path, env)
    assert code == 2
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"error: DATABASE_PATH {blocker}/data/bot.sqlite3: cannot create")
    assert "Discord" not in errors[0]


async def test_a_database_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    # /proc refuses new files even to root, which the tests may run as.
    env = bot_environment(None, tmp_path, DATABASE_PATH="/proc/seedance-bot.sqlite3")
    code, errors = await run_to_exit(tmp_path, env)
    assert code == 2
    assert len(errors) == 1, errors
    assert errors[0].startswith("error: DATABASE_PATH /proc/seedance-bot.sqlite3: cannot")


async def test_a_file_that_is_not_sqlite_is_said_so_and_left_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    content = b"shopping list: milk, eggs, a bigger disk\n" * 20
    notes.write_bytes(content)
    env = bot_environment(None, tmp_path, DATABASE_PATH=str(notes))
    code, errors = await run_to_exit(tmp_path, env)
    assert code == 2
    assert errors == [
        f"error: DATABASE_PATH {notes}: the file is not a SQLite database (left untouched); "
        "point DATABASE_PATH at a writable file of this bot"
    ]
    assert notes.read_bytes() == content
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]  # no -wal or -shm file either


async def test_a_port_in_use_is_named(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeDiscord() as fake:
            env = bot_environment(fake, tmp_path / "data", HTTP_PORT=str(port))
            code, errors = await run_to_exit(tmp_path, env)
    assert code == 2
    assert len(errors) == 1, errors
    assert f"127.0.0.1:{port}" in errors[0]
    assert "HTTP_PORT" in errors[0]


@pytest.fixture
async def fake() -> FakeDiscord:
    async with FakeDiscord(response_window=None) as fake:
        yield fake  # type: ignore[misc]


async def test_a_lost_key_secret_keeps_the_bot_up_and_tells_each_owner(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    # An earlier run under another secret left a linked key and a job waiting to be sent.
    data = tmp_path / "data"
    database = await Database.open(data / "bot.sqlite3")
    owner = int(fake.member_user["id"])
    try:
        await ApiKeyStore(database, KeyCipher(["the old secret"])).link(
            owner, "seed2", "sk-s2-abcdefghijklmnopqrstuvwx"
        )
        await JobStore(database).create(
            owner_id=owner,
            provider="seed2",
            endpoint="seed2",
            request={"prompt": "a lighthouse in fog", "model": "seedance-2.0-fast"},
            destination=Destination(
                guild_id=int(fake.guild["id"]), channel_id=int(fake.text_channel["id"])
            ),
        )
    finally:
        await database.close()

    env = bot_environment(fake, data, KEY_ENCRYPTION_SECRET="a new secret, the old one lost")
    bot = await BotProcess.start(tmp_path, env)
    try:
        line = await bot.wait_for_line("KEY_ENCRYPTION_SECRET cannot read")
        assert "1 of 1 stored API key(s)" in line
        assert "/key link" in line
        await fake.gateway.wait_ready()

        # The job's owner is told privately, by DM, to link the key again.
        dm = fake.dm_channel(fake.member_user)
        notes = await fake.wait_for(lambda: fake.messages_in(dm), within=15.0)
        assert "Link the key again with /key link" in str(notes[0])
        assert fake.messages_in(fake.text_channel) == []

        # /key status shows the key as unreadable.
        status = slash_command_interaction(
            "key", subcommand="status", channel=fake.text_channel, user=fake.member_user
        )
        fake.register_interaction(status)
        await fake.gateway.dispatch("INTERACTION_CREATE", status)
        answers = await fake.wait_for(lambda: fake.callbacks_for(status), within=10.0)
        assert "unreadable" in str(answers[-1].data)
    finally:
        assert await bot.stop() == 0, bot.stderr
    assert "Traceback" not in bot.stderr, bot.stderr


async def test_linking_again_makes_an_unreadable_key_readable(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        await ApiKeyStore(database, KeyCipher(["old"])).link(1, "seed2", "sk-s2-" + "a" * 24)
        keys = ApiKeyStore(database, KeyCipher(["new"]))
        assert await keys.unreadable_count() == (1, 1)
        assert (await keys.for_user(1))[0].readable is False
        await keys.link(1, "seed2", "sk-s2-" + "b" * 24)
        assert await keys.unreadable_count() == (0, 1)
        assert await keys.reveal(1, "seed2") == "sk-s2-" + "b" * 24
    finally:
        await database.close()
