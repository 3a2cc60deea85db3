"""Members' money and secrets in the engine: a bounded queue per member, a rejected key is never
used again, and no step leaves a job stranded whatever goes wrong inside it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.jobs import (
    KEY_REJECTED,
    KeyRejectedError,
    ProgressKind,
    TooManyWaitingJobsError,
)
from bot.providers import Seed2Client, Seedance2AIClient, SeedanceApiClient
from bot.storage import ApiKeyStore, DeliveryState, JobState, JobStore, KeyCipher
from tests.jobs.conftest import KEYS, REQUESTS, Harness

CLIENT_CLASSES = {
    "seedance2ai": Seedance2AIClient,
    "seedanceapi": SeedanceApiClient,
    "seed2": Seed2Client,
}
TERMINAL = (JobState.DELIVERED, JobState.FAILED, JobState.SUCCEEDED, JobState.UNCERTAIN)


def keys_of(harness: Harness) -> ApiKeyStore:
    assert harness.database is not None
    return ApiKeyStore(harness.database, KeyCipher(["engine tests"]))


# -- a bounded queue per member ------------------------------------------------------------------


async def test_a_member_cannot_queue_more_than_the_waiting_cap(harness: Harness) -> None:
    harness.config = replace(harness.config, max_running_per_user=1, max_waiting_per_user=2)
    fake = harness.fakes["seedance2ai"]
    fake.polls_to_finish = 10_000  # the first job keeps its running slot
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    await harness.link(8, "seedance2ai")
    request = REQUESTS["seedance2ai"]
    running = await engine.enqueue(owner_id=7, request=request)
    await harness.wait_state(running.id, JobState.RUNNING)
    waiting = [await engine.enqueue(owner_id=7, request=request) for _ in range(2)]

    with pytest.raises(TooManyWaitingJobsError) as caught:
        await engine.admit(7, "seedance2ai")
    with pytest.raises(TooManyWaitingJobsError):
        await engine.enqueue(owner_id=7, request=request)

    assert caught.value.limit == 2
    assert harness.jobs is not None
    assert len(await harness.jobs.recent_for_user(7)) == 3, "the refused one was never recorded"
    assert engine.waiting_count(7) == 2
    # Another member's queue is their own.
    other = await engine.enqueue(owner_id=8, request=request)
    assert other.owner_id == 8
    # Cancelling a waiting job makes room again.
    assert await engine.cancel(waiting[0].id, owner_id=7) is not None
    await engine.admit(7, "seedance2ai")
    assert (await engine.enqueue(owner_id=7, request=request)).state is JobState.QUEUED


async def test_a_held_job_counts_as_waiting_and_only_starts_once_released(
    harness: Harness,
) -> None:
    harness.config = replace(harness.config, max_waiting_per_user=1)
    engine = await harness.start()
    await harness.link(7, "seed2")
    held = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"], hold=True)

    with pytest.raises(TooManyWaitingJobsError):
        await engine.admit(7, "seed2")
    await harness.wait_for(lambda: True)
    assert harness.fakes["seed2"].posts() == []
    assert (await harness.job(held.id)).state is JobState.QUEUED

    released = await engine.release(held.id, thread_id=55)

    assert released.destination.thread_id == 55
    await harness.wait_state(held.id, JobState.DELIVERED)
    assert len(harness.fakes["seed2"].posts()) == 1


async def test_a_discarded_held_job_is_cancelled_and_never_sent(harness: Harness) -> None:
    engine = await harness.start()
    await harness.link(7, "seed2")
    held = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"], hold=True)

    await engine.discard(held.id)

    assert (await harness.job(held.id)).state is JobState.CANCELLED
    assert engine.waiting_count(7) == 0
    await harness.stop()
    await harness.start()  # nor after a restart
    assert (await harness.job(held.id)).state is JobState.CANCELLED
    assert harness.fakes["seed2"].posts() == []


# -- a rejected key ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["seedance2ai", "seed2"])
async def test_a_key_rejected_at_submit_is_never_used_again(
    harness: Harness, provider: str
) -> None:
    harness.config = replace(harness.config, max_running_per_user=1)
    fake = harness.fakes[provider]
    engine = await harness.start()
    await harness.link(7, provider)
    del fake.credits[KEYS[provider]]  # revoked at the provider: 401 from now on
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS[provider]) for _ in range(3)]

    first = await harness.wait_state(jobs[0].id, JobState.DELIVERED)
    others = [await harness.wait_state(j.id, JobState.DELIVERED) for j in jobs[1:]]

    assert first.error_code == KEY_REJECTED
    assert len(fake.requests) == 1, "nothing more was sent with the rejected key"
    linked = await keys_of(harness).get(7, provider)
    assert linked is not None
    assert linked.rejected
    # The waiting jobs end with the same advice, shown on their cards (kept for /jobs show)...
    assert [j.error_code for j in others] == [KEY_REJECTED, KEY_REJECTED]
    assert [j.delivery_state for j in others] == [DeliveryState.KEPT, DeliveryState.KEPT]
    for job in others:
        assert ProgressKind.FINISHED in harness.port.kinds(job.id)
    # ...and the owner is told once.
    assert [job_id for job_id, _ in harness.port.calls] == [jobs[0].id]
    # New jobs with it are refused before anything is recorded or sent.
    with pytest.raises(KeyRejectedError) as caught:
        await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    assert caught.value.provider == provider
    assert harness.jobs is not None
    assert len(await harness.jobs.recent_for_user(7)) == 3
    # Linking it again (after fixing it at the provider) clears it.
    fake.credits[KEYS[provider]] = 10_000_000
    await harness.link(7, provider)
    await engine.refresh_key(7, provider)
    again = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    done = await harness.wait_state(again.id, JobState.DELIVERED)
    assert done.error_code is None


async def test_a_key_rejected_while_polling_holds_its_running_jobs_until_relinked(
    harness: Harness,
) -> None:
    harness.config = replace(harness.config, max_running_per_user=2)
    fake = harness.fakes["seedance2ai"]
    fake.polls_to_finish = 4
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    request = REQUESTS["seedance2ai"]
    first, second = [await engine.enqueue(owner_id=7, request=request) for _ in range(2)]
    await harness.wait_state(first.id, JobState.RUNNING)
    await harness.wait_state(second.id, JobState.RUNNING)
    waiting = await engine.enqueue(owner_id=7, request=request)
    key = KEYS["seedance2ai"]
    credits = fake.credits.pop(key)

    await harness.wait_state(waiting.id, JobState.DELIVERED)
    sent = len(fake.requests)
    await harness.clock.sleep(120.0)  # two simulated minutes: nothing is sent with it

    # The job whose poll was refused first fails, and its owner is told once; the other
    # running one is held (its result is paid for), the waiting one ends with the same advice.
    states = {j.id: await harness.job(j.id) for j in (first, second)}
    [failed] = [j for j in states.values() if j.state is not JobState.RUNNING]
    [held] = [j for j in states.values() if j.state is JobState.RUNNING]
    assert failed.error_code == KEY_REJECTED
    assert [job_id for job_id, _ in harness.port.calls] == [failed.id]
    assert len(fake.requests) == sent
    assert (await harness.job(waiting.id)).error_code == KEY_REJECTED
    # Relinked: the held job is polled again and its (paid) result delivered.
    fake.credits[key] = credits
    await harness.link(7, "seedance2ai")
    await engine.refresh_key(7, "seedance2ai")
    done = await harness.wait_state(held.id, JobState.DELIVERED)
    assert done.error_code is None
    assert done.video_url is not None


async def test_a_rejected_key_found_at_start_up_is_not_used(harness: Harness) -> None:
    engine = await harness.start()
    await harness.link(7, "seed2")
    await keys_of(harness).mark_rejected(7, "seed2")
    await harness.stop()

    engine = await harness.start()

    with pytest.raises(KeyRejectedError):
        await engine.admit(7, "seed2")
    assert harness.fakes["seed2"].requests == []


# -- no step leaves a job stranded ---------------------------------------------------------------


def fail_calls(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, times: int, when: Any = None
) -> list[int]:
    """Make ``owner.name`` raise RuntimeError the first ``times`` calls (matching ``when``)."""
    original = getattr(owner, name)
    calls: list[int] = []

    async def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        if len(calls) < times and (when is None or when(*args, **kwargs)):
            calls.append(1)
            raise RuntimeError(f"unexpected bug in {name}")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, broken)
    return calls


async def _two_jobs(harness: Harness, provider: str) -> tuple[int, int]:
    harness.config = replace(harness.config, max_running_per_user=1)
    engine = await harness.start()
    await harness.link(7, provider)
    first = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    second = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    return first.id, second.id


@pytest.mark.parametrize("provider", ["seedanceapi", "seed2"])
async def test_a_bug_while_submitting_where_keys_are_not_honoured_makes_the_job_uncertain(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, provider: str
) -> None:
    fail_calls(monkeypatch, CLIENT_CLASSES[provider], "submit", 1)
    first, second = await _two_jobs(harness, provider)

    stuck = await harness.wait_state(first, JobState.UNCERTAIN, seconds=10)
    # The running slot is free again: the member's next job starts and finishes.
    await harness.wait_state(second, JobState.DELIVERED)

    assert stuck.error_code == "SubmitOutcomeUnknownError"
    assert ProgressKind.UNCERTAIN in harness.port.kinds(first)
    await harness.wait_for(lambda: harness.port.visible[first] == 1)  # the member is told


async def test_a_bug_while_submitting_where_keys_are_honoured_resends_with_the_same_key(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The provider made the task, then recording it failed: resent with the same key.
    fail_calls(
        monkeypatch, JobStore, "update", 1, when=lambda job_id, **c: c.get("state") == "running"
    )
    fake = harness.fakes["seedance2ai"]
    first, second = await _two_jobs(harness, "seedance2ai")

    await harness.wait_state(first, JobState.DELIVERED)
    await harness.wait_state(second, JobState.DELIVERED)

    assert len(fake.tasks) == 2, "one task per job"
    assert fake.total_charged() == 2 * fake.tasks[next(iter(fake.tasks))].cost
    assert harness.port.visible[first] == 1


async def test_a_bug_on_every_submit_fails_the_job_and_frees_the_slot(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.config = replace(harness.config, max_submit_attempts=2)
    keys: list[str] = []

    def first_job(request: Any, api_key: str, idempotency_key: str) -> bool:
        keys.append(idempotency_key)
        return idempotency_key == keys[0]

    fail_calls(monkeypatch, Seedance2AIClient, "submit", 2, when=first_job)
    first, second = await _two_jobs(harness, "seedance2ai")

    failed = await harness.wait_state(first, JobState.DELIVERED, seconds=20)
    await harness.wait_state(second, JobState.DELIVERED)

    assert failed.error_code == "InternalError"
    assert harness.port.visible[first] == 1
    assert ProgressKind.FINISHED in harness.port.kinds(first)


async def test_a_bug_before_anything_was_sent_fails_the_job_and_frees_the_slot(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_calls(
        monkeypatch, JobStore, "transition", 1,
        when=lambda job_id, expected, **c: c.get("state") == "submitting",
    )  # fmt: skip
    first, second = await _two_jobs(harness, "seed2")

    failed = await harness.wait_state(first, JobState.DELIVERED)
    await harness.wait_state(second, JobState.DELIVERED)

    assert failed.error_code == "InternalError"
    assert len(harness.fakes["seed2"].posts()) == 1
    assert harness.port.visible[first] == 1


async def test_a_bug_while_polling_is_retried_with_backoff(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail_calls(monkeypatch, Seedance2AIClient, "status", 3)
    first, second = await _two_jobs(harness, "seedance2ai")

    done = await harness.wait_state(first, JobState.DELIVERED, seconds=20)
    await harness.wait_state(second, JobState.DELIVERED, seconds=20)

    assert len(calls) == 3
    assert done.video_url is not None
    assert harness.port.visible[first] == 1


async def test_a_bug_after_the_result_arrived_still_delivers_and_frees_the_slot(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_calls(monkeypatch, JobStore, "save_generation_time", 1)
    first, second = await _two_jobs(harness, "seedance2ai")

    done = await harness.wait_state(first, JobState.DELIVERED)
    await harness.wait_state(second, JobState.DELIVERED)

    assert done.video_url is not None
    assert harness.port.visible[first] == 1


async def test_a_bug_while_delivering_is_retried(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fail_calls(
        monkeypatch, JobStore, "update", 2, when=lambda job_id, **c: "delivery_attempts" in c
    )
    first, second = await _two_jobs(harness, "seed2")

    await harness.wait_state(first, JobState.DELIVERED, seconds=20)
    await harness.wait_state(second, JobState.DELIVERED)

    assert len(calls) == 2
    assert harness.port.visible[first] == 1
