"""The job board on its own: queues and running counts that follow the jobs' phases, and the
check that catches them when they do not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.jobs.board import JobBoard, Phase
from bot.storage import JobState
from tests.jobs.records import job


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
