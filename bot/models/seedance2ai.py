"""Request models for seedance2ai.io: Seedance 2 and Seedance video, GPT Image 2, Nano Banana Pro.

Every value, default and limit below is from the provider's published API pages (English, Dutch, Japanese).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from bot.i18n import N_
from bot.models.base import Flag, ProviderRequest, visible_prompt
from bot.models.problems import Problem
from bot.models.urls import PublicHttpsUrl

VideoMode = Literal["text-to-video", "image-to-video", "media-to-video"]
Channel = Literal["standard", "real", "wild"]
Duration = Literal["4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"]
ImageType = Literal["text-to-image", "image-to-image"]

SEED_MIN, SEED_MAX = -1, 4_294_967_295


def _non_blank(value: str) -> str:
    # Every endpoint's prompt goes through here (seedanceapi and seed2 import it).
    return visible_prompt(value)


def _duration_as_text(value: Any) -> Any:
    # Discord hands us an integer; the API wants the number of seconds as a string.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _mode_inputs(values: Mapping[str, Any]) -> list[Problem]:
    """Each mode takes exactly its own inputs, so nothing a user attached is silently ignored."""
    mode = values.get("mode")
    image, end_image, media = (
        values.get("image_url"),
        values.get("end_image_url"),
        values.get("media_urls"),
    )
    problems: list[Problem] = []
    if mode == "image-to-video" and not image:
        problems.append(
            Problem.of(
                "image_url",
                N_("is required for image-to-video (the start frame)."),
                related=("mode",),
            )
        )
    if mode == "media-to-video" and not media:
        problems.append(
            Problem.of(
                "media_urls", N_("needs at least one URL for media-to-video."), related=("mode",)
            )
        )
    if mode != "image-to-video":
        for name, present in (("image_url", image), ("end_image_url", end_image)):
            if present:
                problems.append(
                    Problem.of(
                        name,
                        N_("is only used by image-to-video, not {mode}."),
                        ("image-to-video",),
                        ("mode",),
                        mode=mode,
                    )
                )
    if mode != "media-to-video" and media:
        problems.append(
            Problem.of(
                "media_urls",
                N_("are only used by media-to-video, not {mode}."),
                ("media-to-video",),
                ("mode",),
                mode=mode,
            )
        )
    return problems


class _VideoRequest(ProviderRequest):
    """Fields shared by both seedance2ai video endpoints; subclasses narrow the enumerations."""

    mode: VideoMode = "text-to-video"
    quality_tier: str = "standard"
    channel: Channel = "standard"
    prompt: Annotated[str, Field(min_length=3, max_length=10_000)]
    aspect_ratio: str = "16:9"
    duration: Duration = "5"
    resolution: str = "720p"
    image_url: PublicHttpsUrl | None = None
    end_image_url: PublicHttpsUrl | None = None
    media_urls: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=12)] | None = None
    generate_audio: Flag = True
    fixed_lens: Flag = False
    seed: Annotated[int, Field(ge=SEED_MIN, le=SEED_MAX, strict=True)] | None = None

    #: Tiers on which ``seed`` is not accepted.
    seedless_tiers: ClassVar[tuple[str, ...]] = ()

    _check_prompt = field_validator("prompt")(_non_blank)
    _coerce_duration = field_validator("duration", mode="before")(_duration_as_text)

    @classmethod
    def rule_problems(cls, values: Mapping[str, Any]) -> list[Problem]:
        problems = _mode_inputs(values)
        if values.get("seed") is not None:
            if values.get("channel") == "real":
                problems.append(
                    Problem.of(
                        "seed", N_("is not supported on the real channel."), related=("channel",)
                    )
                )
            if values.get("quality_tier") in cls.seedless_tiers:
                problems.append(
                    Problem.of(
                        "seed",
                        N_("is not supported on the {tier} quality tier."),
                        related=("quality_tier",),
                        tier=values["quality_tier"],
                    )
                )
        return problems


class Seedance2Request(_VideoRequest):
    """POST /api/v1/video/seedance2 — Seedance 2 video."""

    title: ClassVar[str] = "Seedance 2"
    seedless_tiers: ClassVar[tuple[str, ...]] = ("mini",)
    #: Resolutions that only the pro tier renders.
    pro_only_resolutions: ClassVar[tuple[str, ...]] = ("1080p-plus", "4k")

    quality_tier: Literal["mini", "standard", "pro"] = "standard"
    aspect_ratio: Literal["1:1", "21:9", "4:3", "3:4", "16:9", "9:16", "adaptive"] = "16:9"
    resolution: Literal["720p", "1080p", "1080p-plus", "4k"] = "720p"

    @classmethod
    def rule_problems(cls, values: Mapping[str, Any]) -> list[Problem]:
        problems = super().rule_problems(values)
        tier = values.get("quality_tier")
        if values.get("resolution") in cls.pro_only_resolutions and tier not in (None, "pro"):
            problems.append(
                Problem.of(
                    "resolution",
                    N_("{resolution} is only available on the pro quality tier."),
                    tuple(
                        r for r in cls.choices("resolution") if r not in cls.pro_only_resolutions
                    ),
                    ("quality_tier",),
                    resolution=values["resolution"],
                )
            )
        return problems


class SeedanceRequest(_VideoRequest):
    """POST /api/v1/video/seedance — Seedance video."""

    title: ClassVar[str] = "Seedance"

    quality_tier: Literal["standard", "pro"] = "standard"
    aspect_ratio: Literal["1:1", "21:9", "4:3", "3:4", "16:9", "9:16"] = "16:9"
    resolution: Literal["720p", "1080p"] = "720p"


def _image_inputs(values: Mapping[str, Any], urls_field: str) -> list[Problem]:
    kind, urls = values.get("type"), values.get(urls_field)
    if kind == "image-to-image" and not urls:
        return [
            Problem.of(
                urls_field, N_("needs at least one image for image-to-image."), related=("type",)
            )
        ]
    if kind == "text-to-image" and urls:
        return [
            Problem.of(
                urls_field, N_("are only used by image-to-image."), ("image-to-image",), ("type",)
            )
        ]
    return []


class GptImage2Request(ProviderRequest):
    """POST /api/v1/image/gpt-image-2 — the only endpoint with camelCase parameter names."""

    title: ClassVar[str] = "GPT Image 2"

    type: ImageType
    channel: Literal["standard", "economy"] = "standard"
    prompt: Annotated[str, Field(min_length=3, max_length=20_000)]
    resolution: Literal["1K", "2K", "4K"]
    aspect_ratio: Literal[
        "auto", "1:1", "5:4", "9:16", "21:9", "16:9", "4:3", "3:2",
        "4:5", "3:4", "2:3", "2:1", "1:2", "3:1", "1:3", "9:21",
    ] = Field(alias="aspectRatio")  # fmt: skip
    batch_count: Annotated[int, Field(ge=1, le=4, strict=True)] = Field(
        default=1, alias="batchCount"
    )
    image_urls: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=10)] | None = Field(
        default=None, alias="imageUrls"
    )

    _check_prompt = field_validator("prompt")(_non_blank)

    @classmethod
    def rule_problems(cls, values: Mapping[str, Any]) -> list[Problem]:
        problems = _image_inputs(values, "image_urls")
        ratio, resolution = values.get("aspect_ratio"), values.get("resolution")
        if ratio == "auto" and resolution not in (None, "1K"):
            problems.append(
                Problem.of(
                    "aspect_ratio",
                    N_("auto only works with 1K resolution."),
                    related=("resolution",),
                )
            )
        if ratio == "1:1" and resolution == "4K" and values.get("channel") == "standard":
            problems.append(
                Problem.of(
                    "resolution",
                    N_(
                        "4K is not available for 1:1 on the standard channel (use economy, or "
                        "1K/2K)."
                    ),
                    ("1K", "2K"),
                    ("aspect_ratio", "channel"),
                )
            )
        return problems


class NanoBananaProRequest(ProviderRequest):
    """POST /api/v1/image/nano-banana-pro — Nano Banana Pro."""

    title: ClassVar[str] = "Nano Banana Pro"

    type: ImageType
    prompt: Annotated[str, Field(min_length=3, max_length=10_000)]
    image_size: Literal[
        "1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"
    ] = "auto"
    output_format: Literal["png", "jpeg"] = "png"
    resolution: Literal["1K", "2K", "4K"] = "1K"
    image_urls: Annotated[list[PublicHttpsUrl], Field(min_length=1, max_length=8)] | None = None

    _check_prompt = field_validator("prompt")(_non_blank)

    @classmethod
    def rule_problems(cls, values: Mapping[str, Any]) -> list[Problem]:
        return _image_inputs(values, "image_urls")
