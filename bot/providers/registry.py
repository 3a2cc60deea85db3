"""Every provider the bot serves: its client and its description, registered once (no discord import).

Adding a provider means its request models (``bot/models``), its client, its description and one
line here; everything else reads the descriptions through the helpers below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from bot.models import MediaKind, Provider
from bot.providers.description import (
    EndpointDescription,
    Extension,
    ModelChoice,
    ProviderDescription,
)
from bot.providers.http import ProviderClient
from bot.providers.seed2 import Seed2Client
from bot.providers.seed2_description import SEED2
from bot.providers.seedance2ai import Seedance2AIClient
from bot.providers.seedance2ai_description import SEEDANCE2AI
from bot.providers.seedanceapi import SeedanceApiClient
from bot.providers.seedanceapi_description import SEEDANCEAPI

#: In the order members see them: /key choices, /help, the first model of a linked provider.
_REGISTERED: tuple[tuple[ProviderDescription, type[ProviderClient]], ...] = (
    (SEEDANCE2AI, Seedance2AIClient),
    (SEEDANCEAPI, SeedanceApiClient),
    (SEED2, Seed2Client),
)

DESCRIPTIONS: Mapping[Provider, ProviderDescription] = MappingProxyType(
    {description.provider: description for description, _ in _REGISTERED}
)
CLIENT_CLASSES: Mapping[Provider, type[ProviderClient]] = MappingProxyType(
    {description.provider: client for description, client in _REGISTERED}
)
_ENDPOINTS: Mapping[str, EndpointDescription] = MappingProxyType(
    {item.id: item for description in DESCRIPTIONS.values() for item in description.endpoints}
)


def description(provider: str) -> ProviderDescription | None:
    """The description of ``provider`` (a :class:`Provider` or its value), or None if unknown."""
    try:
        return DESCRIPTIONS.get(Provider(provider))
    except ValueError:
        return None


def endpoint_description(endpoint_id: str) -> EndpointDescription | None:
    return _ENDPOINTS.get(endpoint_id)


def model_choices(kind: MediaKind) -> dict[str, ModelChoice]:
    """The /video or /image ``model`` choices by key, providers in registration order."""
    return {
        choice.key: choice
        for item in DESCRIPTIONS.values()
        for choice in item.choices
        if choice.kind is kind
    }


def extension_for(endpoint_id: str) -> tuple[ModelChoice, Extension] | None:
    """The choice and recipe that continue a clip of ``endpoint_id``, if its clips can be."""
    item = _ENDPOINTS.get(endpoint_id)
    if item is None or item.extension is None:
        return None
    return item.choices[0], item.extension


def animating_choices(linked: Iterable[str]) -> list[ModelChoice]:
    """Video choices that can turn an image into a clip, of the ``linked`` providers, in order."""
    providers = set(linked)
    return [
        choice
        for item in _ENDPOINTS.values()
        if item.animates_images
        for choice in item.choices
        if choice.kind is MediaKind.VIDEO and choice.provider in providers
    ]


def documented_budgets() -> dict[str, tuple[int, float]]:
    """Requests per window per key, for the providers that document a limit."""
    return {
        provider.value: item.documented_budget
        for provider, item in DESCRIPTIONS.items()
        if item.documented_budget is not None
    }


#: The documented budgets, for the engine's default configuration.
DOCUMENTED_BUDGETS: Mapping[str, tuple[int, float]] = MappingProxyType(documented_budgets())


def callback_providers() -> frozenset[str]:
    """The providers that call a URL the bot gives them when a task finishes."""
    return frozenset(
        provider.value for provider, item in DESCRIPTIONS.items() if item.accepts_callbacks
    )


def timing_priors() -> dict[str, tuple[float, float]]:
    """Each endpoint's starting guess: (seconds, seconds per second of video)."""
    return {endpoint_id: item.timing for endpoint_id, item in _ENDPOINTS.items()}


def base_url_settings() -> dict[Provider, str]:
    """The setting that holds each provider's base URL."""
    return {provider: item.base_url_setting for provider, item in DESCRIPTIONS.items()}
