"""Every command serializes within Discord's limits, so a sync can never be rejected."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import SeedanceBot
from bot.storage import Database, KeyCipher
from tests.discord.fixtures import seedance_settings

NAME = re.compile(r"^[-_\w]{1,32}$")
COMMAND_TYPE_CHAT_INPUT = 1
SUB_TYPES = (1, 2)  # sub-command, sub-command group


async def _payloads() -> list[dict[str, Any]]:
    """What the extensions register, loaded onto a bot that never logs in."""
    with tempfile.TemporaryDirectory() as folder:
        settings = seedance_settings(Path(folder))
        assert settings.key_encryption_secret is not None
        cipher = KeyCipher([settings.key_encryption_secret.get_secret_value()])
        database = await Database.open(settings.database_path)
        try:
            async with aiohttp.ClientSession() as session:
                bot = SeedanceBot(
                    settings=settings, session=session, clients={}, database=database, cipher=cipher
                )
                for extension in SeedanceBot.EXTENSIONS:
                    await bot.load_extension(extension)
                return [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
        finally:
            await database.close()


def _options(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for option in node.get("options") or []:
        yield option
        if option["type"] in SUB_TYPES:
            yield from _options(option)


def _characters(node: dict[str, Any]) -> int:
    """What Discord counts against the 8,000 limit: names, descriptions, choices, recursively."""
    total = len(node["name"]) + len(node.get("description", ""))
    for choice in node.get("choices") or []:
        total += len(choice["name"]) + len(str(choice["value"]))
    return total + sum(_characters(option) for option in node.get("options") or [])


@pytest.fixture(scope="module")
async def payloads() -> list[dict[str, Any]]:
    return await _payloads()


async def test_every_extension_contributes_commands() -> None:
    names = {payload["name"] for payload in await _payloads()}
    assert {"video", "image", "key", "jobs", "help"} <= names


async def test_names_descriptions_options_and_choices_are_within_limits() -> None:
    payloads = await _payloads()
    assert len(payloads) <= 100
    for command in payloads:
        where = f"/{command['name']}"
        assert command.get("type", COMMAND_TYPE_CHAT_INPUT) == COMMAND_TYPE_CHAT_INPUT
        assert NAME.match(command["name"]), where
        assert command["name"] == command["name"].lower(), where
        assert 1 <= len(command["description"]) <= 100, where
        assert _characters(command) <= 8000, where
        for node in [command, *_options(command)]:
            options = node.get("options") or []
            assert len(options) <= 25, f"{where}: {node['name']} has {len(options)} options"
            flags = [bool(o.get("required")) for o in options if o["type"] not in SUB_TYPES]
            assert flags == sorted(flags, reverse=True), f"{where}: required after optional"
        for option in _options(command):
            label = f"{where} {option['name']}"
            assert NAME.match(option["name"]), label
            assert option["name"] == option["name"].lower(), label
            assert 1 <= len(option["description"]) <= 100, label
            choices = option.get("choices") or []
            assert len(choices) <= 25, label
            for choice in choices:
                assert 1 <= len(choice["name"]) <= 100, label
                assert len(str(choice["value"])) <= 100, label
            assert not (choices and option.get("autocomplete")), label
