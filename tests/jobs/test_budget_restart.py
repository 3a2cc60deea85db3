"""Every request with a key goes through the key's budget, key checks included, and the budget
survives a restart: what was sent in the last window is still counted by the next process."""

from __future__ import annotations

import asyncio
import dataclasses

from bot.jobs.clock import ScaledClock
from bot.jobs.keyring import key_id
from bot.providers import KeyCheck
from bot.storage import JobState
from tests.jobs.conftest import KEYS, REQUESTS, Harness


def _slow(harness: Harness) -> None:
    """Slower simulated time: the fake's window (1.5 s of real time) stays long next to event
    loop jitter and to the time a restart takes, as a real 60 s window is."""
    harness.config = dataclasses.replace(
        harness.config, max_running_per_user=100, max_waiting_per_user=100
    )
    harness.clock = ScaledClock(40.0)
    harness.fakes["seedance2ai"].rate_limit = (30, 1.5)


async def test_key_checks_share_the_keys_budget_with_its_submits(harness: Harness) -> None:
    _slow(harness)
    fake = harness.fakes["seedance2ai"]
    fake.polls_to_finish = 1
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    key = KEYS["seedance2ai"]

    # A member links the same key again (ten times) while 25 jobs start on it.
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS["seedance2ai"]) for _ in range(25)]
    checks = await asyncio.gather(*(engine.check_key("seedance2ai", key) for _ in range(10)))
    for job in jobs:
        await harness.wait_state(job.id, JobState.DELIVERED, seconds=60)

    assert checks == [KeyCheck.VALID] * 10
    assert fake.rate_limited == 0  # 35 requests, never more than 30 in the provider's window
    assert engine.budgets[key_id("seedance2ai", key)].rate_limited_count == 0


async def test_a_key_check_waits_for_a_slot_in_the_keys_budget(harness: Harness) -> None:
    _slow(harness)
    engine = await harness.start()
    key = KEYS["seedance2ai"]
    clock = harness.clock

    started = clock.now()
    await asyncio.gather(*(engine.check_key("seedance2ai", key) for _ in range(30)))
    assert clock.now() - started < 30.0
    await engine.check_key("seedance2ai", key)  # the 31st: only once the first leaves the window

    assert clock.now() - started >= 60.0
    assert harness.fakes["seedance2ai"].rate_limited == 0


async def test_a_restart_within_the_window_does_not_overrun_the_keys_limit(
    harness: Harness,
) -> None:
    _slow(harness)
    fake = harness.fakes["seedance2ai"]
    fake.polls_to_finish = 1
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS["seedance2ai"]) for _ in range(40)]
    await harness.wait_for(lambda: len(fake.posts()) >= 30, seconds=10)

    await harness.crash()  # right after the burst: no clean stop, nothing flushed on the way out
    restarted = await harness.start()

    # The new process counts the burst the old one sent: the rest wait for the window to slide.
    budget = restarted.budgets[key_id("seedance2ai", KEYS["seedance2ai"])]
    assert budget.available() == 0
    for job in jobs:
        await harness.wait_state(job.id, JobState.DELIVERED, seconds=60)
    assert fake.rate_limited == 0
    assert len(fake.tasks) == 40
