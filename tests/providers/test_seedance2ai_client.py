"""seedance2ai.io: examples from its pages, every error code, and idempotent submits."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.models import GptImage2Request, NanoBananaProRequest, Seedance2Request, SeedanceRequest
from bot.providers import Seedance2AIClient, TaskStatus, errors
from tests.fakes.base import Fault
from tests.fakes.seedance2ai import FakeSeedance2AI
from tests.providers.conftest import FAST_RETRY, SleepRecorder, make_client
from tests.seed_examples import (
    COMPLETED_TASK,
    EN_STATUS_ANSWER,
    GPT_EXAMPLE,
    NANO_EXAMPLE,
    VIDEO_EXAMPLE,
)

KEY = "sk_live_testkey_0001"


@pytest.fixture
async def fake() -> Any:
    async with FakeSeedance2AI() as server:
        yield server


@pytest.fixture
def client(fake: FakeSeedance2AI, session: aiohttp.ClientSession, sleeps: SleepRecorder) -> Any:
    return make_client(Seedance2AIClient, session, fake, sleeps)


@pytest.mark.parametrize(
    ("model", "example", "path"),
    [
        (Seedance2Request, VIDEO_EXAMPLE, "/api/v1/video/seedance2"),
        (SeedanceRequest, VIDEO_EXAMPLE, "/api/v1/video/seedance"),
        (GptImage2Request, GPT_EXAMPLE, "/api/v1/image/gpt-image-2"),
        (NanoBananaProRequest, NANO_EXAMPLE, "/api/v1/image/nano-banana-pro"),
    ],
)
async def test_documented_examples_are_sent_as_written(
    client: Seedance2AIClient, fake: FakeSeedance2AI, model: Any, example: dict[str, Any], path: str
) -> None:
    submission = await client.submit(model.parse(example), KEY, "demo-001")

    (sent,) = fake.posts()
    assert sent.path == path
    assert sent.headers["Idempotency-Key"] == "demo-001"
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["Content-Type"].startswith("application/json")
    # Every field of the example goes out unchanged; the rest are documented defaults.
    assert {k: sent.body[k] for k in example} == example
    assert submission.task_id in fake.tasks
    assert submission.status is TaskStatus.RUNNING


async def test_the_en_page_status_example_parses(
    client: Seedance2AIClient, fake: FakeSeedance2AI
) -> None:
    fake.inject(Fault("respond", status=200, body=EN_STATUS_ANSWER))
    state = await client.status("sd2_xxxxx", KEY)

    assert (state.status, state.video_url, state.credits_charged) == (
        TaskStatus.SUCCEEDED,
        "https://...",
        30,
    )


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ({"image_url": "https://cdn.test/a.png"}, ("https://cdn.test/a.png",)),
        ({"image_urls": ["https://cdn.test/a.png", "https://cdn.test/b.png"]},
         ("https://cdn.test/a.png", "https://cdn.test/b.png")),
        ({"images": [{"url": "https://cdn.test/a.png"}, {"url": "https://cdn.test/b.png"}]},
         ("https://cdn.test/a.png", "https://cdn.test/b.png")),
        ({"images": ["https://cdn.test/a.png"]}, ("https://cdn.test/a.png",)),
        ({"url": "https://cdn.test/a.png"}, ("https://cdn.test/a.png",)),
        ({"urls": ["https://cdn.test/a.png", "https://cdn.test/a.png"]}, ("https://cdn.test/a.png",)),
        ({"result": {"files": [{"href": "https://cdn.test/deep.png"}]}, "last_frame_url": "https://x.test/f.jpg"},
         ("https://cdn.test/deep.png",)),
        # A batch: the first image alone in `image_url`, all of them in `image_urls` (8.2).
        ({"image_url": "https://cdn.test/a.png",
          "image_urls": ["https://cdn.test/a.png", "https://cdn.test/b.png", "https://cdn.test/c.png"]},
         ("https://cdn.test/a.png", "https://cdn.test/b.png", "https://cdn.test/c.png")),
        ({"image_url": "https://cdn.test/a.png", "images": [{"url": "https://cdn.test/b.png"}, "https://cdn.test/c.png"],
          "url": "https://cdn.test/c.png", "urls": ["https://cdn.test/d.png"]},
         ("https://cdn.test/a.png", "https://cdn.test/b.png", "https://cdn.test/c.png", "https://cdn.test/d.png")),
        # Plain http is still a result the member paid for (delivery decides what to fetch).
        ({"image_urls": ["http://cdn.test/a.png", "ftp://cdn.test/b.png"]}, ("http://cdn.test/a.png",)),
    ],
)  # fmt: skip
async def test_image_outputs_in_every_accepted_shape(
    client: Seedance2AIClient,
    fake: FakeSeedance2AI,
    output: dict[str, Any],
    expected: tuple[str, ...],
) -> None:
    task = {**COMPLETED_TASK, "model": "gpt-image-2", "output": output}
    fake.inject(Fault("respond", status=200, body=task))
    state = await client.status("sd2_xxxxx", KEY)

    assert state.status is TaskStatus.SUCCEEDED
    assert state.image_urls == expected
    assert state.video_url is None


async def test_a_batch_of_images_comes_back_in_order(
    client: Seedance2AIClient, fake: FakeSeedance2AI
) -> None:
    request = GptImage2Request.parse({**GPT_EXAMPLE, "batchCount": 3})
    submission = await client.submit(request, KEY, "batch-1")
    await client.status(submission.task_id, KEY)
    state = await client.status(submission.task_id, KEY)

    # The fake answers like the service: the first image in `image_url`, all in `image_urls`.
    assert state.raw["output"]["image_url"] == state.raw["output"]["image_urls"][0]
    assert len(state.image_urls) == 3
    assert [u.rsplit("-", 1)[1] for u in state.image_urls] == ["0.png", "1.png", "2.png"]
    assert fake.total_charged() == 18


@pytest.mark.parametrize(
    "output", [None, {}, {"seed": 5}, {"last_frame_url": "https://x.test/f.jpg"}]
)
async def test_completed_without_media_is_a_failure_not_a_silent_success(
    client: Seedance2AIClient, fake: FakeSeedance2AI, output: Any
) -> None:
    fake.inject(Fault("respond", status=200, body={**COMPLETED_TASK, "output": output}))
    state = await client.status("sd2_xxxxx", KEY)

    assert state.status is TaskStatus.FAILED
    assert state.error_code == "no_media"
    assert state.error_message
    assert state.media_urls == ()


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        ("Prompt rejected by safety filter", None, "Prompt rejected by safety filter"),
        (
            {"code": "content_policy", "message": "Blocked content"},
            "content_policy",
            "Blocked content",
        ),
        ({"code": "timeout"}, "timeout", "The provider reported a failure."),
        (None, None, "The provider reported a failure."),
    ],
)
async def test_failed_task_shows_the_error_and_the_refund(
    client: Seedance2AIClient, fake: FakeSeedance2AI, error: Any, code: str | None, message: str
) -> None:
    failed = {**COMPLETED_TASK, "status": "failed", "output": None, "error": error,
              "credits_refunded": 30}  # fmt: skip
    fake.inject(Fault("respond", status=200, body=failed))
    state = await client.status("sd2_xxxxx", KEY)

    assert state.status is TaskStatus.FAILED
    assert state.error_code == code
    assert state.error_message == message
    assert state.credits_refunded == 30


@pytest.mark.parametrize(
    ("status", "code", "cls", "retried"),
    [
        (401, "unauthorized", errors.UnauthorizedError, False),
        (400, "invalid_request", errors.InvalidRequestError, False),
        (402, "insufficient_credits", errors.InsufficientCreditsError, False),
        (404, "not_found", errors.NotFoundError, False),
        (429, "rate_limited", errors.RateLimitedError, True),
        (409, "idempotency_conflict", errors.IdempotencyConflictError, True),
        (503, "service_busy", errors.ServerError, True),
        (500, "internal_error", errors.ServerError, True),
    ],
)
async def test_every_documented_error_code_maps_to_its_class(
    client: Seedance2AIClient,
    fake: FakeSeedance2AI,
    sleeps: SleepRecorder,
    status: int,
    code: str,
    cls: type[errors.ProviderError],
    retried: bool,
) -> None:
    body = {"error": {"code": code, "message": f"documented {code}"}}
    fake.inject(*[Fault("respond", status=status, body=body)] * FAST_RETRY.max_attempts)
    with pytest.raises(cls) as caught:
        await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-1")

    assert type(caught.value) is cls
    assert caught.value.code == code
    assert caught.value.status == status
    assert caught.value.message == f"documented {code}"
    attempts = FAST_RETRY.max_attempts if retried else 1
    assert len(fake.posts()) == attempts
    assert len(sleeps.calls) == attempts - 1
    assert fake.tasks == {}


async def test_code_wins_over_status_and_unknown_bodies_map_by_status(
    client: Seedance2AIClient, fake: FakeSeedance2AI
) -> None:
    fake.inject(
        Fault(
            "respond", status=400, body={"error": {"code": "insufficient_credits", "message": "x"}}
        ),
        Fault("respond", status=402, body="<html>Payment Required</html>"),
    )
    request = Seedance2Request.parse(VIDEO_EXAMPLE)
    with pytest.raises(errors.InsufficientCreditsError):
        await client.submit(request, KEY, "job-1")
    with pytest.raises(errors.InsufficientCreditsError) as caught:
        await client.submit(request, KEY, "job-2")
    assert "Payment Required" in caught.value.message


class TestIdempotentSubmit:
    """A lost answer never buys a second video: retries carry the same Idempotency-Key."""

    async def assert_one_task_one_charge(self, fake: FakeSeedance2AI, attempts: int) -> None:
        posts = fake.posts()
        assert len(posts) == attempts
        assert {p.headers["Idempotency-Key"] for p in posts} == {"job-42"}
        assert all(p.body == posts[0].body for p in posts)
        assert len(fake.tasks) == 1
        assert fake.charges[KEY] == [30]

    async def test_connection_dropped_after_the_task_was_created(
        self, client: Seedance2AIClient, fake: FakeSeedance2AI
    ) -> None:
        fake.inject(Fault("drop_after", method="POST"))
        submission = await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-42")

        await self.assert_one_task_one_charge(fake, attempts=2)
        assert submission.task_id in fake.tasks

    async def test_connection_dropped_before_anything_happened(
        self, client: Seedance2AIClient, fake: FakeSeedance2AI
    ) -> None:
        fake.inject(Fault("drop_before", method="POST"))
        await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-42")

        await self.assert_one_task_one_charge(fake, attempts=2)

    async def test_answer_garbled_after_the_task_was_created(
        self, client: Seedance2AIClient, fake: FakeSeedance2AI
    ) -> None:
        fake.inject(Fault("garbage_after", method="POST"))
        await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-42")

        await self.assert_one_task_one_charge(fake, attempts=2)

    async def test_slow_answer_times_out_and_the_retry_finds_the_same_task(
        self, session: aiohttp.ClientSession, fake: FakeSeedance2AI, sleeps: SleepRecorder
    ) -> None:
        client = make_client(Seedance2AIClient, session, fake, sleeps, timeout=0.2)
        fake.inject(Fault("delay", seconds=0.5, method="POST"))
        submission = await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-42")

        assert submission.task_id in fake.tasks
        assert len(fake.tasks) == 1
        assert fake.charges[KEY] == [30]

    async def test_conflict_while_the_first_attempt_runs_is_waited_out(
        self, client: Seedance2AIClient, fake: FakeSeedance2AI, sleeps: SleepRecorder
    ) -> None:
        conflict = {"error": {"code": "idempotency_conflict", "message": "still running"}}
        fake.inject(Fault("drop_after", method="POST"), Fault("respond", status=409, body=conflict))
        await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-42")

        await self.assert_one_task_one_charge(fake, attempts=3)
        assert len(sleeps.calls) == 2

    async def test_a_resubmit_days_later_with_the_stored_key_buys_nothing(
        self, client: Seedance2AIClient, fake: FakeSeedance2AI
    ) -> None:
        request = Seedance2Request.parse(VIDEO_EXAMPLE)
        first = await client.submit(request, KEY, "job-42")
        again = await client.submit(request, KEY, "job-42")

        assert again.task_id == first.task_id
        await self.assert_one_task_one_charge(fake, attempts=2)


async def test_real_rate_limit_window_is_waited_out(session: aiohttp.ClientSession) -> None:
    # The fake enforces a 2-requests-per-second window; the client must wait, not fail.
    async with FakeSeedance2AI(rate_limit=(2, 1.0), polls_to_finish=10) as fake:
        client = Seedance2AIClient(session, fake.base_url, retry=FAST_RETRY)
        submission = await client.submit(Seedance2Request.parse(VIDEO_EXAMPLE), KEY, "job-1")
        await client.status(submission.task_id, KEY)
        state = await client.status(submission.task_id, KEY)

    assert fake.rate_limited == 1
    assert state.status is TaskStatus.RUNNING


def test_only_its_own_request_models_are_accepted(session: aiohttp.ClientSession) -> None:
    from bot.models import Seed2Request

    client = Seedance2AIClient(session, "https://seedance2ai.io")
    with pytest.raises(TypeError):
        client._check_model(Seed2Request.parse({"prompt": "x"}))
