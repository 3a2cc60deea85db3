"""The command tree ends every command error in one place: the reporter the Discord layer
plugs in, or the log until it has."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.tree import SeedanceTree


@pytest.fixture
def tree() -> SeedanceTree:
    return SeedanceTree(discord.Client(intents=discord.Intents.none()))  # type: ignore[arg-type]


async def test_without_a_reporter_errors_are_logged(
    tree: SeedanceTree, caplog: pytest.LogCaptureFixture
) -> None:
    interaction: Any = SimpleNamespace(command=None)
    error = app_commands.AppCommandError("boom")

    with caplog.at_level(logging.ERROR, logger="discord.app_commands.tree"):
        await tree.on_error(interaction, error)

    assert [record.exc_info[1] for record in caplog.records if record.exc_info] == [error]


async def test_the_plugged_in_reporter_answers_every_error(
    tree: SeedanceTree, caplog: pytest.LogCaptureFixture
) -> None:
    reported: list[tuple[object, BaseException]] = []

    async def report(interaction: Any, error: app_commands.AppCommandError) -> None:
        reported.append((interaction, error))

    interaction: Any = SimpleNamespace(command=None)
    error = app_commands.AppCommandError("boom")
    tree.use_error_reporter(report)
    with caplog.at_level(logging.ERROR, logger="discord.app_commands.tree"):
        await tree.on_error(interaction, error)
    assert reported == [(interaction, error)]
    assert caplog.records == []

    tree.use_error_reporter(None)  # the extension unloaded: back to the log
    with caplog.at_level(logging.ERROR, logger="discord.app_commands.tree"):
        await tree.on_error(interaction, error)
    assert len(reported) == 1
    assert len(caplog.records) == 1
