"""A job's life in the engine: queued, submitted, polled, finished, delivered exactly once."""

from __future__ import annotations

import pytest

from bot.jobs import DeliveryOutcome, NoLinkedKeyError, ProgressKind
from bot.storage import DeliveryState, Destination, JobState
from tests.fakes.base import Fault
from tests.jobs.conftest import REQUESTS, Harness

PROVIDERS = list(REQUESTS)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_job_runs_to_delivery_with_one_charge(harness: Harness, provider: str) -> None:
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(
        owner_id=7, request=REQUESTS[provider], destination=Destination(guild_id=1, channel_id=2)
    )

    done = await harness.wait_state(job.id, JobState.DELIVERED)

    fake = harness.fakes[provider]
    assert len(fake.posts()) == 1
    assert len(fake.tasks) == 1
    assert fake.total_charged() > 0
    assert done.video_url is not None
    assert done.video_url.startswith("https://")
    assert done.remote_task_id in fake.tasks
    assert done.delivery_state is DeliveryState.DELIVERED
    assert harness.port.visible[job.id] == 1
    kinds = harness.port.kinds(job.id)
    assert kinds[0] is ProgressKind.QUEUED
    assert kinds[1] is ProgressKind.SUBMITTED
    assert kinds[-1] is ProgressKind.FINISHED
    # The first poll waits for a plausible finish instead of polling from the first second.
    polls = [r for r in fake.requests if r.method == "GET"]
    assert len(polls) == fake.polls_to_finish


async def test_enqueue_without_a_linked_key_stores_nothing(harness: Harness) -> None:
    engine = await harness.start()
    with pytest.raises(NoLinkedKeyError) as caught:
        await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

    assert caught.value.provider == "seed2"
    assert harness.jobs is not None
    assert await harness.jobs.recent_for_user(7) == []


async def test_a_refused_job_fails_with_the_reason_and_is_delivered(harness: Harness) -> None:
    fake = harness.fakes["seedance2ai"]
    fake.inject(
        Fault(
            "respond",
            status=402,
            body={"error": {"code": "insufficient_credits", "message": "Top up"}},
        )
    )
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    job = await engine.enqueue(owner_id=7, request=REQUESTS["seedance2ai"])

    done = await harness.wait_state(job.id, JobState.DELIVERED)

    assert done.error_code == "InsufficientCreditsError"
    assert done.error_message == "Top up"
    assert len(fake.posts()) == 1
    assert harness.port.visible[job.id] == 1


async def test_a_failed_generation_is_delivered_with_its_message(harness: Harness) -> None:
    harness.fakes["seed2"].outcome = "fail"
    engine = await harness.start()
    await harness.link(7, "seed2")
    job = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

    done = await harness.wait_state(job.id, JobState.DELIVERED)

    assert done.error_message == "content policy violation"
    assert done.credits_refunded == done.credits_charged
    assert harness.port.visible[job.id] == 1


async def test_queued_jobs_wait_for_the_per_user_cap_in_order(harness: Harness) -> None:
    harness.config = harness.config.__class__(
        **{**harness.config.__dict__, "max_running_per_user": 2}
    )
    fake = harness.fakes["seedance2ai"]
    fake.polls_to_finish = 3
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    await harness.link(8, "seedance2ai")
    mine = [await engine.enqueue(owner_id=7, request=REQUESTS["seedance2ai"]) for _ in range(5)]
    other = await engine.enqueue(owner_id=8, request=REQUESTS["seedance2ai"])

    for job in [*mine, other]:
        await harness.wait_state(job.id, JobState.DELIVERED)

    # Sent in the order they were asked for, never more than two of one user at once.
    order = [
        harness.fakes["seedance2ai"].tasks[(await harness.job(j.id)).remote_task_id or ""]
        for j in mine
    ]
    assert [t.id for t in order] == sorted(t.id for t in order)
    most_at_once = _max_overlap(harness, [j.id for j in mine])
    assert most_at_once == 2
    # Another user is not held up by the first user's queue.
    assert (await harness.job(other.id)).submitted_at < (await harness.job(mine[2].id)).submitted_at  # type: ignore[operator]
    # The last job saw its place in the queue count down to "next".
    last = [
        e.queue_position
        for e in harness.port.events
        if e.job.id == mine[4].id and e.kind is ProgressKind.QUEUED
    ]
    assert last[0] is not None
    assert last[0] >= 3
    assert last == sorted(last, reverse=True)
    assert last[-1] == 1
    assert engine.queue_position(mine[4].id) is None


