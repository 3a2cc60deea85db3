"""The seedance2ai fake every members' feature test runs against (the ``start`` fixture of
``tests/cogs/conftest.py`` points the bot's clients at it)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.cogs.members.common import BOB_KEY, KEY
from tests.fakes.seedance2ai import FakeSeedance2AI


@pytest.fixture
async def provider() -> AsyncIterator[FakeSeedance2AI]:
    async with FakeSeedance2AI(keys={KEY: 100_000, BOB_KEY: 100_000}) as fake:
        fake.serve_media_bytes = 16 * 1024
        yield fake
