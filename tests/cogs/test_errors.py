"""Every error a member can be told about carries a stable code, and jobs stored with the codes
of earlier versions still read as they did."""

from __future__ import annotations

import pytest

from bot.jobs import (
    INPUT_EXPIRED,
    INTERNAL_ERROR,
    KEY_REJECTED,
    KEY_UNREADABLE,
    NO_LINKED_KEY,
    PROVIDER_TIMEOUT,
    InputUnavailableError,
    KeyRejectedError,
    NoLinkedKeyError,
    TooManyWaitingJobsError,
)
from bot.models import InvalidParameters
from bot.providers import ProviderError, errors
from bot.storage import Destination, Job, JobState, KeyDecryptionError
from cogs._errors import UserFacingError, describe_job_failure
from cogs.generate._inputs import InputGoneError

PROVIDER_ERRORS = [errors.ProviderError, *ProviderError.__subclasses__()]
ENGINE_ERRORS = [KeyRejectedError, TooManyWaitingJobsError, NoLinkedKeyError, InputUnavailableError]


def failed_job(code: str | None) -> Job:
    return Job(
        id=7, owner_id=1, destination=Destination(), provider="p", endpoint="e",
        request={"prompt": "x"}, idempotency_key="k", state=JobState.FAILED,
        created_at=0.0, updated_at=0.0, error_code=code, error_message="the provider's words",
    )  # fmt: skip


def test_each_error_class_names_its_own_code() -> None:
    classes = [
        *PROVIDER_ERRORS, *ENGINE_ERRORS, KeyDecryptionError, InvalidParameters, UserFacingError
    ]  # fmt: skip
    for cls in classes:
        assert "error_code" in vars(cls), f"{cls.__name__} inherits its code"
    codes = [cls.error_code for cls in classes]
    assert len(set(codes)) == len(codes), codes
    assert InputGoneError.error_code == "InputExpired"


#: What jobs stored before the codes were declared (the class names then): still understood.
STORED_BEFORE = [
    "UnauthorizedError", "InvalidRequestError", "InsufficientCreditsError", "NotFoundError",
    "ServerError", "MalformedResponseError", "ConnectionFailedError", "IdempotencyConflictError",
    "SubmitOutcomeUnknownError",
]  # fmt: skip


@pytest.mark.parametrize("stored", STORED_BEFORE)
def test_codes_stored_by_earlier_versions_still_read_the_same(stored: str) -> None:
    [cls] = [cls for cls in PROVIDER_ERRORS if cls.error_code == stored]
    assert describe_job_failure(failed_job(stored)).startswith(cls.advice)


def test_an_unknown_code_still_gets_a_message() -> None:
    text = describe_job_failure(failed_job("something_new"))
    assert text.startswith("The provider could not make this.")


@pytest.mark.parametrize(
    "code",
    [PROVIDER_TIMEOUT, NO_LINKED_KEY, KEY_UNREADABLE, KEY_REJECTED, INTERNAL_ERROR, INPUT_EXPIRED],
)
def test_each_code_the_engine_ends_jobs_with_has_its_own_advice(code: str) -> None:
    assert not describe_job_failure(failed_job(code)).startswith(
        "The provider could not make this."
    )


@pytest.mark.parametrize("provider", ["seedance2ai", "seedanceapi", "seed2"])
def test_a_refused_key_names_the_providers_site_not_its_id(provider: str) -> None:
    from bot.jobs import KeyRejectedError
    from bot.models import Provider
    from bot.providers import DESCRIPTIONS
    from cogs._errors import describe

    site = DESCRIPTIONS[Provider(provider)].name
    text = describe(KeyRejectedError(provider))
    assert text is not None
    assert site != provider  # the site is what members know (e.g. seedanceapi.org)
    assert text.startswith(f"{site} refused your API key")
    assert f"your {site} account" in text
