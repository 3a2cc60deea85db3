"""The Discord client: wiring only; features live in the extensions under ``cogs/``.

Nothing here imports ``cogs``: the extensions plug their parts in when they are set up (the
delivery port and input refresher into the engine, persistent buttons, the error reporter into
the command tree).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import aiohttp
import discord
from discord.ext import commands

from bot.command_sync import register_commands
from bot.i18n.translator import CatalogTranslator
from bot.jobs import EngineConfig, JobEngine
from bot.logs import RedactingFilter
from bot.metrics import Metrics
from bot.models import Provider
from bot.net import Downloader
from bot.providers import ProviderClient
from bot.providers.registry import documented_budgets
from bot.settings import Settings
from bot.storage import (
    ApiKeyStore,
    CommandRegistrationStore,
    Database,
    JobStore,
    KeyCipher,
    PreferenceStore,
)
from bot.tree import SeedanceTree
from bot.web import callback_urls

log = logging.getLogger(__name__)


#: What the bot needs in a channel: View Channels, Send Messages, Create Public Threads, Send
#: Messages in Threads, Attach Files, Embed Links, Read Message History (the README's invite link).
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    create_public_threads=True,
    send_messages_in_threads=True,
    attach_files=True,
    embed_links=True,
    read_message_history=True,
)
INVITE_SCOPES = ("bot", "applications.commands")

#: Names discord.py gives the tasks that run interaction handlers; a stop waits for them.
INTERACTION_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-dynamic-item-",
    "discord-ui-modal-dispatch-",
)
#: How long a stop waits for answers in progress before closing the connections.
INTERACTION_GRACE_SECONDS = 10.0


def invite_url(application_id: int) -> str:
    """The link that adds this application to a server with exactly the scopes and permissions it needs."""
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
    )


class SeedanceBot(commands.Bot):
    """Holds the shared resources the entry point made and loads the feature extensions."""

    #: Dotted names of the extensions loaded at start-up, in order.
    EXTENSIONS: tuple[str, ...] = (
        "cogs.error_handler",
        "cogs.keys",
        "cogs.generate",
        # After cogs.generate: its generation flow asks the server rules this one plugs in.
        "cogs.settings",
        "cogs.jobs",
        "cogs.preferences",
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
        metrics: Metrics | None = None,
        downloader: Downloader | None = None,
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
            tree_cls=SeedanceTree,
        )
        #: Set when a stop was asked for: new commands are refused, running work winds down.
        self.stopping = False
        self._announced_invite = False
        self._stop_task: asyncio.Task[None] | None = None
        self.metrics = metrics or Metrics()
        self.settings = settings
        self.session = session
        self.clients = dict(clients)
        self.database = database
        self.redactor = redactor
        self.keys = ApiKeyStore(database, cipher)
        self.jobs = JobStore(database)
        #: Members' own defaults for /video and /image (/preferences).
        self.preferences = PreferenceStore(database)
        #: Fetches result files for posting: public https hosts only (tests admit loopback).
        #: Handed to the delivery port, which closes it.
        self.downloader = downloader or Downloader.from_settings(settings)
        # Its delivery port and input refresher are plugged in by the extension that shows jobs.
        self.engine = JobEngine(
            jobs=self.jobs,
            keys=self.keys,
            clients={provider.value: client for provider, client in self.clients.items()},
            metrics=self.metrics,
            config=engine_config
            or EngineConfig(
                max_running_per_user=settings.max_jobs_per_user,
                max_waiting_per_user=settings.max_waiting_jobs_per_user,
                # Documented limits from the descriptions; the setting for every other provider.
                budgets=documented_budgets(),
                default_budget=(settings.default_requests_per_minute, 60.0),
            ),
            # With PUBLIC_URL and HTTP_PORT, providers that call back are told where.
            callbacks=callback_urls(settings),
        )

    @property
    def tree(self) -> SeedanceTree:
        """The command tree, as its own class (the Discord layer plugs its error reporter in)."""
        tree = super().tree
        assert isinstance(tree, SeedanceTree)  # made from ``tree_cls`` in __init__
        return tree

    async def setup_hook(self) -> None:
        # Loads every catalog (a broken one stops the start) and localizes what is registered.
        await self.tree.set_translator(CatalogTranslator())
        for name in self.EXTENSIONS:
            await self.load_extension(name)
        log.info("Set up; extensions loaded: %s", ", ".join(self.EXTENSIONS))
        await self._register_commands()
        # Resume every unfinished job; results are delivered with the bot token.
        await self.engine.start()

    async def _register_commands(self) -> None:
        assert self.application_id is not None  # known once logged in, before setup_hook
        try:
            await register_commands(
                self.tree,
                CommandRegistrationStore(self.database),
                application_id=self.application_id,
                guild_id=self.settings.discord_guild_id,
            )
        except discord.Forbidden:
            # Guild registration without the applications.commands scope in that server.
            log.error(
                "Discord refused to register the slash commands in server %s: invite the bot "
                "there with the applications.commands scope (%s) or unset DISCORD_GUILD_ID",
                self.settings.discord_guild_id,
                invite_url(self.application_id),
            )
        except discord.HTTPException as error:
            # Commands registered earlier keep working; the next start tries again.
            log.error(
                "Registering the slash commands failed (HTTP %d, code %d: %s); will retry at next start",
                error.status,
                error.code,
                error.text,
            )

    def gateway_connected(self) -> bool:
        """Ready and connected now (``is_ready`` stays true while discord.py reconnects)."""
        ws = self.ws
        return self.is_ready() and not self.is_closed() and ws is not None and ws.open

    async def on_ready(self) -> None:
        if self._announced_invite or self.application_id is None:
            return
        self._announced_invite = True
        count = len(self.guilds)
        hint = "" if count else " — invite it to a server to use its commands"
        log.info(
            "Ready as %s in %d server(s)%s; invite link: %s",
            self.user,
            count,
            hint,
            invite_url(self.application_id),
        )

    async def _finish_interactions(self) -> None:
        """Let commands, buttons and forms already running finish their answers (bounded)."""
        running = [
            task
            for task in asyncio.all_tasks()
            if task.get_name().startswith(INTERACTION_TASK_PREFIXES) and not task.done()
        ]
        if running:
            _, pending = await asyncio.wait(running, timeout=INTERACTION_GRACE_SECONDS)
            for task in pending:
                task.cancel()

    def begin_stop(self, reason: str) -> None:
        """Stop gracefully (on SIGTERM/SIGINT): refuse new commands, then close everything."""
        if self.stopping:
            return
        self.stopping = True
        log.info("Stopping (%s): new commands are refused while running work winds down", reason)
        self._stop_task = asyncio.create_task(self.close(), name="graceful-stop")

    async def close(self) -> None:
        self.stopping = True
        await self._finish_interactions()
        await self.engine.stop()
        # Unloads the extensions (each closes what it opened), then the connections.
        await super().close()
