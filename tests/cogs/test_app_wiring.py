"""Settings reach the engine the bot starts, and the engine runs for as long as the bot."""

from __future__ import annotations

from pathlib import Path

from tests.discord.fixtures import MakeSeedanceBot, seedance_settings


async def test_settings_size_the_queue_and_the_undocumented_budgets(
    make_seedance_bot: MakeSeedanceBot, tmp_path: Path
) -> None:
    settings = seedance_settings(tmp_path, max_jobs_per_user=5, default_requests_per_minute=7)
    bot = await make_seedance_bot(settings=settings)

    assert bot.engine.config.max_running_per_user == 5
    assert bot.engine.config.default_budget == (7, 60.0)
    # seedance2ai keeps its documented limit whatever the setting says.
    assert bot.engine.config.budgets["seedance2ai"] == (30, 60.0)
    assert bot.engine._loop_task is not None
    assert not bot.engine._loop_task.done()

    await bot.close()
    assert bot.engine._loop_task.done()
