"""Fixtures for every test."""

from __future__ import annotations

import pytest

from tests.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """A clock at 0 that moves only when the test moves it (:class:`tests.clock.ManualClock`)."""
    return ManualClock()
