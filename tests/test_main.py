"""``python -m bot``: configuration mistakes and a rejected token end in one clear line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import discord
import pytest

from bot import __main__ as entry
from bot.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456"


def clean_environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env.update(extra)
    return env


def run_module(cwd: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env=clean_environ(**extra_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_token_exits_with_one_line(tmp_path: Path) -> None:
    result = run_module(tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: DISCORD_TOKEN is not set")
    assert "Traceback" not in result.stderr


def test_invalid_base_url_exits_with_one_line_naming_it(tmp_path: Path) -> None:
    result = run_module(tmp_path, DISCORD_TOKEN=TOKEN, SEED2_BASE_URL="ftp://api.seed2.io")
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: SEED2_BASE_URL is invalid: ")
    assert TOKEN not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """A valid environment in an empty directory; the root logger is restored afterwards."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    yield
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


@pytest.mark.usefixtures("configured")
def test_rejected_token_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def reject(self: discord.Client, token: str) -> None:
        raise discord.LoginFailure("Improper token has been passed.")

    # login() is the first thing start() does; replacing it keeps the test off the network.
    monkeypatch.setattr(discord.Client, "login", reject)
    assert entry.main() == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert [line for line in captured.err.splitlines() if line.startswith("error:")] == [
        "error: Discord rejected DISCORD_TOKEN (Improper token has been passed.); copy a fresh "
        "token from the Bot page of your application in the Discord developer portal"
    ]
    assert TOKEN not in captured.err


@pytest.mark.usefixtures("configured")
def test_keyboard_interrupt_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    async def interrupted(self: discord.Client, token: str) -> None:
        seen.append(token)
        raise KeyboardInterrupt

    monkeypatch.setattr(discord.Client, "login", interrupted)
    assert entry.main() == 0
    assert seen == [TOKEN]


@pytest.mark.usefixtures("configured")
def test_unreachable_discord_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def offline(self: discord.Client, token: str) -> None:
        raise aiohttp.ClientConnectionError("Cannot connect to host discord.com:443")

    monkeypatch.setattr(discord.Client, "login", offline)
    assert entry.main() == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert [line for line in captured.err.splitlines() if line.startswith("error:")] == [
        "error: cannot reach Discord (Cannot connect to host discord.com:443); check this "
        "machine's network connection and try again"
    ]
