"""Provider callbacks end to end: seedanceapi's ``callback_url`` pointing at the bot's real HTTP
server on 127.0.0.1, the engine on a real SQLite file, and the local seedanceapi fake POSTing the
final status there when a task finishes.

A callback is not signed, so it is never believed: it only makes the engine ask the provider once,
through the key's budget, and that status answer delivers the result as usual. Slow polling stays
as the fallback for a callback that never comes.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest

from bot.jobs import CallbackUrls, Clock, JobEngine, PollPlan, ScaledClock
from bot.jobs.errors import PROVIDER_TIMEOUT
from bot.metrics import Metrics
from bot.models import SeedanceApiRequest
from bot.storage import Database, JobState
from bot.web import HealthCheck, WebServer, build_app, callback_routes
from tests.fakes.base import Fault, Recorded
from tests.fakes.seedanceapi import FakeSeedanceApi
from tests.jobs.conftest import KEYS, SPEED, Harness, RecordingPort, fast_config

OWNER = 501
PROVIDER = "seedanceapi"
HOST = "127.0.0.1"
REQUEST = SeedanceApiRequest.parse({"prompt": "Mountains at sunrise"})
#: seedanceapi's prior for this request (720p, 8 s): 40 + 10 * 8 seconds.
EXPECTED = 120.0


class EngineReceiver:
    """The HTTP server's way into whichever engine runs now (a test may restart it)."""

    def __init__(self) -> None:
        self.engine: JobEngine | None = None

    async def job_for_callback(self, provider: str, token: str) -> int | None:
        assert self.engine is not None
        return await self.engine.job_for_callback(provider, token)

    def notify_callback(self, job_id: int) -> bool:
        assert self.engine is not None
        return self.engine.notify_callback(job_id)


@dataclass
class Rig:
    harness: Harness
    fake: FakeSeedanceApi
    receiver: EngineReceiver
    http: aiohttp.ClientSession
    base: str = ""
    server: WebServer | None = None
    submitted_at: dict[int, float] = field(default_factory=dict)

    async def start(self) -> JobEngine:
        engine = await self.harness.start()
        self.receiver.engine = engine
        await self.harness.link(OWNER, PROVIDER)
        return engine

    async def restart(self) -> JobEngine:
        await self.harness.crash()
        return await self.start()

    async def enqueue(self) -> int:
        assert self.harness.engine is not None
        job = await self.harness.engine.enqueue(owner_id=OWNER, request=REQUEST)
        return job.id

    async def running(self, job_id: int) -> str:
        """The job's task id, once the provider accepted it."""
        job = await self.harness.wait_state(job_id, JobState.RUNNING, *_ENDED)
        assert job.remote_task_id is not None
        return job.remote_task_id

    def status_requests(self, task_id: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.fake.requests
            if r.method == "GET"
            and r.path.endswith("/status")
            and (task_id is None or r.query.get("task_id") == task_id)
        ]

    def callback_url(self, task_id: str) -> str:
        url = self.fake.tasks[task_id].body["callback_url"]
        assert isinstance(url, str)
        return url

    async def post(self, url: str, body: Any = None) -> int:
        async with self.http.post(url, json=body or {"code": 200, "data": {}}) as answer:
            return answer.status


_ENDED = (JobState.SUCCEEDED, JobState.FAILED, JobState.DELIVERED)

MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig(tmp_path: Path, session: aiohttp.ClientSession) -> AsyncIterator[MakeRig]:
    """A rig: the seedanceapi fake (``fake`` options), the bot's HTTP server with the callback
    route, and an engine whose jobs carry callback URLs pointing at it (unless ``callbacks``
    is False). ``clock`` defaults to real time, so "within a second" means what it says."""
    made: list[tuple[Rig, FakeSeedanceApi]] = []

    async def make(
        *,
        clock: Clock | None = None,
        callbacks: bool = True,
        config: dict[str, Any] | None = None,
        **fake_options: Any,
    ) -> Rig:
        fake_options.setdefault("polls_to_finish", 10**9)
        fake = FakeSeedanceApi(keys={KEYS[PROVIDER]: 10_000_000}, **fake_options)
        await fake.__aenter__()
        harness = Harness(
            tmp_path / f"bot{len(made)}.sqlite3",
            session,
            {PROVIDER: fake},
            RecordingPort(),
            fast_config(**(config or {})),
            clock=cast(ScaledClock, clock or Clock()),  # the engine takes any Clock
        )
        receiver = EngineReceiver()
        rig = Rig(harness, fake, receiver, session)
        made.append((rig, fake))
        health = HealthCheck(
            gateway_connected=lambda: True,
            database_writable=lambda: True,
            engine_alive=lambda: True,
        )
        server = WebServer(
            build_app(health=health, metrics=Metrics(), extra_routes=callback_routes(receiver))
        )
        await server.start(HOST, 0)
        rig.server = server
        rig.base = f"http://{HOST}:{server.port}"
        if callbacks:
            # Plain http on loopback only because the test says so; PUBLIC_URL must be https.
            harness.callbacks = CallbackUrls(rig.base, allow_http=True)
        await rig.start()
        return rig

    yield make
    for rig, fake in made:
        await rig.harness.stop()
        if rig.server is not None:
            await rig.server.stop()
        await fake.__aexit__(None, None, None)


async def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


# -- a callback brings the result at once ------------------------------------------------------


async def test_a_callback_delivers_the_result_within_a_second_with_few_status_requests(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(render_seconds=0.5)
    job_ids = [await rig.enqueue(), await rig.enqueue()]
    # Real time, and the first fallback poll is due minutes away: only a callback can be this fast.
    for job_id in job_ids:
        await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=5.0)
    urls = set()
    for job_id in job_ids:
        job = await rig.harness.job(job_id)
        assert job.remote_task_id is not None
        assert job.delivered_at is not None
        task_id = job.remote_task_id
        lag = job.delivered_at - rig.fake.finished_at[task_id]
        assert 0 <= lag <= 1.0, f"job {job_id} shown {lag:.2f}s after the provider finished"
        assert job.video_url == f"https://cdn.example.com/videos/{task_id}.mp4"
        assert len(rig.status_requests(task_id)) <= 3
        urls.add(rig.callback_url(task_id))
    assert len(rig.status_requests()) <= 3 * len(job_ids)
    assert rig.harness.port.visible == {job_id: 1 for job_id in job_ids}
    # Each job its own unguessable URL; each callback answered at once, without a body to read.
    assert len(urls) == len(job_ids)
    for url in urls:
        prefix = f"{rig.base}/callbacks/{PROVIDER}/"
        assert url.startswith(prefix)
        assert len(url.removeprefix(prefix)) >= 43  # secrets.token_urlsafe(32)
    assert [c.status for c in rig.fake.callbacks] == [202, 202]


async def test_only_a_digest_of_the_token_is_stored_with_the_job(make_rig: MakeRig) -> None:
    rig = await make_rig()
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    token = rig.callback_url(task_id).rsplit("/", 1)[-1]
    job = await rig.harness.job(job_id)
    assert job.callback_token_hash == hashlib.sha256(token.encode()).hexdigest()
    # Nowhere in the row, nor in the request kept for Details and re-rolls.
    database = rig.harness.database
    assert isinstance(database, Database)
    async with database.connection.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    assert not any(token in str(value) for value in tuple(row))
    assert "callback_url" not in job.request


async def test_a_callback_that_comes_before_the_submit_answer_is_not_lost(
    make_rig: MakeRig,
) -> None:
    # The task finishes at once and its callback arrives while the job is still being sent.
    rig = await make_rig(render_seconds=0)
    job_id = await rig.enqueue()
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=5.0)
    assert job.remote_task_id is not None
    assert job.delivered_at is not None
    assert [c.status for c in rig.fake.callbacks] == [202]
    assert job.delivered_at - rig.fake.finished_at[job.remote_task_id] <= 1.0
    assert len(rig.status_requests()) == 1


async def test_a_callback_after_a_restart_still_finds_its_job(make_rig: MakeRig) -> None:
    rig = await make_rig()
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    await rig.restart()
    rig.fake.finish(task_id)
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=5.0)
    assert job.delivered_at is not None
    assert job.delivered_at - rig.fake.finished_at[task_id] <= 1.0
    assert [c.status for c in rig.fake.callbacks] == [202]


