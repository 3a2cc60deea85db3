"""Kill the engine at every step of a job's life; a new one on the same file finishes the job.

Each case asserts what a user and their wallet would notice: the result shown exactly once and
exactly one charge at the provider (or, where the provider cannot deduplicate, no second send).
"""

from __future__ import annotations

import pytest

from bot.storage import DeliveryState, JobState
from tests.fakes.base import Fault
from tests.jobs.conftest import REQUESTS, Harness, RecordingPort
from tests.jobs.crash import kill

PROVIDERS = list(REQUESTS)


async def _new_job(harness: Harness, provider: str) -> int:
    assert harness.jobs is not None
    job = await harness.jobs.create(
        owner_id=7,
        provider=provider,
        endpoint={"seedance2ai": "seedance2", "seedanceapi": "seedanceapi", "seed2": "seed2"}[
            provider
        ],
        request=REQUESTS[provider].model_dump(mode="json", exclude_none=True),
    )
    return job.id


async def _finish_after_restart(
    harness: Harness, job_id: int, port: RecordingPort | None = None
) -> None:
    await harness.start(port=port)
    await harness.wait_state(job_id, JobState.DELIVERED)


def _assert_once(harness: Harness, provider: str, job_id: int) -> None:
    fake = harness.fakes[provider]
    assert len(fake.tasks) == 1, "exactly one task at the provider"
    assert len(fake.charges[next(iter(fake.charges))]) == 1, "exactly one charge"
    assert harness.port.visible[job_id] == 1, "the result shown exactly once"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_crash_after_the_job_was_recorded_before_anything_was_sent(
    harness: Harness, provider: str
) -> None:
    await harness.start()
    await harness.link(7, provider)
    assert harness.engine is not None
    await kill(harness.engine)
    job_id = await _new_job(harness, provider)  # written, as enqueue() does first
    await harness.crash()

    await _finish_after_restart(harness, job_id)

    _assert_once(harness, provider, job_id)
    assert len(harness.fakes[provider].posts()) == 1


async def test_crash_after_marking_submitting_resends_with_the_same_key_where_honoured(
    harness: Harness,
) -> None:
    await harness.start()
    await harness.link(7, "seedance2ai")
    assert harness.engine is not None
    await kill(harness.engine)
    job_id = await _new_job(harness, "seedance2ai")
    assert harness.jobs is not None
    await harness.jobs.update(job_id, state=JobState.SUBMITTING, submit_attempts=1)
    await harness.crash()

    await _finish_after_restart(harness, job_id)

    _assert_once(harness, "seedance2ai", job_id)


@pytest.mark.parametrize("provider", ["seedanceapi", "seed2"])
async def test_crash_after_marking_submitting_is_uncertain_where_keys_are_not_honoured(
    harness: Harness, provider: str
) -> None:
    await harness.start()
    await harness.link(7, provider)
    assert harness.engine is not None
    await kill(harness.engine)
    job_id = await _new_job(harness, provider)
    assert harness.jobs is not None
    await harness.jobs.update(job_id, state=JobState.SUBMITTING, submit_attempts=1)
    await harness.crash()

    await harness.start()
    job = await harness.wait_state(job_id, JobState.UNCERTAIN)
    await harness.wait_for(lambda: harness.port.visible[job_id] == 1)

    # Never re-sent blindly: the user is told and decides.
    assert harness.fakes[provider].posts() == []
    assert job.error_code == "SubmitOutcomeUnknownError"
    assert (await harness.job(job_id)).delivery_state is DeliveryState.DELIVERED


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_crash_while_the_submit_is_in_flight(harness: Harness, provider: str) -> None:
    fake = harness.fakes[provider]
    fake.inject(Fault("delay", seconds=0.3, method="POST"))
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    await harness.wait_for(lambda: len(fake.posts()) == 1)
    await harness.crash()
    await harness.wait_for(lambda: len(fake.tasks) == 1)  # the provider did the work anyway

    await harness.start()
    if fake.__class__.__name__ == "FakeSeedance2AI":
        await harness.wait_state(job.id, JobState.DELIVERED)
        _assert_once(harness, provider, job.id)
        posts = fake.posts()
        assert len(posts) == 2
        assert posts[0].headers["Idempotency-Key"] == posts[1].headers["Idempotency-Key"]
    else:
        await harness.wait_state(job.id, JobState.UNCERTAIN)
        await harness.wait_for(lambda: harness.port.visible[job.id] == 1)
        assert len(fake.posts()) == 1
        assert len(fake.charges[next(iter(fake.charges))]) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_crash_while_running(harness: Harness, provider: str) -> None:
    harness.fakes[provider].polls_to_finish = 3
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    await harness.wait_for(
        lambda: (
            harness.fakes[provider].tasks
            and next(iter(harness.fakes[provider].tasks.values())).polls >= 1
        )
    )
    await harness.crash()

    await _finish_after_restart(harness, job.id)

    _assert_once(harness, provider, job.id)
    assert len(harness.fakes[provider].posts()) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_crash_after_the_result_arrived_before_it_was_shown(
    harness: Harness, provider: str
) -> None:
    harness.port.hang_before = True
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    await harness.wait_for(lambda: harness.port.calls)
    await harness.crash()

    port = RecordingPort(visible=harness.port.visible)
    await _finish_after_restart(harness, job.id, port)

    _assert_once(harness, provider, job.id)
    assert port.calls == [(job.id, True)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_crash_after_the_result_was_shown_before_it_was_recorded(
    harness: Harness, provider: str
) -> None:
    harness.port.hang_after = True
    engine = await harness.start()
    await harness.link(7, provider)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    await harness.port.delivered.wait()
    await harness.crash()

    port = RecordingPort(visible=harness.port.visible)
    await _finish_after_restart(harness, job.id, port)

    # The new engine tells the port this may be a repeat, and the port does not post twice.
    assert port.calls == [(job.id, True)]
    _assert_once(harness, provider, job.id)


async def test_a_clean_stop_and_start_loses_nothing(harness: Harness) -> None:
    engine = await harness.start()
    for provider in PROVIDERS:
        await harness.link(7, provider)
    ids = [(await engine.enqueue(owner_id=7, request=REQUESTS[p])).id for p in PROVIDERS]
    await harness.stop()

    await harness.start()
    for job_id in ids:
        await harness.wait_state(job_id, JobState.DELIVERED)
    assert all(harness.port.visible[job_id] == 1 for job_id in ids)
    assert sum(len(f.tasks) for f in harness.fakes.values()) == 3
