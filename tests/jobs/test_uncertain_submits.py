"""Members' money: a submit to an API without idempotency keys is sent again only on proof that
no task exists; anything else makes the job uncertain, and its owner decides.

Also what a job's status card is told while the provider keeps failing its polls.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace

import pytest

from bot.jobs import ProgressKind
from bot.storage import JobState
from tests.fakes.base import Fault
from tests.fakes.network import RefuseFirstConnections
from tests.jobs.conftest import KEYS, REQUESTS, Harness

NON_IDEMPOTENT = ["seedanceapi", "seed2"]


@pytest.mark.parametrize("provider", NON_IDEMPOTENT)
@pytest.mark.parametrize("status", [500, 503])
async def test_a_5xx_after_the_task_was_created_is_one_task_one_charge_and_an_uncertain_job(
    harness: Harness, provider: str, status: int
) -> None:
    fake = harness.fakes[provider]
    broken = fake.error_body(status, "INTERNAL_ERROR", "upstream failed")
    fake.inject(Fault("respond_after", status=status, body=broken, method="POST"))
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])

    uncertain = await harness.wait_state(job.id, JobState.UNCERTAIN)
    await harness.wait_for(lambda: harness.port.visible[job.id] == 1)
    await asyncio.sleep(0.2)  # 200 simulated seconds: nothing is sent again meanwhile

    assert uncertain.error_code == "SubmitOutcomeUnknownError"
    assert "no confirmation after sending" in (uncertain.error_message or "")
    assert len(fake.posts()) == 1
    assert len(fake.tasks) == 1
    assert fake.charges[KEYS[provider]] == [next(iter(fake.tasks.values())).cost]
    # The owner was told (the port shows the uncertain job once), and the card says so.
    assert harness.port.calls == [(job.id, False)]
    assert ProgressKind.UNCERTAIN in harness.port.kinds(job.id)
    assert (await harness.job(job.id)).state is JobState.UNCERTAIN

    # The owner chooses to send it again: exactly one more submit, and only once.
    assert await engine.retry_uncertain(job.id, owner_id=7) is not None
    assert await engine.retry_uncertain(job.id, owner_id=7) is None
    done = await harness.wait_state(job.id, JobState.DELIVERED)

    assert done.video_url is not None
    assert len(fake.posts()) == 2
    assert len(fake.tasks) == 2
    assert len(fake.charges[KEYS[provider]]) == 2


@pytest.mark.parametrize("provider", NON_IDEMPOTENT)
@pytest.mark.parametrize("proof", ["connection-refused", "429"])
async def test_a_submit_that_provably_created_nothing_is_retried_into_one_task(
    harness: Harness, provider: str, proof: str
) -> None:
    fake = harness.fakes[provider]
    if proof == "connection-refused":
        # More refusals than the client's own attempts: the engine sends it again later, too.
        refusing = RefuseFirstConnections(harness.session, 4)
        harness.session = refusing  # type: ignore[assignment]
    else:
        limited = fake.error_body(429, "RATE_LIMITED", "slow down")
        fake.inject(*[Fault("respond", status=429, body=limited, method="POST")] * 4)
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])

    done = await harness.wait_state(job.id, JobState.DELIVERED, seconds=20)

    assert done.video_url is not None
    assert done.submit_attempts == 2
    assert len(fake.tasks) == 1
    assert len(fake.charges[KEYS[provider]]) == 1
    assert len(fake.posts()) == (1 if proof == "connection-refused" else 5)
    if proof == "connection-refused":
        assert refusing.count == 0


async def test_seedance2ai_still_retries_a_5xx_with_the_same_idempotency_key(
    harness: Harness,
) -> None:
    fake = harness.fakes["seedance2ai"]
    broken = fake.error_body(500, "internal_error", "upstream failed")
    fake.inject(Fault("respond_after", status=500, body=broken, method="POST"))
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    job = await engine.enqueue(owner_id=7, request=REQUESTS["seedance2ai"])

    done = await harness.wait_state(job.id, JobState.DELIVERED)

    posts = fake.posts()
    assert len(posts) == 2
    assert posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    assert len(fake.tasks) == 1
    assert len(fake.charges[KEYS["seedance2ai"]]) == 1
    assert done.video_url is not None


# -- the provider keeps failing a job's polls --------------------------------------------------


@pytest.mark.parametrize("provider", ["seed2", "seedance2ai"])
async def test_polls_failing_show_on_the_card_and_clear_when_the_provider_answers(
    harness: Harness, provider: str
) -> None:
    fake = harness.fakes[provider]
    fake.polls_to_finish = 3
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    running = await harness.wait_state(job.id, JobState.RUNNING)
    assert running.remote_task_id is not None
    # Two whole polls fail (each after the client's 3 attempts), then it answers again.
    busy = fake.error_body(503, "service_busy", "busy")
    fake.inject(*[Fault("respond", status=503, body=busy, method="GET")] * 6)

    await harness.wait_state(job.id, JobState.DELIVERED, seconds=20)

    events = [e for e in harness.port.events if e.job.id == job.id]
    failing = [e for e in events if e.failing_since is not None]
    assert len(failing) == 2
    assert all(e.kind is ProgressKind.RUNNING for e in failing)
    # One outage, one start: the second failure keeps the time of the first.
    assert failing[0].failing_since == failing[1].failing_since
    assert failing[0].failing_since >= (running.submitted_at or 0)
    after = events[events.index(failing[-1]) + 1 :]
    assert after
    assert all(e.failing_since is None for e in after)
    assert any(e.kind is ProgressKind.RUNNING for e in after)  # cleared by a good poll


async def test_a_rate_limited_poll_is_not_reported_as_the_provider_failing(
    harness: Harness,
) -> None:
    fake = harness.fakes["seed2"]
    engine = await harness.start()
    await harness.link(7, "seed2")
    job = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])
    await harness.wait_state(job.id, JobState.RUNNING)
    limited = fake.error_body(429, "rate_limited", "slow down")
    fake.inject(*[Fault("respond", status=429, body=limited, method="GET")] * 3)

    await harness.wait_state(job.id, JobState.DELIVERED, seconds=20)

    assert all(e.failing_since is None for e in harness.port.events)


@pytest.mark.parametrize("outage", ["503", "unreachable"])
@pytest.mark.parametrize("provider", ["seedanceapi", "seedance2ai"])
async def test_a_job_whose_polls_fail_forever_still_times_out_at_its_deadline(
    harness: Harness, provider: str, outage: str
) -> None:
    deadline = 200.0
    plan = replace(
        harness.config.plan, min_deadline=deadline, deadline_factor=1.0, max_deadline=deadline
    )
    harness.config = replace(harness.config, plan=plan)
    fake = harness.fakes[provider]
    busy = fake.error_body(503, "service_busy", "busy")
    # Accepted, then never answered again: every poll fails, for as long as the test runs.
    fault = (
        Fault("respond", status=503, body=busy, method="GET", forever=True)
        if outage == "503"
        else Fault("drop_before", method="GET", forever=True)
    )
    fake.inject(fault)
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])

    done = await harness.wait_state(job.id, JobState.DELIVERED)

    # Told as for any job the provider never finished: once, with the same reason.
    assert done.error_code == "ProviderTimeout"
    assert "Timed out at the provider" in (done.error_message or "")
    assert harness.port.visible[job.id] == 1
    assert done.submitted_at is not None
    assert done.finished_at is not None
    assert done.finished_at - done.submitted_at > deadline
    # Not one poll was answered: the card said so until the job ended.
    polls = [r for r in fake.requests if r.method == "GET"]
    assert polls
    assert fake.faults == deque([fault])
    running = [
        e for e in harness.port.events if e.job.id == job.id and e.kind is ProgressKind.RUNNING
    ]
    assert running
    assert all(e.failing_since is not None for e in running)
    assert harness.port.kinds(job.id)[-1] is ProgressKind.FINISHED
