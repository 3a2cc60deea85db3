"""Turn slash-command options into a provider request (no Discord objects: plain data in).

Option names are what users type; field names are what the APIs take. Every problem the request
models report is renamed to the option the user has to change, with the allowed values.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.models import InvalidParameters, MediaKind, Problem, ProviderRequest, endpoint

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


_SEEDANCE2AI_VIDEO = {
    "prompt": "prompt", "mode": "mode", "quality_tier": "quality_tier",
    "render_channel": "channel", "aspect_ratio": "aspect_ratio", "duration": "duration",
    "resolution": "resolution", "start_frame": "image_url", "end_frame": "end_image_url",
    "references": "media_urls", "generate_audio": "generate_audio", "fixed_lens": "fixed_lens",
    "seed": "seed",
}  # fmt: skip
_SEEDANCEAPI = {
    "prompt": "prompt", "aspect_ratio": "aspect_ratio", "resolution": "resolution",
    "duration": "duration", "start_frame": "image_urls", "generate_audio": "generate_audio",
    "fixed_lens": "fixed_lens",
}  # fmt: skip
_SEED2 = {
    "prompt": "prompt", "aspect_ratio": "ratio", "duration": "duration",
    "start_frame": "image_files", "references": "image_files",
}  # fmt: skip
_GPT = {
    "prompt": "prompt", "type": "type", "render_channel": "channel", "resolution": "resolution",
    "aspect_ratio": "aspect_ratio", "batch_count": "batch_count", "images": "image_urls",
}  # fmt: skip
_NANO = {
    "prompt": "prompt", "type": "type", "aspect_ratio": "image_size", "resolution": "resolution",
    "output_format": "output_format", "images": "image_urls",
}  # fmt: skip

VIDEO_MODELS: dict[str, ModelChoice] = {
    choice.key: choice
    for choice in (
        ModelChoice("seedance2", "Seedance 2 (seedance2ai)", "seedance2", MediaKind.VIDEO,
                    options=_SEEDANCE2AI_VIDEO),
        ModelChoice("seedance", "Seedance (seedance2ai)", "seedance", MediaKind.VIDEO,
                    options=_SEEDANCE2AI_VIDEO),
        ModelChoice("seedanceapi", "Seedance 2.0 (seedanceapi)", "seedanceapi", MediaKind.VIDEO,
                    options=_SEEDANCEAPI),
        ModelChoice("seed2-fast", "Seedance 2.0 fast (seed2)", "seed2", MediaKind.VIDEO,
                    fixed={"model": "seedance_2.0_fast"}, options=_SEED2),
        ModelChoice("seed2-premium", "Seedance 2.0 premium (seed2)", "seed2", MediaKind.VIDEO,
                    fixed={"model": "seedance_2.0"}, options=_SEED2),
    )
}  # fmt: skip
IMAGE_MODELS: dict[str, ModelChoice] = {
    choice.key: choice
    for choice in (
        ModelChoice("gpt-image-2", "GPT Image 2 (seedance2ai)", "gpt-image-2", MediaKind.IMAGE,
                    options=_GPT),
        ModelChoice("nano-banana-pro", "Nano Banana Pro (seedance2ai)", "nano-banana-pro",
                    MediaKind.IMAGE, options=_NANO),
    )
}  # fmt: skip
ALL_MODELS = {**VIDEO_MODELS, **IMAGE_MODELS}


def default_model(kind: MediaKind, linked: Iterable[str]) -> ModelChoice | None:
    """The first model of a provider the user has linked a key for."""
    providers = set(linked)
    models = VIDEO_MODELS if kind is MediaKind.VIDEO else IMAGE_MODELS
    return next((m for m in models.values() if m.provider in providers), None)


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
        hint = f" It works with: {', '.join(others)}." if others else ""
        problems.append(Problem(name, f"is not available on {choice.label}.{hint}"))
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
            problems.append(Problem(name, f"must be an image; {attachment.filename} is not."))
    endpoint_id = choice.endpoint_id
    if endpoint_id in ("seedance2", "seedance"):
        if start:
            data["image_url"] = start.url
        if end:
            data["end_image_url"] = end.url
        if references:
            data["media_urls"] = references
        if "mode" not in data:
            data["mode"] = (
                "media-to-video" if references else "image-to-video" if start else "text-to-video"
            )
    elif endpoint_id == "seedanceapi":
        if start:
            data["image_urls"] = [start.url]
    elif endpoint_id == "seed2":
        problems += _seed2_files(inputs, data)
    else:  # image endpoints
        if references:
            data["image_urls"] = references
        data.setdefault("type", "image-to-image" if references else "text-to-image")
        if endpoint_id == "gpt-image-2":
            data.setdefault("resolution", "1K")
            data.setdefault("aspect_ratio", "auto" if data["resolution"] == "1K" else "1:1")
    return problems


def _seed2_files(inputs: Inputs, data: dict[str, Any]) -> list[Problem]:
    """seed2 sorts references by kind; the start frame becomes @image_file_1."""
    buckets: dict[str, list[str]] = {"image": [], "video": [], "audio": []}
    if inputs.start_frame:
        buckets["image"].append(inputs.start_frame.url)
    problems = []
    for attachment in inputs.files:
        if attachment.kind is None:
            problems.append(
                Problem(
                    "references", f"{attachment.filename} is not an image, video or audio file."
                )
            )
        else:
            buckets[attachment.kind].append(attachment.url)
    for url in inputs.urls:
        kind = url_kind(url)
        if kind is None:
            problems.append(
                Problem(
                    "urls",
                    f"cannot tell whether {url} is an image, video or audio file "
                    "(name it .png/.jpg, .mp4 or .mp3).",
                )
            )
        else:
            buckets[kind].append(url)
    for kind, key in (("image", "image_files"), ("video", "video_files"), ("audio", "audio_files")):
        if buckets[kind]:
            data[key] = buckets[kind]
    return problems


def _to_options(choice: ModelChoice, problems: Iterable[Problem]) -> list[Problem]:
    reverse: dict[str, str] = {}
    for option, field_name in choice.options.items():
        reverse.setdefault(field_name, option)
    for seed2_list in ("video_files", "audio_files"):
        reverse.setdefault(seed2_list, "references")
    rename = {"media_urls": "references", "image_urls": "images" if choice.kind is MediaKind.IMAGE
              else "start_frame"}  # fmt: skip
    renamed = []
    for problem in problems:
        name = rename.get(problem.field) or reverse.get(problem.field, problem.field)
        related = tuple(rename.get(r) or reverse.get(r, r) for r in problem.related)
        renamed.append(Problem(name, problem.message, problem.allowed, related))
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
