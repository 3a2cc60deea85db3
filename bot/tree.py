"""The command tree: refuses commands while the bot stops, and is the one place command errors end.

How an error is put to the member is the Discord layer's business: it plugs its reporter in at
set-up (:meth:`SeedanceTree.use_error_reporter`); until then, errors are only logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.i18n import N_, t

if TYPE_CHECKING:
    from bot.app import SeedanceBot

#: The polite answer to a command that arrives while the bot is stopping.
STOPPING_MESSAGE = N_(
    "The bot is restarting and takes no new commands right now. Try again in a minute."
)

#: Answers the member for an error a command raised (or logs it, for a bug).
ErrorReporter = Callable[
    [discord.Interaction["SeedanceBot"], app_commands.AppCommandError], Awaitable[None]
]


class SeedanceTree(app_commands.CommandTree["SeedanceBot"]):
    """Refuses new commands once the bot is stopping; hands every command error to the reporter."""

    _reporter: ErrorReporter | None = None

    def use_error_reporter(self, reporter: ErrorReporter | None) -> None:
        """Answer command errors with ``reporter`` from now on (None: log them only)."""
        self._reporter = reporter

    async def interaction_check(self, interaction: discord.Interaction[SeedanceBot]) -> bool:
        if not interaction.client.stopping:
            return True
        await interaction.response.send_message(
            t(interaction.locale, STOPPING_MESSAGE), ephemeral=True
        )
        return False

    async def on_error(
        self, interaction: discord.Interaction[SeedanceBot], error: app_commands.AppCommandError
    ) -> None:
        if self._reporter is None:
            await super().on_error(interaction, error)  # logs it with its traceback
            return
        await self._reporter(interaction, error)
