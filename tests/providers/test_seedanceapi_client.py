"""SeedanceApiClient against its published API guide and its local fake.

The generic behaviour every client shares lives in test_provider_contract.py; this file checks what
is particular to seedanceapi.org: the guide's own examples, its status payload, its error codes and
their undocumented body shapes, its price table, and that a submit is never sent twice.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from bot.models import SeedanceApiRequest
from bot.providers import SeedanceApiClient, TaskStatus, errors
from tests.fakes.base import Fault
from tests.fakes.seedanceapi import FakeSeedanceApi
from tests.models.documented import WIRE_DEFAULTS
from tests.providers.conftest import FAST_RETRY, SleepRecorder, make_client
from tests.seed_examples import GUIDE_COMPLETED, GUIDE_EXAMPLES

KEY = "sk_live_testkey_0001"

# -- the guide, copied verbatim ----------------------------------------------------------------
# (Its example requests and responses are in tests/seed_examples.py.)

#: Defaults from the guide's parameter table ("aspect_ratio ... No 1:1", "duration ... No 8", ...).
GUIDE_DEFAULTS = WIRE_DEFAULTS[SeedanceApiRequest]

#: The task id of the guide's generate response and completed response.
GUIDE_TASK_ID = "seed15abc123def456pro"

#: The guide's pricing tables: (resolution, duration, audio) -> (credits, the dollar figure shown).
GUIDE_PRICES: dict[tuple[str, str, bool], tuple[int, str]] = {
    ("480p", "4", False): (8, "0.04"),
    ("480p", "4", True): (14, "0.07"),
    ("480p", "8", False): (14, "0.07"),
    ("480p", "8", True): (28, "0.14"),
    ("480p", "12", False): (19, "0.095"),
    ("480p", "12", True): (38, "0.19"),
    ("720p", "4", False): (14, "0.07"),
    ("720p", "4", True): (28, "0.14"),
    ("720p", "8", False): (28, "0.14"),
    ("720p", "8", True): (56, "0.28"),
    ("720p", "12", False): (42, "0.21"),
    ("720p", "12", True): (84, "0.42"),
}

#: The guide's error table: code -> (HTTP status, description, the class the bot must raise).
GUIDE_ERRORS: dict[str, tuple[int, str, type[errors.ProviderError]]] = {
    "INVALID_PROMPT": (400, "The prompt is invalid or empty", errors.InvalidRequestError),
    "INVALID_ASPECT_RATIO": (400, "Unsupported aspect ratio value", errors.InvalidRequestError),
    "INVALID_RESOLUTION": (400, "Resolution must be 480p or 720p", errors.InvalidRequestError),
    "INVALID_DURATION": (400, "Duration must be 4, 8, or 12 seconds", errors.InvalidRequestError),
    "TOO_MANY_IMAGES": (
        400,
        "Maximum 1 image URL allowed in image_urls array",
        errors.InvalidRequestError,
    ),
    "INVALID_API_KEY": (401, "API key is missing or invalid", errors.UnauthorizedError),
    "INSUFFICIENT_CREDITS": (
        402,
        "Not enough credits for this operation",
        errors.InsufficientCreditsError,
    ),
    "TASK_NOT_FOUND": (
        404,
        "Task ID not found or does not belong to your account",
        errors.NotFoundError,
    ),
    "INTERNAL_ERROR": (500, "Server error, please try again later", errors.ServerError),
}


def status_doc(**data: Any) -> dict[str, Any]:
    """The guide's completed response with some ``data`` fields replaced (``...`` removes one)."""
    doc = copy.deepcopy(GUIDE_COMPLETED)
    for name, value in data.items():
        if value is ...:
            doc["data"].pop(name, None)
        else:
            doc["data"][name] = value
    return doc


def bare(prompt: str = "Mountains at sunrise with flowing clouds", **fields: Any) -> Any:
    """A request that skips our validation, as if a bug or an old job let a bad value through."""
    return SeedanceApiRequest.model_construct(prompt=prompt, **fields)


# -- the guide's examples ----------------------------------------------------------------------


