"""seedance2ai.io as the bot describes it: Seedance 2 and Seedance video, GPT Image 2, Nano Banana Pro."""

from __future__ import annotations

from bot.i18n import N_
from bot.models import MediaKind, Provider
from bot.providers.description import (
    EndpointDescription,
    Extension,
    FieldDefault,
    InferredMode,
    MediaField,
    MediaPlacement,
    ModelChoice,
    ProviderDescription,
)

SITE = "https://seedance2ai.io"

_VIDEO_OPTIONS = {
    "prompt": "prompt", "mode": "mode", "quality_tier": "quality_tier",
    "render_channel": "channel", "aspect_ratio": "aspect_ratio", "duration": "duration",
    "resolution": "resolution", "start_frame": "image_url", "end_frame": "end_image_url",
    "references": "media_urls", "generate_audio": "generate_audio", "fixed_lens": "fixed_lens",
    "seed": "seed",
}  # fmt: skip
_GPT_OPTIONS = {
    "prompt": "prompt", "type": "type", "render_channel": "channel", "resolution": "resolution",
    "aspect_ratio": "aspect_ratio", "batch_count": "batch_count", "images": "image_urls",
}  # fmt: skip
_NANO_OPTIONS = {
    "prompt": "prompt", "type": "type", "aspect_ratio": "image_size", "resolution": "resolution",
    "output_format": "output_format", "images": "image_urls",
}  # fmt: skip

#: Each mode takes exactly its own inputs: frames for image-to-video, references for media-to-video.
_VIDEO_MEDIA = MediaPlacement(
    start_frame=MediaField("image_url"),
    end_frame=MediaField("end_image_url"),
    references=MediaField("media_urls", is_list=True),
)
_VIDEO_MODE = InferredMode(
    "mode",
    with_references="media-to-video",
    with_start_frame="image-to-video",
    otherwise="text-to-video",
)
_IMAGE_MEDIA = MediaPlacement(references=MediaField("image_urls", is_list=True))
_IMAGE_TYPE = InferredMode("type", with_references="image-to-image", otherwise="text-to-image")

_SEEDANCE2 = EndpointDescription(
    id="seedance2",
    timing=(60.0, 12.0),
    choices=(
        ModelChoice(
            "seedance2",
            "Seedance 2 (seedance2ai)",
            "seedance2",
            MediaKind.VIDEO,
            options=_VIDEO_OPTIONS,
        ),
    ),
    media=_VIDEO_MEDIA,
    mode=_VIDEO_MODE,
    # The prompt guide: attach the previous clip as a reference, in media-to-video.
    extension=Extension(
        keep=(
            "quality_tier",
            "channel",
            "aspect_ratio",
            "duration",
            "resolution",
            "generate_audio",
            "fixed_lens",
        ),
        clip_field="media_urls",
        fixed={"mode": "media-to-video"},
    ),
    animates_images=True,
)
_SEEDANCE = EndpointDescription(
    id="seedance",
    timing=(45.0, 10.0),
    choices=(
        ModelChoice(
            "seedance",
            "Seedance (seedance2ai)",
            "seedance",
            MediaKind.VIDEO,
            options=_VIDEO_OPTIONS,
        ),
    ),
    media=_VIDEO_MEDIA,
    mode=_VIDEO_MODE,
    animates_images=True,
)
_GPT_IMAGE_2 = EndpointDescription(
    id="gpt-image-2",
    timing=(30.0, 0.0),
    choices=(
        ModelChoice(
            "gpt-image-2",
            "GPT Image 2 (seedance2ai)",
            "gpt-image-2",
            MediaKind.IMAGE,
            options=_GPT_OPTIONS,
        ),
    ),
    media=_IMAGE_MEDIA,
    mode=_IMAGE_TYPE,
    # The API requires both; auto only works with 1K.
    defaults=(
        FieldDefault("resolution", "1K"),
        FieldDefault("aspect_ratio", "auto", when=("resolution", "1K"), otherwise="1:1"),
    ),
)
_NANO_BANANA_PRO = EndpointDescription(
    id="nano-banana-pro",
    timing=(25.0, 0.0),
    choices=(
        ModelChoice(
            "nano-banana-pro",
            "Nano Banana Pro (seedance2ai)",
            "nano-banana-pro",
            MediaKind.IMAGE,
            options=_NANO_OPTIONS,
        ),
    ),
    media=_IMAGE_MEDIA,
    mode=_IMAGE_TYPE,
)

SEEDANCE2AI = ProviderDescription(
    provider=Provider.SEEDANCE2AI,
    name="seedance2ai.io",
    site=SITE,
    key_source=N_("your seedance2ai.io dashboard"),
    key_shape="sk_live_…",
    key_prefix="sk_live_",
    # A literal, not built from SITE: the catalogs can only pick up literal texts.
    account_page=N_("your dashboard at https://seedance2ai.io"),
    base_url_setting="seedance2ai_base_url",
    default_base_url=SITE,
    endpoints=(_SEEDANCE2, _SEEDANCE, _GPT_IMAGE_2, _NANO_BANANA_PRO),
    # 30 requests per 60 s per key, from its API pages.
    documented_budget=(30, 60.0),
    honours_idempotency=True,
    # Published only as credits_used once a task is accepted.
    price_text=None,
)
