"""/settings: the commands a server's admins set its rules, its sponsor key and its audit
channel with, and see its usage.

Reserved to members who can manage the server (Discord hides the command from the others and
refuses it to them; a server can grant it to more roles under Integrations) and only in servers.
Every answer is private to the admin who asked, in their own Discord language.

The commands live with their concern: :mod:`~cogs.settings._overview` (show, usage),
:mod:`~cogs.settings._rule_commands` (channels, roles, models, limits, credits, privacy,
audit) and :mod:`~cogs.settings._sponsor` (the server's key); this cog puts them together on
the one /settings group (:mod:`~cogs.settings._groups`). They are imported in that order, the
order of /settings' subcommands as Discord gets them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.storage import GuildSettingsStore
from cogs.generate._flow import Generation
from cogs.generate._policy import OPEN
from cogs.settings._audit import AuditLog
from cogs.settings._groups import SETTINGS
from cogs.settings._overview import OverviewCommands, describe_settings, describe_usage
from cogs.settings._rule_commands import RuleCommands
from cogs.settings._rules import ServerRules
from cogs.settings._sponsor import SponsorCommands

if TYPE_CHECKING:
    from bot.app import SeedanceBot

__all__ = ["ServerSettings", "describe_settings", "describe_usage"]


class ServerSettings(OverviewCommands, RuleCommands, SponsorCommands):
    """The /settings group."""

    settings = SETTINGS

    def __init__(
        self, bot: SeedanceBot, store: GuildSettingsStore, rules: ServerRules, audit: AuditLog
    ) -> None:
        self.bot = bot
        self.store = store
        self.rules = rules
        self.audit_log = audit

    async def cog_load(self) -> None:
        # The generation flow (cogs.generate, loaded first) asks these rules from now on.
        Generation.of(self.bot).policy = self.rules
        for guild_id, cap in (await self.store.running_caps()).items():
            self.bot.engine.limit_running(guild_id, cap)
        self.bot.engine.on_finished(self.audit_log.job_finished)

    async def cog_unload(self) -> None:
        self.bot.engine.off_finished(self.audit_log.job_finished)
        generation = self.bot.get_cog(Generation.__cog_name__)
        if isinstance(generation, Generation) and generation.policy is self.rules:
            generation.policy = OPEN
