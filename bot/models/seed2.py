"""Request model for api.seed2.io (its published README)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from bot.i18n import N_, Nn_, Text
from bot.models.base import ProviderRequest
from bot.models.problems import Problem
from bot.models.seedance2ai import _non_blank
from bot.models.urls import PublicHttpsUrl

Seed2Model = Literal["seedance_2.0_fast", "seedance_2.0"]

_IMAGE_REFERENCE = re.compile(r"@image_file_(\d+)")


class Seed2Request(ProviderRequest):
    """POST /v1/video/generate — Seedance 2.0 fast (budget) or premium."""

    title: ClassVar[str] = "Seedance 2.0 (seed2)"

    # The README gives no prompt limit; the cap keeps one request from being absurd.
    prompt: Annotated[str, Field(min_length=1, max_length=20_000)]
    model: Seed2Model = "seedance_2.0_fast"
    duration: Annotated[int, Field(ge=4, le=15, strict=True)] = 5
    ratio: Literal["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"] = "16:9"
    image_files: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=9)] | None = None
    video_files: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=3)] | None = None
    audio_files: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=3)] | None = None

    _check_prompt = field_validator("prompt")(_non_blank)

    @classmethod
    def rule_problems(cls, values: Mapping[str, Any]) -> list[Problem]:
        # ``@image_file_N`` names the N-th uploaded image; a dangling reference is always a mistake.
        images = len(values.get("image_files") or ())
        wanted = {int(n) for n in _IMAGE_REFERENCE.findall(values.get("prompt") or "")}
        missing = sorted(n for n in wanted if n < 1 or n > images)
        if not missing:
            return []
        names = ", ".join(f"@image_file_{n}" for n in missing)
        have = (
            Text.counted(
                Nn_("only {count} image is attached", "only {count} images are attached"), images
            )
            if images
            else Text(N_("no images are attached"))
        )
        return [
            Problem.of(
                "prompt",
                N_("refers to {names} but {attached}."),
                related=("image_files",),
                names=names,
                attached=have,
            )
        ]

    @property
    def has_media_references(self) -> bool:
        """Video or audio references double the per-second price."""
        return bool(self.video_files or self.audio_files)
