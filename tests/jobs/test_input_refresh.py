"""Inputs are fresh whenever a job is actually sent.

A job can wait long before it is sent (behind its owner's running jobs, or while the bot is
down), and the links to its input files may expire meanwhile. Right before the submit of a job
that waited longer than ``refresh_inputs_after``, the engine asks its input refresher for the
request with usable links and stores it; an input that can no longer be had fails the job
before anything reaches the provider, and its owner is told.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from bot.jobs import INPUT_EXPIRED, InputUnavailableError, ProgressKind
from bot.models import Seed2Request, Seedance2Request
from bot.storage import Job, JobState
from tests.jobs.conftest import REQUESTS, Harness
from tests.jobs.crash import kill

STALE = "https://cdn.discordapp.com/attachments/1/2/frame.png?ex=1&is=2&hm=stale&"
WITH_INPUT = {
    "seedance2ai": Seedance2Request.parse(
        {"prompt": "A glass train on a snowy bridge", "mode": "image-to-video", "image_url": STALE}
    ),
    "seed2": Seed2Request.parse({"prompt": "A cat playing piano", "image_files": [STALE]}),
}
ENDPOINTS = {"seedance2ai": "seedance2", "seed2": "seed2"}
#: Simulated seconds a job may wait before its links are refreshed (0.1 s of test time).
REFRESH_AFTER = 100.0


@dataclass
class FakeInputs:
    """The engine's input refresher: signs a job's links afresh, or says an input is gone."""

    #: Job ids, one per call.
    calls: list[int] = field(default_factory=list)
    #: Jobs whose input file is gone for good.
    gone: set[int] = field(default_factory=set)
    #: Calls that fail for now (Discord not answering) before one works.
    hiccups: int = 0
    _signatures: itertools.count[int] = field(default_factory=itertools.count)

    async def refresh(self, job: Job) -> dict[str, Any]:
        self.calls.append(job.id)
        if job.id in self.gone:
            raise InputUnavailableError(
                f"Cannot use the start frame `frame.png` of job #{job.id}: it was deleted."
            )
        if self.hiccups:
            self.hiccups -= 1
            raise InputUnavailableError("Discord did not hand out a fresh link.", retryable=True)
        return {name: self._sign(value) for name, value in job.request.items()}

    def _sign(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._sign(v) for v in value]
        if isinstance(value, str) and value.startswith("https://cdn.discordapp.com/"):
            return value.split("?")[0] + f"?hm=fresh{next(self._signatures)}&"
        return value


def inputs_of(body: dict[str, Any]) -> list[str]:
    urls = [body.get("image_url"), *body.get("image_files", [])]
    return [u for u in urls if isinstance(u, str)]


async def start_with_a_running_job(harness: Harness, provider: str) -> tuple[Job, Any]:
    """An engine with one slot per member, taken by a job that runs until the test ends it."""
    harness.config = replace(
        harness.config, max_running_per_user=1, refresh_inputs_after=REFRESH_AFTER
    )
    fake = harness.fakes[provider]
    fake.polls_to_finish = 10**9
    engine = await harness.start()
    await harness.link(7, provider)
    first = await engine.enqueue(owner_id=7, request=REQUESTS[provider])
    running = await harness.wait_state(first.id, JobState.RUNNING)
    return running, fake


async def wait_past(harness: Harness, job: Job, seconds: float) -> None:
    await harness.wait_for(lambda: harness.clock.now() - job.created_at > seconds)


@pytest.mark.parametrize("provider", ["seedance2ai", "seed2"])
async def test_a_job_that_waited_behind_its_owners_cap_is_sent_with_refreshed_links(
    harness: Harness, provider: str
) -> None:
    harness.inputs = inputs = FakeInputs()
    first, fake = await start_with_a_running_job(harness, provider)
    assert harness.engine is not None
    second = await harness.engine.enqueue(owner_id=7, request=WITH_INPUT[provider])
    await wait_past(harness, second, 1.5 * REFRESH_AFTER)
    assert len(fake.posts()) == 1  # still waiting for the first to finish

    assert first.remote_task_id is not None
    fake.polls_to_finish = 2  # the jobs behind it take their usual time
    fake.finish(first.remote_task_id)
    done = await harness.wait_state(second.id, JobState.DELIVERED)

    # Refreshed once, right before it was sent; the first job, sent at once, never was.
    assert inputs.calls == [second.id]
    sent = inputs_of(fake.posts()[1].body)
    assert sent == [STALE.split("?")[0] + "?hm=fresh0&"]
    assert inputs_of(done.request) == sent  # stored with the job
    assert done.error_code is None


async def test_a_job_sent_as_soon_as_it_is_asked_for_is_not_refreshed(harness: Harness) -> None:
    harness.inputs = inputs = FakeInputs()
    harness.config = replace(harness.config, refresh_inputs_after=REFRESH_AFTER)
    engine = await harness.start()
    await harness.link(7, "seed2")
    job = await engine.enqueue(owner_id=7, request=WITH_INPUT["seed2"])

    await harness.wait_state(job.id, JobState.DELIVERED)

    assert inputs.calls == []
    assert inputs_of(harness.fakes["seed2"].posts()[0].body) == [STALE]


@pytest.mark.parametrize("provider", ["seedance2ai", "seed2"])
async def test_a_job_whose_input_is_gone_fails_before_anything_is_sent(
    harness: Harness, provider: str
) -> None:
    harness.inputs = inputs = FakeInputs()
    first, fake = await start_with_a_running_job(harness, provider)
    assert harness.engine is not None
    second = await harness.engine.enqueue(owner_id=7, request=WITH_INPUT[provider])
    third = await harness.engine.enqueue(owner_id=7, request=REQUESTS[provider])
    inputs.gone.add(second.id)
    await wait_past(harness, second, 1.5 * REFRESH_AFTER)

    assert first.remote_task_id is not None
    fake.polls_to_finish = 2  # the jobs behind it take their usual time
    fake.finish(first.remote_task_id)
    failed = await harness.wait_state(second.id, JobState.DELIVERED)

    assert failed.error_code == INPUT_EXPIRED
    assert "`frame.png`" in (failed.error_message or "")
    assert failed.submit_attempts == 0
    assert failed.remote_task_id is None
    assert harness.port.visible[second.id] == 1  # its owner is told
    kinds = harness.port.kinds(second.id)
    assert ProgressKind.SUBMITTED not in kinds
    assert kinds[-1] is ProgressKind.FINISHED
    # Nothing of it reached the provider; the job behind it went ahead.
    await harness.wait_state(third.id, JobState.DELIVERED)
    assert len(fake.posts()) == 2
    assert all(STALE.split("?")[0] not in str(p.body) for p in fake.posts())


async def test_discord_failing_for_a_moment_delays_the_send_instead_of_failing_it(
    harness: Harness,
) -> None:
    harness.inputs = inputs = FakeInputs(hiccups=2)
    first, fake = await start_with_a_running_job(harness, "seed2")
    assert harness.engine is not None
    second = await harness.engine.enqueue(owner_id=7, request=WITH_INPUT["seed2"])
    await wait_past(harness, second, 1.5 * REFRESH_AFTER)

    assert first.remote_task_id is not None
    fake.polls_to_finish = 2  # the jobs behind it take their usual time
    fake.finish(first.remote_task_id)
    done = await harness.wait_state(second.id, JobState.DELIVERED)

    assert inputs.calls == [second.id] * 3
    assert done.error_code is None
    assert inputs_of(fake.posts()[1].body) == [STALE.split("?")[0] + "?hm=fresh0&"]


async def _recorded_before_a_restart(harness: Harness, provider: str) -> Job:
    """A job recorded, not sent, by an engine that then stops (still to be crashed)."""
    harness.config = replace(harness.config, refresh_inputs_after=REFRESH_AFTER)
    await harness.start()
    await harness.link(7, provider)
    assert harness.engine is not None
    await kill(harness.engine)
    assert harness.jobs is not None
    job = await harness.jobs.create(
        owner_id=7,
        provider=provider,
        endpoint=ENDPOINTS[provider],
        request=WITH_INPUT[provider].model_dump(mode="json", exclude_none=True),
    )
    return job


async def test_a_job_resumed_after_the_bot_was_down_is_sent_with_refreshed_links(
    harness: Harness,
) -> None:
    harness.inputs = inputs = FakeInputs()
    job = await _recorded_before_a_restart(harness, "seed2")
    await harness.crash()
    # The bot stays down long enough for the links to go stale.
    await wait_past(harness, job, 1.5 * REFRESH_AFTER)
    job_id = job.id

    await harness.start()
    await harness.wait_state(job_id, JobState.DELIVERED)

    assert inputs.calls == [job_id]
    assert inputs_of(harness.fakes["seed2"].posts()[0].body) == [
        STALE.split("?")[0] + "?hm=fresh0&"
    ]


async def test_a_resend_under_an_idempotency_key_already_sent_keeps_its_body(
    harness: Harness,
) -> None:
    # The provider may hold the first attempt under this key: another body would be refused
    # (or, worse, be a second task); the same body gets the task it already has.
    harness.inputs = inputs = FakeInputs()
    job = await _recorded_before_a_restart(harness, "seedance2ai")
    job_id = job.id
    assert harness.jobs is not None
    await harness.jobs.update(job_id, state=JobState.SUBMITTING, submit_attempts=1)
    await harness.crash()
    await wait_past(harness, job, 1.5 * REFRESH_AFTER)

    await harness.start()
    await harness.wait_state(job_id, JobState.DELIVERED)

    assert inputs.calls == []
    assert inputs_of(harness.fakes["seedance2ai"].posts()[0].body) == [STALE]
