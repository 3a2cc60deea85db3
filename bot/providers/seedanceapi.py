"""Client for seedanceapi.org (its published API guide)."""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from bot.models import Provider, ProviderRequest, SeedanceApiRequest
from bot.providers import errors
from bot.providers.http import ProviderClient, as_int, envelope_data, first_text
from bot.providers.seedanceapi_description import PRICES, SEEDANCEAPI, USD_PER_CREDIT
from bot.providers.state import CostEstimate, KeyCheck, Submission, TaskState, TaskStatus

_ERROR_CODES: dict[str, type[errors.ProviderError]] = {
    "INVALID_PROMPT": errors.InvalidRequestError,
    "INVALID_ASPECT_RATIO": errors.InvalidRequestError,
    "INVALID_RESOLUTION": errors.InvalidRequestError,
    "INVALID_DURATION": errors.InvalidRequestError,
    "TOO_MANY_IMAGES": errors.InvalidRequestError,
    "INVALID_API_KEY": errors.UnauthorizedError,
    "INSUFFICIENT_CREDITS": errors.InsufficientCreditsError,
    "TASK_NOT_FOUND": errors.NotFoundError,
    "INTERNAL_ERROR": errors.ServerError,
}

_STATUSES = {
    "IN_PROGRESS": TaskStatus.RUNNING,
    "SUCCESS": TaskStatus.SUCCEEDED,
    "FAILED": TaskStatus.FAILED,
    "PENDING": TaskStatus.QUEUED,
}


class SeedanceApiClient(ProviderClient):
    provider: ClassVar[Provider] = Provider.SEEDANCEAPI
    version_path: ClassVar[str] = "/v1"
    # The guide documents no Idempotency-Key: a lost submit answer is never re-sent blindly.
    honours_idempotency: ClassVar[bool] = SEEDANCEAPI.honours_idempotency
    request_models: ClassVar[tuple[type[ProviderRequest], ...]] = (SeedanceApiRequest,)
    # "callback_url ... Webhook URL for async status notifications" (the guide).
    callback_field: ClassVar[str | None] = "callback_url"

    def _submit_path(self, request: ProviderRequest) -> str:
        return "/generate"

    def _submission(self, payload: dict[str, Any]) -> Submission | None:
        data = envelope_data(payload)
        task_id = first_text(data.get("task_id"))
        if task_id is None:
            return None
        return Submission(
            task_id=task_id,
            status=_STATUSES.get(str(data.get("status")), TaskStatus.RUNNING),
            raw=payload,
        )

    async def status(self, task_id: str, api_key: str) -> TaskState:
        payload = await self._call("GET", "/status", api_key, params={"task_id": task_id})
        data = envelope_data(payload)
        status = self._task_status(data.get("status"), _STATUSES)
        response = data.get("response")
        urls = (
            [u for u in response if isinstance(u, str) and u] if isinstance(response, list) else []
        )
        video_url = urls[0] if urls else None
        error_message = first_text(data.get("error_message"))
        charged = as_int(data.get("consumed_credits"))
        if status is TaskStatus.FAILED:
            # "Failed generations do not consume credits."
            charged = 0
            error_message = error_message or "The provider reported a failure."
        elif status is TaskStatus.SUCCEEDED and video_url is None:
            # A SUCCESS without a video is an error for the user, but the provider did not fail
            # the generation: its consumed_credits stand (they were charged).
            status, error_message = (
                TaskStatus.FAILED,
                "The provider reported success but returned no video.",
            )
        return TaskState(
            task_id=first_text(data.get("task_id")) or task_id,
            status=status,
            video_url=video_url,
            credits_charged=charged,
            error_message=error_message,
            raw=payload,
        )

    async def check_key(self, api_key: str) -> KeyCheck:
        probe = {"task_id": f"keycheck{secrets.token_hex(8)}"}
        return await self._probe_key(api_key, "/status", probe)

    def _key_check_answer(self, status: int, payload: Any) -> KeyCheck | None:
        """The guide: ``404 TASK_NOT_FOUND`` accepts, ``401 INVALID_API_KEY`` rejects. The code
        must come in a JSON answer, where the PROVIDERS.md 2.3 decision reads codes from."""
        if not isinstance(payload, dict):
            return None
        envelope_code = as_int(payload.get("code"))
        effective = status if status >= 400 else envelope_code or status
        code = _error_code(payload)
        if effective == 404 and code == "TASK_NOT_FOUND":
            return KeyCheck.VALID
        if effective in (401, 403) and code == "INVALID_API_KEY":
            return KeyCheck.INVALID
        return None

    def estimate_cost(self, request: ProviderRequest) -> CostEstimate:
        self._check_model(request)
        assert isinstance(request, SeedanceApiRequest)
        credits = PRICES[(request.resolution, request.duration, request.generate_audio)]
        return CostEstimate(credits, credits * USD_PER_CREDIT)

    def _error_from(
        self, status: int, payload: Any, retry_after: float | None
    ) -> errors.ProviderError | None:
        envelope_code = as_int(payload.get("code")) if isinstance(payload, dict) else None
        if status < 400 and (envelope_code is None or envelope_code < 400):
            return None
        effective = status if status >= 400 else envelope_code or status
        code = _error_code(payload)
        cls = _ERROR_CODES.get(code or "") or errors.error_class_for_status(effective)
        message = _error_message(payload, code) or f"HTTP {effective}"
        return self._error(cls, message, status=effective, code=code, retry_after=retry_after)


def _error_code(payload: Any) -> str | None:
    """Decision (PROVIDERS.md 2.3): the code may sit in message, code, error, error.code or
    data.error_code; the first documented code found wins."""
    if not isinstance(payload, dict):
        text = str(payload or "")
        return next((c for c in _ERROR_CODES if c in text), None)
    error = payload.get("error")
    data = payload.get("data")
    candidates = (
        payload.get("message"),
        payload.get("code"),
        error.get("code") if isinstance(error, dict) else error,
        data.get("error_code") if isinstance(data, dict) else None,
    )
    for candidate in candidates:
        if isinstance(candidate, str):
            for code in _ERROR_CODES:
                if code in candidate.upper():
                    return code
    return None


def _error_message(payload: Any, code: str | None) -> str | None:
    if not isinstance(payload, dict):
        return first_text(payload)
    error, data = payload.get("error"), payload.get("data")
    message = first_text(
        error.get("message") if isinstance(error, dict) else None,
        data.get("error_message") if isinstance(data, dict) else None,
        payload.get("message"),
        error,
    )
    if message and code and message != code:
        return message
    return message or code
