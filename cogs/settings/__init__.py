"""/settings: what a server's admins decide for generating there, and the server's own key.

- ``_commands``: the /settings cog, reserved to members who can manage the server; its
  commands live with their concern: ``_overview`` (show, usage, and how each setting reads),
  ``_rule_commands`` (channels, roles, models, limits, credits, privacy, audit) and
  ``_sponsor`` (the server's key, link/unlink), all on the groups of ``_groups``
- ``_rules``: the rules every generation passes before anything is recorded or sent (the
  generation flow's policy), and whose key pays
- ``_spending``: what a server's jobs cost and count in any 24 hours
- ``_audit``: one line per finished job in the audit channel

Loading it plugs the rules into the generation flow (loaded before it), each server's running
cap into the engine and the audit log into the engine's finished jobs; unloading takes them out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.storage import GuildSettingsStore
from cogs.settings._audit import AuditLog, audit_line
from cogs.settings._commands import ServerSettings, describe_settings, describe_usage
from cogs.settings._rules import ServerRuleError, ServerRules

if TYPE_CHECKING:
    from bot.app import SeedanceBot

__all__ = [
    "AuditLog",
    "ServerRuleError",
    "ServerRules",
    "ServerSettings",
    "audit_line",
    "describe_settings",
    "describe_usage",
    "setup",
]


async def setup(bot: SeedanceBot) -> None:
    store = GuildSettingsStore(bot.database)
    # Plugs its rules, caps and audit log in when added, takes them out when removed.
    await bot.add_cog(ServerSettings(bot, store, ServerRules(bot, store), AuditLog(bot, store)))
