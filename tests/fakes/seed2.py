"""A fake of api.seed2.io written from its README."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.base import FakeApi, Task

# Credits per second from the README: model -> (text/image only, with video or audio refs).
_PER_SECOND = {"seedance_2.0_fast": (580, 1160), "seedance_2.0": (1160, 2320)}


class FakeSeed2(FakeApi):
    """Envelope ``{"code": 0, "message": "ok", "data": ...}``; integer task ids; auto refunds."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("keys", {"sk-s2-testkey000001": 10_000})
        super().__init__(**kwargs)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/video/generate", self.generate)
        app.router.add_get("/v1/tasks/{id}", self.task)

    def error_body(self, status: int, code: str, message: str) -> Any:
        return {"code": status, "message": message, "data": None}

    async def generate(self, request: web.Request) -> web.Response:
        key = self.key_of(request)
        if key is None:
            return self.error(401, "unauthorized", "invalid api key")
        body = await request.json()
        duration = body.get("duration", 5)
        model = body.get("model", "seedance_2.0_fast")
        if not isinstance(duration, int) or not 4 <= duration <= 15 or model not in _PER_SECOND:
            return self.error(400, "invalid", "invalid parameters")
        plain, refs = _PER_SECOND[model]
        cost = (refs if body.get("video_files") or body.get("audio_files") else plain) * duration
        if not self.charge(key, cost):
            # Undocumented: the README never shows an error; a 200 with a non-zero code is common.
            return web.json_response(
                {"code": 1002, "message": "insufficient points balance", "data": None}
            )
        task = Task(str(455 + self.new_id()), key, "generate", body, cost)
        self.tasks[task.id] = task
        data = {
            "task_id": int(task.id),
            "status": "pending",
            "points_cost": cost,
            "balance": self.credits[key],
        }
        return web.json_response({"code": 0, "message": "ok", "data": data})

    async def task(self, request: web.Request) -> web.Response:
        key = self.key_of(request)
        if key is None:
            return self.error(401, "unauthorized", "invalid api key")
        task = self.tasks.get(request.match_info["id"])
        if task is None or task.key != key:
            return self.error(404, "not_found", "task not found")
        self.advance(task)
        if task.status == "running":
            status = "pending" if task.polls <= 1 else "processing"
        else:
            status = {"succeeded": "completed", "failed": "failed"}[task.status]
        data: dict[str, Any] = {"id": int(task.id), "status": status, "points_cost": task.cost}
        if task.status == "succeeded":
            data["result"] = {
                "video_url": self.media_url(f"{task.id}.mp4", "https://cdn.seed2.io/videos"),
                "duration": task.body.get("duration", 5),
            }
        if task.status == "failed":
            data["error"] = task.error
        return web.json_response({"code": 0, "message": "ok", "data": data})
