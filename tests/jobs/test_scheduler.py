"""The scheduler on its own: one due action per job, steps in flight, and a key's budget
rationed to its most valuable requests."""

from __future__ import annotations

from bot.jobs.budget import RequestBudget
from bot.jobs.scheduler import Action, Schedule, Step, WorkItem, ration
from bot.storage import JobState
from tests.clock import ManualClock
from tests.jobs.records import job


def test_a_job_has_one_due_action_the_last_one_scheduled() -> None:
    schedule = Schedule()
    schedule.at(1, 5.0, Action.POLL)
    schedule.at(1, 2.0, Action.DELIVER)
    schedule.at(2, 3.0, Action.POLL)
    schedule.cancel(2)

    assert list(schedule.pop_due(10.0)) == [(1, Action.DELIVER)]
    assert list(schedule.pop_due(10.0)) == []
    schedule.check()


def test_what_a_step_schedules_for_its_own_job_falls_due_when_the_step_ends() -> None:
    schedule = Schedule()
    schedule.at(1, 1.0, Action.POLL)
    schedule.begin(1)
    schedule.at(1, 2.0, Action.POLL)  # from inside the step

    assert list(schedule.pop_due(10.0)) == []  # the step is still running
    assert schedule.due_action(1) is Action.POLL
    schedule.check()
    schedule.end(1, live=True)
    assert list(schedule.pop_due(10.0)) == [(1, Action.POLL)]

    schedule.begin(1)
    schedule.at(1, 3.0, Action.DELIVER)
    schedule.end(1, live=False)  # the step was the job's last
    assert schedule.due_action(1) is None


def test_a_keys_budget_goes_to_its_most_valuable_requests_first(clock: ManualClock) -> None:
    budget = RequestBudget(2, 60.0, clock)
    items = [
        WorkItem((0, 0.4), Step.POLL, job(1, state=JobState.RUNNING)),
        WorkItem((1, -3), Step.SUBMIT, job(3)),
        WorkItem((2, 1.2), Step.POLL, job(2, state=JobState.RUNNING)),
    ]

    granted, refused = ration(items, budget, 0.0)

    assert [item.job.id for item in granted] == [2, 3]
    assert [item.job.id for item in refused] == [1]
