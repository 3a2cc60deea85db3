"""The HTTP base every provider client shares: auth, timeouts, typed errors and safe retries."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Protocol, Self
from urllib.parse import urlsplit

import aiohttp

from bot.metrics import Metrics, outcome_label
from bot.models import Provider, ProviderRequest
from bot.providers.errors import (
    ConnectionFailedError,
    KeyCheckInconclusiveError,
    MalformedResponseError,
    ProviderError,
    RateLimitedError,
    SubmitOutcomeUnknownError,
)
from bot.providers.retry import RetryPolicy, parse_retry_after
from bot.providers.state import CostEstimate, KeyCheck, Submission, TaskState, TaskStatus
from bot.redaction import redact, without_secrets

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
#: Reads one raw answer (HTTP status, decoded body) to a key-check probe: a verdict, or None.
KeyCheckReader = Callable[[int, Any], KeyCheck | None]


class RequestGate(Protocol):
    """A request budget the client consults before every HTTP request, retries included."""

    async def acquire(self) -> None:
        """Wait until one more request may be sent."""

    def rate_limited(self, retry_after: float | None) -> None:
        """The provider answered 429: send less, and nothing before ``retry_after``."""


#: Gateway answers: the origin may have processed the request before the proxy gave up on it.
_GATEWAY_STATUSES = frozenset({502, 504})
_MAX_BODY_BYTES = 2 * 1024 * 1024


def proves_no_task(error: ProviderError) -> bool:
    """Whether a failed submit certainly created nothing, so even an API without idempotency
    keys may be sent it again: the connection was refused before the request left, or a 429.

    A 5xx proves nothing (a server may fail after creating and charging the task), nor does a
    timeout, a dropped connection or an unreadable answer.
    """
    if isinstance(error, RateLimitedError):
        return True
    return isinstance(error, ConnectionFailedError) and error.outcome_known


def scrub(text: str, secret: str) -> str:
    """Remove an API key, and every key-shaped string, from text that came from the provider."""
    return redact(text, (secret,))


def versioned_base_url(base_url: str, version_path: str) -> str:
    """``base_url`` ending in ``version_path`` exactly once, whether it was configured with it.

    ``https://api.seed2.io`` and ``https://api.seed2.io/v1`` both give ``https://api.seed2.io/v1``;
    a proxy path before the version (``https://proxy/seed2``) is kept.
    """
    base = base_url.strip().rstrip("/")
    if version_path and base.endswith(version_path):
        base = base[: -len(version_path)].rstrip("/")
    return base + version_path


class ProviderClient(ABC):
    """One generation API. Stateless apart from configuration; share one aiohttp session."""

    provider: ClassVar[Provider]
    #: The path every documented route starts with (``/v1``, ``/api/v1``). A configured base URL
    #: may end in it or not; route paths below are written relative to it.
    version_path: ClassVar[str] = ""
    #: Whether the API documents Idempotency-Key, so a submit may be repeated safely.
    honours_idempotency: ClassVar[bool] = False
    #: The request models this client can submit.
    request_models: ClassVar[tuple[type[ProviderRequest], ...]]
    #: The request field that takes a URL the API calls when a task finishes, where it documents
    #: one (None: it does not call back).
    callback_field: ClassVar[str | None] = None

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._session = session
        self._metrics = metrics
        #: Where every route path is appended: the configured base URL with the version path.
        self.base_url = versioned_base_url(base_url, self.version_path)
        self.retry = retry or RetryPolicy()
        self._timeout = aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout))
        self._sleep = sleep
        self._clock = clock
        self._gate: RequestGate | None = None

    def gated(self, gate: RequestGate) -> Self:
        """This client, asking ``gate`` before each request it sends (one key's rate budget)."""
        view = copy.copy(self)
        view._gate = gate
        return view

    # -- what each provider implements ---------------------------------------------------------

    async def submit(
        self,
        request: ProviderRequest,
        api_key: str,
        idempotency_key: str,
        *,
        callback_url: str | None = None,
    ) -> Submission:
        """Start a generation; pass the job's stored ``idempotency_key`` on every retry of it.

        ``callback_url``: where the API is to call when the task finishes (only for a client
        with a ``callback_field``); it replaces any the request carries.
        """
        self._check_model(request)
        body = request.to_wire()
        if callback_url is not None:
            if self.callback_field is None:
                raise ValueError(f"{self.provider.value} documents no callback URL")
            body[self.callback_field] = callback_url
        payload = await self._call(
            "POST",
            self._submit_path(request),
            api_key,
            body=body,
            idempotency_key=idempotency_key,
            replay_safe=self.honours_idempotency,
        )
        submission = self._submission(payload)
        if submission is None:
            # Accepted but unreadable: a task may exist, so this is never a plain refusal.
            cls = MalformedResponseError if self.honours_idempotency else SubmitOutcomeUnknownError
            raise self._error(cls, "submit answer has no task id", outcome_known=False)
        return submission

    @abstractmethod
    def _submit_path(self, request: ProviderRequest) -> str:
        """Where ``request`` is POSTed, relative to the base URL."""

    @abstractmethod
    def _submission(self, payload: dict[str, Any]) -> Submission | None:
        """The accepted job in a submit answer, or None when it names no task."""

    @abstractmethod
    async def status(self, task_id: str, api_key: str) -> TaskState:
        """Poll one task."""

    @abstractmethod
    async def check_key(self, api_key: str) -> KeyCheck:
        """Tell whether a key is accepted, without spending credits."""

    def estimate_cost(self, request: ProviderRequest) -> CostEstimate | None:
        """The documented price of ``request``, or None where the provider publishes none."""
        return None

    @abstractmethod
    def _error_from(
        self, status: int, payload: Any, retry_after: float | None
    ) -> ProviderError | None:
        """The error an answer represents in this API's own error shape, or None on success."""

    # -- shared machinery ----------------------------------------------------------------------

    def _key_check_answer(self, status: int, payload: Any) -> KeyCheck | None:
        """The verdict in one answer to a key-check probe, or None when it carries none.

        VALID only for the API's documented "no such task" answer, INVALID only for its
        documented authentication error. Anything else (a web server's 404 page, a proxy's HTML,
        a 5xx) is None: it says nothing about the key. The base recognises nothing.
        """
        return None

    async def _probe_key(
        self, api_key: str, path: str, params: Mapping[str, str] | None = None
    ) -> KeyCheck:
        """Read a task that cannot exist: it costs nothing, and the answer tells about the key.

        None of the APIs has a "who am I" route (PROVIDERS.md section 1.6 decision). Only an
        answer in the API's documented shape is a verdict (see :meth:`_key_check_answer`);
        transient failures are retried as usual, and whatever else comes back raises
        :class:`KeyCheckInconclusiveError`: often the base URL points somewhere else.
        """
        try:
            answer = await self._call(
                "GET", path, api_key, params=params, key_check=self._key_check_answer
            )
        except ProviderError as error:
            raise self._inconclusive(
                f"HTTP {error.status}: {error.message}" if error.status else error.message,
                status=error.status,
                code=error.code,
            ) from error
        if isinstance(answer, KeyCheck):
            return answer
        # A 2xx for a task that cannot exist: whatever answered, it is not the documented API.
        raise self._inconclusive("a task that cannot exist was answered as found", status=200)

    def _inconclusive(self, detail: str, **kwargs: Any) -> ProviderError:
        parts = urlsplit(self.base_url)
        where = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()  # no user:password
        detail = " ".join(detail.split())  # an HTML page arrives with its line breaks
        detail = detail if len(detail) <= 200 else detail[:199] + "…"
        log.warning("%s key check inconclusive at %s: %s", self.provider, where, detail)
        return self._error(
            KeyCheckInconclusiveError,
            f"could not check the key, is the base URL right? ({detail})",
            **kwargs,
        )

    def _task_status(self, raw: Any, known: Mapping[str, TaskStatus]) -> TaskStatus:
        """Map a provider's status word; an unknown one is a malformed answer, polled again."""
        word = str(raw or "").strip()
        status = known.get(word) or known.get(word.lower()) or known.get(word.upper())
        if status is None:
            raise self._error(MalformedResponseError, f"unknown task status {word!r}")
        return status

    def _check_model(self, request: ProviderRequest) -> None:
        if not isinstance(request, self.request_models):
            raise TypeError(f"{type(request).__name__} is not served by {self.provider}")

    def _error(self, cls: type[ProviderError], message: str, **kwargs: Any) -> ProviderError:
        # The message and code may quote the provider's answer: nothing key-shaped gets through.
        if isinstance(kwargs.get("code"), str):
            kwargs["code"] = redact(kwargs["code"])
        return cls(redact(message), provider=self.provider.value, **kwargs)

    async def _call(
        self,
        method: str,
        path: str,
        api_key: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        replay_safe: bool = True,
        key_check: KeyCheckReader | None = None,
    ) -> Any:
        """Send one logical request, retrying transient failures; return the decoded JSON.

        ``replay_safe`` is False for a submit the API cannot deduplicate: such a request is only
        repeated when the answer proves no task exists (:func:`proves_no_task`: a refused
        connection or a 429). A documented refusal (400, 401, 402, 403) surfaces as itself; any
        other failure, every 5xx included, raises :class:`SubmitOutcomeUnknownError`.

        ``key_check`` reads each raw answer first; a verdict it finds is returned as is.
        """
        started = self._clock()
        attempt = 0
        while True:
            attempt += 1
            if self._gate is not None:
                await self._gate.acquire()
            try:
                answer = await self._send_once(
                    method, path, api_key, body, params, idempotency_key, key_check
                )
            except ProviderError as error:
                self._count(error)
                if self._gate is not None and isinstance(error, RateLimitedError):
                    self._gate.rate_limited(error.retry_after)
                if not replay_safe and (
                    not error.outcome_known or (error.retryable and not proves_no_task(error))
                ):
                    raise self._error(
                        SubmitOutcomeUnknownError,
                        f"no confirmation after sending ({error.message})",
                        status=error.status,
                        code=error.code,
                        outcome_known=False,
                    ) from error
                if not error.retryable or attempt >= self.retry.max_attempts:
                    raise
                delay = error.retry_after
                if delay is None:
                    delay = self.retry.backoff(attempt)
                if self._clock() - started + delay > self.retry.total_budget:
                    raise
                log.warning(
                    "%s %s %s failed (%s); attempt %d, retrying in %.1fs",
                    self.provider,
                    method,
                    path,
                    error,
                    attempt,
                    delay,
                )
                if self._gate is not None and isinstance(error, RateLimitedError):
                    # The gate now holds the key until Retry-After: the next attempt waits for
                    # it there (with every other request on the key), not here as well.
                    continue
                await self._sleep(delay)
            else:
                self._count(None)
                return answer

    def _count(self, error: ProviderError | None) -> None:
        if self._metrics is None:
            return
        self._metrics.provider_request(self.provider.value, outcome_label(error))
        if isinstance(error, RateLimitedError):
            self._metrics.rate_limited(self.provider.value)

    async def _send_once(
        self,
        method: str,
        path: str,
        api_key: str,
        body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        idempotency_key: str | None,
        key_check: KeyCheckReader | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            async with self._session.request(
                method,
                self.base_url + path,
                json=body,
                params=params,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                raw = await response.content.read(_MAX_BODY_BYTES)
                status = response.status
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # Never connected: the provider cannot have seen the request.
            raise self._error(ConnectionFailedError, f"could not connect: {exc}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            what = "timed out" if isinstance(exc, TimeoutError) else "connection dropped"
            raise self._error(
                ConnectionFailedError, f"{what} before an answer arrived", outcome_known=False
            ) from exc
        # The caller's key never gets past this point, whatever field of the answer quotes it
        # (key-shaped strings in texts are masked by _error and by TaskState itself).
        payload = without_secrets(self._decode(raw, status, api_key), (api_key,))
        if key_check is not None:
            verdict = key_check(status, payload)
            if verdict is not None:
                return verdict
        error = self._error_from(status, payload, retry_after)
        if error is not None:
            error.message = scrub(error.message, api_key)
            if status in _GATEWAY_STATUSES:
                error.outcome_known = False
            raise error
        if not 200 <= status < 300 or not isinstance(payload, dict):
            raise self._error(
                MalformedResponseError,
                f"unexpected answer (HTTP {status}): {scrub(_excerpt(raw), api_key)}",
                status=status,
                outcome_known=False,
            )
        return payload

    def _decode(self, raw: bytes, status: int, api_key: str) -> Any:
        """Decoded JSON, or the raw text for error statuses (which still map by status)."""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            if status >= 400:
                return raw.decode("utf-8", "replace")
            raise self._error(
                MalformedResponseError,
                f"answer is not JSON (HTTP {status}): {scrub(_excerpt(raw), api_key)}",
                status=status,
                outcome_known=False,
            ) from None


def envelope_data(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``data`` object of a ``{"code", "message", "data"}`` envelope (empty when absent)."""
    data = payload.get("data")
    return data if isinstance(data, dict) else {}


def _excerpt(raw: bytes, limit: int = 200) -> str:
    text = raw[:limit].decode("utf-8", "replace")
    return text + ("…" if len(raw) > limit else "")


def first_text(*candidates: Any) -> str | None:
    """The first non-empty string among ``candidates`` (error fields vary between APIs)."""
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
