"""Why the engine refuses a job, and the error codes it gives the jobs it ends itself."""

from __future__ import annotations

from typing import ClassVar

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
