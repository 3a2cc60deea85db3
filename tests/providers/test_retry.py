"""Backoff stays within its cap and Retry-After is read in both of its HTTP forms."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.providers.retry import RetryPolicy, parse_retry_after


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (" 2.5 ", 2.5), ("0", 0.0), ("-3", 0.0), (None, None), ("", None), ("soon", None)],
)
def test_retry_after_in_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 6, 3, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 03 Jun 2026 10:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 03 Jun 2026 09:59:00 GMT", now=now) == 0.0


def test_backoff_grows_exponentially_up_to_the_cap_with_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (12, 8.0)]:
        delays = {policy.backoff(attempt) for _ in range(200)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        # Jitter: clients that failed together do not come back together.
        assert len(delays) > 100
