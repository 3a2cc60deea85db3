"""The Discord client: wiring only; features live in the extensions under ``cogs/``."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
import discord
from discord.ext import commands

from bot.models import Provider
from bot.providers import ProviderClient
from bot.settings import Settings
from bot.storage import Database

log = logging.getLogger(__name__)


class SeedanceBot(commands.Bot):
    """Holds the shared resources the entry point made and loads the feature extensions."""

    #: Dotted names of the extensions loaded at start-up, in order.
    EXTENSIONS: tuple[str, ...] = ()

    def __init__(
        self,
        *,
        settings: Settings,
        session: aiohttp.ClientSession,
        clients: Mapping[Provider, ProviderClient],
        database: Database,
    ) -> None:
        # The bot never joins voice: the "PyNaCl/davey is not installed" warnings at every start
        # would only make operators look for a problem that is not there.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.default()
        # Everything is a slash command, so the bot never needs the privileged message content intent.
        intents.message_content = False
        super().__init__(
            # Messages that mention the bot still carry their text; with no prefix commands and no
            # help command registered, a mention runs nothing.
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            # Results echo users' prompts; a prompt saying @everyone must not ping the server.
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
        )
        self.settings = settings
        self.session = session
        self.clients = dict(clients)
        self.database = database

    async def setup_hook(self) -> None:
        for name in self.EXTENSIONS:
            await self.load_extension(name)
        log.info("Set up; extensions loaded: %s", ", ".join(self.EXTENSIONS) or "none")
