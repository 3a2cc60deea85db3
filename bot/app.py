"""The Discord client: wiring only; features live in the extensions under ``cogs/``."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import aiohttp
import discord
from discord.ext import commands

from bot.jobs import EngineConfig, JobEngine
from bot.logs import RedactingFilter
from bot.models import Provider
from bot.providers import ProviderClient
from bot.settings import Settings
from bot.storage import ApiKeyStore, Database, JobStore, KeyCipher

log = logging.getLogger(__name__)


class SeedanceBot(commands.Bot):
    """Holds the shared resources the entry point made and loads the feature extensions."""

    #: Dotted names of the extensions loaded at start-up, in order.
    EXTENSIONS: tuple[str, ...] = (
        "cogs.keys",
        "cogs.video",
        "cogs.image",
        "cogs.jobs",
        "cogs.help",
    )

    def __init__(
        self,
        *,
        settings: Settings,
        session: aiohttp.ClientSession,
        clients: Mapping[Provider, ProviderClient],
        database: Database,
        cipher: KeyCipher,
        redactor: RedactingFilter | None = None,
        engine_config: EngineConfig | None = None,
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
        self.redactor = redactor
        self.keys = ApiKeyStore(database, cipher)
        self.jobs = JobStore(database)
        # Imported here: the delivery port is Discord code, the engine is not.
        from cogs._delivery import DiscordDelivery
        from cogs._views import result_view

        self.delivery = DiscordDelivery(self, views=result_view)
        self.engine = JobEngine(
            jobs=self.jobs,
            keys=self.keys,
            clients={provider.value: client for provider, client in self.clients.items()},
            port=self.delivery,
            config=engine_config
            or EngineConfig(
                max_running_per_user=settings.max_jobs_per_user,
                default_budget=(settings.default_requests_per_minute, 60.0),
            ),
        )

    async def setup_hook(self) -> None:
        from cogs import _errors
        from cogs._views import DYNAMIC_ITEMS

        _errors.install(self)
        # Buttons on results posted before a restart keep working.
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for name in self.EXTENSIONS:
            await self.load_extension(name)
        # Resume every unfinished job; results are delivered with the bot token.
        await self.engine.start()
        log.info("Set up; extensions loaded: %s", ", ".join(self.EXTENSIONS))

    async def close(self) -> None:
        await self.engine.stop()
        await self.delivery.aclose()
        await super().close()
