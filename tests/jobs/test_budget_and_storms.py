"""Many jobs on one key stay inside the provider's limit; storms of 429s and of 503s on polls
are ridden out."""

from __future__ import annotations

import dataclasses

import pytest

from bot.jobs.budget import RequestBudget
from bot.jobs.clock import ScaledClock
from bot.models import InvalidParameters, Seed2Request
from bot.storage import JobState
from tests.clock import ManualClock
from tests.fakes.base import Fault
from tests.jobs.conftest import REQUESTS, Harness


def test_the_budget_never_allows_more_than_its_limit_in_any_window(clock: ManualClock) -> None:
    budget = RequestBudget(30, 60.0, clock)
    sent: list[float] = []
    while clock.now() < 600:
        while budget.try_take():
            sent.append(clock.now())
        clock.move(0.25)
    # Every 60 s window holds at most 30 requests, and the budget is used, not wasted.
    assert max(sum(1 for s in sent if start <= s < start + 60) for start in sent) == 30
    assert len(sent) >= 30 * 9


def test_a_429_pauses_the_key_and_shrinks_its_budget_for_a_while(clock: ManualClock) -> None:
    budget = RequestBudget(30, 60.0, clock)
    budget.rate_limited(12.0)

    assert budget.available() == 0
    assert budget.next_free() == 12.0
    clock.move(12.0)
    assert 0 < budget.available() < 30
    clock.move(61.2 * 10)
    assert budget.available() == 30


async def test_a_hundred_jobs_on_one_key_never_exceed_its_limit(harness: Harness) -> None:
    harness.config = dataclasses.replace(
        harness.config, max_running_per_user=100, max_waiting_per_user=100
    )
    # Slower simulated time here: the fake's window is 1.5 s of real time, so the engine's 2 %
    # margin (30 ms) covers event-loop jitter on a busy machine, as it covers network jitter
    # next to a real 60 s window.
    harness.clock = ScaledClock(40.0)
    fake = harness.fakes["seedance2ai"]
    fake.rate_limit = (30, 1.5)
    fake.polls_to_finish = 1
    engine = await harness.start()
    await harness.link(7, "seedance2ai")
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS["seedance2ai"]) for _ in range(100)]

    for job in jobs:
        await harness.wait_state(job.id, JobState.DELIVERED, seconds=60)

    assert fake.rate_limited == 0
    assert len(fake.tasks) == 100
    assert fake.total_charged() == 100 * 30
    assert all(harness.port.visible[job.id] == 1 for job in jobs)


async def test_a_storm_of_429s_is_ridden_out_with_one_charge_per_job(harness: Harness) -> None:
    fake = harness.fakes["seed2"]
    limited = fake.error_body(429, "rate_limited", "slow down")
    fake.inject(*[Fault("respond", status=429, body=limited) for _ in range(12)])
    engine = await harness.start()
    await harness.link(7, "seed2")
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS["seed2"]) for _ in range(3)]

    for job in jobs:
        await harness.wait_state(job.id, JobState.DELIVERED, seconds=30)

    assert len(fake.tasks) == 3
    assert len(fake.charges[next(iter(fake.charges))]) == 3
    budget = next(iter(engine.budgets.values()))
    assert budget.rate_limited_count > 0
    finished = [await harness.job(j.id) for j in jobs]
    assert all(job.video_url for job in finished)


async def test_a_storm_of_503s_on_polls_is_ridden_out_with_one_charge_per_job(
    harness: Harness,
) -> None:
    # Only polls: a 503 to a submit on this API makes the job uncertain (test_uncertain_submits).
    fake = harness.fakes["seedanceapi"]
    busy = fake.error_body(503, "INTERNAL_ERROR", "busy")
    fake.inject(*[Fault("respond", status=503, body=busy, method="GET") for _ in range(15)])
    engine = await harness.start()
    await harness.link(7, "seedanceapi")
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS["seedanceapi"]) for _ in range(3)]

    for job in jobs:
        await harness.wait_state(job.id, JobState.DELIVERED, seconds=30)

    assert len(fake.tasks) == 3
    assert fake.total_charged() == 3 * 28
    finished = [await harness.job(j.id) for j in jobs]
    assert all(job.video_url for job in finished)


async def test_an_uncertain_submit_is_never_resent_until_the_owner_asks(harness: Harness) -> None:
    fake = harness.fakes["seed2"]
    fake.inject(Fault("drop_after", method="POST"))
    engine = await harness.start()
    await harness.link(7, "seed2")
    job = await engine.enqueue(owner_id=7, request=REQUESTS["seed2"])

    uncertain = await harness.wait_state(job.id, JobState.UNCERTAIN)
    await harness.wait_for(lambda: harness.port.visible[job.id] == 1)
    await harness.stop()
    await harness.start()  # a restart does not resend it either
    engine = harness.engine
    assert engine is not None
    assert len(fake.posts()) == 1

    assert await engine.retry_uncertain(job.id, owner_id=8) is None
    retried = await engine.retry_uncertain(job.id, owner_id=7)
    done = await harness.wait_state(job.id, JobState.DELIVERED)

    assert retried is not None
    assert retried.idempotency_key != uncertain.idempotency_key
    posts = fake.posts()
    assert len(posts) == 2
    assert posts[0].headers["Idempotency-Key"] != posts[1].headers["Idempotency-Key"]
    assert done.video_url is not None


async def test_send_again_can_replace_the_request_with_fresh_input_links(harness: Harness) -> None:
    fake = harness.fakes["seed2"]
    fake.inject(Fault("drop_after", method="POST"))
    engine = await harness.start()
    await harness.link(7, "seed2")
    old = "https://cdn.discordapp.com/attachments/1/2/cat.png?ex=1&is=0&hm=old"
    request = {"prompt": "@image_file_1 plays piano", "image_files": [old]}
    job = await engine.enqueue(owner_id=7, request=Seed2Request.parse(request))
    await harness.wait_state(job.id, JobState.UNCERTAIN)

    # A replacement the endpoint would refuse is refused before anything changes.
    with pytest.raises(InvalidParameters):
        await engine.retry_uncertain(job.id, 7, request={**request, "image_files": ["http://x"]})
    assert (await harness.job(job.id)).state is JobState.UNCERTAIN

    fresh = old.replace("hm=old", "hm=new")
    retried = await engine.retry_uncertain(job.id, 7, request={**request, "image_files": [fresh]})
    await harness.wait_state(job.id, JobState.DELIVERED)

    assert retried is not None
    assert retried.request["image_files"] == [fresh]
    assert [post.body["image_files"] for post in fake.posts()] == [[old], [fresh]]
