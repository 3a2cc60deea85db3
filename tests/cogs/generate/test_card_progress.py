"""The status card shows progress: a bar, when the job should be done (a Discord relative
timestamp from the median of jobs like it, or "any moment now" once that is past), the queue
position while it waits; and its edits stay within Discord's limits for a channel."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from bot.jobs import Progress, ProgressKind
from bot.storage import Destination, Job, JobState
from cogs.generate._card import progress_bar, status_embed
from cogs.generate._delivery import CardThrottle
from tests.clock import ManualClock, settle

SUBMITTED_AT = 1_700_000_010.0


def running_job(job_id: int = 12, channel_id: int = 555) -> Job:
    return Job(
        id=job_id, owner_id=4242, destination=Destination(1, channel_id, None, 900 + job_id),
        provider="seedance2ai", endpoint="seedance2",
        request={"prompt": "A glass train crossing a snowy bridge", "duration": "5"},
        idempotency_key=f"job-{job_id}", state=JobState.RUNNING, created_at=1_700_000_000.0,
        updated_at=1_700_000_000.0, submitted_at=SUBMITTED_AT, remote_task_id="t",
    )  # fmt: skip


def status(progress: Progress) -> str:
    embed = status_embed(progress.job, progress, None)
    [value] = [str(f.value) for f in embed.fields if f.name == "Status"]
    return value


def running(elapsed: float, expected: float | None = 120.0, job: Job | None = None) -> Progress:
    job = job or running_job()
    eta = None if expected is None else SUBMITTED_AT + expected
    return Progress(job, ProgressKind.RUNNING, elapsed=elapsed, expected=expected, eta=eta)


def test_a_running_card_shows_a_bar_and_when_it_should_be_done() -> None:
    text = status(running(elapsed=30.0))

    assert "▰▰▱▱▱▱▱▱▱▱" in text
    assert f"Should be done <t:{math.ceil(SUBMITTED_AT + 120.0)}:R>." in text
    assert text.startswith("Generating: 30 s so far")


def test_past_the_usual_time_the_card_says_any_moment_now_and_the_bar_never_fills() -> None:
    text = status(running(elapsed=150.0))

    assert "▰▰▰▰▰▰▰▰▰▱ Should be done any moment now." in text
    assert "<t:" + str(math.ceil(SUBMITTED_AT + 120.0)) not in text


def test_a_job_just_sent_shows_an_empty_bar_and_its_eta() -> None:
    job = running_job()
    sent = Progress(job, ProgressKind.SUBMITTED, elapsed=0.0, expected=90.0, eta=SUBMITTED_AT + 90)

    text = status(sent)

    assert text.startswith("Sent to the provider")
    assert f"▱▱▱▱▱▱▱▱▱▱ Should be done <t:{math.ceil(SUBMITTED_AT + 90)}:R>." in text


def test_without_an_estimate_the_card_shows_no_bar() -> None:
    text = status(running(elapsed=30.0, expected=None))
    assert "▱" not in text
    assert "Should be done" not in text


def test_the_bar_counts_tenths_of_the_expected_time() -> None:
    assert progress_bar(0.0, 100.0) == "▱" * 10
    assert progress_bar(55.0, 100.0) == "▰" * 5 + "▱" * 5
    assert progress_bar(99.9, 100.0) == "▰" * 9 + "▱"
    assert progress_bar(500.0, 100.0) == "▰" * 9 + "▱"
    assert progress_bar(5.0, 0.0) == "▱" * 10


def test_a_waiting_job_shows_its_place_in_the_queue() -> None:
    queued = replace(running_job(), state=JobState.QUEUED, submitted_at=None)
    assert status(Progress(queued, ProgressKind.QUEUED, queue_position=3)) == (
        "Queued: 2 of your jobs ahead of it."
    )
    assert status(Progress(queued, ProgressKind.QUEUED, queue_position=1)) == (
        "Queued: next to start."
    )


# -- edits within Discord's limits -------------------------------------------------------------


@dataclass
class Edits:
    clock: ManualClock = field(default_factory=ManualClock)
    seen: list[tuple[float, int, ProgressKind]] = field(default_factory=list)

    async def __call__(self, progress: Progress) -> None:
        self.seen.append((self.clock.now(), progress.job.id, progress.kind))


async def test_the_cards_of_one_channel_share_its_edit_limit_finals_first() -> None:
    edits = Edits()
    throttle = CardThrottle(
        edits, interval=5.0, channel_edits=(5, 5.0), clock=edits.clock, sleep=edits.clock.sleep
    )
    jobs = [running_job(job_id) for job_id in range(1, 13)]
    for job in jobs:
        throttle.submit(running(10.0, job=job))
    await settle()
    assert [when for when, _, _ in edits.seen] == [0.0] * 5  # the channel's window is full

    # Two jobs end meanwhile: their final edits go before the running ones still waiting.
    throttle.submit(Progress(replace(jobs[11], state=JobState.SUCCEEDED), ProgressKind.FINISHED))
    throttle.submit(Progress(replace(jobs[0], state=JobState.FAILED), ProgressKind.FINISHED))
    await settle()
    assert len(edits.seen) == 5
    await edits.clock.advance(5.0)
    later = edits.seen[5:]
    assert [when for when, _, _ in later] == [5.0] * 5
    assert {job_id for _, job_id, _ in later[:2]} == {1, 12}
    assert all(kind is ProgressKind.FINISHED for _, _, kind in later[:2])
    assert {job_id for _, job_id, _ in later[2:]} == {6, 7, 8}
    await edits.clock.advance(5.0)
    assert {job_id for _, job_id, _ in edits.seen[10:]} == {9, 10, 11}

    # Cards in another channel are not held up by this one.
    other = running_job(20, channel_id=777)
    throttle.submit(running(10.0, job=other))
    await settle()
    assert edits.seen[-1] == (10.0, 20, ProgressKind.RUNNING)
    await throttle.aclose()


async def test_never_more_than_the_channel_limit_in_any_window() -> None:
    edits = Edits()
    throttle = CardThrottle(
        edits, interval=5.0, channel_edits=(5, 5.0), clock=edits.clock, sleep=edits.clock.sleep
    )
    jobs = [running_job(job_id) for job_id in range(1, 13)]
    for second in range(30):
        for job in jobs:
            throttle.submit(running(float(second), job=job))
        await edits.clock.advance(1.0)

    times = [when for when, _, _ in edits.seen]
    assert all(sum(1 for t in times if start <= t < start + 5.0) <= 5 for start in times)
    # ... and every card still moves on (each of the 12 edited more than once in 30 s).
    assert all(sum(1 for _, job_id, _ in edits.seen if job_id == job.id) >= 2 for job in jobs)
    await throttle.aclose()
