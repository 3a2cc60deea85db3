"""The engine polls where it buys the most: from the submit on a naive poller's 10 s grid while nothing is
learned for a job's class, sparse-early and tight-around-the-usual-finish once it is; and its
cards learn when a job is expected to be done."""

from __future__ import annotations

import itertools
import random

from bot.jobs import ProgressKind, ScaledClock
from bot.jobs.timing import size_class
from bot.models import endpoint_for
from bot.storage import Database, JobState, JobStore
from tests.jobs.conftest import REQUESTS, Harness

PROVIDER = "seed2"


def polled_at(harness: Harness, job_id: int) -> list[float]:
    """Seconds after its submit at which the job was polled (as its card heard)."""
    return [
        e.elapsed
        for e in harness.port.events
        if e.job.id == job_id and e.kind is ProgressKind.RUNNING and e.elapsed is not None
    ]


async def learn_beforehand(harness: Harness, samples: list[float]) -> None:
    """What earlier processes learned about jobs like ``REQUESTS[PROVIDER]``."""
    request = REQUESTS[PROVIDER]
    spec = endpoint_for(request)
    data = request.model_dump(mode="json", exclude_none=True)
    database = await Database.open(harness.path)
    try:
        mean = sum(samples) / len(samples)
        await JobStore(database).save_generation_time(
            spec.id, size_class(spec.id, data), len(samples), mean, samples
        )
    finally:
        await database.close()


async def test_a_fresh_bot_polls_a_lone_job_from_its_submit_as_a_naive_10_s_poller_would(
    harness: Harness,
) -> None:
    # Slower simulated time, so that the gaps measured are the planned ones.
    harness.clock = ScaledClock(100.0)
    harness.fakes[PROVIDER].polls_to_finish = 5
    engine = await harness.start()
    await harness.link(7, PROVIDER)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[PROVIDER])

    await harness.wait_state(job.id, JobState.DELIVERED)

    polls = polled_at(harness, job.id)
    assert len(polls) == 4  # the fifth poll found it finished
    assert 9.5 <= polls[0] <= 10.5  # not half the provider's guess (minutes)
    gaps = [b - a for a, b in itertools.pairwise(polls)]
    assert all(9.5 <= gap <= 10.5 for gap in gaps)


async def test_once_learned_polls_are_sparse_early_and_tight_around_the_usual_finish(
    harness: Harness,
) -> None:
    rng = random.Random(3)
    await learn_beforehand(harness, [60.0 * rng.lognormvariate(0.0, 0.1) for _ in range(30)])
    harness.clock = ScaledClock(100.0)
    harness.fakes[PROVIDER].polls_to_finish = 25
    engine = await harness.start()
    await harness.link(7, PROVIDER)
    job = await engine.enqueue(owner_id=7, request=REQUESTS[PROVIDER])

    await harness.wait_for(lambda: len(polled_at(harness, job.id)) >= 14, seconds=20)

    polls = polled_at(harness, job.id)
    early = [p for p in polls if p < 45]
    around = [p for p in polls if 52 <= p <= 68]
    assert len(early) <= 3  # every 20 s before jobs like it begin to finish
    assert len(around) >= 4
    assert max(b - a for a, b in itertools.pairwise(around)) <= 5.0
    # Its card was told when jobs like it are usually done.
    running = [e for e in harness.port.events if e.job.id == job.id and e.kind.value == "running"]
    last = running[-1]
    assert last.expected is not None
    assert 55 < last.expected < 65
    assert last.job.submitted_at is not None
    assert last.eta == last.job.submitted_at + last.expected


async def test_what_a_finished_job_teaches_is_kept_for_the_next_process(
    harness: Harness,
) -> None:
    engine = await harness.start()
    await harness.link(7, PROVIDER)
    jobs = [await engine.enqueue(owner_id=7, request=REQUESTS[PROVIDER]) for _ in range(3)]
    for job in jobs:
        await harness.wait_state(job.id, JobState.DELIVERED)
    assert harness.jobs is not None

    learned = await harness.jobs.generation_times()

    [(_, recent)] = learned.items()
    assert len(recent) == 3
    assert all(0 < seconds < 30 for seconds in recent)
