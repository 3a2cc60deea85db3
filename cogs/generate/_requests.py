"""Turn slash-command options into a provider request (no Discord objects: plain data in).

Option names are what users type; field names are what the APIs take. Every problem the request
models report is renamed to the option the user has to change, with the allowed values.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bot.i18n import N_, Text
from bot.models import InvalidParameters, MediaKind, Problem, ProviderRequest
from bot.providers.description import MediaPlacement
from bot.providers.description import ModelChoice as ModelChoice  # the cogs' name for it
from bot.providers.registry import animating_choices, endpoint_description, model_choices

#: Most URLs the list option takes; the largest documented list (media_urls) holds 12.
URL_SPLIT = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Attachment:
    """What the bot knows of a Discord attachment."""

    url: str
    filename: str
    content_type: str | None = None
    size: int = 0

    @property
    def kind(self) -> str | None:
        """image, video or audio, from the content type Discord reports, else the extension."""
        content_type = self.content_type or mimetypes.guess_type(self.filename)[0] or ""
        major = content_type.split("/", 1)[0]
        return major if major in ("image", "video", "audio") else None


def url_kind(url: str) -> str | None:
    path = url.split("?", 1)[0]
    guessed = mimetypes.guess_type(path)[0] or ""
    major = guessed.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else None


#: The /video and /image ``model`` choices, from the provider descriptions.
VIDEO_MODELS: dict[str, ModelChoice] = model_choices(MediaKind.VIDEO)
IMAGE_MODELS: dict[str, ModelChoice] = model_choices(MediaKind.IMAGE)
ALL_MODELS = {**VIDEO_MODELS, **IMAGE_MODELS}


def choice_of(endpoint_id: str, request: Mapping[str, Any]) -> ModelChoice | None:
    """The /video or /image ``model`` choice a request was made with (one endpoint may serve
    several choices, told apart by the fields each fixes); None for an endpoint no choice serves."""
    for choice in ALL_MODELS.values():
        if choice.endpoint_id == endpoint_id and all(
            request.get(k) == v for k, v in choice.fixed.items()
        ):
            return choice
    return None


def default_model(
    kind: MediaKind, linked: Iterable[str], allowed: Collection[str] | None = None
) -> ModelChoice | None:
    """The first model of a provider the user has linked a key for (among the ``allowed``
    model keys, if the server restricts them)."""
    providers = set(linked)
    models = VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS
    return next(
        (
            m
            for m in models.values()
            if m.provider in providers and (allowed is None or m.key in allowed)
        ),
        None,
    )


def animating_model(linked: Iterable[str]) -> ModelChoice | None:
    """The first video model of a linked provider that can turn an image into a clip."""
    return next(iter(animating_choices(linked)), None)


def split_urls(text: str | None) -> list[str]:
    return [u for u in URL_SPLIT.split(text or "") if u]


@dataclass
class Inputs:
    """Everything the user gave, before it is mapped to one endpoint."""

    prompt: str
    options: dict[str, Any] = field(default_factory=dict)
    start_frame: Attachment | None = None
    end_frame: Attachment | None = None
    #: Reference attachments (video) or input images (image), in order.
    files: list[Attachment] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def _unsupported(choice: ModelChoice, given: Iterable[str]) -> list[Problem]:
    problems = []
    for name in sorted(given):
        if name in choice.options:
            continue
        others = [
            m.label for m in ALL_MODELS.values() if name in m.options and m.kind is choice.kind
        ]
        if others:
            problems.append(
                Problem.of(
                    name,
                    N_("is not available on {model}. It works with: {models}."),
                    model=choice.label,
                    models=", ".join(others),
                )
            )
        else:
            problems.append(
                Problem.of(name, N_("is not available on {model}."), model=choice.label)
            )
    return problems


def build_request(choice: ModelChoice, inputs: Inputs) -> ProviderRequest:
    """The validated request for ``choice``, or :class:`InvalidParameters` in option names."""
    given = {name for name, value in inputs.options.items() if value is not None}
    given |= {name for name, value in (("start_frame", inputs.start_frame),
                                       ("end_frame", inputs.end_frame)) if value}  # fmt: skip
    reference_option = "images" if choice.kind is MediaKind.IMAGE else "references"
    if inputs.files or inputs.urls:
        given.add(reference_option)
    problems = _unsupported(choice, given)
    data: dict[str, Any] = {"prompt": inputs.prompt, **choice.fixed}
    for name, value in inputs.options.items():
        if value is not None and name in choice.options:
            data[choice.options[name]] = value
    problems += _map_media(choice, inputs, data)
    if problems:
        raise InvalidParameters(problems)
    try:
        return choice.request_model.parse(data)
    except InvalidParameters as error:
        raise InvalidParameters(_to_options(choice, error.problems)) from None


def _map_media(choice: ModelChoice, inputs: Inputs, data: dict[str, Any]) -> list[Problem]:
    """Place attachments and URLs where this endpoint wants them; infer the mode."""
    start, end = inputs.start_frame, inputs.end_frame
    references = [a.url for a in inputs.files] + inputs.urls
    problems: list[Problem] = []
    for name, attachment in (("start_frame", start), ("end_frame", end)):
        if attachment is not None and attachment.kind != "image":
            problems.append(
                Problem.of(
                    name, N_("must be an image; {filename} is not."), filename=attachment.filename
                )
            )
    described = endpoint_description(choice.endpoint_id)
    if described is None:
        return problems
    media = described.media
    placed: dict[str, list[str]] = {}
    for slot, attachment in ((media.start_frame, start), (media.end_frame, end)):
        if slot is not None and attachment is not None:
            placed.setdefault(slot.name, []).append(attachment.url)
    if media.references_by_kind:
        problems += _sort_by_kind(media, inputs, placed)
    elif media.references is not None and references:
        placed.setdefault(media.references.name, []).extend(references)
    for slot in media.slots():
        if slot.name in placed:
            urls = placed[slot.name]
            data[slot.name] = urls if slot.is_list or len(urls) > 1 else urls[0]
    if described.mode is not None and described.mode.field not in data:
        data[described.mode.field] = described.mode.value(
            references=bool(references), start_frame=start is not None
        )
    for default in described.defaults:
        if default.field not in data:
            data[default.field] = default.pick(data)
    return problems


#: A file kind an endpoint's references have no place for, said of one option / of a list.
_TAKES_NO = {
    "image": Text(N_("takes no image files.")),
    "video": Text(N_("takes no video files.")),
    "audio": Text(N_("takes no audio files.")),
}
_TAKE_NO = {
    "image": Text(N_("take no image files.")),
    "video": Text(N_("take no video files.")),
    "audio": Text(N_("take no audio files.")),
}


def _sort_by_kind(
    media: MediaPlacement, inputs: Inputs, placed: dict[str, list[str]]
) -> list[Problem]:
    """References sorted into the endpoint's image, video and audio lists, in the order given."""
    problems = []
    by_kind = media.references_by_kind
    for attachment in inputs.files:
        if attachment.kind is None:
            problems.append(
                Problem.of(
                    "references",
                    N_("{filename} is not an image, video or audio file."),
                    filename=attachment.filename,
                )
            )
        elif attachment.kind not in by_kind:
            problems.append(Problem.made("references", _TAKES_NO[attachment.kind]))
        else:
            placed.setdefault(by_kind[attachment.kind], []).append(attachment.url)
    for url in inputs.urls:
        kind = url_kind(url)
        if kind is None:
            problems.append(
                Problem.of(
                    "urls",
                    N_(
                        "cannot tell whether {url} is an image, video or audio file (name it "
                        ".png/.jpg, .mp4 or .mp3)."
                    ),
                    url=url,
                )
            )
        elif kind not in by_kind:
            problems.append(Problem.made("urls", _TAKE_NO[kind]))
        else:
            placed.setdefault(by_kind[kind], []).append(url)
    return problems


