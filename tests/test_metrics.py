"""The metrics page: every family present with the values recorded, and never an API key."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs import Clock, RequestBudget
from bot.jobs.engine import _key_id
from bot.metrics import JobCounts, Metrics, key_label, outcome_label
from bot.providers.errors import ConnectionFailedError, RateLimitedError

API_KEY = "sk_live_TOP_SECRET_do_not_leak_4f1c9a"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> tuple[set[str], Samples]:
    families: set[str] = set()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return families, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


async def scrape(metrics: Metrics) -> tuple[set[str], Samples, str]:
    text = (await metrics.render()).decode()
    families, samples = parse(text)
    return families, samples, text


async def test_every_family_is_exported_with_the_recorded_values() -> None:
    async def job_counts() -> JobCounts:
        return {("seed2", "running"): 3, ("seedance2ai", "queued"): 1}

    metrics = Metrics(CollectorRegistry(), job_counts=job_counts)
    metrics.provider_request("seed2", "ok")
    metrics.provider_request("seed2", "ok")
    metrics.provider_request("seed2", "rate_limited")
    metrics.rate_limited("seed2")
    metrics.budget_use("seed2", key_label(API_KEY), used=7, limit=20)
    metrics.delivery_lag(1.5)
    metrics.delivery_lag(40.0)
    metrics.discord_error("deliver", 403)
    metrics.discord_error("card")

    families, samples, _ = await scrape(metrics)

    assert {
        "seedance_jobs",
        "seedance_provider_requests",
        "seedance_provider_rate_limited",
        "seedance_key_budget_used",
        "seedance_key_budget_limit",
        "seedance_delivery_lag_seconds",
        "seedance_discord_errors",
    } <= families
    assert value(samples, "seedance_jobs", provider="seed2", state="running") == 3
    assert value(samples, "seedance_jobs", provider="seedance2ai", state="queued") == 1
    assert value(samples, "seedance_provider_requests_total", provider="seed2", outcome="ok") == 2
    assert (
        value(samples, "seedance_provider_requests_total", provider="seed2", outcome="rate_limited")
        == 1
    )
    assert value(samples, "seedance_provider_rate_limited_total", provider="seed2") == 1
    label = key_label(API_KEY)
    assert value(samples, "seedance_key_budget_used", provider="seed2", key=label) == 7
    assert value(samples, "seedance_key_budget_limit", provider="seed2", key=label) == 20
    assert value(samples, "seedance_delivery_lag_seconds_count") == 2
    assert value(samples, "seedance_delivery_lag_seconds_sum") == 41.5
    assert value(samples, "seedance_delivery_lag_seconds_bucket", le="2.5") == 1
    assert value(samples, "seedance_discord_errors_total", kind="deliver", status="403") == 1
    assert value(samples, "seedance_discord_errors_total", kind="card", status="none") == 1


async def test_a_state_that_empties_reads_zero_instead_of_vanishing() -> None:
    answers = [{("seed2", "running"): 2}, {("seed2", "delivered"): 2}]

    def job_counts() -> JobCounts:  # a sync source works too
        return answers.pop(0)

    metrics = Metrics(job_counts=job_counts)
    await scrape(metrics)
    _, samples, _ = await scrape(metrics)
    assert value(samples, "seedance_jobs", provider="seed2", state="running") == 0
    assert value(samples, "seedance_jobs", provider="seed2", state="delivered") == 2


async def test_a_hanging_job_count_does_not_hang_the_scrape() -> None:
    calls = 0
    release = asyncio.Event()

    async def job_counts() -> JobCounts:
        nonlocal calls
        calls += 1
        await release.wait()
        return {("seed2", "running"): 1}

    metrics = Metrics(job_counts=job_counts, refresh_timeout=0.2)
    metrics.rate_limited("seed2")
    started = time.monotonic()
    families, _, _ = await scrape(metrics)
    assert time.monotonic() - started < 1.0
    assert "seedance_jobs" not in families  # no number rather than a wrong one
    assert "seedance_provider_rate_limited" in families
    await scrape(metrics)
    assert calls == 1  # the second scrape waited on the same query
    release.set()
    families, samples, _ = await scrape(metrics)
    assert value(samples, "seedance_jobs", provider="seed2", state="running") == 1
    await metrics.aclose()


async def test_a_failing_job_count_leaves_the_rest_of_the_page() -> None:
    async def job_counts() -> JobCounts:
        raise RuntimeError("database is locked")

    metrics = Metrics(job_counts=job_counts)
    metrics.delivery_lag(3.0)
    families, _, _ = await scrape(metrics)
    assert "seedance_jobs" not in families
    assert "seedance_delivery_lag_seconds" in families


async def test_job_counts_can_be_wired_after_construction() -> None:
    metrics = Metrics()
    families, _, _ = await scrape(metrics)
    assert "seedance_jobs" not in families

    async def job_counts() -> JobCounts:
        return {("seedanceapi", "failed"): 4}

    metrics.set_job_counts(job_counts)
    _, samples, _ = await scrape(metrics)
    assert value(samples, "seedance_jobs", provider="seedanceapi", state="failed") == 4


async def test_no_api_key_ever_appears_on_the_page() -> None:
    metrics = Metrics()
    metrics.budget_use("seedance2ai", key_label(API_KEY), used=29, limit=30)
    _, _, text = await scrape(metrics)
    assert API_KEY not in text
    assert "TOP_SECRET" not in text
    assert key_label(API_KEY) in text


def test_a_raw_key_is_refused_as_a_budget_label() -> None:
    metrics = Metrics()
    with pytest.raises(ValueError, match="not an API key"):
        metrics.budget_use("seedance2ai", API_KEY, used=1, limit=30)


def test_key_label_is_the_digest_the_engine_keys_budgets_by() -> None:
    # So the engine's ``budgets`` mapping can feed ``budget_use`` without seeing the key again.
    assert key_label(API_KEY) == _key_id("seed2", API_KEY)[1]
    assert key_label(API_KEY) != key_label(API_KEY + "x")


async def test_a_scrape_hook_copies_the_engine_budgets() -> None:
    budget = RequestBudget(20, 60.0, Clock())
    assert budget.try_take()
    assert budget.try_take()
    budgets = {("seed2", key_label(API_KEY)): budget}
    metrics = Metrics()

    def copy_budgets() -> None:
        for (provider, label), b in budgets.items():
            metrics.budget_use(provider, label, b.limit - b.available(), b.limit)

    def broken_hook() -> None:
        raise RuntimeError("boom")

    metrics.add_scrape_hook(broken_hook)
    metrics.add_scrape_hook(copy_budgets)
    _, samples, _ = await scrape(metrics)
    label = key_label(API_KEY)
    assert value(samples, "seedance_key_budget_used", provider="seed2", key=label) == 2
    metrics.forget_budget("seed2", label)
    budgets.clear()
    _, samples, _ = await scrape(metrics)
    assert not [k for k in samples if k[0] == "seedance_key_budget_used"]


def test_outcome_labels_are_bounded_names() -> None:
    assert outcome_label(None) == "ok"
    assert outcome_label(RateLimitedError("slow down", provider="seed2")) == "rate_limited"
    assert outcome_label(ConnectionFailedError("down", provider="seed2")) == "connection_failed"
    assert outcome_label(TimeoutError()) == "timeout"


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.rate_limited("seed2")
    assert first.registry is not second.registry
    assert (
        first.registry.get_sample_value(
            "seedance_provider_rate_limited_total", {"provider": "seed2"}
        )
        == 1
    )
    assert (
        second.registry.get_sample_value(
            "seedance_provider_rate_limited_total", {"provider": "seed2"}
        )
        is None
    )
