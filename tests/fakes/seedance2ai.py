"""A fake of seedance2ai.io written from its public API pages (en, nl, ja)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from tests.fakes.base import FakeApi, Task

# Video costs are not published; these only need to be stable so tests can count charges.
_COSTS = {"seedance2": 30, "seedance": 20, "gpt-image-2": 6, "nano-banana-pro": 8}
_CDN = "https://cdn.seedance2ai.test"
_REQUIRED = {
    "seedance2": ("prompt",),
    "seedance": ("prompt",),
    "gpt-image-2": ("type", "prompt", "resolution", "aspectRatio"),
    "nano-banana-pro": ("type", "prompt"),
}


class FakeSeedance2AI(FakeApi):
    """Documented behaviour: Bearer auth, Idempotency-Key dedup, 202 on submit, task polling."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("rate_limit", (30, 60.0))
        super().__init__(**kwargs)
        #: (key, Idempotency-Key) -> (body digest, stored answer or None while in flight)
        self.idempotency: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {}
        self.image_output: dict[str, Any] | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/video/{endpoint}", self.submit)
        app.router.add_post("/api/v1/image/{endpoint}", self.submit)
        app.router.add_get("/api/v1/tasks/{id}", self.task)

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"error": {"code": code, "message": message}}

    async def submit(self, request: web.Request) -> web.Response:
        key = self.key_of(request)
        if key is None:
            return self.error(401, "unauthorized", "Missing, invalid, or revoked API key.")
        endpoint = request.match_info["endpoint"]
        if endpoint not in _COSTS:
            return self.error(404, "not_found", "Unknown endpoint")
        idem = request.headers.get("Idempotency-Key")
        if not idem:
            return self.error(400, "invalid_request", "Idempotency-Key header is required")
        try:
            body = await request.json()
        except ValueError:
            return self.error(400, "invalid_request", "Invalid request body")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        seen = self.idempotency.get((key, idem))
        if seen is not None:
            if seen[0] != digest or seen[1] is None:
                return self.error(
                    409,
                    "idempotency_conflict",
                    "Same Idempotency-Key reused with a different body, or still running.",
                )
            return web.json_response(seen[1], status=202)
        missing = [name for name in _REQUIRED[endpoint] if name not in body]
        if missing or not 3 <= len(str(body.get("prompt", ""))) <= 20_000:
            return self.error(
                400, "invalid_request", f"Invalid request body: {missing or 'prompt'}"
            )
        cost = _COSTS[endpoint] * int(body.get("batchCount", 1))
        if not self.charge(key, cost):
            return self.error(402, "insufficient_credits", "Not enough credits on the balance.")
        self.idempotency[(key, idem)] = (digest, None)
        task = Task(f"sd2_{self.new_id():05d}", key, endpoint, body, cost)
        self.tasks[task.id] = task
        answer = {
            "id": task.id,
            "status": "processing",
            "model": endpoint,
            "quality_tier": body.get("quality_tier", "standard"),
            "channel": body.get("channel", "standard"),
            "credits_used": cost,
        }
        self.idempotency[(key, idem)] = (digest, answer)
        return web.json_response(answer, status=202)

    async def task(self, request: web.Request) -> web.Response:
        key = self.key_of(request)
        if key is None:
            return self.error(401, "unauthorized", "Missing, invalid, or revoked API key.")
        task = self.tasks.get(request.match_info["id"])
        if task is None or task.key != key:
            return self.error(
                404, "not_found", "Task does not exist or does not belong to this key owner."
            )
        self.advance(task)
        return web.json_response(self.task_json(task))

    def task_json(self, task: Task) -> dict[str, Any]:
        status = {"running": "processing", "succeeded": "completed", "failed": "failed"}[
            task.status
        ]
        output: dict[str, Any] | None = None
        if task.status == "succeeded":
            if task.endpoint.startswith("seedance"):
                output = {
                    "video_url": self.media_url(f"{task.id}.mp4", _CDN),
                    "last_frame_url": f"{_CDN}/{task.id}-last.jpg",
                    "seed": 123,
                }
            else:
                count = int(task.body.get("batchCount", 1))
                urls = [self.media_url(f"{task.id}-{i}.png", _CDN) for i in range(count)]
                # As the service answers a batch: the first image alone, then all of them.
                output = self.image_output or {"image_url": urls[0], "image_urls": urls}
        return {
            "id": task.id,
            "status": status,
            "model": task.endpoint,
            "quality_tier": task.body.get("quality_tier", "standard"),
            "channel": task.body.get("channel", "standard"),
            "credits_used": task.cost,
            "credits_refunded": task.cost if task.status == "failed" else 0,
            "output": output,
            "error": {"code": "generation_failed", "message": task.error}
            if task.status == "failed"
            else None,
            "created_at": "2026-06-03T10:00:00.000Z",
            "updated_at": "2026-06-03T10:03:12.000Z",
        }
