"""The Discord harness fixtures, for the end-to-end language tests."""

from __future__ import annotations

from tests.discord.fixtures import discord_fake, make_bot, make_seedance_bot

__all__ = ["discord_fake", "make_bot", "make_seedance_bot"]
