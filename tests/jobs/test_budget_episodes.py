"""A 429 is handled as the provider's limit intends: the key pauses until Retry-After, its budget
shrinks once per episode (however many 429s the episode brings), comes back within a few quiet
windows, and never drops below a floor; jobs on a key that keeps getting 429s still finish."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.jobs.budget import RequestBudget
from bot.jobs.clock import Clock, ScaledClock
from bot.storage import Job, JobState
from tests.fakes.base import FakeApi, Fault
from tests.jobs.conftest import REQUESTS, Harness, RecordingPort, fast_config


class ManualClock(Clock):
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


def test_a_burst_of_429s_is_one_episode_and_shrinks_the_budget_once() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)

    # Five requests in flight together all come back 429 within 4 ms.
    for i in range(5):
        clock.t = i * 0.001
        budget.rate_limited(2.0)

    assert budget.available() == 0  # paused until Retry-After
    clock.t = 2.004
    assert budget.available() == 15  # halved once, not 30 -> 21 -> 14 -> 9 -> 6 -> 4
    assert budget.effective_limit == 15


def test_429s_that_keep_coming_are_one_episode_and_shrink_the_budget_once() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)
    seen = []
    # A 429 every 10 s for ten minutes: no quiet window ends the episode, so one halving; the
    # Retry-After pauses do the slowing down (it used to fall to 1 within a minute).
    while clock.t < 600:
        budget.rate_limited(2.0)
        seen.append(budget.effective_limit)
        clock.t += 10.0

    assert set(seen) == {15}
    assert budget.episodes == 1


def _episodes_a_window_apart(budget: RequestBudget, clock: ManualClock) -> list[int]:
    """A 429 every 62 s for ten minutes: each one after its episode ended, before any recovery."""
    seen = []
    while clock.t < 600:
        budget.rate_limited(2.0)
        seen.append(budget.effective_limit)
        clock.t += 62.0
    return seen


def test_each_episode_halves_the_budget_but_never_below_the_floor() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)

    seen = _episodes_a_window_apart(budget, clock)

    assert seen[:3] == [15, 7, 6]
    assert min(seen) == budget.floor == 6  # a fifth of the limit: never a trickle
    assert budget.episodes == len(seen)


def test_quiet_windows_win_the_budget_back_within_four_windows() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)
    _episodes_a_window_apart(budget, clock)
    last_429 = clock.t - 62.0
    assert budget.effective_limit == 6

    windows = []
    for n in range(1, 30):
        clock.t = last_429 + 2.0 + n * budget.window + 0.01  # quiet since its pause ended
        windows.append(budget.available())
        if budget.available() == 30:
            break

    # +limit/4 per quiet window: 6 -> 13 -> 20 -> 27 -> 30 (it used to be +1: 24 windows).
    assert windows == [13, 20, 27, 30]


def test_one_episode_is_won_back_in_three_windows() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)
    budget.rate_limited(2.0)
    limits = []
    for n in range(1, 4):
        clock.t = 2.0 + n * budget.window + 0.01
        limits.append(budget.available())

    assert limits == [22, 29, 30]


def test_a_request_answered_429_leaves_the_window() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)
    for _ in range(10):
        assert budget.try_take()
    budget.rate_limited(2.0, sent_at=0.0)  # one of them was refused: it was not served

    clock.t = 2.0
    assert budget.available() == 15 - 9


def test_a_429_without_retry_after_still_pauses_the_key() -> None:
    clock = ManualClock()
    budget = RequestBudget(30, 60.0, clock)
    budget.rate_limited(None)

    assert budget.available() == 0
    assert 0 < budget.next_free() <= 60.0 * 1.02 / 15


# -- jobs on a key that keeps getting 429s -----------------------------------------------------------


@dataclasses.dataclass
class EveryOtherRequest(Fault):
    """A 429 to every other request the fake sees (its limit shared with someone else)."""

    seen: int = 0

    def matches(self, request: web.Request) -> bool:
        self.seen += 1
        return self.seen % 2 == 0


#: Simulated seconds each fake generation takes, whatever it is polled (as a real one would).
RENDER = 90.0


async def _finish_on_time(fake: FakeApi, clock: Clock) -> None:
    """Finish each of the fake's tasks ``RENDER`` seconds after it first shows up."""
    started: dict[str, float] = {}
    while True:
        now = clock.now()
        for task_id, task in list(fake.tasks.items()):
            if task.status == "running" and now - started.setdefault(task_id, now) >= RENDER:
                fake.finish(task_id)
        await clock.sleep(0.5)


async def _run(harness: Harness, owners: list[int], per_owner: int) -> list[Job]:
    """Each owner (all on one shared key) asks for ``per_owner`` jobs; all of them, delivered."""
    engine = await harness.start()
    renders = asyncio.create_task(_finish_on_time(harness.fakes["seedance2ai"], harness.clock))
    for owner in owners:
        await harness.link(owner, "seedance2ai")
    jobs = [
        await engine.enqueue(owner_id=owner, request=REQUESTS["seedance2ai"])
        for _ in range(per_owner)
        for owner in owners
    ]
    try:
        return [await harness.wait_state(job.id, JobState.DELIVERED, seconds=60) for job in jobs]
    finally:
        renders.cancel()
        await harness.stop()


async def test_jobs_on_a_key_with_intermittent_429s_finish_within_twice_their_clean_time(
    tmp_path: Path, session: aiohttp.ClientSession, fakes: dict[str, FakeApi]
) -> None:
    fake = fakes["seedance2ai"]
    fake.polls_to_finish = 10**6  # finished by time (RENDER), not by being polled
    # Slower simulated time than the harness's: event-loop jitter (a busy machine) stays small
    # next to the seconds compared here. The fake's own limit is scaled the same way.
    speed = 40.0
    fake_window = 60.0 / speed
    fake.rate_limit = (30, fake_window)
    owners, per_owner = [7, 8], 3  # two members sharing one key, three jobs each
    config = fast_config(max_running_per_user=per_owner)

    def harness(name: str) -> Harness:
        return Harness(
            tmp_path / name, session, fakes, RecordingPort(), config, clock=ScaledClock(speed)
        )

    clean = await _run(harness("clean.sqlite3"), owners, per_owner)
    await asyncio.sleep(fake_window)  # the fake forgets the clean run's requests
    limited = fake.error_body(429, "rate_limited", "Too many requests")
    storm = EveryOtherRequest("respond", status=429, body=limited, forever=True)
    storm.headers = {"Retry-After": "2"}
    fake.inject(storm)
    stormy = await _run(harness("storm.sqlite3"), owners, per_owner)

    assert storm.seen > 0
    assert fake.rate_limited == 0  # the only 429s were the storm's: never over the limit
    for before, during in zip(clean, stormy, strict=True):
        assert before.delivered_at is not None
        assert during.delivered_at is not None
        clean_time = before.delivered_at - before.created_at
        storm_time = during.delivered_at - during.created_at
        assert storm_time <= 2 * clean_time, (clean_time, storm_time)
