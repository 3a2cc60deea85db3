"""Start-up prepares storage: the database, and the key-encryption secret when none is set."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path
from typing import Any

import discord
import pytest

from bot import __main__ as entry
from bot.logs import RedactingFilter, setup_logging
from bot.settings import Settings
from bot.storage import ApiKeyStore, Database, KeyCipher
from bot.storage.crypto import SECRET_FILE_NAME

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A configured bot in an empty directory whose Discord login stops the run at once."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)

    async def stop_at_login(self: discord.Client, token: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(discord.Client, "login", stop_at_login)
    root = logging.getLogger()
    saved = list(root.handlers)
    yield tmp_path
    root.handlers[:] = saved


def test_first_start_creates_the_database_and_an_owner_only_secret(
    offline: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert entry.main() == 0
    assert entry.main() == 0

    secret_file = offline / "data" / SECRET_FILE_NAME
    assert (offline / "data" / "bot.sqlite3").exists()
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    warnings = [r for r in caplog.records if "KEY_ENCRYPTION_SECRET" in r.getMessage()]
    assert len(warnings) == 1
    assert secret_file.read_text().strip() not in caplog.text


def test_start_up_with_a_previous_secret_re_encrypts_every_key(
    offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = offline / "data" / "bot.sqlite3"

    async def link_under(secret: str) -> None:
        db = await Database.open(path)
        await ApiKeyStore(db, KeyCipher([secret])).link(1, "seed2", "sk-s2-rotation-test-0001")
        await db.close()

    async def read_with(secret: str) -> str | None:
        db = await Database.open(path)
        try:
            return await ApiKeyStore(db, KeyCipher([secret])).reveal(1, "seed2")
        finally:
            await db.close()

    asyncio.run(link_under("old secret value"))
    monkeypatch.setenv("KEY_ENCRYPTION_SECRET", "new secret value")
    monkeypatch.setenv("KEY_ENCRYPTION_SECRET_PREVIOUS", "old secret value")
    assert entry.main() == 0

    assert asyncio.run(read_with("new secret value")) == "sk-s2-rotation-test-0001"
    assert not (offline / "data" / SECRET_FILE_NAME).exists()


def test_every_stored_key_is_registered_with_the_log_redactor_at_start_up(
    offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A seedanceapi key has no known prefix: only registration hides it from the log.
    plain = "Zq7Lw4Rt8Yp3Nb6Hc1Xm9Kd2Vf5"
    path = offline / "data" / "bot.sqlite3"

    async def link() -> None:
        db = await Database.open(path)
        await ApiKeyStore(db, KeyCipher(["configured secret"])).link(1, "seedanceapi", plain)
        await db.close()

    asyncio.run(link())
    monkeypatch.setenv("KEY_ENCRYPTION_SECRET", "configured secret")
    redactors: list[RedactingFilter] = []

    def capture(*args: Any, **kwargs: Any) -> RedactingFilter:
        redactors.append(setup_logging(*args, **kwargs))
        return redactors[-1]

    monkeypatch.setattr(entry, "setup_logging", capture)
    assert entry.main() == 0

    [redactor] = redactors
    assert redactor.redact(f"seedanceapi said: bad key {plain}") == "seedanceapi said: bad key ***"


def test_the_bot_creates_its_files_owner_only(
    offline: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    umask_while_running: list[int] = []

    async def stop_at_login(self: discord.Client, token: str) -> None:
        umask_while_running.append(os.umask(0o077))
        raise KeyboardInterrupt

    monkeypatch.setattr(discord.Client, "login", stop_at_login)
    previous = os.umask(0o022)
    try:
        assert entry.main() == 0
        assert os.umask(0o022) == 0o022  # main() leaves the process umask as it found it
    finally:
        os.umask(previous)

    assert umask_while_running == [0o077]

    data = offline / "data"
    files = [data, data / "bot.sqlite3", data / SECRET_FILE_NAME]
    files += [p for p in data.iterdir() if p.name.endswith(("-wal", "-shm"))]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {
        p.name: "0o700" if p.is_dir() else "0o600" for p in files
    }
