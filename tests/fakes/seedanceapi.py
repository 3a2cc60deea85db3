"""A fake of seedanceapi.org written from its developer guide."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.base import FakeApi, Task

# The guide's price list, row by row: resolution -> {duration: (no audio, with audio)}.
_PRICE_LIST = {
    "480p": {"4": (8, 14), "8": (14, 28), "12": (19, 38)},
    "720p": {"4": (14, 28), "8": (28, 56), "12": (42, 84)},
}
_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}


@dataclass
class SentCallback:
    """One POST the fake made to a task's ``callback_url``, and how the receiver answered."""

    url: str
    body: dict[str, Any]
    #: The receiver's HTTP status, or None when it could not be reached.
    status: int | None


class FakeSeedanceApi(FakeApi):
    """Envelope ``{"code", "message", "data"}``; error codes in ``data.error_code``; no idempotency.

    A task finishes on its ``polls_to_finish``-th poll, when a test calls :meth:`finish`, or,
    with ``render_seconds``, that many (real) seconds after it was created, polled or not
    (``0``: at once, before the generate answer leaves). When a task with a ``callback_url``
    finishes, the fake POSTs the final status to it (the guide: "the API will send the result to
    your callback URL"; the body is not documented further, so it is the status answer's
    envelope), unless ``send_callbacks`` is off.
    """

    prefix = "/v1"

    def __init__(
        self, *, render_seconds: float | None = None, send_callbacks: bool = True, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.render_seconds = render_seconds
        self.send_callbacks = send_callbacks
        self.callbacks: list[SentCallback] = []
        #: Task id -> when it finished (``time.time()``), to measure how late a result is shown.
        self.finished_at: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FakeSeedanceApi:
        await super().__aenter__()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5.0))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        await super().__aexit__(*exc)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/generate", self.generate)
        app.router.add_get("/v1/status", self.status)

    def error_body(self, status: int, code: str, message: str) -> Any:
        # The guide lists codes but no error body; this is one of the shapes the client accepts.
        return {"code": status, "message": message, "data": {"error_code": code}}

    def on_failed(self, task: Task) -> None:
        # "Failed generations do not consume credits."
        self.refund(task)

    def _invalid(self, body: dict[str, Any]) -> tuple[str, str] | None:
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > 2000:
            return "INVALID_PROMPT", "The prompt is invalid or empty"
        if body.get("aspect_ratio", "1:1") not in _RATIOS:
            return "INVALID_ASPECT_RATIO", "Unsupported aspect ratio value"
        if body.get("resolution", "720p") not in _PRICE_LIST:
            return "INVALID_RESOLUTION", "Resolution must be 480p or 720p"
        if body.get("duration", "8") not in _PRICE_LIST["720p"]:
            return "INVALID_DURATION", "Duration must be 4, 8, or 12 seconds"
        if len(body.get("image_urls") or []) > 1:
            return "TOO_MANY_IMAGES", "Maximum 1 image URL allowed in image_urls array"
        return None

    async def generate(self, request: web.Request) -> web.Response:
        key = self.key_of(request)
        if key is None:
            return self.error(401, "INVALID_API_KEY", "API key is missing or invalid")
        body = await request.json()
        invalid = self._invalid(body)
        if invalid:
            return self.error(400, *invalid)
        plain, audio = _PRICE_LIST[body.get("resolution", "720p")][body.get("duration", "8")]
        cost = audio if body.get("generate_audio") else plain
        if not self.charge(key, cost):
            return self.error(402, "INSUFFICIENT_CREDITS", "Not enough credits for this operation")
        task = Task(f"seed15{self.new_id():08x}pro", key, "generate", body, cost)
        self.tasks[task.id] = task
        if self.render_seconds == 0:
            self._render_done(task)
            await self._call_back(task)  # the callback may come before the generate answer
        elif self.render_seconds is not None:
            self._in_background(self._render(task, self.render_seconds))
        return web.json_response(
            {
                "code": 200,
                "message": "success",
                "data": {"task_id": task.id, "status": "IN_PROGRESS"},
            }
        )

    async def status(self, request: web.Request) -> web.Response:
        key = self.key_of(request)
        if key is None:
            return self.error(401, "INVALID_API_KEY", "API key is missing or invalid")
        task = self.tasks.get(request.query.get("task_id", ""))
        if task is None or task.key != key:
            return self.error(
                404, "TASK_NOT_FOUND", "Task ID not found or does not belong to your account"
            )
        self.advance(task)
        return web.json_response({"code": 200, "message": "success", "data": self._data(task)})

    def _data(self, task: Task) -> dict[str, Any]:
        """The ``data`` of the status answer (and of the callback) for ``task`` as it is now."""
        status = {"running": "IN_PROGRESS", "succeeded": "SUCCESS", "failed": "FAILED"}[task.status]
        return {
            "task_id": task.id,
            "status": status,
            "consumed_credits": task.cost if task.status != "failed" else 0,
            "created_at": "2026-02-07T10:30:00Z",
            "request": {
                k: task.body[k]
                for k in ("prompt", "aspect_ratio", "resolution", "duration")
                if k in task.body
            },
            "response": [self.media_url(f"{task.id}.mp4", "https://cdn.example.com/videos")]
            if task.status == "succeeded"
            else [],
            "error_message": task.error,
        }

    # -- finishing by time, and calling back -------------------------------------------------

    def advance(self, task: Task) -> None:
        if self.render_seconds is not None:
            task.polls += 1  # finished by time, not by polls
            return
        running = task.status == "running"
        super().advance(task)
        if running and task.status != "running":
            self._finished(task)

    def finish(self, task_id: str, *, fail: str | None = None) -> None:
        running = self.tasks[task_id].status == "running"
        super().finish(task_id, fail=fail)
        if running:
            self._finished(self.tasks[task_id])

    async def _render(self, task: Task, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if task.status == "running":
            self._render_done(task)
            await self._call_back(task)

    def _render_done(self, task: Task) -> None:
        if self.outcome == "fail":
            task.status, task.error = "failed", "content policy violation"
            self.on_failed(task)
            task.refunded = True
        else:
            task.status = "succeeded"
        self.finished_at[task.id] = time.time()

    def _finished(self, task: Task) -> None:
        """A task finished by a poll or by the test: its callback goes out in the background."""
        self.finished_at[task.id] = time.time()
        self._in_background(self._call_back(task))

    async def _call_back(self, task: Task) -> None:
        url = task.body.get("callback_url")
        if not self.send_callbacks or not isinstance(url, str) or self._session is None:
            return
        body = {"code": 200, "message": "success", "data": self._data(task)}
        try:
            async with self._session.post(url, json=body) as answer:
                status: int | None = answer.status
        except (aiohttp.ClientError, TimeoutError):
            status = None
        self.callbacks.append(SentCallback(url, body, status))

    def _in_background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
