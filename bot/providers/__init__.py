"""Clients for the generation APIs over one shared aiohttp session, and each provider's description
(no discord import)."""

from __future__ import annotations

import aiohttp

from bot.metrics import Metrics
from bot.models import Provider
from bot.providers.description import ModelChoice, ProviderDescription
from bot.providers.errors import KeyCheckInconclusiveError, ProviderError
from bot.providers.http import ProviderClient
from bot.providers.registry import CLIENT_CLASSES, DESCRIPTIONS
from bot.providers.retry import RetryPolicy
from bot.providers.seed2 import Seed2Client
from bot.providers.seedance2ai import Seedance2AIClient
from bot.providers.seedanceapi import SeedanceApiClient
from bot.providers.state import CostEstimate, KeyCheck, Submission, TaskState, TaskStatus


def build_clients(
    session: aiohttp.ClientSession,
    base_urls: dict[Provider, str],
    *,
    timeout: float = 30.0,
    retry: RetryPolicy | None = None,
    metrics: Metrics | None = None,
) -> dict[Provider, ProviderClient]:
    """One client per provider, all sharing ``session`` (and ``metrics``, when given)."""
    return {
        provider: cls(session, base_urls[provider], timeout=timeout, retry=retry, metrics=metrics)
        for provider, cls in CLIENT_CLASSES.items()
    }


__all__ = [
    "CLIENT_CLASSES",
    "DESCRIPTIONS",
    "CostEstimate",
    "KeyCheck",
    "KeyCheckInconclusiveError",
    "ModelChoice",
    "ProviderClient",
    "ProviderDescription",
    "ProviderError",
    "RetryPolicy",
    "Seed2Client",
    "Seedance2AIClient",
    "SeedanceApiClient",
    "Submission",
    "TaskState",
    "TaskStatus",
    "build_clients",
]
