"""Seed2Client against its published README and its local fake.

The generic behaviour every client shares lives in test_provider_contract.py; this file checks what
is particular to api.seed2.io: the README's examples, integer task ids and balances, its pricing,
the undocumented error mapping of PROVIDERS.md section 3, and that a submit is never sent twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.models import Seed2Request
from bot.providers import Seed2Client, TaskStatus, errors
from tests.fakes.base import Fault
from tests.fakes.seed2 import FakeSeed2
from tests.models.documented import WIRE_DEFAULTS
from tests.providers.conftest import FAST_RETRY, SleepRecorder, make_client
from tests.seed_examples import README_COMPLETED, README_EXAMPLES

KEY = "sk-s2-testkey000001"
RICH = {KEY: 1_000_000}

# -- the README, copied verbatim ---------------------------------------------------------------
# (Its example requests and responses are in tests/seed_examples.py.)

#: Defaults from the README's parameter table.
README_DEFAULTS = WIRE_DEFAULTS[Seed2Request]

#: What each README example costs by the README's pricing table.
README_COSTS: dict[str, int] = {
    "curl-and-node": 2900,
    "python-quick-start": 2900,
    "text-to-video": 2900,
    "image-to-video": 2900,
    "video-reference": 2320 * 10,
    "audio-sync": 1160 * 10,
    "image-audio-lip-sync": 2320 * 8,
    "sdk-one-liner": 2900,
}

CAT = README_EXAMPLES["curl-and-node"]


def envelope(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "data": None}


# -- the README's examples ---------------------------------------------------------------------


@pytest.mark.parametrize("name", README_EXAMPLES, ids=README_EXAMPLES.keys())
async def test_every_readme_example_is_sent_as_written_and_charged_as_priced(
    name: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    example, cost = README_EXAMPLES[name], README_COSTS[name]
    request = Seed2Request.parse(example)
    async with FakeSeed2(keys=dict(RICH)) as fake:
        client = make_client(Seed2Client, session, fake, sleeps)
        submission = await client.submit(request, KEY, "job-1")

    (posted,) = fake.posts()
    assert posted.path == "/v1/video/generate"
    assert posted.headers["Authorization"] == f"Bearer {KEY}"
    assert posted.body == {**README_DEFAULTS, **example}
    # The README documents duration as an int: "5" would be a different request.
    assert type(posted.body["duration"]) is int
    for kind in ("image_files", "video_files", "audio_files"):
        assert posted.body.get(kind) == example.get(kind)
    (task_id,) = fake.tasks
    assert submission.task_id == task_id
    assert submission.task_id == str(int(submission.task_id))
    assert submission.status is TaskStatus.QUEUED
    assert submission.credits_charged == cost
    assert submission.balance == RICH[KEY] - cost
    assert fake.credits[KEY] == submission.balance
    assert client.estimate_cost(request).credits == cost


# -- status ------------------------------------------------------------------------------------


async def test_pending_then_processing_then_completed(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2(polls_to_finish=3) as fake:
        client = make_client(Seed2Client, session, fake, sleeps)
        submission = await client.submit(Seed2Request.parse(CAT), KEY, "job-1")
        polls = [await client.status(submission.task_id, KEY) for _ in range(3)]
        raw_statuses = [p.raw["data"]["status"] for p in polls]

    assert raw_statuses == ["pending", "processing", "completed"]
    assert [p.status for p in polls] == [
        TaskStatus.QUEUED,
        TaskStatus.RUNNING,
        TaskStatus.SUCCEEDED,
    ]
    assert [p.video_url for p in polls[:2]] == [None, None]
    assert polls[2].video_url == f"https://cdn.seed2.io/videos/{submission.task_id}.mp4"
    assert all(p.task_id == submission.task_id for p in polls)
    assert polls[2].credits_charged == 2900


async def test_a_failed_task_is_refunded_and_says_why(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2(outcome="fail") as fake:
        client = make_client(Seed2Client, session, fake, sleeps)
        submission = await client.submit(Seed2Request.parse(CAT), KEY, "job-1")
        assert fake.credits[KEY] == 10_000 - 2900
        await client.status(submission.task_id, KEY)
        state = await client.status(submission.task_id, KEY)

    assert state.status is TaskStatus.FAILED
    assert state.video_url is None
    assert state.error_message == "content policy violation"
    assert submission.credits_charged == 2900
    assert state.credits_refunded == submission.credits_charged
    # "If a task fails, credits are automatically refunded."
    assert fake.credits[KEY] == 10_000


async def test_completed_without_a_video_is_a_failure_but_not_a_refund(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    doc = {**README_COMPLETED, "data": {**README_COMPLETED["data"], "result": {"duration": 5}}}
    async with FakeSeed2() as fake:
        fake.inject(Fault("respond", status=200, body=doc, method="GET"))
        client = make_client(Seed2Client, session, fake, sleeps)
        state = await client.status("123", KEY)

    assert state.status is TaskStatus.FAILED
    assert state.video_url is None
    assert state.error_message
    assert "no video" in state.error_message
    # Only tasks the provider itself marks failed are refunded; this one was charged.
    assert state.credits_charged == 2900
    assert state.credits_refunded is None


# -- errors (PROVIDERS.md section 3, Decision) -------------------------------------------------

SUBMIT_ERRORS: dict[str, tuple[int, Any, type[errors.ProviderError]]] = {
    "401": (401, envelope(401, "invalid api key"), errors.UnauthorizedError),
    "403": (403, envelope(403, "forbidden"), errors.UnauthorizedError),
    "403-plain-text": (403, "Forbidden", errors.UnauthorizedError),
    "402": (402, envelope(402, "payment required"), errors.InsufficientCreditsError),
    "402-plain-text": (402, "Payment Required", errors.InsufficientCreditsError),
    "200-credits": (200, envelope(1002, "not enough credits"), errors.InsufficientCreditsError),
    "200-balance": (200, envelope(40012, "balance too low"), errors.InsufficientCreditsError),
    "200-points": (200, envelope(7, "your points are used up"), errors.InsufficientCreditsError),
    "200-unrelated": (
        200,
        envelope(1001, "prompt violates the content policy"),
        errors.InvalidRequestError,
    ),
    "200-unrelated-ratio": (
        200,
        envelope(10003, "ratio 2:1 is invalid"),
        errors.InvalidRequestError,
    ),
    "400": (400, envelope(400, "invalid parameters"), errors.InvalidRequestError),
    # Words that only look like the Decision's cues must not send users to the wrong fix.
    "200-token-limit": (
        200,
        envelope(1003, "prompt exceeds the 512 token limit"),
        errors.InvalidRequestError,
    ),
    "200-permissions": (
        200,
        envelope(1004, "insufficient permissions for this model"),
        errors.InvalidRequestError,
    ),
    "200-api-key": (200, envelope(1005, "api key disabled"), errors.UnauthorizedError),
}


@pytest.mark.parametrize("case", SUBMIT_ERRORS, ids=SUBMIT_ERRORS.keys())
async def test_a_refused_submit_maps_to_its_error_and_is_sent_once(
    case: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    http_status, body, expected = SUBMIT_ERRORS[case]
    async with FakeSeed2() as fake:
        fake.inject(Fault("respond", status=http_status, body=body, method="POST"))
        client = make_client(Seed2Client, session, fake, sleeps)
        with pytest.raises(errors.ProviderError) as caught:
            await client.submit(Seed2Request.parse(CAT), KEY, "job-1")

    assert type(caught.value) is expected
    assert caught.value.status == http_status
    if isinstance(body, dict):
        assert caught.value.message == body["message"]
        assert caught.value.code == str(body["code"])
    assert len(fake.posts()) == 1
    assert sleeps.calls == []
    assert fake.tasks == {}


async def test_an_unknown_task_is_not_found(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2() as fake:
        client = make_client(Seed2Client, session, fake, sleeps)
        with pytest.raises(errors.NotFoundError) as caught:
            await client.status("999999", KEY)

    assert caught.value.status == 404
    assert len(fake.requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("retry_after", ["3", "12"])
async def test_a_rate_limited_poll_waits_exactly_retry_after(
    retry_after: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2() as fake:
        client = make_client(Seed2Client, session, fake, sleeps)
        submission = await client.submit(Seed2Request.parse(CAT), KEY, "job-1")
        fake.inject(
            Fault(
                "respond",
                status=429,
                body=envelope(429, "too many requests"),
                headers={"Retry-After": retry_after},
                method="GET",
            )
        )
        state = await client.status(submission.task_id, KEY)

    assert sleeps.calls == [float(retry_after)]
    assert state.task_id == submission.task_id
    assert len([r for r in fake.requests if r.method == "GET"]) == 2


async def test_a_rate_limit_without_retry_after_backs_off(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2() as fake:
        fake.inject(Fault("respond", status=429, body=envelope(429, "slow down"), method="POST"))
        client = make_client(Seed2Client, session, fake, sleeps)
        submission = await client.submit(Seed2Request.parse(CAT), KEY, "job-1")

    assert len(sleeps.calls) == 1
    assert 0 < sleeps.calls[0] <= FAST_RETRY.max_delay
    assert list(fake.tasks) == [submission.task_id]
    assert len(fake.posts()) == 2


@pytest.mark.parametrize("http_status", [500, 503])
async def test_server_errors_on_a_submit_are_not_retried_but_on_a_poll_they_are(
    http_status: int, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2() as fake:
        busy = envelope(http_status, "server busy")
        fake.inject(Fault("respond", status=http_status, body=busy, method="POST"))
        client = make_client(Seed2Client, session, fake, sleeps)
        # seed2 has no idempotency keys and a 5xx does not prove no task was made.
        with pytest.raises(errors.SubmitOutcomeUnknownError):
            await client.submit(Seed2Request.parse(CAT), KEY, "job-1")
        assert len(fake.posts()) == 1
        fake.inject(
            Fault("respond", status=http_status, body="Service Unavailable", method="GET"),
            # A server error that mentions points is still a server error, not an empty balance.
            Fault(
                "respond",
                status=http_status,
                body=envelope(http_status, "points ledger unavailable"),
                method="GET",
            ),
        )
        submission = await client.submit(Seed2Request.parse(CAT), KEY, "job-2")
        state = await client.status(submission.task_id, KEY)

    assert list(fake.tasks) == [submission.task_id]
    assert len(fake.posts()) == 2
    assert state.task_id == submission.task_id
    assert len([r for r in fake.requests if r.method == "GET"]) == 3
    assert len(sleeps.calls) == 2


async def test_a_server_error_that_persists_is_a_retryable_server_error(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeed2() as fake:
        fake.inject(*[Fault("respond", status=500, body=envelope(500, "boom"))] * 10)
        client = make_client(Seed2Client, session, fake, sleeps)
        with pytest.raises(errors.ServerError) as caught:
            await client.status("123", KEY)

    assert caught.value.retryable
    assert len(fake.requests) == FAST_RETRY.max_attempts


# -- prices ------------------------------------------------------------------------------------

PRICE_CASES: dict[str, tuple[dict[str, Any], int, str]] = {
    "fast-5s-text (README example)": ({}, 2900, "0.29"),
    "premium-5s-text": ({"model": "seedance_2.0"}, 5800, "0.58"),
    "fast-5s-video-ref": ({"video_files": ["https://example.com/dance.mp4"]}, 5800, "0.58"),
    "fast-5s-audio-ref": ({"audio_files": ["https://example.com/track.mp3"]}, 5800, "0.58"),
    "fast-5s-image-ref": (
        {
            "prompt": "The woman in @image_file_1 walks",
            "image_files": ["https://example.com/woman.jpg"],
        },
        2900,
        "0.29",
    ),
    "fast-5s-image-and-audio": (
        {
            "prompt": "The person in @image_file_1 speaks",
            "image_files": ["https://example.com/a.jpg"],
            "audio_files": ["https://example.com/a.mp3"],
        },
        5800,
        "0.58",
    ),
    "premium-5s-video-ref": (
        {"model": "seedance_2.0", "video_files": ["https://example.com/dance.mp4"]},
        11600,
        "1.16",
    ),
    "fast-4s-text": ({"duration": 4}, 2320, "0.232"),
    "premium-15s-audio": (
        {"model": "seedance_2.0", "duration": 15, "audio_files": ["https://example.com/a.mp3"]},
        34800,
        "3.48",
    ),
}


@pytest.mark.parametrize("case", PRICE_CASES, ids=PRICE_CASES.keys())
async def test_estimate_matches_the_readme_and_what_is_charged(
    case: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    fields, credits, usd = PRICE_CASES[case]
    request = Seed2Request.parse({"prompt": "A cat playing piano", **fields})
    async with FakeSeed2(keys=dict(RICH)) as fake:
        client = make_client(Seed2Client, session, fake, sleeps)
        estimate = client.estimate_cost(request)
        submission = await client.submit(request, KEY, "job-1")

    assert estimate.credits == credits
    assert estimate.usd == Decimal(usd)
    assert estimate.usd == Decimal(estimate.credits) / 10_000
    assert fake.charges[KEY] == [estimate.credits]
    assert submission.credits_charged == estimate.credits


def test_the_readme_example_cost_reads_as_29_cents(session: aiohttp.ClientSession) -> None:
    client = Seed2Client(session, "https://api.seed2.io")  # estimating sends nothing
    estimate = client.estimate_cost(Seed2Request.parse({"prompt": "A cat playing piano"}))
    assert str(estimate) == "2,900 credits ($0.29)"