def _to_options(choice: ModelChoice, problems: Iterable[Problem]) -> list[Problem]:
    reverse: dict[str, str] = {}
    for option, field_name in choice.options.items():
        reverse.setdefault(field_name, option)
    described = endpoint_description(choice.endpoint_id)
    if described is not None:
        # Fields only filled from files (seed2's video and audio lists) read as the option used.
        reference_option = "images" if choice.kind is MediaKind.IMAGE else "references"
        media = described.media
        for option, slot in (("start_frame", media.start_frame), ("end_frame", media.end_frame)):
            if slot is not None:
                reverse.setdefault(slot.name, option)
        for slot in media.slots():
            reverse.setdefault(slot.name, reference_option)
    renamed = []
    for problem in problems:
        name = reverse.get(problem.field, problem.field)
        related = tuple(reverse.get(r, r) for r in problem.related)
        renamed.append(replace(problem, field=name, related=related))
    return renamed


def allowed_values(choice: ModelChoice, option: str, given: Mapping[str, Any]) -> tuple[str, ...]:
    """Values of an enumerated option that ``choice`` accepts with the other ``given`` options."""
    field_name = choice.options.get(option)
    if field_name is None:
        return ()
    model = choice.request_model
    context = {
        choice.options[k]: v for k, v in given.items() if k in choice.options and v is not None
    }
    context.update(choice.fixed)
    context.pop(field_name, None)
    return model.allowed(field_name, context)


