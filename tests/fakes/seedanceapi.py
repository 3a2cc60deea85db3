"""A fake of seedanceapi.org written from its developer guide."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.base import FakeApi, Task

# The guide's price list, row by row: resolution -> {duration: (no audio, with audio)}.
_PRICE_LIST = {
    "480p": {"4": (8, 14), "8": (14, 28), "12": (19, 38)},
    "720p": {"4": (14, 28), "8": (28, 56), "12": (42, 84)},
}
_RATIOS = {"1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"}


class FakeSeedanceApi(FakeApi):
    """Envelope ``{"code", "message", "data"}``; error codes in ``data.error_code``; no idempotency."""

    prefix = "/v1"

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
        status = {"running": "IN_PROGRESS", "succeeded": "SUCCESS", "failed": "FAILED"}[task.status]
        data = {
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
        return web.json_response({"code": 200, "message": "success", "data": data})
