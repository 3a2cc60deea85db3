"""What the rest of the bot knows about a provider, as data (no discord import).

Each provider states it once, in its own ``<provider>_description.py`` beside its client: names and
pages for members, its key, request budget, timing priors, capabilities, prices, and for each
endpoint the /video or /image choices with their option -> field maps and where files go. The
Discord layer, the engine and the settings read these; none of them names a provider or endpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.i18n import Translate
from bot.models import MediaKind, Provider, ProviderRequest, endpoint


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the ``model`` option: an endpoint, plus parameters the choice fixes."""

    key: str
    label: str
    endpoint_id: str
    kind: MediaKind
    fixed: Mapping[str, Any] = field(default_factory=dict)
    #: option name -> request field name, for the options this endpoint understands.
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def request_model(self) -> type[ProviderRequest]:
        return endpoint(self.endpoint_id).request_model

    @property
    def provider(self) -> str:
        return endpoint(self.endpoint_id).provider.value


@dataclass(frozen=True)
class MediaField:
    """A request field that takes files or URLs: one URL, or a list of them."""

    name: str
    is_list: bool = False


@dataclass(frozen=True)
class MediaPlacement:
    """Where an endpoint takes the start frame, the end frame and the references (or input images).

    A ``None`` field means the endpoint takes no such input (the option is refused as unsupported).
    References go either all into ``references``, or, sorted by their kind (image, video, audio),
    into ``references_by_kind``; a start frame sharing the image list comes first in it.
    """

    start_frame: MediaField | None = None
    end_frame: MediaField | None = None
    references: MediaField | None = None
    references_by_kind: Mapping[str, str] = field(default_factory=dict)

    def slots(self) -> tuple[MediaField, ...]:
        """Every request field this placement fills, once each, in this order."""
        named = (self.start_frame, self.end_frame, self.references)
        found = [item for item in named if item is not None]
        found += [MediaField(name, is_list=True) for name in self.references_by_kind.values()]
        unique: dict[str, MediaField] = {}
        for item in found:
            unique.setdefault(item.name, item)
        return tuple(unique.values())


@dataclass(frozen=True)
class InferredMode:
    """A field the bot fills from the files given, unless the member set it (``mode``, ``type``)."""

    field: str
    with_references: str
    otherwise: str
    #: The value with a start frame and no references; ``None``: a start frame changes nothing.
    with_start_frame: str | None = None

    def value(self, *, references: bool, start_frame: bool) -> str:
        if references:
            return self.with_references
        if start_frame and self.with_start_frame is not None:
            return self.with_start_frame
        return self.otherwise


@dataclass(frozen=True)
class FieldDefault:
    """A value the bot sends when the member gave none (the API itself has no default for it)."""

    field: str
    value: Any
    #: ``(other field, value)``: ``value`` applies only while the other field has that value,
    #: ``otherwise`` applies else.
    when: tuple[str, Any] | None = None
    otherwise: Any = None

    def pick(self, data: Mapping[str, Any]) -> Any:
        if self.when is None or data.get(self.when[0]) == self.when[1]:
            return self.value
        return self.otherwise


@dataclass(frozen=True)
class Extension:
    """How an endpoint continues one of its own clips: the result's Extend button."""

    #: Request fields copied from the job being continued.
    keep: tuple[str, ...]
    #: The list field the clip's URL goes into.
    clip_field: str
    #: Fields set on every extension (e.g. the mode that takes a clip).
    fixed: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointDescription:
    """One endpoint as the bot uses it: how members choose it, fill it, and how long it takes."""

    id: str
    #: Starting guess before anything is learned: (seconds, seconds per second of video).
    timing: tuple[float, float]
    choices: tuple[ModelChoice, ...]
    media: MediaPlacement = field(default_factory=MediaPlacement)
    mode: InferredMode | None = None
    defaults: tuple[FieldDefault, ...] = ()
    #: Set when a clip from this endpoint can be continued (the Extend button).
    extension: Extension | None = None
    #: Whether Animate may use it to turn an image result into a clip (it takes a start frame).
    animates_images: bool = False


@dataclass(frozen=True)
class ProviderDescription:
    """Everything the bot needs to know about one provider besides its client and models."""

    provider: Provider
    #: What members see: the site they signed up on.
    name: str
    site: str
    #: Where the provider hands out keys (from its documentation), for the form and for errors
    #: (marked for translation: shown through ``bot.i18n.t``).
    key_source: str
    #: The documented key shape, never a real key, for the form's placeholder (words in it are
    #: marked for translation).
    key_shape: str
    #: A prefix that gives away which provider a pasted key belongs to (None: no documented one).
    key_prefix: str | None
    #: Where a member sees their balance and what was charged, to check an unconfirmed job
    #: (marked for translation, with the site's address in it: shown through ``bot.i18n.t``).
    account_page: str
    #: The setting holding the API's base URL, and its documented default.
    base_url_setting: str
    default_base_url: str
    endpoints: tuple[EndpointDescription, ...]
    #: Documented requests per window per key: (requests, seconds); None: the configured default.
    documented_budget: tuple[int, float] | None = None
    #: Whether a resent submit with the same Idempotency-Key is documented to start no second task.
    honours_idempotency: bool = False
    #: Whether the API documents a callback URL for finished tasks.
    accepts_callbacks: bool = False
    #: Dollars per credit, where the provider publishes a price.
    usd_per_credit: Decimal | None = None
    #: The price of a choice in words, where the provider publishes a price list, in the
    #: language of the translation function it is given.
    price_text: Callable[[ModelChoice, Translate], str] | None = None

    @property
    def choices(self) -> tuple[ModelChoice, ...]:
        return tuple(choice for item in self.endpoints for choice in item.choices)


def usd(amount: Decimal) -> str:
    """Dollars as members read them: ``$0.005``, ``$1``."""
    return f"${amount.normalize():f}"
