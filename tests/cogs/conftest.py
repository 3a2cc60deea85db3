"""The Discord harness fixtures, for every cog test."""

from tests.discord.fixtures import discord_fake, make_bot, make_seedance_bot

__all__ = ["discord_fake", "make_bot", "make_seedance_bot"]
