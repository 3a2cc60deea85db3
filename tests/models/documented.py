"""What each provider's published documentation says about its request models: the allowed
values of each enumerated parameter (in the order the pages list them), and a minimal valid body.

Every value is copied from the provider's pages, never computed from the models under test.
"""

from __future__ import annotations

from typing import Any

from bot.models import (
    GptImage2Request,
    NanoBananaProRequest,
    ProviderRequest,
    Seed2Request,
    Seedance2Request,
    SeedanceApiRequest,
    SeedanceRequest,
)

URL = "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1"
PROMPT = "A cinematic shot of a glass train crossing a snowy mountain bridge"

# A minimal valid body per endpoint; GPT Image 2 uses its documented camelCase wire names.
BASE: dict[type[ProviderRequest], dict[str, Any]] = {
    Seedance2Request: {"prompt": PROMPT},
    SeedanceRequest: {"prompt": PROMPT},
    GptImage2Request: {
        "type": "text-to-image",
        "prompt": PROMPT,
        "resolution": "1K",
        "aspectRatio": "16:9",
    },
    NanoBananaProRequest: {"type": "text-to-image", "prompt": PROMPT},
    SeedanceApiRequest: {"prompt": PROMPT},
    Seed2Request: {"prompt": PROMPT},
}

GPT_ASPECT_RATIOS = [
    "auto", "1:1", "5:4", "9:16", "21:9", "16:9", "4:3", "3:2",
    "4:5", "3:4", "2:3", "2:1", "1:2", "3:1", "1:3", "9:21",
]  # fmt: skip
NANO_IMAGE_SIZES = [
    "1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto",
]  # fmt: skip
DURATIONS = ["4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"]
DOCUMENTED: dict[tuple[type[ProviderRequest], str], list[str]] = {
    # seedance2ai.io
    (Seedance2Request, "mode"): ["text-to-video", "image-to-video", "media-to-video"],
    (Seedance2Request, "quality_tier"): ["mini", "standard", "pro"],
    (Seedance2Request, "channel"): ["standard", "real", "wild"],
    (Seedance2Request, "aspect_ratio"): ["1:1", "21:9", "4:3", "3:4", "16:9", "9:16", "adaptive"],
    (Seedance2Request, "duration"): DURATIONS,
    (Seedance2Request, "resolution"): ["720p", "1080p", "1080p-plus", "4k"],
    (SeedanceRequest, "mode"): ["text-to-video", "image-to-video", "media-to-video"],
    (SeedanceRequest, "quality_tier"): ["standard", "pro"],
    (SeedanceRequest, "channel"): ["standard", "real", "wild"],
    (SeedanceRequest, "aspect_ratio"): ["1:1", "21:9", "4:3", "3:4", "16:9", "9:16"],
    (SeedanceRequest, "duration"): DURATIONS,
    (SeedanceRequest, "resolution"): ["720p", "1080p"],
    (GptImage2Request, "type"): ["text-to-image", "image-to-image"],
    (GptImage2Request, "channel"): ["standard", "economy"],
    (GptImage2Request, "resolution"): ["1K", "2K", "4K"],
    (GptImage2Request, "aspect_ratio"): GPT_ASPECT_RATIOS,
    (NanoBananaProRequest, "type"): ["text-to-image", "image-to-image"],
    (NanoBananaProRequest, "image_size"): NANO_IMAGE_SIZES,
    (NanoBananaProRequest, "output_format"): ["png", "jpeg"],
    (NanoBananaProRequest, "resolution"): ["1K", "2K", "4K"],
    # seedanceapi.org (its API guide)
    (SeedanceApiRequest, "aspect_ratio"): ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"],
    (SeedanceApiRequest, "resolution"): ["480p", "720p"],
    (SeedanceApiRequest, "duration"): ["4", "8", "12"],
    # api.seed2.io (its README)
    (Seed2Request, "model"): ["seedance_2.0_fast", "seedance_2.0"],
    (Seed2Request, "ratio"): ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"],
}

#: The defaults of each API's parameter table, which the bot spells out on the wire.
WIRE_DEFAULTS: dict[type[ProviderRequest], dict[str, Any]] = {
    SeedanceApiRequest: {
        "aspect_ratio": "1:1",
        "resolution": "720p",
        "duration": "8",
        "generate_audio": False,
        "fixed_lens": False,
    },
    Seed2Request: {"model": "seedance_2.0_fast", "duration": 5, "ratio": "16:9"},
}

# What a value needs from other parameters to be valid on its own (documented cross-field rules).
NEEDS: dict[tuple[str, str], dict[str, Any]] = {
    ("mode", "image-to-video"): {"image_url": URL},
    ("mode", "media-to-video"): {"media_urls": [URL]},
    ("resolution", "1080p-plus"): {"quality_tier": "pro"},
    ("resolution", "4k"): {"quality_tier": "pro"},
    ("type", "image-to-image"): {"image_urls": [URL]},
}


def documented(model: type[ProviderRequest]) -> dict[str, list[str]]:
    """The documented values of each enumerated parameter of ``model``."""
    return {field: values for (m, field), values in DOCUMENTED.items() if m is model}


def wire_name(model: type[ProviderRequest], field: str) -> str:
    return model.model_fields[field].alias or field