async def test_a_callback_during_a_status_request_that_saw_it_running_is_not_lost(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(config={"callback_min_gap": 0.1})
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    # The next status answer is made at once ("still rendering") but held back for 0.5 s...
    rig.fake.inject(Fault("delay_after", seconds=0.5, path="/status"))
    assert await rig.post(rig.callback_url(task_id)) == 202
    await wait_until(lambda: len(rig.status_requests(task_id)) == 1)
    # ... and meanwhile the task finishes and the provider calls back.
    rig.fake.finish(task_id)
    await wait_until(lambda: len(rig.fake.callbacks) == 1)
    assert rig.fake.callbacks[0].status == 202
    # The answer that said "running" does not push the result a minute away.
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=3.0)
    assert job.delivered_at is not None
    assert job.delivered_at - rig.fake.finished_at[task_id] <= 1.0
    assert len(rig.status_requests(task_id)) == 2


# -- what a callback may not do ----------------------------------------------------------------


async def test_a_forged_callback_is_404_and_sends_no_request(make_rig: MakeRig) -> None:
    rig = await make_rig()
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    url = rig.callback_url(task_id)
    token = url.rsplit("/", 1)[-1]
    before = len(rig.fake.requests)
    forged = [
        f"{rig.base}/callbacks/{PROVIDER}/{secrets.token_urlsafe(32)}",
        url[:-1] + ("A" if url[-1] != "A" else "B"),  # one character off
        f"{rig.base}/callbacks/seed2/{token}",  # the right token for another provider
        f"{rig.base}/callbacks/{PROVIDER}/{token[:10]}",
        f"{rig.base}/callbacks/{PROVIDER}/{'x' * 5000}",
        f"{rig.base}/callbacks/{PROVIDER}/",
    ]
    for forgery in forged:
        # Even one that claims the task succeeded, with a result of its choosing.
        body = {"code": 200, "data": {"task_id": task_id, "status": "SUCCESS",
                                      "response": ["https://evil.example/x.mp4"]}}  # fmt: skip
        assert await rig.post(forgery, body) == 404, forgery
    async with rig.http.get(url) as answer:
        assert answer.status == 405
    await asyncio.sleep(0.3)
    assert rig.fake.requests[before:] == []
    assert (await rig.harness.job(job_id)).state is JobState.RUNNING
    # The genuine one is accepted, and makes exactly one status request.
    assert await rig.post(url) == 202
    await wait_until(lambda: len(rig.status_requests(task_id)) == 1)


async def test_a_callback_never_believes_its_body(make_rig: MakeRig) -> None:
    rig = await make_rig()
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    lie = {"code": 200, "data": {"task_id": task_id, "status": "SUCCESS",
                                 "response": ["https://evil.example/x.mp4"]}}  # fmt: skip
    assert await rig.post(rig.callback_url(task_id), lie) == 202
    await wait_until(lambda: len(rig.status_requests(task_id)) == 1)
    await asyncio.sleep(0.2)
    job = await rig.harness.job(job_id)
    assert job.state is JobState.RUNNING  # the provider said it is still rendering
    assert job.video_url is None


