"""Row changes asked for together are written together (one transaction for many), yet each
caller gets what it would have got alone: its own row, its own None, its own error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import pytest

from bot.storage import Database, JobState, JobStore

REQUEST = {"prompt": "A glass train crossing a snowy bridge", "duration": "5"}


@pytest.fixture
def jobs(database: Database) -> JobStore:
    return JobStore(database)


def count_transactions(database: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one for each write transaction on ``database``."""
    opened: list[int] = []
    write = database.write

    @asynccontextmanager
    async def counted() -> AsyncIterator[aiosqlite.Connection]:
        opened.append(1)
        async with write() as connection:
            yield connection

    monkeypatch.setattr(database, "write", counted)
    return opened


async def _create(jobs: JobStore, count: int) -> list[int]:
    return [
        (await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)).id
        for _ in range(count)
    ]


async def test_changes_asked_for_at_once_share_transactions_and_each_gets_its_row(
    jobs: JobStore, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _create(jobs, 300)
    transactions = count_transactions(database, monkeypatch)

    rows = await asyncio.gather(
        *(jobs.update(job_id, poll_count=n, next_poll_at=float(n)) for n, job_id in enumerate(ids))
    )

    assert [row.id for row in rows] == ids
    assert [row.poll_count for row in rows] == list(range(300))
    assert len(transactions) <= 3  # not one per change
    for n, job_id in enumerate(ids):
        stored = await jobs.get(job_id)
        assert stored is not None
        assert (stored.poll_count, stored.next_poll_at) == (n, float(n))


async def test_two_changes_of_one_job_apply_in_order_and_each_caller_sees_its_own(
    jobs: JobStore,
) -> None:
    (job_id,) = await _create(jobs, 1)

    first, second = await asyncio.gather(
        jobs.update(job_id, poll_count=1), jobs.update(job_id, poll_count=2)
    )

    assert (first.poll_count, second.poll_count) == (1, 2)
    stored = await jobs.get(job_id)
    assert stored is not None
    assert stored.poll_count == 2


async def test_a_transition_that_does_not_match_is_none_beside_changes_that_apply(
    jobs: JobStore,
) -> None:
    queued, other = await _create(jobs, 2)

    cancelled, late, polled = await asyncio.gather(
        jobs.transition(queued, [JobState.QUEUED], state=JobState.CANCELLED),
        jobs.transition(queued, [JobState.QUEUED], state=JobState.SUBMITTING),
        jobs.update(other, poll_count=3),
    )

    assert cancelled is not None
    assert cancelled.state is JobState.CANCELLED
    assert late is None
    assert polled.poll_count == 3


async def test_a_change_that_fails_fails_alone(jobs: JobStore) -> None:
    ids = await _create(jobs, 3)
    unbindable: Any = object()

    results = await asyncio.gather(
        jobs.update(ids[0], poll_count=1),
        jobs.update(ids[1], poll_count=unbindable),
        jobs.update(ids[2], poll_count=1),
        jobs.update(10_000, poll_count=1),  # no such job
        return_exceptions=True,
    )

    assert [getattr(r, "poll_count", None) for r in (results[0], results[2])] == [1, 1]
    assert isinstance(results[1], Exception)
    assert isinstance(results[3], LookupError)
    stored = await jobs.get(ids[1])
    assert stored is not None
    assert stored.poll_count == 0


async def test_a_change_whose_caller_gave_up_before_it_was_written_is_not_written(
    jobs: JobStore,
) -> None:
    (job_id,) = await _create(jobs, 1)

    change = asyncio.ensure_future(jobs.update(job_id, poll_count=5))
    await asyncio.sleep(0)  # asked for: waiting for the writer
    change.cancel()
    done = await jobs.update(job_id, next_poll_at=1.0)

    assert done.poll_count == 0
