"""The engine's in-memory parts on their own: one due action per job, steps in flight, and
queues and running counts that follow the jobs' phases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.jobs.board import JobBoard, Phase
from bot.jobs.budget import RequestBudget
from bot.jobs.clock import Clock
from bot.jobs.scheduler import Action, Schedule, Step, WorkItem, ration
from bot.storage import Destination, Job, JobState


def job(job_id: int, owner_id: int = 7, state: JobState = JobState.QUEUED) -> Job:
    return Job(
        id=job_id, owner_id=owner_id, destination=Destination(), provider="seed2",
        endpoint="seed2", request={}, idempotency_key=f"job-{job_id}", state=state,
        created_at=0.0, updated_at=0.0,
    )  # fmt: skip


class FrozenClock(Clock):
    def now(self) -> float:
        return 0.0


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


def test_a_keys_budget_goes_to_its_most_valuable_requests_first() -> None:
    budget = RequestBudget(2, 60.0, FrozenClock())
    items = [
        WorkItem((0, 0.4), Step.POLL, job(1, state=JobState.RUNNING)),
        WorkItem((1, -3), Step.SUBMIT, job(3)),
        WorkItem((2, 1.2), Step.POLL, job(2, state=JobState.RUNNING)),
    ]

    granted, refused = ration(items, budget, 0.0)

    assert [item.job.id for item in granted] == [2, 3]
    assert [item.job.id for item in refused] == [1]


def test_queues_and_running_counts_follow_the_phases_of_the_jobs() -> None:
    board = JobBoard()
    first, second = job(1), job(2)
    board.put(first, Phase.QUEUED)
    board.put(second, Phase.HELD)
    assert [j.id for j in board.queue()] == [1]
    assert (board.running(7), board.held(7)) == (0, 1)

    board.put(first, Phase.STARTING)  # still in the queue, and now holds a slot
    assert (board.position(1), board.running(7)) == (1, 1)
    board.put(replace(first, state=JobState.RUNNING), Phase.RUNNING)
    board.put(second, Phase.QUEUED)
    assert (board.position(1), board.position(2), board.running(7)) == (None, 1, 1)
    board.check()

    board.put(replace(first, state=JobState.FAILED), Phase.ENDED)
    assert board.running(7) == 0
    board.drop(1)
    board.drop(2)
    assert (board.queue(), board.running(7), 1 in board) == ([], 0, False)
    board.check()


def test_the_check_catches_a_count_changed_by_hand() -> None:
    board = JobBoard()
    board.put(job(1, state=JobState.RUNNING), Phase.RUNNING)
    board._running[7] += 1

    with pytest.raises(AssertionError, match="running"):
        board.check()


def test_the_check_catches_a_phase_its_stored_state_does_not_allow() -> None:
    board = JobBoard()
    board.put(job(1, state=JobState.QUEUED), Phase.RUNNING)

    with pytest.raises(AssertionError, match="stored queued in phase running"):
        board.check()
