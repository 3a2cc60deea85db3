"""/key link checks the key within the key's request budget, the one its jobs' submits and polls
share: a member relinking a busy key cannot push it past the provider's limit."""

from __future__ import annotations

from bot.jobs.keyring import key_id
from bot.models import Provider
from tests.cogs.test_keys import KEYS, Start, clients, link, providers, start
from tests.discord.fake import FakeDiscord

# The fixtures of the /key tests, used here by name.
__all__ = ["clients", "providers", "start"]


async def test_a_key_check_is_counted_in_the_keys_budget(
    discord_fake: FakeDiscord, start: Start
) -> None:
    bot = await start()
    key = KEYS[Provider.SEEDANCE2AI]

    answer = await link(bot, discord_fake, Provider.SEEDANCE2AI, key)

    assert "Linked your" in answer
    budget = bot.engine.budgets[key_id(Provider.SEEDANCE2AI.value, key)]
    assert budget.available() == budget.limit - 1
