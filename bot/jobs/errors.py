"""Why the engine refuses a job, and the error codes it gives the jobs it ends itself."""

from __future__ import annotations

from typing import ClassVar

from bot.i18n import N_

#: Error code of a job whose stored key the configured secret cannot decrypt.
KEY_UNREADABLE = "KeyUnreadable"
#: Error code of a job whose key the provider refused (401/403): not used again until relinked.
KEY_REJECTED = "KeyRejected"
#: Error code of a job a bug in the bot stopped before anything could have reached the provider.
INTERNAL_ERROR = "InternalError"
#: Error code of a job not sent because one of its input files could no longer be had.
INPUT_EXPIRED = "InputExpired"
#: Error code of a job whose key was unlinked before it could be sent.
NO_LINKED_KEY = "NoLinkedKey"
#: Error code of a job still not finished at its deadline.
PROVIDER_TIMEOUT = "ProviderTimeout"
#: Error code of a job that may or may not have reached the provider.
OUTCOME_UNKNOWN = "SubmitOutcomeUnknownError"
#: Error code of a request refused because its owner has too many jobs waiting (never stored).
TOO_MANY_WAITING = "TooManyWaitingJobs"

# What the engine writes on the jobs it ends itself, rendered in English into the job (its
# ``error_message``: logs and the database read English); the Discord layer shows them in the
# reader's language (``bot.i18n.translate_stored`` with ``ENGINE_MESSAGES``). Changing one of
# these texts leaves jobs stored with the old one in English: keep them stable.
NOT_SENT_KEY_REFUSED = N_("Not sent: {provider} refused the key it was to use.")
STORED_KEY_UNREADABLE = N_("The stored {provider} key can no longer be read by the bot.")
NO_KEY_ANY_MORE = N_("No API key is linked for {provider} any more.")
RESULT_NOT_FETCHED = N_("{provider} refused the key, so the result was never fetched.")
TIMED_OUT_AT_PROVIDER = N_("Timed out at the provider: still not finished after {minutes} minutes.")
TIMED_OUT = N_("Timed out: still not finished after {minutes} minutes.")
RESTARTED_WHILE_SENDING = N_(
    "The bot restarted while sending this job, so it cannot tell whether the provider received it."
)
FAILED_BEFORE_SENDING = N_(
    "Something went wrong in the bot before this job was sent; nothing was sent."
)
FAILED_WHILE_SENDING = N_(
    "Something went wrong in the bot while sending this job, so it cannot tell whether the "
    "provider received it."
)
FAILED_EACH_SEND = N_("Something went wrong in the bot each time it sent this job.")
ENGINE_MESSAGES = (
    NOT_SENT_KEY_REFUSED,
    STORED_KEY_UNREADABLE,
    NO_KEY_ANY_MORE,
    RESULT_NOT_FETCHED,
    TIMED_OUT_AT_PROVIDER,
    TIMED_OUT,
    RESTARTED_WHILE_SENDING,
    FAILED_BEFORE_SENDING,
    FAILED_WHILE_SENDING,
    FAILED_EACH_SEND,
)


class KeyRejectedError(Exception):
    """The provider refused the user's key for ``provider``; it must be linked again."""

    #: Stable name of this failure (the code of the jobs such a key ends).
    error_code: ClassVar[str] = KEY_REJECTED

    def __init__(self, provider: str) -> None:
        super().__init__(f"the {provider} key was rejected by the provider")
        self.provider = provider


class TooManyWaitingJobsError(Exception):
    """The user already has ``limit`` jobs waiting to be sent."""

    #: Stable name of this failure.
    error_code: ClassVar[str] = TOO_MANY_WAITING

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} jobs may wait at once")
        self.limit = limit


class NoLinkedKeyError(Exception):
    """The user has no API key for the provider of the endpoint they asked for."""

    #: Stable name of this failure (the code of the jobs whose key was unlinked).
    error_code: ClassVar[str] = NO_LINKED_KEY

    def __init__(self, provider: str) -> None:
        super().__init__(f"no API key linked for {provider}")
        self.provider = provider
