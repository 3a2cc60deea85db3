"""Behaviour every provider client shares, run against each provider's local fake."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.providers import KeyCheck, TaskStatus, errors
from tests.fakes.base import Fault
from tests.fakes.network import closed_url
from tests.providers.conftest import FAST_RETRY, FLAVOURS, Flavour, SleepRecorder, make_client
from tests.seed_examples import (
    COMPLETED_TASK,
    GUIDE_COMPLETED,
    GUIDE_SUBMIT_RESPONSE,
    README_COMPLETED,
    README_SUBMIT_RESPONSE,
    SUBMIT_ANSWER,
)

pytestmark = pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)

#: Each provider's documented answer to a submit (tests/seed_examples.py), the HTTP status it
#: comes with, and what the client reads in it.
SUBMIT_ANSWERS: dict[str, tuple[int, dict[str, Any], dict[str, Any]]] = {
    "seedance2ai": (
        202,
        SUBMIT_ANSWER,
        {"task_id": "sd2_xxxxx", "status": TaskStatus.RUNNING, "credits_charged": 30},
    ),
    "seedanceapi": (
        200,
        GUIDE_SUBMIT_RESPONSE,
        {"task_id": "seed15abc123def456pro", "status": TaskStatus.RUNNING},
    ),
    # The integer task id comes back as a string; the cost and the balance in points.
    "seed2": (
        200,
        README_SUBMIT_RESPONSE,
        {"task_id": "456", "status": TaskStatus.QUEUED, "credits_charged": 2900, "balance": 7100},
    ),
}

#: Each provider's documented completed task, the task id asked for, the request that asks
#: (path and query), and what the client reads in the answer.
COMPLETED_ANSWERS: dict[str, tuple[dict[str, Any], str, str, dict[str, str], dict[str, Any]]] = {
    "seedance2ai": (
        COMPLETED_TASK,
        "sd2_xxxxx",
        "/api/v1/tasks/sd2_xxxxx",
        {},
        {
            "video_url": "https://...",
            "last_frame_url": "https://...",
            "seed": 123,
            "credits_charged": 30,
            "credits_refunded": 0,
            "image_urls": (),
        },
    ),
    "seedanceapi": (
        GUIDE_COMPLETED,
        "seed15abc123def456pro",
        "/v1/status",
        {"task_id": "seed15abc123def456pro"},
        {
            "video_url": "https://cdn.example.com/videos/seed15abc123def456pro.mp4",
            "media_urls": ("https://cdn.example.com/videos/seed15abc123def456pro.mp4",),
            "credits_charged": 28,
            "credits_refunded": None,
        },
    ),
    "seed2": (
        README_COMPLETED,
        "123",
        "/v1/tasks/123",
        {},
        {
            "video_url": "https://cdn.seed2.io/videos/xxx.mp4",
            "media_urls": ("https://cdn.seed2.io/videos/xxx.mp4",),
            "credits_charged": 2900,
            "credits_refunded": None,
        },
    ),
}

#: How each provider refuses a key short of credits: (HTTP status, its error code). api.seed2.io
#: answers HTTP 200 with a non-zero code.
SHORT_OF_CREDITS: dict[str, tuple[int, str]] = {
    "seedance2ai": (402, "insufficient_credits"),
    "seedanceapi": (402, "INSUFFICIENT_CREDITS"),
    "seed2": (200, "1002"),
}


async def test_submit_then_poll_until_the_video_exists(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        first = await client.status(submission.task_id, flavour.key)
        second = await client.status(submission.task_id, flavour.key)

    assert first.status in (TaskStatus.QUEUED, TaskStatus.RUNNING)
    assert first.video_url is None
    assert second.status is TaskStatus.SUCCEEDED
    assert second.video_url is not None
    assert second.video_url.startswith("https://")
    assert second.task_id == submission.task_id
    posted = fake.posts()
    assert len(posted) == 1
    assert posted[0].body == flavour.request.to_wire()
    assert posted[0].headers["Authorization"] == f"Bearer {flavour.key}"
    assert fake.total_charged() > 0


async def test_the_documented_submit_answer_parses(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    http_status, answer, expected = SUBMIT_ANSWERS[flavour.name]
    async with flavour.fake_cls() as fake:
        fake.inject(Fault("respond", status=http_status, body=answer, method="POST"))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")

    assert {name: getattr(submission, name) for name in expected} == expected
    assert submission.raw == answer


async def test_the_documented_completed_task_parses_field_for_field(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    answer, task_id, path, query, expected = COMPLETED_ANSWERS[flavour.name]
    async with flavour.fake_cls() as fake:
        fake.inject(Fault("respond", status=200, body=answer, method="GET"))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        state = await client.status(task_id, flavour.key)

    assert state.task_id == task_id
    assert state.status is TaskStatus.SUCCEEDED
    assert state.error_message is None
    assert {name: getattr(state, name) for name in expected} == expected
    assert state.raw == answer
    (sent,) = fake.requests
    assert (sent.method, sent.path, sent.query) == ("GET", path, query)


async def test_failed_generation_reports_the_remote_message(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls(outcome="fail") as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        await client.status(submission.task_id, flavour.key)
        state = await client.status(submission.task_id, flavour.key)

    assert state.status is TaskStatus.FAILED
    assert state.error_message == "content policy violation"
    assert state.video_url is None
    # Every provider gives the credits of a failed generation back.
    assert fake.total_charged() == 0


async def test_check_key_spends_nothing_and_tells_valid_from_invalid(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        good = await client.check_key(flavour.key)
        bad = await client.check_key("sk_live_not_a_real_key_123")

    assert good is KeyCheck.VALID
    assert bad is KeyCheck.INVALID
    assert fake.posts() == []
    assert fake.total_charged() == 0
    assert fake.tasks == {}


async def test_a_key_short_of_credits_is_refused_before_any_charge(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls(keys={flavour.key: 1}) as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        estimate = client.estimate_cost(flavour.request)  # None where no price is published
        assert estimate is None or estimate.credits > fake.credits[flavour.key]
        with pytest.raises(errors.InsufficientCreditsError) as caught:
            await client.submit(flavour.request, flavour.key, "job-1")

    assert (caught.value.status, caught.value.code) == SHORT_OF_CREDITS[flavour.name]
    assert "top up" in caught.value.advice.lower()
    assert len(fake.posts()) == 1
    assert sleeps.calls == []
    assert fake.tasks == {}
    assert fake.credits[flavour.key] == 1
    assert fake.total_charged() == 0


async def test_unknown_key_is_unauthorized_and_not_retried(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        with pytest.raises(errors.UnauthorizedError) as caught:
            await client.submit(flavour.request, "sk_live_revoked_key_999", "job-1")

    assert len(fake.requests) == 1
    assert sleeps.calls == []
    assert "/key link" in caught.value.advice


async def test_a_task_of_another_account_is_not_found(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    other = "sk_live_other_account_42"
    async with flavour.fake_cls(keys={flavour.key: 100_000, other: 100_000}) as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        with pytest.raises(errors.NotFoundError):
            await client.status(submission.task_id, other)

    assert len([r for r in fake.requests if r.method == "GET"]) == 1


async def test_the_api_key_is_never_echoed_in_an_error(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        echo = flavour.error(fake, 400, "invalid_request", f"bad key format: {flavour.key}")
        fake.inject(Fault("respond", status=400, body=echo))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        with pytest.raises(errors.InvalidRequestError) as caught:
            await client.submit(flavour.request, flavour.key, "job-1")

    assert flavour.key not in str(caught.value)
    assert flavour.key not in caught.value.message
    assert "bad key format: ***" in caught.value.message


async def test_rate_limit_waits_for_retry_after_then_succeeds(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        limited = flavour.error(fake, 429, "rate_limited", "Too many requests")
        fake.inject(Fault("respond", status=429, body=limited, headers={"Retry-After": "7"}))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")

    assert sleeps.calls == [7.0]
    assert len(fake.tasks) == 1
    assert submission.task_id in fake.tasks


async def test_service_unavailable_is_retried_then_surfaced(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        busy = flavour.error(fake, 503, "service_busy", "Temporary upstream issue")
        fake.inject(
            *[Fault("respond", status=503, body=busy, method="GET")] * FAST_RETRY.max_attempts
        )
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        with pytest.raises(errors.ServerError) as caught:
            await client.status(submission.task_id, flavour.key)

    assert caught.value.retryable
    assert len(sleeps.calls) == FAST_RETRY.max_attempts - 1
    assert all(0 < s <= FAST_RETRY.max_delay for s in sleeps.calls)
    assert len([r for r in fake.requests if r.method == "GET"]) == FAST_RETRY.max_attempts


async def test_server_error_on_submit_is_retried_only_where_the_api_deduplicates(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        broken = flavour.error(fake, 500, "internal_error", "Unexpected server-side failure")
        fake.inject(Fault("respond_after", status=500, body=broken, method="POST"))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        if flavour.client_cls.honours_idempotency:
            # The same Idempotency-Key again: the provider answers with the task it made.
            await client.submit(flavour.request, flavour.key, "job-1")
        else:
            # A 500 does not prove no task was made (this one was): not sent again.
            with pytest.raises(errors.SubmitOutcomeUnknownError):
                await client.submit(flavour.request, flavour.key, "job-1")

    resent = flavour.client_cls.honours_idempotency
    assert len(fake.posts()) == (2 if resent else 1)
    assert len(sleeps.calls) == (1 if resent else 0)
    assert len(fake.tasks) == 1
    assert len(fake.charges[flavour.key]) == 1


async def test_malformed_status_answer_is_retried_then_typed(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        fake.inject(Fault("respond", status=200, body="{not json", method="GET"))
        recovered = await client.status(submission.task_id, flavour.key)
        fake.inject(*[Fault("respond", status=200, body="<html>", method="GET")] * 4)
        with pytest.raises(errors.MalformedResponseError):
            await client.status(submission.task_id, flavour.key)

    assert recovered.task_id == submission.task_id


async def test_slow_status_answer_times_out_into_a_typed_error(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps, timeout=0.2)
        submission = await client.submit(flavour.request, flavour.key, "job-1")
        fake.inject(*[Fault("delay", seconds=1.0, method="GET")] * FAST_RETRY.max_attempts)
        with pytest.raises(errors.ConnectionFailedError) as caught:
            await client.status(submission.task_id, flavour.key)

    assert "timed out" in caught.value.message
    assert len(sleeps.calls) == FAST_RETRY.max_attempts - 1


async def test_unreachable_provider_is_a_connection_error(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    client = flavour.client_cls(session, closed_url(), retry=FAST_RETRY, sleep=sleeps)
    with pytest.raises(errors.ConnectionFailedError) as caught:
        await client.submit(flavour.request, flavour.key, "job-1")

    # Nothing can have been created, so even non-idempotent APIs may retry a refused connection.
    assert caught.value.outcome_known
    assert len(sleeps.calls) == FAST_RETRY.max_attempts - 1


async def test_retry_after_beyond_the_time_budget_is_handed_to_the_caller(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        limited = flavour.error(fake, 429, "rate_limited", "Too many requests")
        fake.inject(Fault("respond", status=429, body=limited, headers={"Retry-After": "600"}))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        with pytest.raises(errors.RateLimitedError) as caught:
            await client.submit(flavour.request, flavour.key, "job-1")

    assert caught.value.retry_after == 600.0
    assert sleeps.calls == []
    assert fake.tasks == {}
