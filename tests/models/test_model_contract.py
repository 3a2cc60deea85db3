"""What every request model owes its provider's documentation, checked per model: the documented
examples and defaults go out as written, missing required parameters are each named, and each
enumerated parameter takes exactly the documented values and refuses the others'.

The documented values are in :mod:`tests.models.documented`; what is particular to one provider
stays in its own ``test_models_*.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import (
    GptImage2Request,
    NanoBananaProRequest,
    ProviderRequest,
    Seed2Request,
    Seedance2Request,
    SeedanceApiRequest,
    SeedanceRequest,
)
from tests.models.documented import BASE, DOCUMENTED, NEEDS, WIRE_DEFAULTS, documented, wire_name
from tests.models.helpers import as_json, only_problem, problems_of
from tests.seed_examples import (
    GPT_EXAMPLE,
    GUIDE_EXAMPLES,
    NANO_EXAMPLE,
    README_EXAMPLES,
    VIDEO_EXAMPLE,
)

#: What seedance2ai sends for a video request beyond what it was given.
SEEDANCE2AI_VIDEO_DEFAULTS = {"channel": "standard", "generate_audio": True, "fixed_lens": False}

# (model, a documented example request, the body it goes out as); JSON text tells 5 from "5".
EXAMPLES = [
    pytest.param(
        Seedance2Request, VIDEO_EXAMPLE, {**VIDEO_EXAMPLE, **SEEDANCE2AI_VIDEO_DEFAULTS},
        id="seedance2-curl",
    ),
    pytest.param(
        SeedanceRequest, VIDEO_EXAMPLE, {**VIDEO_EXAMPLE, **SEEDANCE2AI_VIDEO_DEFAULTS},
        id="seedance-curl",
    ),
    # Sent in camel case with the documented defaults.
    pytest.param(
        GptImage2Request, GPT_EXAMPLE, {**GPT_EXAMPLE, "channel": "standard", "batchCount": 1},
        id="gpt-image-2-curl",
    ),
    pytest.param(NanoBananaProRequest, NANO_EXAMPLE, NANO_EXAMPLE, id="nano-banana-pro-curl"),
    *[
        pytest.param(
            SeedanceApiRequest, example, {**WIRE_DEFAULTS[SeedanceApiRequest], **example},
            id=f"seedanceapi-{name}",
        )
        for name, example in GUIDE_EXAMPLES.items()
    ],
    *[
        pytest.param(
            Seed2Request, example, {**WIRE_DEFAULTS[Seed2Request], **example}, id=f"seed2-{name}"
        )
        for name, example in README_EXAMPLES.items()
    ],
]  # fmt: skip

GPT_BODY = {"type": "text-to-image", "prompt": "abc", "resolution": "2K", "aspectRatio": "3:2"}
SEEDANCE2AI_VIDEO = {
    "mode": "text-to-video",
    "quality_tier": "standard",
    "channel": "standard",
    "prompt": "abc",
    "aspect_ratio": "16:9",
    "duration": "5",
    "resolution": "720p",
    "generate_audio": True,  # true on seedance2ai (false on seedanceapi)
    "fixed_lens": False,
}
# (model, the least a member can ask, the body it goes out as: every default spelled out).
DEFAULTS = [
    pytest.param(Seedance2Request, {"prompt": "abc"}, SEEDANCE2AI_VIDEO, id="seedance2"),
    pytest.param(SeedanceRequest, {"prompt": "abc"}, SEEDANCE2AI_VIDEO, id="seedance"),
    # Batch count 1 on the standard channel.
    pytest.param(
        GptImage2Request, GPT_BODY, {**GPT_BODY, "channel": "standard", "batchCount": 1},
        id="gpt-image-2",
    ),
    # auto, png, 1K.
    pytest.param(
        NanoBananaProRequest,
        {"type": "text-to-image", "prompt": "abc"},
        {"type": "text-to-image", "prompt": "abc", "image_size": "auto", "output_format": "png",
         "resolution": "1K"},
        id="nano-banana-pro",
    ),
    # 1:1, 720p, 8 seconds, without audio.
    pytest.param(
        SeedanceApiRequest, {"prompt": "a fox"},
        {"prompt": "a fox", **WIRE_DEFAULTS[SeedanceApiRequest]}, id="seedanceapi",
    ),
    # The fast model, 5 seconds, 16:9.
    pytest.param(
        Seed2Request, {"prompt": "a fox"}, {"prompt": "a fox", **WIRE_DEFAULTS[Seed2Request]},
        id="seed2",
    ),
]  # fmt: skip

REQUIRED = [
    pytest.param(Seedance2Request, ["prompt"], id="seedance2"),
    pytest.param(SeedanceRequest, ["prompt"], id="seedance"),
    pytest.param(
        GptImage2Request, ["type", "prompt", "resolution", "aspect_ratio"], id="gpt-image-2"
    ),
    pytest.param(NanoBananaProRequest, ["type", "prompt"], id="nano-banana-pro"),
    pytest.param(SeedanceApiRequest, ["prompt"], id="seedanceapi"),
    pytest.param(Seed2Request, ["prompt"], id="seed2"),
]

# Values that exist on another endpoint (or nowhere): refused with the allowed list.
FROM_ELSEWHERE = [
    pytest.param(SeedanceRequest, "aspect_ratio", "adaptive", id="seedance-adaptive"),
    pytest.param(SeedanceRequest, "quality_tier", "mini", id="seedance-mini"),
    pytest.param(SeedanceRequest, "resolution", "1080p-plus", id="seedance-1080p-plus"),
    pytest.param(SeedanceRequest, "resolution", "4k", id="seedance-4k"),
    pytest.param(SeedanceRequest, "resolution", "480p", id="seedance-480p"),
    pytest.param(Seedance2Request, "resolution", "480p", id="seedance2-480p"),
    pytest.param(Seedance2Request, "resolution", "4K", id="seedance2-4K-uppercase"),
    pytest.param(Seedance2Request, "aspect_ratio", "9:21", id="seedance2-9:21"),
    pytest.param(Seedance2Request, "aspect_ratio", "auto", id="seedance2-auto"),
    pytest.param(Seedance2Request, "channel", "economy", id="seedance2-economy"),
    pytest.param(Seedance2Request, "quality_tier", "premium", id="seedance2-premium"),
    pytest.param(Seedance2Request, "mode", "text-to-image", id="seedance2-text-to-image"),
    pytest.param(SeedanceRequest, "mode", "reference-to-video", id="seedance-reference"),
    pytest.param(GptImage2Request, "channel", "real", id="gpt-real"),
    pytest.param(GptImage2Request, "resolution", "1k", id="gpt-1k-lowercase"),
    pytest.param(GptImage2Request, "resolution", "720p", id="gpt-720p"),
    pytest.param(GptImage2Request, "aspect_ratio", "adaptive", id="gpt-adaptive"),
    pytest.param(GptImage2Request, "type", "text-to-video", id="gpt-text-to-video"),
    pytest.param(NanoBananaProRequest, "image_size", "9:21", id="nano-9:21"),
    pytest.param(NanoBananaProRequest, "image_size", "2:1", id="nano-2:1"),
    pytest.param(NanoBananaProRequest, "output_format", "webp", id="nano-webp"),
    pytest.param(NanoBananaProRequest, "resolution", "8K", id="nano-8K"),
    pytest.param(NanoBananaProRequest, "type", "image-to-video", id="nano-image-to-video"),
    pytest.param(SeedanceApiRequest, "aspect_ratio", "adaptive", id="seedanceapi-adaptive"),
    pytest.param(SeedanceApiRequest, "aspect_ratio", "auto", id="seedanceapi-auto"),
    pytest.param(SeedanceApiRequest, "aspect_ratio", "2:1", id="seedanceapi-2:1"),  # GPT Image 2
    pytest.param(SeedanceApiRequest, "resolution", "1080p", id="seedanceapi-1080p"),
    pytest.param(SeedanceApiRequest, "resolution", "480", id="seedanceapi-480"),
    pytest.param(SeedanceApiRequest, "duration", "5", id="seedanceapi-5"),  # seedance2ai's default
    pytest.param(SeedanceApiRequest, "duration", "10", id="seedanceapi-10"),
    pytest.param(SeedanceApiRequest, "duration", "15", id="seedanceapi-15"),
    pytest.param(SeedanceApiRequest, "duration", 5, id="seedanceapi-int-5"),
    pytest.param(SeedanceApiRequest, "duration", 8.0, id="seedanceapi-float-8"),
    pytest.param(SeedanceApiRequest, "duration", True, id="seedanceapi-true"),
    pytest.param(Seed2Request, "ratio", "9:21", id="seed2-9:21"),  # seedanceapi
    pytest.param(Seed2Request, "ratio", "adaptive", id="seed2-adaptive"),  # seedance2ai
    pytest.param(Seed2Request, "ratio", "auto", id="seed2-auto"),
    pytest.param(Seed2Request, "model", "seedance_2.0_pro", id="seed2-pro"),
    pytest.param(Seed2Request, "model", "seedance2", id="seed2-seedance2"),
    pytest.param(Seed2Request, "model", "fast", id="seed2-fast"),
]


@pytest.mark.parametrize(("model", "example", "sent"), EXAMPLES)
def test_each_documented_example_is_sent_with_its_values_and_the_documented_defaults(
    model: type[ProviderRequest], example: dict[str, Any], sent: dict[str, Any]
) -> None:
    assert as_json(model.parse(example).to_wire()) == as_json(sent)


@pytest.mark.parametrize(("model", "body", "sent"), DEFAULTS)
def test_the_defaults_are_spelled_out_on_the_wire(
    model: type[ProviderRequest], body: dict[str, Any], sent: dict[str, Any]
) -> None:
    assert as_json(model.parse(body).to_wire()) == as_json(sent)


@pytest.mark.parametrize(("model", "required"), REQUIRED)
def test_missing_required_parameters_are_each_named(
    model: type[ProviderRequest], required: list[str]
) -> None:
    problems = problems_of(model, {})

    assert [p.field for p in problems] == required
    for problem in problems:
        assert problem.message == "is required."
        assert problem.allowed == model.choices(problem.field)


@pytest.mark.parametrize(
    ("model", "field"),
    [pytest.param(m, f, id=f"{m.__name__}.{f}") for m, f in DOCUMENTED],
)
def test_choices_are_exactly_the_documented_values_in_documented_order(
    model: type[ProviderRequest], field: str
) -> None:
    documented = DOCUMENTED[model, field]

    assert set(model.choices(field)) == set(documented)
    assert model.choices(field) == tuple(documented)


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        pytest.param(m, f, v, id=f"{m.__name__}.{f}={v}")
        for (m, f), values in DOCUMENTED.items()
        for v in values
    ],
)
def test_every_documented_value_is_accepted_and_sent_as_is(
    model: type[ProviderRequest], field: str, value: str
) -> None:
    body = {**BASE[model], **NEEDS.get((field, value), {}), wire_name(model, field): value}

    wire = model.parse(body).to_wire()

    assert wire[wire_name(model, field)] == value
    assert type(wire[wire_name(model, field)]) is str


@pytest.mark.parametrize(("model", "field", "value"), FROM_ELSEWHERE)
def test_a_value_from_elsewhere_is_rejected_with_the_allowed_values(
    model: type[ProviderRequest], field: str, value: Any
) -> None:
    body = {**BASE[model], wire_name(model, field): value}

    problem = only_problem(model, body)

    assert problem.field == field  # the Python name, also for GPT Image 2's aspectRatio
    assert problem.allowed == tuple(DOCUMENTED[model, field])
    assert repr(value) in problem.message


# Parameters another API has: refused by name, never sent.
OTHER_APIS_PARAMETERS = [
    *[
        pytest.param(Seed2Request, name, id=f"seed2-{name}")
        for name in ["aspect_ratio", "resolution", "image_urls", "generate_audio"]
    ],
    *[
        pytest.param(SeedanceApiRequest, name, id=f"seedanceapi-{name}")
        for name in ["model", "mode", "seed", "image_url", "negative_prompt", "quality_tier"]
    ],
]


@pytest.mark.parametrize(("model", "name"), OTHER_APIS_PARAMETERS)
def test_parameters_of_other_apis_are_rejected_by_name(
    model: type[ProviderRequest], name: str
) -> None:
    problem = only_problem(model, {"prompt": "a fox", name: "x"})

    assert problem.field == name
    assert problem.message == "is not a parameter of this endpoint."


# The limits Discord shows for a parameter (an empty dict: it has none).
BOUNDS = [
    (Seedance2Request, "prompt", {"min_length": 3, "max_length": 10_000}),
    (Seedance2Request, "seed", {"ge": -1, "le": 4_294_967_295}),
    (Seedance2Request, "media_urls", {"min_length": 1, "max_length": 12}),
    (SeedanceRequest, "prompt", {"min_length": 3, "max_length": 10_000}),
    (SeedanceRequest, "seed", {"ge": -1, "le": 4_294_967_295}),
    (SeedanceRequest, "media_urls", {"min_length": 1, "max_length": 12}),
    (GptImage2Request, "prompt", {"min_length": 3, "max_length": 20_000}),
    (GptImage2Request, "batch_count", {"ge": 1, "le": 4}),
    (GptImage2Request, "image_urls", {"min_length": 1, "max_length": 10}),
    (NanoBananaProRequest, "prompt", {"min_length": 3, "max_length": 10_000}),
    (NanoBananaProRequest, "image_urls", {"min_length": 1, "max_length": 8}),
    (Seedance2Request, "mode", {}),
    (SeedanceApiRequest, "prompt", {"min_length": 1, "max_length": 2000}),
    (SeedanceApiRequest, "image_urls", {"min_length": 1, "max_length": 1}),
    (SeedanceApiRequest, "duration", {}),
    (Seed2Request, "duration", {"ge": 4, "le": 15}),
    (Seed2Request, "image_files", {"min_length": 1, "max_length": 9}),
    (Seed2Request, "video_files", {"min_length": 1, "max_length": 3}),
    (Seed2Request, "audio_files", {"min_length": 1, "max_length": 3}),
]


@pytest.mark.parametrize(
    ("model", "field", "bounds"),
    [pytest.param(m, f, b, id=f"{m.__name__}.{f}") for m, f, b in BOUNDS],
)
def test_bounds_are_the_documented_limits(
    model: type[ProviderRequest], field: str, bounds: dict[str, int]
) -> None:
    assert model.bounds(field) == bounds


# Models whose choices no other parameter narrows, with a body that sets every other one.
UNRESTRICTED = [
    pytest.param(
        SeedanceApiRequest, field,
        {"resolution": "480p", "duration": "12", "aspect_ratio": "9:21", "generate_audio": True},
        id=f"seedanceapi-{field}",
    )
    for field in documented(SeedanceApiRequest)
] + [
    pytest.param(
        Seed2Request, field, {"model": "seedance_2.0", "ratio": "21:9", "duration": 15},
        id=f"seed2-{field}",
    )
    for field in documented(Seed2Request)
]  # fmt: skip


@pytest.mark.parametrize(("model", "field", "given"), UNRESTRICTED)
def test_no_cross_field_rules_restrict_the_choices(
    model: type[ProviderRequest], field: str, given: dict[str, Any]
) -> None:
    assert model.allowed(field, given) == tuple(DOCUMENTED[model, field])
