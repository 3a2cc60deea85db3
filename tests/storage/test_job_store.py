"""The job table: written before anything is sent, changed only by compare-and-set steps."""

from __future__ import annotations

import pytest

from bot.storage import (
    Database,
    DeliveryState,
    Destination,
    GuildSettingsStore,
    JobState,
    JobStore,
)

REQUEST = {"prompt": "A glass train crossing a snowy bridge", "duration": "5"}


@pytest.fixture
def jobs(database: Database) -> JobStore:
    clock = iter(range(1_000, 10_000))
    return JobStore(database, clock=lambda: float(next(clock)))


async def test_a_new_job_is_queued_with_its_idempotency_key_already_stored(jobs: JobStore) -> None:
    job = await jobs.create(
        owner_id=42,
        provider="seedance2ai",
        endpoint="seedance2",
        request=REQUEST,
        destination=Destination(guild_id=1, channel_id=2),
    )
    again = await jobs.get(job.id)

    assert again == job
    assert job.state is JobState.QUEUED
    assert job.idempotency_key.startswith("job-")
    assert job.request == REQUEST
    assert job.destination == Destination(guild_id=1, channel_id=2)
    other = await jobs.create(owner_id=42, provider="seed2", endpoint="seed2", request=REQUEST)
    assert other.idempotency_key != job.idempotency_key


async def test_transition_only_moves_a_job_from_the_expected_state(jobs: JobStore) -> None:
    job = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)

    cancelled = await jobs.transition(job.id, [JobState.QUEUED], state=JobState.CANCELLED)
    late_submit = await jobs.transition(job.id, [JobState.QUEUED], state=JobState.SUBMITTING)

    assert cancelled is not None
    assert cancelled.state is JobState.CANCELLED
    assert late_submit is None
    stored = await jobs.get(job.id)
    assert stored is not None
    assert stored.state is JobState.CANCELLED


async def test_only_known_columns_can_be_changed(jobs: JobStore) -> None:
    job = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)
    with pytest.raises(ValueError, match="owner_id"):
        await jobs.update(job.id, owner_id=2)


async def test_resume_finds_unfinished_and_undelivered_jobs_only(jobs: JobStore) -> None:
    states = list(JobState)
    created = []
    for state in states:
        job = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)
        created.append(await jobs.update(job.id, state=state))

    resumed = {job.state for job in await jobs.unfinished()}

    assert resumed == {
        JobState.QUEUED,
        JobState.SUBMITTING,
        JobState.RUNNING,
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.UNCERTAIN,
    }


async def test_a_result_already_shown_or_kept_is_not_resumed(jobs: JobStore) -> None:
    for how in (DeliveryState.DELIVERED, DeliveryState.FALLBACK, DeliveryState.KEPT):
        job = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)
        await jobs.update(job.id, state=JobState.SUCCEEDED, delivery_state=how)
    # An uncertain job whose notice was delivered waits for its owner, not for the engine.
    told = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)
    await jobs.update(told.id, state=JobState.UNCERTAIN, delivery_state=DeliveryState.DELIVERED)
    pending = await jobs.create(owner_id=1, provider="seed2", endpoint="seed2", request=REQUEST)
    await jobs.update(pending.id, state=JobState.FAILED)

    assert [job.id for job in await jobs.unfinished()] == [pending.id]


async def test_recent_jobs_of_a_user_newest_first(jobs: JobStore) -> None:
    ids = [
        (await jobs.create(owner_id=owner, provider="seed2", endpoint="seed2", request=REQUEST)).id
        for owner in (1, 2, 1, 1)
    ]
    recent = await jobs.recent_for_user(1, limit=2)
    assert [job.id for job in recent] == [ids[3], ids[2]]


async def test_guild_settings_default_until_changed(database: Database) -> None:
    settings = await GuildSettingsStore(database).get(123)
    assert settings.max_running_per_user is None
    assert settings.models == frozenset()
    assert settings.credit_caps == {}
