"""Fixtures for the Discord harness tests; other test folders import them the same way."""

from tests.discord.fixtures import discord_fake, make_bot, make_seedance_bot

__all__ = ["discord_fake", "make_bot", "make_seedance_bot"]
