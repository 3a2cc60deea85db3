"""Pytest fixtures for Discord tests; import them into any ``conftest.py`` that needs them.

    from tests.discord.fixtures import discord_fake, make_bot, make_seedance_bot  # noqa: F401

``discord_fake`` runs a :class:`FakeDiscord` and, at teardown, fails the test when the bot sent
a body Discord's spec rejects, called a route the fake does not know, or when the fake itself
answered outside the spec. ``make_bot`` logs bots in against it and closes them afterwards;
``make_seedance_bot`` does the same for the project's own ``SeedanceBot``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
from discord.ext import commands

from bot.app import SeedanceBot
from bot.models import Provider
from bot.providers import ProviderClient, build_clients
from bot.settings import Settings
from bot.storage import Database, KeyCipher
from tests.discord.fake import FakeDiscord
from tests.discord.harness import start_bot, stop_bot
from tests.discord.payloads import BOT_TOKEN
from tests.fakes.downloads import loopback_downloader

#: Nothing listens on the discard port: a provider call nobody set up fails at once, offline.
UNREACHABLE_URL = "http://127.0.0.1:9"

MakeBot = Callable[..., Awaitable[commands.Bot]]


class MakeSeedanceBot(Protocol):
    async def __call__(
        self,
        *,
        settings: Settings | None = None,
        clients: dict[Provider, ProviderClient] | None = None,
        database: Database | None = None,
        cipher: KeyCipher | None = None,
        extensions: Iterable[str] = (),
        **bot_options: Any,
    ) -> SeedanceBot: ...


@pytest.fixture
async def discord_fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake
    assert not fake.schema_errors, "Discord would reject these bodies:\n" + "\n".join(
        fake.schema_errors
    )
    assert not fake.unhandled, "FakeDiscord has no route for: " + ", ".join(fake.unhandled)
    assert not fake.response_schema_errors, "FakeDiscord answered outside the spec:\n" + "\n".join(
        fake.response_schema_errors
    )


@pytest.fixture
async def make_bot(discord_fake: FakeDiscord) -> AsyncIterator[MakeBot]:
    """``await make_bot(bot=None, extensions=())``: a logged-in bot (a bare one by default)."""
    started: list[commands.Bot] = []

    async def make(
        bot: commands.Bot | None = None, *, extensions: Iterable[str] = ()
    ) -> commands.Bot:
        ready = await start_bot(discord_fake, bot, extensions=extensions)
        started.append(ready)
        return ready

    yield make
    for bot in reversed(started):
        if not bot.is_closed():
            await stop_bot(discord_fake, bot)


def seedance_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test: the fake's token, a database under ``tmp_path``, no real APIs."""
    values: dict[str, Any] = {
        "discord_token": BOT_TOKEN,
        "database_path": tmp_path / "bot.sqlite3",
        "key_encryption_secret": "test-secret-for-the-key-store-0123456789",
        "seedance2ai_base_url": UNREACHABLE_URL,
        "seedanceapi_base_url": UNREACHABLE_URL,
        "seed2_base_url": UNREACHABLE_URL,
        # The fakes serve result files over http (see ``make_seedance_bot``).
        "allow_http_downloads": True,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
async def make_seedance_bot(
    discord_fake: FakeDiscord, make_bot: MakeBot, tmp_path: Path
) -> AsyncIterator[MakeSeedanceBot]:
    """``await make_seedance_bot(...)``: a logged-in ``SeedanceBot`` with test resources.

    Every part can be given; by default the settings come from :func:`seedance_settings`, each
    bot gets its own connection to the same SQLite file (so a second call is a restart), the
    key cipher uses the settings' secret, and the provider clients point at an address where
    nothing listens; result files may be downloaded from loopback over http (the local fakes),
    which the bot as deployed never does. Other keyword arguments (``engine_config=...``) go to ``SeedanceBot``.
    """
    async with aiohttp.ClientSession() as session:
        opened: list[Database] = []
        bots: list[SeedanceBot] = []

        async def make(
            *,
            settings: Settings | None = None,
            clients: dict[Provider, ProviderClient] | None = None,
            database: Database | None = None,
            cipher: KeyCipher | None = None,
            extensions: Iterable[str] = (),
            **bot_options: Any,
        ) -> SeedanceBot:
            settings = settings or seedance_settings(tmp_path)
            if database is None:
                database = await Database.open(settings.database_path)
                opened.append(database)
            if clients is None:
                clients = build_clients(session, settings.base_urls(), timeout=5.0)
            if cipher is None:
                assert settings.key_encryption_secret is not None
                cipher = KeyCipher([settings.key_encryption_secret.get_secret_value()])
            # Result files come from the local fakes on 127.0.0.1, which production refuses.
            bot_options.setdefault("downloader", loopback_downloader(settings))
            bot = SeedanceBot(
                settings=settings,
                session=session,
                clients=clients,
                database=database,
                cipher=cipher,
                **bot_options,
            )
            await make_bot(bot, extensions=extensions)
            bots.append(bot)
            return bot

        yield make
        # The bots go first: closing them unloads the cogs, which may still use these resources.
        for bot in reversed(bots):
            if not bot.is_closed():
                await stop_bot(discord_fake, bot)
        for database in opened:
            await database.close()
