"""The Discord harness fixtures, for every cog test, and bots on a module's provider fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.models import Provider
from tests.cogs.bots import Start, bots_on
from tests.discord.fixtures import MakeSeedanceBot, discord_fake, make_bot, make_seedance_bot
from tests.fakes.base import FakeApi

__all__ = ["discord_fake", "make_bot", "make_seedance_bot", "start"]


@pytest.fixture
async def start(make_seedance_bot: MakeSeedanceBot, provider: FakeApi) -> AsyncIterator[Start]:
    """``await start()`` or ``await start(config)``: a logged-in bot whose clients all reach the
    module's ``provider`` fake (a second call is a restart on the same database)."""
    async with bots_on(make_seedance_bot, {p: provider.base_url for p in Provider}) as start:
        yield start
