"""A member's /preferences applied to /video and /image, and who decides that results are private.

A preference fills only an option the member left empty: an option given in the command always
wins. A preferred aspect ratio the chosen model does not take (with the other options given) is
not sent: the model's own default is used, and the member is told so privately.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.i18n import N_, LocaleLike, t
from bot.models import MediaKind, ProviderRequest
from bot.storage import MemberPreferences
from cogs.generate._requests import (
    ALL_MODELS,
    IMAGE_MODELS,
    VIDEO_MODELS,
    ModelChoice,
    allowed_values,
)

#: The option a preferred aspect ratio fills.
ASPECT_RATIO = "aspect_ratio"

RATIO_NOT_APPLIED = N_(
    "-# Your preferred aspect ratio {preferred} (/preferences) is not available on {model}, so "
    "its default {used} was used."
)
#: Available on the model, just not with the other options given (e.g. a resolution).
RATIO_NOT_WITH_OPTIONS = N_(
    "-# Your preferred aspect ratio {preferred} (/preferences) is not available on {model} with "
    "these options, so its default {used} was used."
)


def results_private(server_setting: bool | None, member_pref: bool | None) -> bool:
    """Whether a member's status cards and results are kept out of the channel (sent to their
    DMs): the stricter of the server's setting and the member's own preference. A server
    without the setting, and a member without the preference, count as public."""
    return bool(server_setting) or bool(member_pref)


def models_of(kind: MediaKind) -> dict[str, ModelChoice]:
    return VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS


def preferred_model(preferences: MemberPreferences, kind: MediaKind) -> ModelChoice | None:
    """The member's default model for ``kind``, if they chose one that is still offered."""
    key = preferences.video_model if kind is MediaKind.VIDEO else preferences.image_model
    return models_of(kind).get(key or "")


def aspect_ratios(choice: ModelChoice) -> tuple[str, ...]:
    """Every aspect ratio ``choice`` can take (whatever the other options)."""
    field_name = choice.options.get(ASPECT_RATIO)
    return choice.request_model.choices(field_name) if field_name else ()


def every_aspect_ratio() -> tuple[str, ...]:
    """Every aspect ratio some /video or /image model takes, in a stable order."""
    found: dict[str, None] = {}
    for choice in ALL_MODELS.values():
        found.update(dict.fromkeys(aspect_ratios(choice)))
    return tuple(found)


def models_without_ratio(ratio: str) -> list[ModelChoice]:
    return [choice for choice in ALL_MODELS.values() if ratio not in aspect_ratios(choice)]


def with_preferences(
    choice: ModelChoice, options: Mapping[str, Any], preferences: MemberPreferences
) -> tuple[dict[str, Any], str | None]:
    """``options`` with the preferred aspect ratio filled in where the member left it empty and
    ``choice`` takes it with the other options; and the preferred ratio when it could not be
    (to say so once the request shows what was used instead), else None."""
    filled = dict(options)
    preferred = preferences.aspect_ratio
    if preferred is None or filled.get(ASPECT_RATIO) is not None:
        return filled, None
    if ASPECT_RATIO not in choice.options:
        return filled, None
    given = {k: v for k, v in filled.items() if v is not None}
    if preferred in allowed_values(choice, ASPECT_RATIO, given):
        filled[ASPECT_RATIO] = preferred
        return filled, None
    return filled, preferred


def ratio_note(
    choice: ModelChoice, preferred: str, request: ProviderRequest, locale: LocaleLike = None
) -> str:
    """Tells the member their preferred ratio was not used on ``choice``, and what was."""
    field_name = choice.options.get(ASPECT_RATIO, ASPECT_RATIO)
    used = request.model_dump(mode="json").get(field_name) or "-"
    text = RATIO_NOT_WITH_OPTIONS if preferred in aspect_ratios(choice) else RATIO_NOT_APPLIED
    return t(locale, text, preferred=preferred, model=choice.label, used=used)
