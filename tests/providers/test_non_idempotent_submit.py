"""APIs without Idempotency-Key: a submit whose answer was lost is never sent a second time."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.providers import errors
from tests.fakes.base import Fault
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
}


async def wait_until(condition: object) -> None:
    """Wait (at most 5 s) for the fake to finish work the client stopped waiting for."""
    assert callable(condition)
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the fake did not finish in time")


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
        await wait_until(lambda: len(fake.tasks) == created)
        await asyncio.sleep(0.05)

    assert not caught.value.outcome_known
    assert not caught.value.retryable
    assert "dashboard" in caught.value.advice
    assert len(fake.posts()) == 1
    assert sleeps.calls == []
    assert len(fake.tasks) == created
    # The user pays for at most the one task the provider did create.
    assert fake.total_charged() == sum(t.cost for t in fake.tasks.values())
