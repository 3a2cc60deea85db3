"""APIs without Idempotency-Key: a submit is sent again only when the answer proves no task exists.

That proof is a refused connection (nothing left the machine) or a 429. Any other failure, a 5xx
included (a server may fail after creating and charging the task), is an unknown outcome.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.providers import errors
from tests.clock import eventually
from tests.fakes.base import Fault
from tests.fakes.network import RefuseFirstConnections
from tests.providers.conftest import FLAVOURS, Flavour, SleepRecorder, make_client

NON_IDEMPOTENT = [f for f in FLAVOURS if not f.client_cls.honours_idempotency]

UNKNOWN_OUTCOMES: dict[str, tuple[Fault, int]] = {
    # name: (what goes wrong on the POST, how many tasks the provider created anyway)
    "dropped-after-create": (Fault("drop_after", method="POST"), 1),
    "dropped-before-create": (Fault("drop_before", method="POST"), 0),
    "timeout": (Fault("delay", seconds=0.8, method="POST"), 1),
    "502-from-gateway": (
        Fault("respond", status=502, body="<html>502 Bad Gateway</html>", method="POST"),
        0,
    ),
    "504-after-create": (
        Fault("respond_after", status=504, body="<html>504 Gateway Time-out</html>", method="POST"),
        1,
    ),
    "200-not-json": (Fault("garbage_after", method="POST"), 1),
    # A 5xx proves nothing: the provider may have created and charged the task first.
    "500-after-create": (
        Fault("respond_after", status=500, body={"code": 500, "message": "boom"}, method="POST"),
        1,
    ),
    "503-after-create": (
        Fault("respond_after", status=503, body={"code": 503, "message": "busy"}, method="POST"),
        1,
    ),
    "500-before-create": (
        Fault("respond", status=500, body={"code": 500, "message": "boom"}, method="POST"),
        0,
    ),
    "503-before-create": (
        Fault("respond", status=503, body="Service Unavailable", method="POST"),
        0,
    ),
}


def test_only_seedance2ai_documents_idempotency() -> None:
    assert [f.name for f in NON_IDEMPOTENT] == ["seedanceapi", "seed2"]


@pytest.mark.parametrize("flavour", NON_IDEMPOTENT, ids=lambda f: f.name)
@pytest.mark.parametrize("case", UNKNOWN_OUTCOMES, ids=UNKNOWN_OUTCOMES.keys())
async def test_a_submit_with_unknown_outcome_is_never_sent_twice(
    flavour: Flavour, case: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    fault, created = UNKNOWN_OUTCOMES[case]
    async with flavour.fake_cls() as fake:
        fake.inject(fault)
        client = make_client(flavour.client_cls, session, fake, sleeps, timeout=0.3)
        with pytest.raises(errors.SubmitOutcomeUnknownError) as caught:
            await client.submit(flavour.request, flavour.key, "job-1")
        # The fake finishes work the client stopped waiting for.
        await eventually(lambda: len(fake.tasks) == created, within=5.0)
        await asyncio.sleep(0.05)

    assert not caught.value.outcome_known
    assert not caught.value.retryable
    assert "dashboard" in caught.value.advice
    assert len(fake.posts()) == 1
    assert sleeps.calls == []
    assert len(fake.tasks) == created
    # The user pays for at most the one task the provider did create.
    assert fake.total_charged() == sum(t.cost for t in fake.tasks.values())


@pytest.mark.parametrize("flavour", NON_IDEMPOTENT, ids=lambda f: f.name)
@pytest.mark.parametrize("proof", ["connection-refused", "429"])
async def test_a_submit_that_provably_created_nothing_is_retried_into_one_task(
    flavour: Flavour, proof: str, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        http: Any = session
        if proof == "connection-refused":
            http = RefuseFirstConnections(session, 1)
        else:
            limited = flavour.error(fake, 429, "rate_limited", "Too many requests")
            fake.inject(Fault("respond", status=429, body=limited, method="POST"))
        client = make_client(flavour.client_cls, http, fake, sleeps)
        submission = await client.submit(flavour.request, flavour.key, "job-1")

    assert len(sleeps.calls) == 1
    assert len(fake.posts()) == (1 if proof == "connection-refused" else 2)
    assert list(fake.tasks) == [submission.task_id]
    assert len(fake.charges[flavour.key]) == 1


REFUSALS: dict[int, type[errors.ProviderError]] = {
    400: errors.InvalidRequestError,
    401: errors.UnauthorizedError,
    402: errors.InsufficientCreditsError,
    403: errors.UnauthorizedError,
}


@pytest.mark.parametrize("flavour", NON_IDEMPOTENT, ids=lambda f: f.name)
@pytest.mark.parametrize("status", REFUSALS, ids=str)
async def test_a_documented_refusal_surfaces_as_itself_after_one_post(
    flavour: Flavour, status: int, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls() as fake:
        refusal = {"code": status, "message": "refused"}
        fake.inject(Fault("respond", status=status, body=refusal, method="POST"))
        client = make_client(flavour.client_cls, session, fake, sleeps)
        with pytest.raises(errors.ProviderError) as caught:
            await client.submit(flavour.request, flavour.key, "job-1")

    assert type(caught.value) is REFUSALS[status]
    assert caught.value.outcome_known
    assert len(fake.posts()) == 1
    assert sleeps.calls == []
    assert fake.tasks == {}
