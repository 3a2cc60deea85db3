"""Typed provider errors: one class per thing a user or the engine must react to differently."""

from __future__ import annotations

from typing import ClassVar

from bot.i18n import N_


class ProviderError(Exception):
    """Any failure talking to a generation API.

    ``message`` is safe to show: clients scrub the caller's API key from remote text before it gets
    here. ``advice`` says what the user can do about it. ``error_code`` is the bot's own stable
    name for the failure (what a failed job records); ``code`` is the provider's, if it sent one.
    """

    #: Stable name of this failure, stored with the jobs it ends. The values are what jobs have
    #: always stored (they were once the class names): renaming a class must not change them.
    error_code: ClassVar[str] = "ProviderError"
    #: Whether trying the same request again later can succeed.
    retryable: ClassVar[bool] = False
    advice: ClassVar[str] = N_("Try again later.")

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        outcome_known: bool = True,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.retry_after = retry_after
        #: False when the request may have been processed although no answer arrived. A submit
        #: with an unknown outcome must not be repeated on an API without idempotency keys; such
        #: a submit is repeated only on proof that no task exists (``http.proves_no_task``).
        self.outcome_known = outcome_known

    def __str__(self) -> str:
        where = f"{self.provider} HTTP {self.status}" if self.status else self.provider
        code = f" [{self.code}]" if self.code else ""
        return f"{where}{code}: {self.message}"


class UnauthorizedError(ProviderError):
    error_code = "UnauthorizedError"
    advice = N_("The API key was rejected (missing, invalid or revoked). Relink it with /key link.")


class InvalidRequestError(ProviderError):
    error_code = "InvalidRequestError"
    advice = N_("The provider refused these parameters. Change them and try again.")


class InsufficientCreditsError(ProviderError):
    error_code = "InsufficientCreditsError"
    advice = N_("Your credit balance at the provider is empty. Top up, then try again.")


class NotFoundError(ProviderError):
    error_code = "NotFoundError"
    advice = N_("The provider no longer knows this task, or it belongs to another key.")


class RateLimitedError(ProviderError):
    error_code = "RateLimitedError"
    retryable = True
    advice = N_("The provider is rate limiting this key. The bot will try again shortly.")


class IdempotencyConflictError(ProviderError):
    """409: the same Idempotency-Key is still being processed (we never change a key's body)."""

    error_code = "IdempotencyConflictError"
    retryable = True
    advice = N_("The provider is still processing the first attempt. The bot will check again.")


class ServerError(ProviderError):
    error_code = "ServerError"
    retryable = True
    advice = N_("The provider had a temporary problem. Try again in a few minutes.")


class MalformedResponseError(ProviderError):
    """The provider answered with something that is not its documented shape."""

    error_code = "MalformedResponseError"
    retryable = True
    advice = N_("The provider sent an answer the bot could not read. Try again later.")


class ConnectionFailedError(ProviderError):
    """No usable answer: could not connect, the connection dropped, or it timed out."""

    error_code = "ConnectionFailedError"
    retryable = True
    advice = N_("The provider could not be reached. Try again in a few minutes.")


class SubmitOutcomeUnknownError(ProviderError):
    """A submit to an API without idempotency keys may or may not have created a task.

    Re-sending could buy a second video, so the client stops and lets the caller decide.
    """

    error_code = "SubmitOutcomeUnknownError"
    advice = N_(
        "The provider did not confirm the request. It may still be generating, and it may have "
        "been charged: check your dashboard at the provider before sending it again, so you are "
        "not charged twice."
    )


class KeyCheckInconclusiveError(ProviderError):
    """A key check got no answer in the API's documented shape, so it says nothing about the key.

    A key is only accepted on the API's documented "no such task" answer and only rejected on its
    documented authentication error. Anything else (an unknown route's 404 page, HTML from a
    proxy, a server error that outlasted the retries, no connection) ends here: often the
    configured base URL points somewhere else.
    """

    error_code = "KeyCheckInconclusiveError"
    advice = N_(
        "The key could not be checked: the provider may be down, or the bot's base URL for it "
        "may be wrong. Nothing was stored."
    )


_BY_STATUS: dict[int, type[ProviderError]] = {
    400: InvalidRequestError,
    401: UnauthorizedError,
    402: InsufficientCreditsError,
    403: UnauthorizedError,
    404: NotFoundError,
    409: IdempotencyConflictError,
    422: InvalidRequestError,
    429: RateLimitedError,
}


def error_class_for_status(status: int) -> type[ProviderError]:
    """The error class for an HTTP status when the body does not say more."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    return InvalidRequestError
