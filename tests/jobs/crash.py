"""Killing an engine as a killed process would: what crash tests need, kept out of the engine."""

from __future__ import annotations

import asyncio

from bot.jobs import JobEngine


async def kill(engine: JobEngine) -> None:
    """Stop ``engine`` at once, mid-request: no grace for its steps, no clean-up of any kind."""
    tasks = engine.tasks
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