#: Options that carry the prompt or files rather than a value: never carried over as options.
_INPUT_OPTIONS = frozenset({"prompt", "start_frame", "end_frame", "references", "images"})


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _as_attachment(url: str, kind: str) -> Attachment:
    """A stored input link as an input: its kind is the one it was accepted as."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1] or f"{kind}-input"
    return Attachment(url, name, f"{kind}/*")


def stored_inputs(choice: ModelChoice, request: Mapping[str, Any], prompt: str) -> Inputs:
    """The files and links of a stored request (made with ``choice``), as inputs given anew.

    Where the endpoint sorts references by kind, every file goes back as a reference of its
    kind (a start frame sharing the image list is its first entry, where it lands again).
    """
    inputs = Inputs(prompt)
    described = endpoint_description(choice.endpoint_id)
    if described is None:
        return inputs
    media = described.media
    if media.references_by_kind:
        for kind, field_name in media.references_by_kind.items():
            inputs.files += [_as_attachment(u, kind) for u in _as_list(request.get(field_name))]
        return inputs
    for slot, name in ((media.start_frame, "start_frame"), (media.end_frame, "end_frame")):
        urls = _as_list(request.get(slot.name)) if slot is not None else []
        if urls:
            setattr(inputs, name, _as_attachment(urls[0], "image"))
    if media.references is not None:
        inputs.urls = _as_list(request.get(media.references.name))
    return inputs


def edited_request(
    original: ModelChoice,
    request: Mapping[str, Any],
    choice: ModelChoice,
    prompt: str,
    edited: Mapping[str, Any],
) -> ProviderRequest:
    """A new request for ``choice`` from ``request`` (made with ``original``): the ``prompt``
    and the ``edited`` options (None: left empty, so the model's default) as the member gave
    them, checked exactly as /video and /image check theirs; the request's files and its other
    options carried over, those ``choice`` does not take left behind (the member could not see
    them to clear them)."""
    inputs = stored_inputs(original, request, prompt)
    for option, field_name in original.options.items():
        if option in _INPUT_OPTIONS or option in edited or option not in choice.options:
            continue
        if request.get(field_name) is not None:
            inputs.options[option] = request[field_name]
    inputs.options.update({k: v for k, v in edited.items() if v is not None})
    return build_request(choice, inputs)