async def test_repeated_callbacks_make_at_most_one_extra_status_request_per_interval(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(config={"callback_min_gap": 1.0})
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    url = rig.callback_url(task_id)

    def asked() -> int:
        return len(rig.status_requests(task_id))

    # A burst: one request at once; those that came after it started fold into one more, a
    # whole interval later.
    answers = await asyncio.gather(*(rig.post(url) for _ in range(10)))
    assert answers == [202] * 10
    await asyncio.sleep(0.5)
    assert asked() == 1
    await asyncio.sleep(1.0)
    burst = asked()
    assert burst in (1, 2)
    await asyncio.sleep(1.1)  # past the interval: the next callback is asked about at once
    assert await rig.post(url) == 202
    await wait_until(lambda: asked() == burst + 1, seconds=2.0)
    # Its request has been made; one more callback within the interval waits for its end.
    assert await rig.post(url) == 202
    await asyncio.sleep(0.5)
    assert asked() == burst + 1
    await wait_until(lambda: asked() == burst + 2, seconds=2.0)
    await asyncio.sleep(1.2)
    assert asked() == burst + 2
    assert (await rig.harness.job(job_id)).state is JobState.RUNNING


async def test_the_status_request_after_a_callback_waits_for_the_keys_budget(
    make_rig: MakeRig,
) -> None:
    # One request per 2 s for the key: the submit spends it; the callback comes 0.2 s later.
    rig = await make_rig(render_seconds=0.2, config={"default_budget": (1, 2.0)})
    job_id = await rig.enqueue()
    task_id = await rig.running(job_id)
    await wait_until(lambda: len(rig.fake.callbacks) == 1)
    assert rig.fake.callbacks[0].status == 202
    await asyncio.sleep(1.0)
    assert rig.status_requests(task_id) == []  # still within the window of the submit
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=5.0)
    assert job.delivered_at is not None
    assert job.submitted_at is not None
    assert job.delivered_at - job.submitted_at >= 2.0
    assert len(rig.status_requests(task_id)) == 1


# -- when no callback comes --------------------------------------------------------------------


async def test_a_callback_that_never_comes_is_covered_by_fallback_polling(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(
        clock=ScaledClock(SPEED), render_seconds=0.05, send_callbacks=False
    )  # 50 simulated seconds
    job_id = await rig.enqueue()
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=10.0)
    assert job.remote_task_id is not None
    assert rig.callback_url(job.remote_task_id).startswith(f"{rig.base}/callbacks/")
    assert rig.fake.callbacks == []
    assert rig.harness.port.visible[job_id] == 1
    assert len(rig.status_requests(job.remote_task_id)) <= 3


async def test_while_a_callback_is_expected_polls_are_a_minute_apart_until_the_deadline(
    make_rig: MakeRig,
) -> None:
    speed = 200.0
    plan = PollPlan(min_deadline=330.0, deadline_factor=2.0)  # deadline: 330 s after submit
    rig = await make_rig(clock=ScaledClock(speed), send_callbacks=False, config={"plan": plan})
    job_id = await rig.enqueue()
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=10.0)
    assert job.error_code == PROVIDER_TIMEOUT
    assert job.finished_at is not None
    assert job.submitted_at is not None
    # Polls at the expected finish plus a minute, then a minute apart (180, 240, 300 s), not
    # every 6-9 s...
    assert len(rig.status_requests()) <= 5
    # ... and one at the deadline itself, not at 360 s.
    assert job.finished_at - job.submitted_at <= 330.0 + 15.0


async def test_without_callbacks_no_callback_url_is_sent_and_polling_is_as_usual(
    make_rig: MakeRig,
) -> None:
    rig = await make_rig(clock=ScaledClock(SPEED), callbacks=False, render_seconds=0.2)
    job_id = await rig.enqueue()
    job = await rig.harness.wait_state(job_id, JobState.DELIVERED, seconds=10.0)
    assert job.remote_task_id is not None
    assert "callback_url" not in rig.fake.tasks[job.remote_task_id].body
    assert job.callback_token_hash is None
    # Ordinary polling: the first at half the expected time, then every 6-9 s.
    assert len(rig.status_requests()) > 5
    assert await rig.post(f"{rig.base}/callbacks/{PROVIDER}/{secrets.token_urlsafe(32)}") == 404


async def test_callback_urls_must_be_https_unless_a_test_says_otherwise() -> None:
    with pytest.raises(ValueError, match="https"):
        CallbackUrls("http://bot.example.com")
    urls = CallbackUrls("https://bot.example.com/seedance/")
    url, digest = urls.issue(PROVIDER)
    token = url.removeprefix(f"https://bot.example.com/seedance/callbacks/{PROVIDER}/")
    assert len(token) >= 43
    assert "/" not in token
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert urls.issue(PROVIDER)[0] != url
    assert CallbackUrls("http://127.0.0.1:8080", allow_http=True).base == "http://127.0.0.1:8080"
