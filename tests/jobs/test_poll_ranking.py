"""When a key's budget is short: polls of jobs likely finished first, then submits, then the
rest, which only spend what the likely ones will not need."""

from __future__ import annotations

from bot.jobs.budget import RequestBudget
from bot.jobs.clock import Clock
from bot.jobs.scheduler import (
    KeyDemand,
    Step,
    WorkItem,
    poll_rank,
    ration,
    spare_only,
    spare_reserve,
)
from bot.storage import Destination, Job, JobState


def job(job_id: int, state: JobState = JobState.RUNNING) -> Job:
    return Job(
        id=job_id, owner_id=7, destination=Destination(), provider="seed2", endpoint="seed2",
        request={}, idempotency_key=f"job-{job_id}", state=state, created_at=0.0,
        updated_at=0.0, submitted_at=0.0,
    )  # fmt: skip


class FrozenClock(Clock):
    def now(self) -> float:
        return 0.0


def poll(job_id: int, chance: float) -> WorkItem:
    return WorkItem(poll_rank(chance), Step.POLL, job(job_id))


def submit(job_id: int) -> WorkItem:
    return WorkItem((1, -job_id), Step.SUBMIT, job(job_id, JobState.QUEUED))


def test_likely_finished_polls_go_before_submits_and_submits_before_the_rest() -> None:
    budget = RequestBudget(3, 60.0, FrozenClock())
    items = [poll(1, 0.1), submit(2), poll(3, 0.9), poll(4, 0.6), poll(5, 0.3)]

    granted, refused = ration(items, budget, 0.0)

    assert [item.job.id for item in granted] == [3, 4, 2]
    assert [item.job.id for item in refused] == [5, 1]
    assert poll_rank(0.2, called_back=True) > poll_rank(0.99) > (1, 0) > poll_rank(0.49)


def test_unlikely_polls_only_spend_what_the_likely_ones_will_not_need() -> None:
    budget = RequestBudget(100, 60.0, FrozenClock())
    unlikely = [poll(i, 0.05) for i in range(1, 9)]

    granted, refused = ration(unlikely, budget, 0.0, reserve=96)

    assert len(granted) == 4
    assert budget.available(0.0) == 96
    assert all(spare_only(item) for item in refused)
    # What is kept goes to likely polls and submits.
    granted, _ = ration([poll(20, 0.7), submit(21), poll(22, 0.1)], budget, 0.0, reserve=96)
    assert [item.job.id for item in granted] == [20, 21]


def test_unlikely_polls_spend_a_short_key_at_an_even_pace_not_all_at_once() -> None:
    """30 requests a minute, 20 cold polls due together: spent at once they would leave the
    key nothing for the next minute, when jobs start to finish."""
    budget = RequestBudget(30, 60.0, FrozenClock())
    unlikely = [poll(i, 0.05) for i in range(1, 21)]

    granted, refused = ration(unlikely, budget, 0.0)
    assert len(granted) == 10  # a quarter of the window's worth, and a little slack
    assert budget.available(0.0) == 20
    # A quarter of a window later, as much again (within half a window's worth and slack).
    granted, _ = ration(refused, budget, budget.window / 4)
    assert len(granted) == 8
    # Polls likely to find their job finished are not held to the pace.
    granted, _ = ration([poll(i, 0.9) for i in range(30, 42)], budget, budget.window / 4)
    assert len(granted) == 12


def test_a_likely_poll_is_kept_for_each_job_expected_to_finish_within_the_window() -> None:
    budget = RequestBudget(30, 60.0, FrozenClock())
    assert spare_reserve(budget, 0.0) == 0
    assert spare_reserve(budget, 4.2) == 5
    assert spare_reserve(budget, 100.0) == 29  # never the whole window


def test_the_demand_of_a_key_counts_its_running_jobs_only() -> None:
    demand = KeyDemand(refresh=1.0)
    key = ("seed2", "abc")
    for job_id in (1, 2, 3):
        demand.note(key, job_id)
    rows: dict[int, Job | None] = {1: job(1), 2: job(2), 3: None}  # job 3 has ended

    assert demand.expected(key, 0.0, 60.0, rows.get, lambda j, within: 0.25 * j.id) == 0.75
    # Worked out again only once a second has passed.
    assert demand.expected(key, 0.5, 60.0, rows.get, lambda j, within: 1.0) == 0.75
    assert demand.expected(key, 1.0, 60.0, rows.get, lambda j, within: 1.0) == 2.0
    assert demand.expected(key, 2.0, 60.0, lambda _: None, lambda j, w: 1.0) == 0.0
    assert demand.expected(("seed2", "other"), 2.0, 60.0, rows.get, lambda j, w: 1.0) == 0.0
