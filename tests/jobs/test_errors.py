"""The engine's errors and the codes it ends jobs with keep the values jobs are stored with."""

from __future__ import annotations

import pytest

from bot.jobs import (
    INPUT_EXPIRED,
    INTERNAL_ERROR,
    KEY_REJECTED,
    KEY_UNREADABLE,
    NO_LINKED_KEY,
    OUTCOME_UNKNOWN,
    PROVIDER_TIMEOUT,
    InputUnavailableError,
    KeyRejectedError,
    NoLinkedKeyError,
)
from bot.providers import errors
from bot.storage import KeyDecryptionError


@pytest.mark.parametrize(
    ("code", "stored"),
    [
        (KEY_UNREADABLE, "KeyUnreadable"),
        (KEY_REJECTED, "KeyRejected"),
        (INTERNAL_ERROR, "InternalError"),
        (INPUT_EXPIRED, "InputExpired"),
        (NO_LINKED_KEY, "NoLinkedKey"),
        (PROVIDER_TIMEOUT, "ProviderTimeout"),
        (OUTCOME_UNKNOWN, "SubmitOutcomeUnknownError"),
    ],
)
def test_the_engine_codes_keep_their_stored_values(code: str, stored: str) -> None:
    assert code == stored


def test_an_error_carries_the_code_of_the_jobs_it_ends() -> None:
    assert KeyRejectedError.error_code == KEY_REJECTED
    assert NoLinkedKeyError.error_code == NO_LINKED_KEY
    assert InputUnavailableError.error_code == INPUT_EXPIRED
    assert KeyDecryptionError.error_code == KEY_UNREADABLE
    assert errors.SubmitOutcomeUnknownError.error_code == OUTCOME_UNKNOWN
