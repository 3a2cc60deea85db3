"""Request model for seedanceapi.org (its published API guide)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, field_validator

from bot.models.base import Flag, ProviderRequest
from bot.models.seedance2ai import _duration_as_text, _non_blank
from bot.models.urls import PublicHttpsUrl


class SeedanceApiRequest(ProviderRequest):
    """POST /v1/generate — Seedance 2.0, text- or image-to-video."""

    title: ClassVar[str] = "Seedance 2.0 (seedanceapi)"

    prompt: Annotated[str, Field(min_length=1, max_length=2000)]
    aspect_ratio: Literal["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"] = "1:1"
    resolution: Literal["480p", "720p"] = "720p"
    duration: Literal["4", "8", "12"] = "8"
    generate_audio: Flag = False
    fixed_lens: Flag = False
    image_urls: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=1)] | None = None
    callback_url: PublicHttpsUrl | None = None

    _check_prompt = field_validator("prompt")(_non_blank)
    _coerce_duration = field_validator("duration", mode="before")(_duration_as_text)