def _max_overlap(harness: Harness, job_ids: list[int]) -> int:
    spans = []
    for event in harness.port.events:
        if event.job.id in job_ids and event.kind is ProgressKind.SUBMITTED:
            spans.append((event.job.submitted_at, +1))
        if event.job.id in job_ids and event.kind is ProgressKind.FINISHED:
            spans.append((event.job.finished_at, -1))
    level = peak = 0
    for _, step in sorted(spans, key=lambda s: (s[0], s[1])):
        level += step
        peak = max(peak, level)
    return peak


async def test_a_queued_job_can_be_cancelled_and_is_never_sent(harness: Harness) -> None:
    harness.config = harness.config.__class__(
        **{**harness.config.__dict__, "max_running_per_user": 1}
    )
    engine = await harness.start()
    await harness.link(7, "seed2")
    first = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])
    second = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

    assert await engine.cancel(second.id, owner_id=8) is None  # not theirs
    cancelled = await engine.cancel(second.id, owner_id=7)
    await harness.wait_state(first.id, JobState.DELIVERED)

    assert cancelled is not None
    assert cancelled.state is JobState.CANCELLED
    assert len(harness.fakes["seed2"].posts()) == 1
    assert (await harness.job(second.id)).state is JobState.CANCELLED
    assert await engine.cancel(first.id, owner_id=7) is None  # already sent


async def test_only_a_job_waiting_its_turn_counts_as_waiting_for_its_card(
    harness: Harness,
) -> None:
    harness.config = harness.config.__class__(
        **{**harness.config.__dict__, "max_running_per_user": 1}
    )
    harness.fakes["seed2"].polls_to_finish = 10_000
    engine = await harness.start()
    await harness.link(7, "seed2")
    first = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])
    await harness.wait_state(first.id, JobState.RUNNING)
    second = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])
    held = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"], hold=True)

    assert not engine.waiting_turn(first.id)  # sent already
    assert engine.waiting_turn(second.id)  # behind the running one
    assert not engine.waiting_turn(held.id)  # not queued yet
    assert await engine.cancel(second.id, owner_id=7) is not None
    assert not engine.waiting_turn(second.id)
    engine._check_invariants()


async def test_a_job_that_never_finishes_times_out_at_the_provider(harness: Harness) -> None:
    from bot.jobs import PollPlan

    plan = PollPlan(min_deadline=200.0, deadline_factor=1.0, max_deadline=200.0)
    harness.config = harness.config.__class__(**{**harness.config.__dict__, "plan": plan})
    harness.fakes["seedanceapi"].polls_to_finish = 10_000
    engine = await harness.start()
    await harness.link(7, "seedanceapi")
    job = await engine.enqueue(owner_id=7, request=REQUESTS["seedanceapi"])

    done = await harness.wait_state(job.id, JobState.DELIVERED)

    assert done.error_code == "ProviderTimeout"
    assert "Timed out at the provider" in (done.error_message or "")
    assert harness.port.visible[job.id] == 1


class TestDeliveryFallbacks:
    async def test_a_temporary_failure_is_retried(self, harness: Harness) -> None:
        harness.port.outcomes = [DeliveryOutcome.RETRY, DeliveryOutcome.RETRY]
        engine = await harness.start()
        await harness.link(7, "seed2")
        job = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

        done = await harness.wait_state(job.id, JobState.DELIVERED)

        assert [repeat for _, repeat in harness.port.calls] == [False, True, True]
        assert done.delivery_state is DeliveryState.DELIVERED
        assert harness.port.fallbacks == []

    async def test_an_undeliverable_result_goes_to_the_fallback(self, harness: Harness) -> None:
        harness.port.outcomes = [DeliveryOutcome.UNDELIVERABLE]
        engine = await harness.start()
        await harness.link(7, "seed2")
        job = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

        done = await harness.wait_state(job.id, JobState.DELIVERED)

        assert harness.port.fallbacks == [job.id]
        assert done.delivery_state is DeliveryState.FALLBACK
        assert harness.port.visible[job.id] == 1

    async def test_nowhere_to_deliver_keeps_the_result_for_later(self, harness: Harness) -> None:
        harness.port.outcomes = [DeliveryOutcome.UNDELIVERABLE]
        harness.port.fallback_outcomes = [DeliveryOutcome.UNDELIVERABLE]
        engine = await harness.start()
        await harness.link(7, "seed2")
        job = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

        done = await harness.wait_state(job.id, JobState.DELIVERED)

        assert done.delivery_state is DeliveryState.KEPT
        assert done.video_url is not None
        assert harness.port.visible[job.id] == 0
