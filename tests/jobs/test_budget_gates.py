"""How requests get through a key's budget: a request waiting for a slot (a retry, a key check)
goes before the scheduler's next ones, and every request is written down before it leaves, many
in one transaction."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.jobs.budget import PrepaidGate, RequestBudget, SentJournal
from bot.jobs.clock import Clock
from bot.storage import Database
from bot.storage.sent_requests import SentRequest, SentRequestStore


class ManualClock(Clock):
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)
        await asyncio.sleep(0)


async def test_a_waiting_request_gets_the_next_free_slot_before_the_scheduler() -> None:
    clock = ManualClock()
    budget = RequestBudget(2, 60.0, clock)
    assert budget.try_take()
    clock.t = 10.0
    assert budget.try_take()

    check = asyncio.create_task(PrepaidGate(budget).acquire())  # e.g. a key check
    await asyncio.sleep(0)
    assert not check.done()
    # The scheduler is told to come back for the slot after the waiting request's.
    assert budget.next_free() == 10.0 + budget.window
    await check

    assert clock.t == budget.window  # the first slot that freed went to the waiting request
    assert not budget.try_take()


async def test_a_reservation_sent_after_its_window_still_counts() -> None:
    clock = ManualClock()
    budget = RequestBudget(1, 60.0, clock)
    assert budget.try_take()
    clock.t = 100.0  # it waited (an input refresh) longer than a window before leaving

    await PrepaidGate(budget, reserved_at=0.0).acquire()

    assert budget.available() == 0


class CountingStore(SentRequestStore):
    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.batches: list[int] = []
        self.fail = False

    async def add(self, rows: Sequence[SentRequest], *, prune_before: float | None = None) -> None:
        if self.fail:
            raise OSError("disk full")
        self.batches.append(len(rows))
        await super().add(rows, prune_before=prune_before)


async def test_requests_sent_together_are_written_in_one_transaction(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        store = CountingStore(database)
        journal = SentJournal(store, Clock(), horizon=61.2)
        record = journal.recorder("seedance2ai", "0123456789abcdef")

        now = time.time()
        await asyncio.gather(*(record(now + i / 100) for i in range(30)))

        assert store.batches == [30]
        assert len(await store.recent(since=0.0)) == 30
    finally:
        await database.close()


async def test_a_failed_write_is_logged_once_and_the_requests_still_go(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = await Database.open(tmp_path / "bot.sqlite3")
    try:
        store = CountingStore(database)
        store.fail = True
        journal = SentJournal(store, Clock(), horizon=61.2)
        record = journal.recorder("seed2", "0123456789abcdef")

        with caplog.at_level(logging.WARNING):
            for i in range(3):
                await asyncio.wait_for(record(float(i)), timeout=5)

        assert [r.message for r in caplog.records].count(
            "Could not record 1 sent request(s): disk full"
        ) == 1
    finally:
        await database.close()
