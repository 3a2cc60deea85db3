"""Job records as the engine's in-memory parts see them, for tests of those parts on their own."""

from __future__ import annotations

from bot.storage import Destination, Job, JobState


def job(job_id: int, owner_id: int = 7, state: JobState = JobState.QUEUED) -> Job:
    return Job(
        id=job_id, owner_id=owner_id, destination=Destination(), provider="seed2",
        endpoint="seed2", request={}, idempotency_key=f"job-{job_id}", state=state,
        created_at=0.0, updated_at=0.0,
    )  # fmt: skip