@pytest.mark.parametrize("example", GUIDE_EXAMPLES.values(), ids=GUIDE_EXAMPLES.keys())
async def test_every_guide_example_is_sent_as_written_with_documented_defaults(
    example: dict[str, Any], session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    request = SeedanceApiRequest.parse(example)
    async with FakeSeedanceApi() as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        submission = await client.submit(request, KEY, "job-1")

    posted = fake.posts()
    assert len(posted) == 1
    assert posted[0].path == "/v1/generate"
    assert posted[0].headers["Authorization"] == f"Bearer {KEY}"
    assert posted[0].body == {**GUIDE_DEFAULTS, **example}
    # The API wants duration as a string of seconds.
    assert isinstance(posted[0].body["duration"], str)
    assert list(fake.tasks) == [submission.task_id]
    assert submission.status is TaskStatus.RUNNING
    assert fake.tasks[submission.task_id].body == posted[0].body


async def test_a_bare_prompt_is_sent_with_the_guide_defaults(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    prompt = "A woman in a red coat walking through falling snow on a quiet city street"
    async with FakeSeedanceApi() as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        await client.submit(SeedanceApiRequest.parse({"prompt": prompt}), KEY, "job-1")

    (posted,) = fake.posts()
    assert posted.body == {"prompt": prompt, **GUIDE_DEFAULTS}
    assert fake.total_charged() == 28  # 720p, 8 s, no audio


# -- status ------------------------------------------------------------------------------------


async def test_the_video_is_the_first_url_of_the_response_list(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    first = "https://cdn.example.com/videos/first.mp4"
    doc = status_doc(response=[first, "https://cdn.example.com/videos/second.mp4"])
    async with FakeSeedanceApi() as fake:
        fake.inject(Fault("respond", status=200, body=doc, method="GET"))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        state = await client.status(GUIDE_TASK_ID, KEY)

    # "Access data.response[0] to get the video URL directly."
    assert state.video_url == first


@pytest.mark.parametrize("consumed", [None, ...], ids=["consumed-null", "consumed-absent"])
async def test_failed_task_shows_its_message_and_costs_nothing(
    consumed: Any, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    doc = status_doc(
        status="FAILED",
        consumed_credits=consumed,
        response=[],
        error_message="Content policy violation: the prompt was rejected",
    )
    async with FakeSeedanceApi() as fake:
        fake.inject(Fault("respond", status=200, body=doc, method="GET"))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        state = await client.status(GUIDE_TASK_ID, KEY)

    assert state.status is TaskStatus.FAILED
    assert state.error_message == "Content policy violation: the prompt was rejected"
    # "Failed generations do not consume credits."
    assert state.credits_charged == 0
    assert state.video_url is None
    assert state.raw == doc


@pytest.mark.parametrize(
    "response", [[], [""], None, ...], ids=["empty-list", "blank-url", "null", "absent"]
)
async def test_success_without_a_video_is_a_failure_never_a_silent_success(
    response: Any, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    doc = status_doc(response=response)
    async with FakeSeedanceApi() as fake:
        fake.inject(Fault("respond", status=200, body=doc, method="GET"))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        state = await client.status(GUIDE_TASK_ID, KEY)

    assert state.status is TaskStatus.FAILED
    assert state.video_url is None
    assert state.media_urls == ()
    assert state.error_message
    assert "no video" in state.error_message
    # The provider said SUCCESS and reported what it consumed: the user must not be told the
    # generation was free when the account was charged.
    assert state.credits_charged == 28


async def test_a_running_task_reports_running_without_a_video(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeedanceApi(polls_to_finish=3) as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        request = SeedanceApiRequest.parse(GUIDE_EXAMPLES["with-audio"])
        submission = await client.submit(request, KEY, "job-1")
        polls = [await client.status(submission.task_id, KEY) for _ in range(3)]

    assert [p.status for p in polls] == [
        TaskStatus.RUNNING,
        TaskStatus.RUNNING,
        TaskStatus.SUCCEEDED,
    ]
    assert [p.video_url for p in polls[:2]] == [None, None]
    assert polls[2].video_url == f"https://cdn.example.com/videos/{submission.task_id}.mp4"
    assert polls[2].credits_charged == 56  # 720p, 8 s, with audio


# -- the documented error codes ----------------------------------------------------------------


@pytest.mark.parametrize("code", GUIDE_ERRORS, ids=GUIDE_ERRORS.keys())
async def test_each_documented_error_code_maps_to_its_class(
    code: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    http_status, description, expected = GUIDE_ERRORS[code]
    async with FakeSeedanceApi() as fake:
        body = fake.error_body(http_status, code, description)
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        request = SeedanceApiRequest.parse(GUIDE_EXAMPLES["first-generation"])
        if code in ("TASK_NOT_FOUND", "INTERNAL_ERROR"):
            # Answers to a status query (INTERNAL_ERROR on every attempt).
            fake.inject(*[Fault("respond", status=http_status, body=body)] * 10)
            with pytest.raises(errors.ProviderError) as caught:
                await client.status("seed15doesnotexistpro", KEY)
        else:
            fake.inject(Fault("respond", status=http_status, body=body))
            with pytest.raises(errors.ProviderError) as caught:
                await client.submit(request, KEY, "job-1")

    assert type(caught.value) is expected
    assert caught.value.code == code
    assert caught.value.status == http_status
    assert description in caught.value.message
    assert fake.tasks == {}
    if expected.retryable:
        assert len(fake.requests) == FAST_RETRY.max_attempts
        assert len(sleeps.calls) == FAST_RETRY.max_attempts - 1
    else:
        # 400/401/402/404 are final: sent exactly once, no wait.
        assert len(fake.requests) == 1
        assert sleeps.calls == []


#: The Decision's body shapes: the code string may sit in message, code, error, error.code or
#: data.error_code.
ERROR_SHAPES: dict[str, tuple[int, dict[str, Any], str, type[errors.ProviderError]]] = {
    "in-message": (
        401,
        {"code": 401, "message": "INVALID_API_KEY"},
        "INVALID_API_KEY",
        errors.UnauthorizedError,
    ),
    "in-message-sentence": (
        400,
        {"code": 400, "message": "INVALID_DURATION: Duration must be 4, 8, or 12 seconds"},
        "INVALID_DURATION",
        errors.InvalidRequestError,
    ),
    "in-code": (
        402,
        {"code": "INSUFFICIENT_CREDITS", "message": "Not enough credits for this operation"},
        "INSUFFICIENT_CREDITS",
        errors.InsufficientCreditsError,
    ),
    "in-error-string": (
        400,
        {"error": "TOO_MANY_IMAGES"},
        "TOO_MANY_IMAGES",
        errors.InvalidRequestError,
    ),
    "in-error-code": (
        400,
        {"error": {"code": "INVALID_RESOLUTION", "message": "Resolution must be 480p or 720p"}},
        "INVALID_RESOLUTION",
        errors.InvalidRequestError,
    ),
    "in-data-error-code": (
        400,
        {
            "code": 400,
            "message": "Unsupported aspect ratio value",
            "data": {"error_code": "INVALID_ASPECT_RATIO"},
        },
        "INVALID_ASPECT_RATIO",
        errors.InvalidRequestError,
    ),
    "lower-case": (
        400,
        {"error": {"code": "invalid_prompt", "message": "The prompt is invalid or empty"}},
        "INVALID_PROMPT",
        errors.InvalidRequestError,
    ),
}


@pytest.mark.parametrize("shape", ERROR_SHAPES, ids=ERROR_SHAPES.keys())
async def test_error_code_is_found_in_every_documented_body_shape(
    shape: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    http_status, body, code, expected = ERROR_SHAPES[shape]
    async with FakeSeedanceApi() as fake:
        fake.inject(Fault("respond", status=http_status, body=body, method="POST"))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        request = SeedanceApiRequest.parse(GUIDE_EXAMPLES["first-generation"])
        with pytest.raises(errors.ProviderError) as caught:
            await client.submit(request, KEY, "job-1")

    assert type(caught.value) is expected
    assert caught.value.code == code
    assert caught.value.message  # something to show the user
    assert len(fake.posts()) == 1
    assert sleeps.calls == []


#: Bodies that name no documented code: the class comes from the HTTP status alone.
UNKNOWN_SHAPES: dict[str, tuple[int, Any, type[errors.ProviderError]]] = {
    "plain-text-401": (401, "Unauthorized", errors.UnauthorizedError),
    "plain-text-402": (402, "Payment Required", errors.InsufficientCreditsError),
    "html-400": (400, "<html><body>Bad Request</body></html>", errors.InvalidRequestError),
    "empty-404": (404, b"", errors.NotFoundError),
    "detail-json-402": (402, {"detail": "top up your account"}, errors.InsufficientCreditsError),
    "numbers-only-401": (401, {"code": 401, "message": "denied"}, errors.UnauthorizedError),
}


@pytest.mark.parametrize("shape", UNKNOWN_SHAPES, ids=UNKNOWN_SHAPES.keys())
async def test_an_unknown_error_shape_still_maps_by_http_status(
    shape: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    http_status, body, expected = UNKNOWN_SHAPES[shape]
    async with FakeSeedanceApi() as fake:
        fake.inject(Fault("respond", status=http_status, body=body))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        with pytest.raises(errors.ProviderError) as caught:
            await client.status(GUIDE_TASK_ID, KEY)

    assert type(caught.value) is expected
    assert caught.value.status == http_status
    assert caught.value.code is None
    assert len(fake.requests) == 1


async def test_plain_text_server_error_is_retried_then_a_server_error(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeedanceApi() as fake:
        fake.inject(*[Fault("respond", status=500, body="Internal Server Error")] * 10)
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        with pytest.raises(errors.ServerError):
            await client.status(GUIDE_TASK_ID, KEY)

    assert len(fake.requests) == FAST_RETRY.max_attempts


ENVELOPE_ERRORS: dict[str, tuple[dict[str, Any], str | None, type[errors.ProviderError]]] = {
    "401-code-in-message": (
        {"code": 401, "message": "INVALID_API_KEY", "data": None},
        "INVALID_API_KEY",
        errors.UnauthorizedError,
    ),
    "401-no-code": (
        {"code": 401, "message": "API key is missing or invalid", "data": None},
        None,
        errors.UnauthorizedError,
    ),
    "402-data-error-code": (
        {
            "code": 402,
            "message": "Not enough credits",
            "data": {"error_code": "INSUFFICIENT_CREDITS"},
        },
        "INSUFFICIENT_CREDITS",
        errors.InsufficientCreditsError,
    ),
    "402-no-code": (
        {"code": 402, "message": "Not enough credits", "data": None},
        None,
        errors.InsufficientCreditsError,
    ),
}


@pytest.mark.parametrize("case", ENVELOPE_ERRORS, ids=ENVELOPE_ERRORS.keys())
async def test_an_http_200_envelope_with_an_error_code_is_that_error(
    case: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    body, code, expected = ENVELOPE_ERRORS[case]
    async with FakeSeedanceApi() as fake:
        fake.inject(Fault("respond", status=200, body=body, method="POST"))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        request = SeedanceApiRequest.parse(GUIDE_EXAMPLES["first-generation"])
        with pytest.raises(errors.ProviderError) as caught:
            await client.submit(request, KEY, "job-1")

    assert type(caught.value) is expected
    assert caught.value.code == code
    assert caught.value.status == body["code"]
    assert len(fake.posts()) == 1
    assert sleeps.calls == []
    assert fake.tasks == {}


# -- the fake's own validation, end to end -----------------------------------------------------

#: Requests our model would refuse, sent anyway, and the code the fake answers with.
BYPASSED: dict[str, tuple[Callable[[], Any], str]] = {
    "duration-6": (lambda: bare(duration="6"), "INVALID_DURATION"),
    "resolution-1080p": (lambda: bare(resolution="1080p"), "INVALID_RESOLUTION"),
    "aspect-2-1": (lambda: bare(aspect_ratio="2:1"), "INVALID_ASPECT_RATIO"),
    "blank-prompt": (lambda: bare(prompt="   "), "INVALID_PROMPT"),
    "long-prompt": (lambda: bare(prompt="x" * 2001), "INVALID_PROMPT"),
    "two-images": (
        lambda: bare(image_urls=["https://example.com/a.jpg", "https://example.com/b.jpg"]),
        "TOO_MANY_IMAGES",
    ),
}


@pytest.mark.parametrize("case", BYPASSED, ids=BYPASSED.keys())
async def test_the_fake_refusing_a_bad_request_arrives_as_invalid_request(
    case: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    build, code = BYPASSED[case]
    request = build()
    async with FakeSeedanceApi() as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        with pytest.raises(errors.InvalidRequestError) as caught:
            await client.submit(request, KEY, "job-1")

    assert caught.value.code == code
    assert caught.value.status == 400
    assert caught.value.message == GUIDE_ERRORS[code][1]
    assert len(fake.posts()) == 1
    assert fake.posts()[0].body == request.to_wire()
    assert sleeps.calls == []
    assert fake.tasks == {}
    assert fake.total_charged() == 0


async def test_a_bad_duration_sent_by_hand_is_refused_by_the_fake(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeedanceApi() as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        with pytest.raises(errors.InvalidRequestError) as caught:
            await client._call(
                "POST",
                "/generate",
                KEY,
                body={"prompt": "Mountains at sunrise", "duration": 8},  # a number, not "8"
                replay_safe=False,
            )

    assert caught.value.code == "INVALID_DURATION"
    assert fake.tasks == {}


@pytest.mark.parametrize("http_status", [429])
async def test_a_submit_refused_with_a_known_outcome_is_retried_into_one_task(
    http_status: int, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    # Only a 429 (or a refused connection) proves no task exists; a 503 does not (see
    # test_non_idempotent_submit.py).
    async with FakeSeedanceApi() as fake:
        body = fake.error_body(http_status, "BUSY", "Please slow down")
        fake.inject(Fault("respond", status=http_status, body=body, method="POST"))
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        request = SeedanceApiRequest.parse(GUIDE_EXAMPLES["first-generation"])
        submission = await client.submit(request, KEY, "job-1")

    assert len(fake.posts()) == 2
    assert list(fake.tasks) == [submission.task_id]
    assert len(sleeps.calls) == 1
    assert fake.total_charged() == 28


# -- prices ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resolution", "duration", "audio"),
    GUIDE_PRICES,
    ids=[f"{r}-{d}s-{'audio' if a else 'silent'}" for r, d, a in GUIDE_PRICES],
)
async def test_estimate_matches_the_guide_and_what_is_charged(
    resolution: str,
    duration: str,
    audio: bool,
    session: aiohttp.ClientSession,
    sleeps: SleepRecorder,
) -> None:
    credits, usd = GUIDE_PRICES[(resolution, duration, audio)]
    request = SeedanceApiRequest.parse(
        {
            "prompt": "A peaceful river flowing through a forest",
            "resolution": resolution,
            "duration": duration,
            "generate_audio": audio,
        }
    )
    async with FakeSeedanceApi() as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        estimate = client.estimate_cost(request)
        await client.submit(request, KEY, "job-1")

    assert estimate.credits == credits
    assert estimate.usd == Decimal(usd)
    assert estimate.usd == estimate.credits * Decimal("0.005")
    assert fake.charges[KEY] == [estimate.credits]


@pytest.mark.parametrize(
    ("resolution", "duration", "audio", "text"),
    [("480p", "12", False, "19 credits ($0.095)"), ("720p", "8", False, "28 credits ($0.14)")],
)
def test_price_is_shown_without_rounding_away_half_cents(
    session: aiohttp.ClientSession, resolution: str, duration: str, audio: bool, text: str
) -> None:
    client = SeedanceApiClient(session, "https://seedanceapi.org/v1")
    request = SeedanceApiRequest.parse(
        {"prompt": "x", "resolution": resolution, "duration": duration, "generate_audio": audio}
    )
    assert str(client.estimate_cost(request)) == text


# -- callback_url ------------------------------------------------------------------------------


async def test_submit_sends_a_callback_url_only_when_given(
    session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with FakeSeedanceApi() as fake:
        client = make_client(SeedanceApiClient, session, fake, sleeps)
        request = SeedanceApiRequest.parse({"prompt": "a fox"})
        await client.submit(request, KEY, "job-1")
        url = "https://bot.example.com/callbacks/seedanceapi/abc"
        await client.submit(request, KEY, "job-2", callback_url=url)
    first, second = fake.posts()
    assert "callback_url" not in first.body
    assert second.body == {**first.body, "callback_url": url}


def test_only_seedanceapi_takes_a_callback_url_and_its_description_says_so() -> None:
    from bot.providers.registry import CLIENT_CLASSES, DESCRIPTIONS

    for provider, description in DESCRIPTIONS.items():
        field = CLIENT_CLASSES[provider].callback_field
        assert (field is not None) is description.accepts_callbacks, provider
    assert SeedanceApiClient.callback_field == "callback_url"
    assert "callback_url" in SeedanceApiRequest.model_fields
