"""What every request model shares: the https-only URL rule, strict parameter names, plain-word
problems, frozen values that survive a round trip, and the endpoint catalog."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from pydantic import ValidationError

from bot.models import (
    ENDPOINTS,
    GptImage2Request,
    InvalidParameters,
    MediaKind,
    NanoBananaProRequest,
    Problem,
    Provider,
    ProviderRequest,
    Seed2Request,
    Seedance2Request,
    SeedanceApiRequest,
    SeedanceRequest,
    endpoint,
    endpoint_for,
)

URL = "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1"
PROMPT = "A red fox trotting through fresh snow at dawn"

ALL_MODELS = [
    Seedance2Request,
    SeedanceRequest,
    GptImage2Request,
    NanoBananaProRequest,
    SeedanceApiRequest,
    Seed2Request,
]

# A valid body per endpoint that exercises as many fields as the rules allow together.
FULL_BODIES: dict[type[ProviderRequest], dict[str, Any]] = {
    Seedance2Request: {
        "mode": "image-to-video",
        "quality_tier": "pro",
        "channel": "wild",
        "prompt": PROMPT,
        "aspect_ratio": "adaptive",
        "duration": "12",
        "resolution": "4k",
        "image_url": URL,
        "end_image_url": "https://cdn.example.com/end.png",
        "generate_audio": False,
        "fixed_lens": True,
        "seed": 4_294_967_295,
    },
    SeedanceRequest: {
        "mode": "media-to-video",
        "quality_tier": "pro",
        "channel": "real",
        "prompt": PROMPT,
        "aspect_ratio": "21:9",
        "duration": "15",
        "resolution": "1080p",
        "media_urls": [URL, "https://cdn.example.com/clip.mp4"],
        "generate_audio": True,
        "fixed_lens": False,
    },
    GptImage2Request: {
        "type": "image-to-image",
        "channel": "economy",
        "prompt": PROMPT,
        "resolution": "4K",
        "aspectRatio": "1:1",
        "batchCount": 4,
        "imageUrls": [URL],
    },
    NanoBananaProRequest: {
        "type": "image-to-image",
        "prompt": PROMPT,
        "image_size": "4:5",
        "output_format": "jpeg",
        "resolution": "2K",
        "image_urls": [URL],
    },
    SeedanceApiRequest: {
        "prompt": PROMPT,
        "aspect_ratio": "9:21",
        "resolution": "480p",
        "duration": "12",
        "generate_audio": True,
        "fixed_lens": True,
        "image_urls": [URL],
        "callback_url": "https://bot.example.com/hooks/seedance",
    },
    Seed2Request: {
        "prompt": "The fox in @image_file_1 dances like @image_file_2",
        "model": "seedance_2.0",
        "duration": 15,
        "ratio": "21:9",
        "image_files": [URL, "https://cdn.example.com/b.png"],
        "video_files": ["https://cdn.example.com/dance.mp4"],
        "audio_files": ["https://cdn.example.com/song.mp3"],
    },
}

# Every URL field, with the other parameters it needs to be valid: (model, body, field, is a list).
URL_FIELDS = [
    pytest.param(
        Seedance2Request,
        {"prompt": PROMPT, "mode": "image-to-video"},
        "image_url",
        False,
        id="seedance2.image_url",
    ),
    pytest.param(
        Seedance2Request,
        {"prompt": PROMPT, "mode": "image-to-video", "image_url": URL},
        "end_image_url",
        False,
        id="seedance2.end_image_url",
    ),
    pytest.param(
        Seedance2Request,
        {"prompt": PROMPT, "mode": "media-to-video"},
        "media_urls",
        True,
        id="seedance2.media_urls",
    ),
    pytest.param(
        SeedanceRequest,
        {"prompt": PROMPT, "mode": "image-to-video"},
        "image_url",
        False,
        id="seedance.image_url",
    ),
    pytest.param(
        SeedanceRequest,
        {"prompt": PROMPT, "mode": "image-to-video", "image_url": URL},
        "end_image_url",
        False,
        id="seedance.end_image_url",
    ),
    pytest.param(
        SeedanceRequest,
        {"prompt": PROMPT, "mode": "media-to-video"},
        "media_urls",
        True,
        id="seedance.media_urls",
    ),
    pytest.param(
        GptImage2Request,
        {"type": "image-to-image", "prompt": PROMPT, "resolution": "1K", "aspectRatio": "1:1"},
        "image_urls",
        True,
        id="gpt-image-2.imageUrls",
    ),
    pytest.param(
        NanoBananaProRequest,
        {"type": "image-to-image", "prompt": PROMPT},
        "image_urls",
        True,
        id="nano-banana-pro.image_urls",
    ),
    pytest.param(
        SeedanceApiRequest, {"prompt": PROMPT}, "image_urls", True, id="seedanceapi.image_urls"
    ),
    pytest.param(
        SeedanceApiRequest, {"prompt": PROMPT}, "callback_url", False, id="seedanceapi.callback_url"
    ),
    pytest.param(Seed2Request, {"prompt": PROMPT}, "image_files", True, id="seed2.image_files"),
    pytest.param(Seed2Request, {"prompt": PROMPT}, "video_files", True, id="seed2.video_files"),
    pytest.param(Seed2Request, {"prompt": PROMPT}, "audio_files", True, id="seed2.audio_files"),
]

NOT_PUBLIC_HTTPS = [
    "http://cdn.example.com/a.png",
    "ftp://cdn.example.com/a.png",
    "file:///etc/passwd",
    "data:image/png;base64,iVBORw0KGgo=",
    "cdn.example.com/a.png",
    "//cdn.example.com/a.png",
    "",
    "https://",
    "https:///a.png",
    "https://localhost/a.png",
    "https://LOCALHOST:8443/a.png",
    "https://api.localhost/a.png",
    "https://printer.local/a.png",
    "https://127.0.0.1/a.png",
    "https://127.0.0.1:8080/a.png",
    "https://0.0.0.0/a.png",
    "https://10.0.0.7/a.png",
    "https://172.16.4.2/a.png",
    "https://192.168.1.20/a.png",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/a.png",
    "https://[::1]/a.png",
    "https://[fd12:3456::1]/a.png",
    "https://[fe80::1]/a.png",
    "https://127.1/a.png",
    "https://0x7f.0.0.1/a.png",
    "https://intranet/a.png",
    "https://cdn.example.com/a b.png",
    " https://cdn.example.com/a.png",
]

PUBLIC_HTTPS = [
    "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1",
    "https://cdn.discordapp.com/attachments/1/2/a.png?ex=66f1&is=66ef&hm=0a1b2c&",
    "https://media.discordapp.net/attachments/1/2/My%20Photo.JPG",
    "https://CDN.Example.COM/Path/File.PNG",
    "https://cdn.example.com:8443/a.png#frame",
    "https://1.1.1.1/Photo.PNG?X=1",
    "https://[2606:4700:4700::1111]/a.png",
    "https://example.com/woman.jpg",
]


def wire_name(model: type[ProviderRequest], field: str) -> str:
    return model.model_fields[field].alias or field


def problems_of(model: type[ProviderRequest], data: Mapping[str, Any]) -> tuple[Problem, ...]:
    with pytest.raises(InvalidParameters) as caught:
        model.parse(data)
    return caught.value.problems


# --- public https URLs only ----------------------------------------------------------------------


@pytest.mark.parametrize(("model", "body", "field", "is_list"), URL_FIELDS)
@pytest.mark.parametrize("bad", NOT_PUBLIC_HTTPS)
def test_every_url_field_rejects_urls_a_provider_cannot_fetch(model, body, field, is_list, bad):
    problems = problems_of(model, {**body, wire_name(model, field): [bad] if is_list else bad})

    assert [p.field for p in problems] == [field]
    assert problems[0].message


@pytest.mark.parametrize(("model", "body", "field", "is_list"), URL_FIELDS)
@pytest.mark.parametrize("good", PUBLIC_HTTPS)
def test_every_url_field_sends_a_public_https_url_byte_for_byte(model, body, field, is_list, good):
    key = wire_name(model, field)

    wire = model.parse({**body, key: [good] if is_list else good}).to_wire()

    assert wire[key] == ([good] if is_list else good)
    assert json.dumps(wire[key]) == json.dumps([good] if is_list else good)


@pytest.mark.parametrize(("model", "body", "field", "is_list"), URL_FIELDS)
@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("http://cdn.example.com/a.png", "must start with https://"),
        ("https://localhost/a.png", "must point at a public host, not localhost"),
        ("https://192.168.1.20/a.png", "must point at a public host, not 192.168.1.20"),
        ("https://cdn.example.com/a b.png", "without spaces"),
    ],
)
def test_url_problems_say_what_is_wrong_in_plain_words(model, body, field, is_list, bad, words):
    (problem,) = problems_of(model, {**body, wire_name(model, field): [bad] if is_list else bad})

    assert words in problem.message
    assert str(problem).startswith(f"`{field}`: ")
    assert problem.message.startswith("item 1: ") is is_list


def test_a_bad_url_in_a_list_is_named_by_its_position():
    files = [URL, "https://cdn.example.com/b.png", "http://cdn.example.com/c.png"]

    (problem,) = problems_of(Seed2Request, {"prompt": PROMPT, "image_files": files})

    assert problem.field == "image_files"
    assert problem.message == "item 3: must start with https://."


# --- parameter names -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("unknown", ["negative_prompt", "webhook", "Prompt"])
def test_unknown_parameters_are_rejected_with_a_problem_naming_them(model, unknown):
    problems = problems_of(model, {**FULL_BODIES[model], unknown: "x"})

    assert [p.field for p in problems] == [unknown]
    assert problems[0].message == "is not a parameter of this endpoint."
    assert unknown in str(problems[0])


@pytest.mark.parametrize(
    ("model", "wrong_spelling"),
    [
        (Seedance2Request, "aspectRatio"),  # camelCase belongs to GPT Image 2 only
        (SeedanceRequest, "imageUrl"),
        (NanoBananaProRequest, "imageUrls"),
        (SeedanceApiRequest, "aspectRatio"),
        (Seed2Request, "imageFiles"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else v,
)
def test_camel_case_names_are_only_accepted_by_gpt_image_2(model, wrong_spelling):
    problems = problems_of(model, {**FULL_BODIES[model], wrong_spelling: "x"})

    assert [p.field for p in problems] == [wrong_spelling]


def test_gpt_image_2_problems_name_python_fields_for_camel_case_aliases():
    body = {
        "type": "image-to-image",
        "prompt": PROMPT,
        "resolution": "1K",
        "aspectRatio": "4:7",
        "batchCount": 9,
        "imageUrls": ["http://example.com/a.png"],
    }

    problems = problems_of(GptImage2Request, body)

    assert sorted(p.field for p in problems) == ["aspect_ratio", "batch_count", "image_urls"]


# --- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_a_parsed_request_is_frozen(model):
    request = model.parse(FULL_BODIES[model])

    with pytest.raises(ValidationError):
        request.prompt = "something else"  # type: ignore[misc]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_the_wire_body_parses_back_to_the_same_request(model):
    """A job stores ``to_wire()``; reading it back must validate and give the same body."""
    request = model.parse(FULL_BODIES[model])

    again = model.parse(json.loads(json.dumps(request.to_wire())))

    assert again == request
    assert again.to_wire() == request.to_wire()


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_parse_does_not_change_the_given_mapping(model):
    body = json.loads(json.dumps(FULL_BODIES[model]))
    before = json.dumps(body)

    model.parse(body)

    assert json.dumps(body) == before


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_a_body_naming_every_parameter_is_sent_exactly_as_given(model):
    body = FULL_BODIES[model]

    wire = model.parse(body).to_wire()

    assert json.dumps(wire, sort_keys=True) == json.dumps(body, sort_keys=True)


# --- problems in plain words ---------------------------------------------------------------------

FAILING = [
    pytest.param(Seedance2Request, {}, id="missing"),
    pytest.param(Seedance2Request, {"prompt": PROMPT, "colour": "red"}, id="unknown"),
    pytest.param(SeedanceRequest, {"prompt": PROMPT, "aspect_ratio": "adaptive"}, id="literal"),
    pytest.param(Seedance2Request, {"prompt": "ab"}, id="too-short"),
    pytest.param(
        GptImage2Request, {**FULL_BODIES[GptImage2Request], "prompt": "x" * 20_001}, id="too-long"
    ),
    pytest.param(Seedance2Request, {"prompt": PROMPT, "seed": -2}, id="range"),
    pytest.param(Seed2Request, {"prompt": PROMPT, "duration": "5"}, id="int-type"),
    pytest.param(Seedance2Request, {"prompt": PROMPT, "fixed_lens": "maybe"}, id="bool-type"),
    pytest.param(SeedanceApiRequest, {"prompt": PROMPT, "callback_url": "http://x.io"}, id="url"),
    pytest.param(
        Seed2Request, {"prompt": PROMPT, "video_files": ["https://a.io/v"] * 4}, id="list"
    ),
    pytest.param(
        Seedance2Request,
        {"prompt": PROMPT, "quality_tier": "mini", "resolution": "4k"},
        id="cross-field",
    ),
    pytest.param(Seed2Request, {"prompt": "@image_file_1 dances"}, id="reference"),
    pytest.param(SeedanceApiRequest, {"prompt": "   "}, id="blank"),
]


@pytest.mark.parametrize(("model", "body"), FAILING)
def test_problems_read_as_plain_words_naming_the_field_and_allowed_values(model, body):
    for problem in problems_of(model, body):
        text = str(problem)

        assert text.startswith(f"`{problem.field}`: ")
        assert problem.message[:1].isalnum() or problem.message[:1] in "'@"
        assert problem.message.endswith(".")
        for jargon in ("pydantic", "errors.pydantic.dev", "[type=", "literal_error", "Value error"):
            assert jargon not in text
        if problem.allowed:
            assert "Allowed: " + ", ".join(problem.allowed) + "." in text
        else:
            assert "Allowed" not in text


def test_a_problem_with_allowed_values_lists_them():
    problem = Problem("aspect_ratio", "'9:21' is not accepted.", ("16:9", "9:16"))

    assert str(problem) == "`aspect_ratio`: '9:21' is not accepted. Allowed: 16:9, 9:16."


def test_invalid_parameters_joins_every_problem_and_lists_the_fields_once():
    with pytest.raises(InvalidParameters) as caught:
        Seedance2Request.parse(
            {"prompt": "ab", "aspect_ratio": "9:21", "seed": -5, "duration": "99"}
        )
    error = caught.value

    assert error.fields == ("prompt", "aspect_ratio", "duration", "seed")
    assert str(error) == "; ".join(str(p) for p in error.problems)
    assert isinstance(error, ValueError)


def test_a_literal_problem_in_words():
    (problem,) = problems_of(SeedanceRequest, {"prompt": PROMPT, "quality_tier": "mini"})

    assert str(problem) == "`quality_tier`: 'mini' is not accepted. Allowed: standard, pro."


# --- the endpoint catalog ------------------------------------------------------------------------


def test_the_catalog_lists_each_endpoint_once_with_its_provider_kind_and_model():
    assert [(e.id, e.provider, e.kind, e.request_model) for e in ENDPOINTS] == [
        ("seedance2", Provider.SEEDANCE2AI, MediaKind.VIDEO, Seedance2Request),
        ("seedance", Provider.SEEDANCE2AI, MediaKind.VIDEO, SeedanceRequest),
        ("gpt-image-2", Provider.SEEDANCE2AI, MediaKind.IMAGE, GptImage2Request),
        ("nano-banana-pro", Provider.SEEDANCE2AI, MediaKind.IMAGE, NanoBananaProRequest),
        ("seedanceapi", Provider.SEEDANCEAPI, MediaKind.VIDEO, SeedanceApiRequest),
        ("seed2", Provider.SEED2, MediaKind.VIDEO, Seed2Request),
    ]


@pytest.mark.parametrize("entry", ENDPOINTS, ids=lambda e: e.id)
def test_endpoints_are_found_by_id_and_by_request(entry):
    request = entry.request_model.parse(FULL_BODIES[entry.request_model])

    assert endpoint(entry.id) is entry
    assert endpoint_for(request) is entry
    assert entry.title == entry.request_model.title


def test_endpoint_titles_are_distinct_words():
    titles = [e.title for e in ENDPOINTS]

    assert len(set(titles)) == len(titles)
    assert all(t and t != "request" for t in titles)


def test_an_unknown_endpoint_id_is_not_found():
    with pytest.raises(KeyError):
        endpoint("sora")
