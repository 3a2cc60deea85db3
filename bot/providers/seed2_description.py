"""seed2.io as the bot describes it: Seedance 2.0 fast and premium, priced per second."""

from __future__ import annotations

from decimal import Decimal

from bot.i18n import N_, Translate
from bot.models import MediaKind, Provider
from bot.providers.description import (
    EndpointDescription,
    MediaField,
    MediaPlacement,
    ModelChoice,
    ProviderDescription,
    usd,
)

SITE = "https://seed2.io"

#: Credits per second: (without video/audio references, with them), from the README.
RATES: dict[str, tuple[int, int]] = {
    "seedance_2.0_fast": (580, 1160),
    "seedance_2.0": (1160, 2320),
}
CREDITS_PER_USD = 10_000

_OPTIONS = {
    "prompt": "prompt", "aspect_ratio": "ratio", "duration": "duration",
    "start_frame": "image_files", "references": "image_files",
}  # fmt: skip


def price_per_second(choice: ModelChoice, _: Translate) -> str:
    """The README's rate for the choice's model, and what a clip of the default length costs."""
    plain, with_refs = RATES[choice.fixed["model"]]
    per_usd = Decimal(CREDITS_PER_USD)
    seconds = choice.request_model.defaults().get("duration", 5)
    example = plain * seconds
    return _(
        "{rate} credits per second ({rate_usd}), {rate_with_references} with reference videos or "
        "audio. {seconds} s = {example} credits ({example_usd}). {credits_per_usd} credits = $1.",
        rate=_.number(plain),
        rate_usd=usd(plain / per_usd),
        rate_with_references=_.number(with_refs),
        seconds=seconds,
        example=_.number(example),
        example_usd=usd(example / per_usd),
        credits_per_usd=_.number(CREDITS_PER_USD),
    )


_SEED2 = EndpointDescription(
    id="seed2",
    timing=(45.0, 12.0),
    choices=(
        ModelChoice(
            "seed2-fast",
            "Seedance 2.0 fast (seed2)",
            "seed2",
            MediaKind.VIDEO,
            fixed={"model": "seedance_2.0_fast"},
            options=_OPTIONS,
        ),
        ModelChoice(
            "seed2-premium",
            "Seedance 2.0 premium (seed2)",
            "seed2",
            MediaKind.VIDEO,
            fixed={"model": "seedance_2.0"},
            options=_OPTIONS,
        ),
    ),
    # References are sorted by kind; the start frame becomes @image_file_1.
    media=MediaPlacement(
        start_frame=MediaField("image_files", is_list=True),
        references_by_kind={"image": "image_files", "video": "video_files", "audio": "audio_files"},
    ),
    animates_images=True,
)

SEED2 = ProviderDescription(
    provider=Provider.SEED2,
    name="seed2.io",
    site=SITE,
    key_source=N_("the Account page on seed2.io"),
    key_shape="sk-s2-…",
    key_prefix="sk-s2-",
    # A literal, not built from SITE: the catalogs can only pick up literal texts.
    account_page=N_("the Account page at https://seed2.io"),
    base_url_setting="seed2_base_url",
    default_base_url="https://api.seed2.io",
    endpoints=(_SEED2,),
    # The README documents no limit and no Idempotency-Key.
    documented_budget=None,
    honours_idempotency=False,
    usd_per_credit=Decimal(1) / CREDITS_PER_USD,
    price_text=price_per_second,
)
