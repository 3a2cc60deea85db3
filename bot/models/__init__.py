"""Pydantic request models, one per endpoint, enforcing every documented rule before a request is sent."""

from bot.models.base import ProviderRequest
from bot.models.catalog import ENDPOINTS, Endpoint, MediaKind, Provider, endpoint, endpoint_for
from bot.models.problems import InvalidParameters, Problem
from bot.models.seed2 import Seed2Request
from bot.models.seedance2ai import (
    GptImage2Request,
    NanoBananaProRequest,
    Seedance2Request,
    SeedanceRequest,
)
from bot.models.seedanceapi import SeedanceApiRequest

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "GptImage2Request",
    "InvalidParameters",
    "MediaKind",
    "NanoBananaProRequest",
    "Problem",
    "Provider",
    "ProviderRequest",
    "Seed2Request",
    "Seedance2Request",
    "SeedanceApiRequest",
    "SeedanceRequest",
    "endpoint",
    "endpoint_for",
]
