"""Thousands of jobs due at once after a restart: the engine starts their steps a slice per turn of
the event loop (so the loop is never held by all of them at once), no more than so many at a
time (more as running ones end, or a slice now and then if they hang), and every job is still
taken up exactly once."""

from __future__ import annotations

import asyncio

import pytest

from bot.jobs import DeliveryOutcome
from bot.jobs import engine as engine_module
from bot.jobs.engine import _START_SLICE
from bot.storage import Database, Job, JobState, JobStore
from tests.jobs.conftest import REQUESTS, Harness, RecordingPort

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


class SlowPort(RecordingPort):
    """Shows each result after a moment (or never, with ``hang_before``), counting how many it
    is showing at once."""

    def __init__(self) -> None:
        super().__init__()
        self.showing = 0
        self.most = 0

    async def deliver(self, job: Job, *, repeat: bool) -> DeliveryOutcome:
        self.showing += 1
        self.most = max(self.most, self.showing)
        try:
            await asyncio.sleep(0.002)
            return await super().deliver(job, repeat=repeat)
        finally:
            self.showing -= 1


async def test_no_more_steps_run_at_once_than_the_cap_and_more_start_as_they_end(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "_START_SLICE", 10)
    monkeypatch.setattr(engine_module, "_MAX_RUNNING", 25)
    monkeypatch.setattr(engine_module, "_FULL_PAUSE", 30.0)  # never: none of these hangs
    ids = await _ended_jobs(harness, 120)
    port = SlowPort()

    await harness.start(port=port)

    await harness.wait_for(lambda: len(port.visible) == len(ids))
    assert port.most <= 25
    assert all(shown == 1 for shown in port.visible.values())


async def test_steps_that_hang_do_not_keep_the_others_from_starting(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "_START_SLICE", 10)
    monkeypatch.setattr(engine_module, "_MAX_RUNNING", 25)
    monkeypatch.setattr(engine_module, "_FULL_PAUSE", 0.01)
    ids = await _ended_jobs(harness, 120)
    port = SlowPort()
    port.hang_before = True  # no delivery ever ends

    await harness.start(port=port)

    await harness.wait_for(lambda: {job_id for job_id, _ in port.calls} == set(ids))
