"""The tests' own clock and waiting helper (tests/clock.py) do what the tests rely on."""

from __future__ import annotations

import asyncio

import pytest

from tests.clock import ManualClock, eventually, settle


async def test_sleepers_wake_in_time_order_once_the_clock_reaches_them(clock: ManualClock) -> None:
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f"{name}@{clock.now()}")

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("late", 5), ("soon", 1))]
    await settle()
    await clock.advance(0.5)
    assert woke == []
    await clock.advance(4.5)
    assert woke == ["soon@5.0", "late@5.0"]
    await asyncio.gather(*tasks)


async def test_wait_returns_on_the_event_or_after_the_time(clock: ManualClock) -> None:
    event = asyncio.Event()
    by_event = asyncio.create_task(clock.wait(event, 10.0))
    await settle()
    event.set()
    await settle()
    assert by_event.done()

    by_time = asyncio.create_task(clock.wait(asyncio.Event(), 10.0))
    await settle()
    await clock.advance(9.0)
    assert not by_time.done()
    await clock.advance(1.0)
    assert by_time.done()


def test_time_moves_only_forward(clock: ManualClock) -> None:
    clock.move_to(3.0)
    clock.move(0.5)
    assert clock.now() == clock() == 3.5
    with pytest.raises(AssertionError):
        clock.move_to(1.0)


async def test_eventually_returns_what_the_condition_returned_once_truthy() -> None:
    calls: list[int] = []

    async def third_time() -> str | None:
        calls.append(1)
        return "done" if len(calls) == 3 else None

    assert await eventually(third_time) == "done"
    assert await eventually(lambda: 42) == 42


async def test_eventually_fails_when_the_condition_never_holds() -> None:
    with pytest.raises(AssertionError, match=r"still false after 0\.05s"):
        await eventually(lambda: False, within=0.05)
