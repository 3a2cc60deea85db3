"""Client for api.seed2.io (its published README)."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

from bot.models import Provider, ProviderRequest, Seed2Request
from bot.providers import errors
from bot.providers.http import ProviderClient, as_int, envelope_data, first_text
from bot.providers.seed2_description import CREDITS_PER_USD, RATES, SEED2
from bot.providers.state import CostEstimate, KeyCheck, Submission, TaskState, TaskStatus

_STATUSES = {
    "pending": TaskStatus.QUEUED,
    "processing": TaskStatus.RUNNING,
    "completed": TaskStatus.SUCCEEDED,
    "failed": TaskStatus.FAILED,
}

_CREDIT_WORDS = re.compile(r"\b(credits?|balance|points?)\b", re.IGNORECASE)
# Not "token": "prompt exceeds the token limit" is no reason to relink a key.
_AUTH_WORDS = re.compile(r"api[ _-]?key|unauthori[sz]ed|forbidden", re.IGNORECASE)
_NOT_FOUND_WORDS = re.compile(r"not[ _-]?found|does not exist|no such", re.IGNORECASE)


class Seed2Client(ProviderClient):
    provider: ClassVar[Provider] = Provider.SEED2
    version_path: ClassVar[str] = "/v1"
    # The README documents no Idempotency-Key: a lost submit answer is never re-sent blindly.
    honours_idempotency: ClassVar[bool] = SEED2.honours_idempotency
    request_models: ClassVar[tuple[type[ProviderRequest], ...]] = (Seed2Request,)

    def _submit_path(self, request: ProviderRequest) -> str:
        return "/video/generate"

    def _submission(self, payload: dict[str, Any]) -> Submission | None:
        data = envelope_data(payload)
        task_id = as_int(data.get("task_id"))
        if task_id is None:
            return None
        return Submission(
            task_id=str(task_id),
            status=_STATUSES.get(str(data.get("status")), TaskStatus.QUEUED),
            credits_charged=as_int(data.get("points_cost")),
            balance=as_int(data.get("balance")),
            raw=payload,
        )

    async def status(self, task_id: str, api_key: str) -> TaskState:
        payload = await self._call("GET", f"/tasks/{quote(task_id, safe='')}", api_key)
        data = envelope_data(payload)
        status = self._task_status(data.get("status"), _STATUSES)
        result = data.get("result")
        result = result if isinstance(result, dict) else {}
        video_url = first_text(result.get("video_url"))
        cost = as_int(data.get("points_cost"))
        error_message = None
        # "If a task fails, credits are automatically refunded" - only when the provider says so.
        refunded = cost if status is TaskStatus.FAILED else None
        if status is TaskStatus.SUCCEEDED and video_url is None:
            status, error_message = (
                TaskStatus.FAILED,
                "The provider reported success but returned no video.",
            )
        if status is TaskStatus.FAILED:
            # The message field of a failed task is undocumented; take the first one present.
            error_message = error_message or first_text(
                data.get("error"),
                data.get("error_message"),
                data.get("fail_reason"),
                data.get("message"),
                "The provider reported a failure.",
            )
        return TaskState(
            task_id=str(as_int(data.get("id")) or task_id),
            status=status,
            video_url=video_url,
            credits_charged=cost,
            credits_refunded=refunded,
            error_message=error_message,
            raw=payload,
        )

    async def check_key(self, api_key: str) -> KeyCheck:
        # Task ids are small positive integers, so a huge random one cannot be a real task.
        probe = 9_000_000_000_000 + secrets.randbelow(10**12)
        return await self._probe_key(api_key, f"/tasks/{probe}")

    def _key_check_answer(self, status: int, payload: Any) -> KeyCheck | None:
        """The README documents every answer as the ``{"code", "message", "data"}`` envelope but
        no error; so only that envelope, carrying an error, is a verdict: not found accepts,
        401/403 rejects (PROVIDERS.md section 3 decision)."""
        if not isinstance(payload, dict):
            return None
        code, message = as_int(payload.get("code")), payload.get("message")
        if code is None or code == 0 or not isinstance(message, str):
            return None
        cls = _classify(status, code, message)
        if cls is errors.NotFoundError:
            return KeyCheck.VALID
        if cls is errors.UnauthorizedError:
            return KeyCheck.INVALID
        return None

    def estimate_cost(self, request: ProviderRequest) -> CostEstimate:
        self._check_model(request)
        assert isinstance(request, Seed2Request)
        plain, with_refs = RATES[request.model]
        credits = (with_refs if request.has_media_references else plain) * request.duration
        return CostEstimate(credits, Decimal(credits) / CREDITS_PER_USD)

    def _error_from(
        self, status: int, payload: Any, retry_after: float | None
    ) -> errors.ProviderError | None:
        code = as_int(payload.get("code")) if isinstance(payload, dict) else None
        if 200 <= status < 300 and code in (0, None):
            return None
        message = (
            first_text(payload.get("message"), payload.get("msg"), payload.get("error"))
            if isinstance(payload, dict)
            else first_text(payload)
        ) or f"HTTP {status}"
        cls = _classify(status, code, message)
        return self._error(
            cls,
            message,
            status=status,
            code=None if code is None else str(code),
            retry_after=retry_after,
        )


def _classify(status: int, code: int | None, message: str) -> type[errors.ProviderError]:
    """Decision (PROVIDERS.md section 3): errors are undocumented; map by status, then words."""
    if status in (401, 403) or code in (401, 403):
        return errors.UnauthorizedError
    if status == 402 or code == 402:
        return errors.InsufficientCreditsError
    # A server error stays retryable whatever its text says.
    if status >= 500 or status == 429:
        return errors.error_class_for_status(status)
    if _CREDIT_WORDS.search(message):
        return errors.InsufficientCreditsError
    if status >= 400:
        return errors.error_class_for_status(status)
    # HTTP 2xx with a non-zero code: the code may itself be an HTTP-like status.
    if code is not None and 400 <= code < 600:
        return errors.error_class_for_status(code)
    if _AUTH_WORDS.search(message):
        return errors.UnauthorizedError
    if _NOT_FOUND_WORDS.search(message):
        return errors.NotFoundError
    return errors.InvalidRequestError
