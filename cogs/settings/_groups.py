"""The /settings command group and its subgroups, and what every part of the /settings cog
has (see :class:`cogs.settings._commands.ServerSettings`, which puts them together).

The groups are made once here and shared by the modules that add commands to them. Each
module's commands are added as it is imported: the order of /settings' subcommands as Discord
gets them is the order the modules are imported in (:mod:`cogs.settings._commands`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.storage import GuildSettingsStore

if TYPE_CHECKING:
    from bot.app import SeedanceBot

SETTINGS = app_commands.Group(
    name="settings",
    description="This server's rules for generating, its own API key and its usage (admins)",
    # Discord reads ``contexts`` (servers only) and ignores the deprecated dm_permission
    # whenever contexts is sent; guild_only still sends dm_permission false, for clients
    # that only know the older field.
    guild_only=True,
    allowed_contexts=app_commands.AppCommandContext(guild=True),
    default_permissions=discord.Permissions(manage_guild=True),
)
CHANNELS = app_commands.Group(
    name="channels", description="Channels where members may generate", parent=SETTINGS
)
ROLES = app_commands.Group(
    name="roles", description="Roles whose members may generate", parent=SETTINGS
)
MODELS = app_commands.Group(
    name="models", description="Models members may use here", parent=SETTINGS
)
SPONSOR = app_commands.Group(
    name="sponsor",
    description="The server's own API key, for members without one",
    parent=SETTINGS,
)


class SettingsPart(commands.Cog):
    """What each part of the /settings cog (a group of its commands) needs from the cog."""

    bot: SeedanceBot
    store: GuildSettingsStore


def guild_of(interaction: discord.Interaction) -> int:
    # The group is allowed in servers only: Discord never sends it from a DM.
    assert interaction.guild_id is not None
    return interaction.guild_id
