"""seedanceapi.org as the bot describes it: Seedance 2.0 video, priced by its guide's tables."""

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

SITE = "https://seedanceapi.org"

#: Credits by (resolution, duration, generate_audio), from the guide's pricing tables.
PRICES: dict[tuple[str, str, bool], int] = {
    ("480p", "4", False): 8,
    ("480p", "4", True): 14,
    ("480p", "8", False): 14,
    ("480p", "8", True): 28,
    ("480p", "12", False): 19,
    ("480p", "12", True): 38,
    ("720p", "4", False): 14,
    ("720p", "4", True): 28,
    ("720p", "8", False): 28,
    ("720p", "8", True): 56,
    ("720p", "12", False): 42,
    ("720p", "12", True): 84,
}
USD_PER_CREDIT = Decimal("0.005")

_OPTIONS = {
    "prompt": "prompt", "aspect_ratio": "aspect_ratio", "resolution": "resolution",
    "duration": "duration", "start_frame": "image_urls", "generate_audio": "generate_audio",
    "fixed_lens": "fixed_lens",
}  # fmt: skip


def price_table(choice: ModelChoice, _: Translate) -> str:
    """The guide's table: credits without/with audio per resolution and duration."""
    durations = sorted({d for _, d, _ in PRICES}, key=int)
    resolutions = sorted({r for r, _, _ in PRICES}, key=lambda r: int(r.rstrip("p")))
    header = "      " + "".join(f"{d + ' s':<9}" for d in durations)
    rows = [
        f"{r:<6}"
        + "".join(f"{PRICES[(r, d, False)]}/{PRICES[(r, d, True)]}".ljust(9) for d in durations)
        for r in resolutions
    ]
    table = "\n".join([header.rstrip(), *(row.rstrip() for row in rows)])
    legend = _("Credits without/with audio; 1 credit = {price}.", price=usd(USD_PER_CREDIT))
    return f"{legend}\n```\n{table}\n```"


_SEEDANCEAPI = EndpointDescription(
    id="seedanceapi",
    timing=(40.0, 10.0),
    choices=(
        ModelChoice(
            "seedanceapi",
            "Seedance 2.0 (seedanceapi)",
            "seedanceapi",
            MediaKind.VIDEO,
            options=_OPTIONS,
        ),
    ),
    # The start frame is the one image of ``image_urls``; no end frame, no references.
    media=MediaPlacement(start_frame=MediaField("image_urls", is_list=True)),
    animates_images=True,
)

SEEDANCEAPI = ProviderDescription(
    provider=Provider.SEEDANCEAPI,
    name="seedanceapi.org",
    site=SITE,
    key_source=N_("the API Keys page of your seedanceapi.org dashboard"),
    # No documented prefix.
    key_shape=N_("the key from your seedanceapi.org dashboard"),
    key_prefix=None,
    # A literal, not built from SITE: the catalogs can only pick up literal texts.
    account_page=N_("your dashboard at https://seedanceapi.org"),
    base_url_setting="seedanceapi_base_url",
    default_base_url=f"{SITE}/v1",
    endpoints=(_SEEDANCEAPI,),
    # The guide documents no limit and no Idempotency-Key.
    documented_budget=None,
    honours_idempotency=False,
    accepts_callbacks=True,
    usd_per_credit=USD_PER_CREDIT,
    price_text=price_table,
)
