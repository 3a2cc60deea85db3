"""Client for seedance2ai.io (its published API pages)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote

from bot.models import (
    GptImage2Request,
    NanoBananaProRequest,
    Provider,
    ProviderRequest,
    Seedance2Request,
    SeedanceRequest,
)
from bot.providers import errors
from bot.providers.http import ProviderClient, as_int, first_text
from bot.providers.seedance2ai_description import SEEDANCE2AI
from bot.providers.state import KeyCheck, Submission, TaskState, TaskStatus

#: Routes below the version path ``/api/v1``.
_PATHS: dict[type[ProviderRequest], str] = {
    Seedance2Request: "/video/seedance2",
    SeedanceRequest: "/video/seedance",
    GptImage2Request: "/image/gpt-image-2",
    NanoBananaProRequest: "/image/nano-banana-pro",
}

_ERROR_CODES: dict[str, type[errors.ProviderError]] = {
    "unauthorized": errors.UnauthorizedError,
    "invalid_request": errors.InvalidRequestError,
    "insufficient_credits": errors.InsufficientCreditsError,
    "rate_limited": errors.RateLimitedError,
    "idempotency_conflict": errors.IdempotencyConflictError,
    "service_busy": errors.ServerError,
    "not_found": errors.NotFoundError,
    "internal_error": errors.ServerError,
}

_STATUSES = {
    "processing": TaskStatus.RUNNING,
    "completed": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
    # Not documented, but cheap to understand should the API start sending them.
    "queued": TaskStatus.QUEUED,
    "pending": TaskStatus.QUEUED,
    "succeeded": TaskStatus.SUCCEEDED,
}


class Seedance2AIClient(ProviderClient):
    provider: ClassVar[Provider] = Provider.SEEDANCE2AI
    version_path: ClassVar[str] = "/api/v1"
    honours_idempotency: ClassVar[bool] = SEEDANCE2AI.honours_idempotency
    request_models: ClassVar[tuple[type[ProviderRequest], ...]] = tuple(_PATHS)

    def _submit_path(self, request: ProviderRequest) -> str:
        return _PATHS[type(request)]

    def _submission(self, payload: dict[str, Any]) -> Submission | None:
        task_id = first_text(payload.get("id"))
        if task_id is None:
            return None
        return Submission(
            task_id=task_id,
            status=_STATUSES.get(str(payload.get("status")), TaskStatus.RUNNING),
            credits_charged=as_int(payload.get("credits_used")),
            raw=payload,
        )

    async def status(self, task_id: str, api_key: str) -> TaskState:
        payload = await self._call("GET", f"/tasks/{quote(task_id, safe='')}", api_key)
        return self._task_state(task_id, payload)

    async def check_key(self, api_key: str) -> KeyCheck:
        return await self._probe_key(api_key, f"/tasks/keycheck_{secrets.token_hex(8)}")

    def _key_check_answer(self, status: int, payload: Any) -> KeyCheck | None:
        """PROVIDERS.md 1.6: ``404 not_found`` accepts, ``401 unauthorized`` rejects, both in the
        documented ``{"error": {"code", "message"}}`` shape."""
        code = _documented_error_code(payload)
        if status == 404 and code == "not_found":
            return KeyCheck.VALID
        if status in (401, 403) and code == "unauthorized":
            return KeyCheck.INVALID
        return None

    def _error_from(
        self, status: int, payload: Any, retry_after: float | None
    ) -> errors.ProviderError | None:
        if status < 400:
            return None
        body = payload.get("error") if isinstance(payload, dict) else None
        code = body.get("code") if isinstance(body, dict) else None
        message = first_text(
            body.get("message") if isinstance(body, dict) else body,
            payload if isinstance(payload, str) else None,
        )
        cls = _ERROR_CODES.get(str(code)) or errors.error_class_for_status(status)
        return self._error(
            cls,
            message or f"HTTP {status}",
            status=status,
            code=code if isinstance(code, str) else None,
            retry_after=retry_after,
        )

    def _task_state(self, task_id: str, payload: dict[str, Any]) -> TaskState:
        status = self._task_status(payload.get("status"), _STATUSES)
        output = payload.get("output")
        output = output if isinstance(output, dict) else {}
        video_url = first_text(output.get("video_url"))
        image_urls = () if video_url else tuple(dict.fromkeys(_image_urls(output)))
        error_code, error_message = _task_error(payload.get("error"))
        if status is TaskStatus.SUCCEEDED and not video_url and not image_urls:
            # Decision (PROVIDERS.md 1.5): never report success without media.
            status = TaskStatus.FAILED
            error_code = error_code or "no_media"
            error_message = "The provider reported success but returned no media."
        return TaskState(
            task_id=str(payload.get("id") or task_id),
            status=status,
            video_url=video_url,
            image_urls=image_urls,
            last_frame_url=first_text(output.get("last_frame_url")),
            seed=as_int(output.get("seed")),
            credits_charged=as_int(payload.get("credits_used")),
            credits_refunded=as_int(payload.get("credits_refunded")),
            error_code=error_code,
            error_message=error_message
            or ("The provider reported a failure." if status is TaskStatus.FAILED else None),
            raw=payload,
        )


def _documented_error_code(payload: Any) -> str | None:
    """The code of a ``{"error": {"code": ..., "message": ...}}`` answer; None for any other."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None
    code, message = error.get("code"), error.get("message")
    return code if isinstance(code, str) and isinstance(message, str) else None


def _task_error(error: Any) -> tuple[str | None, str | None]:
    """Decision (PROVIDERS.md 1.5): ``error`` is a string or an object with code/message."""
    if isinstance(error, dict):
        code = error.get("code")
        return (str(code) if code else None), first_text(error.get("message"), error.get("error"))
    return None, first_text(error)


def _image_urls(output: dict[str, Any]) -> Iterator[str]:
    """Decision (PROVIDERS.md 1.5): the image output shape is undocumented; accept the common ones.

    Every image of a batch counts, whichever of the keys carry them (a batch may come as its
    first image in ``image_url`` and all of them in ``image_urls``); the caller drops repeats.
    Named keys may hold http links too: delivery decides what it fetches.
    """
    found = False
    for key in ("image_url", "image_urls", "images", "url", "urls"):
        for url in _urls_in(output.get(key), shallow=True):
            found = True
            yield url
    if found:
        return
    # Last resort: every https URL anywhere under ``output`` except the video's last frame.
    rest = {key: value for key, value in output.items() if key != "last_frame_url"}
    yield from _urls_in(rest, shallow=False)


def _urls_in(value: Any, *, shallow: bool) -> Iterator[str]:
    if isinstance(value, str):
        # Named keys (shallow) are media links by name; a deep search trusts only https.
        if value.startswith("https://") or (shallow and value.startswith("http://")):
            yield value
    elif isinstance(value, list):
        for item in value:
            yield from _urls_in(item, shallow=shallow)
    elif isinstance(value, dict):
        if shallow:
            yield from _urls_in(value.get("url"), shallow=True)
        else:
            for item in value.values():
                yield from _urls_in(item, shallow=False)
