"""Thousands of jobs due at once after a restart: the engine starts their steps a slice per turn of
the event loop (so the loop is never held by all of them at once), and every job is still
taken up exactly once."""

from __future__ import annotations

import asyncio

from bot.jobs.engine import _START_SLICE
from bot.storage import Database, JobState, JobStore
from tests.jobs.conftest import REQUESTS, Harness

JOBS = 2 * _START_SLICE + 50


async def _ended_jobs(harness: Harness, count: int) -> list[int]:
    """``count`` jobs that finished at their provider before the restart, not shown yet."""
    database = await Database.open(harness.path)
    try:
        jobs = JobStore(database, clock=harness.clock.now)
        request = REQUESTS["seed2"].model_dump(mode="json", exclude_none=True)
        ids = [
            (await jobs.create(owner_id=7, provider="seed2", endpoint="seed2", request=request)).id
            for _ in range(count)
        ]
        await asyncio.gather(
            *(
                jobs.update(job_id, state=JobState.SUCCEEDED, video_url="https://cdn.invalid/v.mp4")
                for job_id in ids
            )
        )
    finally:
        await database.close()
    return ids


async def test_steps_due_at_once_start_a_slice_per_turn_and_each_runs_once(
    harness: Harness,
) -> None:
    ids = await _ended_jobs(harness, JOBS)

    engine = await harness.start()
    await asyncio.sleep(0)  # the scheduler loop's first turn: every delivery is due

    assert len(engine.tasks) <= 1 + _START_SLICE + 1  # its own task, a slice, maybe a write
    await harness.wait_for(lambda: len(harness.port.visible) == JOBS)
    await harness.wait_for(lambda: len(engine.tasks) == 1)
    assert set(harness.port.visible) == set(ids)
    assert all(shown == 1 for shown in harness.port.visible.values())
    for job_id in ids:
        assert (await harness.job(job_id)).state is JobState.DELIVERED
