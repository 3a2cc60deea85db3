"""Every endpoint the bot can call, described once for the clients, the engine and Discord."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.models.base import ProviderRequest
from bot.models.seed2 import Seed2Request
from bot.models.seedance2ai import (
    GptImage2Request,
    NanoBananaProRequest,
    Seedance2Request,
    SeedanceRequest,
)
from bot.models.seedanceapi import SeedanceApiRequest


class Provider(StrEnum):
    SEEDANCE2AI = "seedance2ai"
    SEEDANCEAPI = "seedanceapi"
    SEED2 = "seed2"


class MediaKind(StrEnum):
    VIDEO = "video"
    IMAGE = "image"


@dataclass(frozen=True)
class Endpoint:
    """One generation endpoint: who serves it, what it makes and which model validates it."""

    id: str
    provider: Provider
    kind: MediaKind
    request_model: type[ProviderRequest]

    @property
    def title(self) -> str:
        return self.request_model.title


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("seedance2", Provider.SEEDANCE2AI, MediaKind.VIDEO, Seedance2Request),
    Endpoint("seedance", Provider.SEEDANCE2AI, MediaKind.VIDEO, SeedanceRequest),
    Endpoint("gpt-image-2", Provider.SEEDANCE2AI, MediaKind.IMAGE, GptImage2Request),
    Endpoint("nano-banana-pro", Provider.SEEDANCE2AI, MediaKind.IMAGE, NanoBananaProRequest),
    Endpoint("seedanceapi", Provider.SEEDANCEAPI, MediaKind.VIDEO, SeedanceApiRequest),
    Endpoint("seed2", Provider.SEED2, MediaKind.VIDEO, Seed2Request),
)

_BY_ID = {endpoint.id: endpoint for endpoint in ENDPOINTS}
_BY_MODEL = {endpoint.request_model: endpoint for endpoint in ENDPOINTS}


def endpoint(endpoint_id: str) -> Endpoint:
    return _BY_ID[endpoint_id]


def endpoint_for(request: ProviderRequest) -> Endpoint:
    return _BY_MODEL[type(request)]
