"""Request models of seedance2ai.io: Seedance 2, Seedance, GPT Image 2 and Nano Banana Pro.

Every expected value below is copied from the provider's published API pages (en, nl, ja),
never computed from the models under test. Their examples, defaults, required parameters and
enumerations are checked for every model alike in test_model_contract.py.
"""

from __future__ import annotations

import pytest

from bot.models import (
    GptImage2Request,
    NanoBananaProRequest,
    Seedance2Request,
    SeedanceRequest,
)
from tests.models.documented import BASE, DOCUMENTED, DURATIONS, PROMPT, URL, wire_name
from tests.models.helpers import as_json, only_problem, problems_of

VIDEO_MODELS = [
    pytest.param(Seedance2Request, id="seedance2"),
    pytest.param(SeedanceRequest, id="seedance"),
]
IMAGE_MODELS = [
    pytest.param(GptImage2Request, id="gpt-image-2"),
    pytest.param(NanoBananaProRequest, id="nano-banana-pro"),
]

# --- duration ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize(("given", "sent"), [(4, "4"), (5, "5"), (15, "15"), ("15", "15")])
def test_duration_is_sent_as_a_string_even_when_given_as_an_integer(model, given, sent):
    wire = model.parse({"prompt": PROMPT, "duration": given}).to_wire()

    assert wire["duration"] == sent
    assert type(wire["duration"]) is str


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("duration", ["3", "16", 3, 16, "05", 5.0, True, None])
def test_duration_other_than_the_strings_4_to_15_is_rejected(model, duration):
    problem = only_problem(model, {"prompt": PROMPT, "duration": duration})

    assert problem.field == "duration"
    assert problem.allowed == tuple(DURATIONS)


# --- lengths and ranges --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "longest"),
    [
        pytest.param(Seedance2Request, 10_000, id="seedance2"),
        pytest.param(SeedanceRequest, 10_000, id="seedance"),
        pytest.param(GptImage2Request, 20_000, id="gpt-image-2"),
        pytest.param(NanoBananaProRequest, 10_000, id="nano-banana-pro"),
    ],
)
@pytest.mark.parametrize("edge", ["shortest", "longest"])
def test_prompt_length_limits_are_inclusive(model, longest, edge):
    prompt = "abc" if edge == "shortest" else "x" * longest

    wire = model.parse({**BASE[model], "prompt": prompt}).to_wire()

    assert wire["prompt"] == prompt


@pytest.mark.parametrize(
    ("model", "longest"),
    [
        pytest.param(Seedance2Request, 10_000, id="seedance2"),
        pytest.param(SeedanceRequest, 10_000, id="seedance"),
        pytest.param(GptImage2Request, 20_000, id="gpt-image-2"),
        pytest.param(NanoBananaProRequest, 10_000, id="nano-banana-pro"),
    ],
)
def test_prompt_one_character_outside_the_limits_is_rejected(model, longest):
    too_short = only_problem(model, {**BASE[model], "prompt": "ab"})
    too_long = only_problem(model, {**BASE[model], "prompt": "x" * (longest + 1)})

    assert (too_short.field, too_long.field) == ("prompt", "prompt")
    assert "at least 3 characters" in too_short.message
    assert f"at most {longest:,} characters" in too_long.message


@pytest.mark.parametrize("model", [*VIDEO_MODELS, *IMAGE_MODELS])
@pytest.mark.parametrize("blank", ["   ", " \n\t ", "\u3000\u3000\u3000"])
def test_blank_prompt_is_rejected(model, blank):
    problem = only_problem(model, {**BASE[model], "prompt": blank})

    assert problem.field == "prompt"
    assert "blank" in problem.message


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("seed", [-1, 0, 123, 4_294_967_295])
def test_seed_within_range_is_sent_as_an_integer(model, seed):
    wire = model.parse({"prompt": PROMPT, "seed": seed}).to_wire()

    assert wire["seed"] == seed
    assert type(wire["seed"]) is int


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("seed", [-2, 4_294_967_296])
def test_seed_outside_range_is_rejected_with_the_range(model, seed):
    problem = only_problem(model, {"prompt": PROMPT, "seed": seed})

    assert problem.field == "seed"
    assert problem.message == "must be between -1 and 4294967295."


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("seed", ["5", True, 1.5, 5.0])
def test_seed_must_be_an_integer(model, seed):
    assert only_problem(model, {"prompt": PROMPT, "seed": seed}).field == "seed"


@pytest.mark.parametrize("model", VIDEO_MODELS)
def test_unset_seed_is_left_out_of_the_body(model):
    assert "seed" not in model.parse({"prompt": PROMPT}).to_wire()
    assert "seed" not in model.parse({"prompt": PROMPT, "seed": None}).to_wire()


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("field", ["generate_audio", "fixed_lens"])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_sent_as_json_booleans(model, field, value):
    wire = model.parse({"prompt": PROMPT, field: value}).to_wire()

    assert wire[field] is value


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("field", ["generate_audio", "fixed_lens"])
@pytest.mark.parametrize("value", ["maybe", 2, None, [True], "true", "yes", 1, 0])
def test_booleans_refuse_values_that_are_not_booleans(model, field, value):
    assert only_problem(model, {"prompt": PROMPT, field: value}).field == field


@pytest.mark.parametrize(
    ("model", "field", "body", "most"),
    [
        pytest.param(
            Seedance2Request,
            "media_urls",
            {"prompt": PROMPT, "mode": "media-to-video"},
            12,
            id="seedance2",
        ),
        pytest.param(
            SeedanceRequest,
            "media_urls",
            {"prompt": PROMPT, "mode": "media-to-video"},
            12,
            id="seedance",
        ),
        pytest.param(
            GptImage2Request,
            "image_urls",
            {**BASE[GptImage2Request], "type": "image-to-image"},
            10,
            id="gpt-image-2",
        ),
        pytest.param(
            NanoBananaProRequest,
            "image_urls",
            {**BASE[NanoBananaProRequest], "type": "image-to-image"},
            8,
            id="nano-banana-pro",
        ),
    ],
)
def test_url_lists_accept_up_to_their_limit_and_refuse_one_more_or_none(model, field, body, most):
    key = wire_name(model, field)
    urls = [f"https://cdn.example.com/{n}.png" for n in range(most + 1)]

    wire = model.parse({**body, key: urls[:most]}).to_wire()
    too_many = only_problem(model, {**body, key: urls})
    empty = problems_of(model, {**body, key: []})

    assert wire[key] == urls[:most]
    assert too_many.field == field
    assert f"at most {most} items" in too_many.message
    assert field in [p.field for p in empty]


@pytest.mark.parametrize(
    ("alias", "count"),
    [("batchCount", 1), ("batchCount", 4), ("batch_count", 2), ("batch_count", 3)],
)
def test_batch_count_1_to_4_is_sent_as_batch_count(alias, count):
    wire = GptImage2Request.parse({**BASE[GptImage2Request], alias: count}).to_wire()

    assert wire["batchCount"] == count
    assert type(wire["batchCount"]) is int
    assert "batch_count" not in wire


@pytest.mark.parametrize("count", [0, 5, -1])
def test_batch_count_outside_1_to_4_is_rejected(count):
    problem = only_problem(GptImage2Request, {**BASE[GptImage2Request], "batchCount": count})

    assert problem.field == "batch_count"
    assert problem.message == "must be between 1 and 4."


@pytest.mark.parametrize("count", ["2", True, 2.0])
def test_batch_count_must_be_an_integer(count):
    problem = only_problem(GptImage2Request, {**BASE[GptImage2Request], "batchCount": count})

    assert problem.field == "batch_count"


def test_gpt_image_2_accepts_python_names_and_sends_camel_case():
    body = {
        "type": "image-to-image",
        "prompt": PROMPT,
        "resolution": "2K",
        "aspect_ratio": "9:21",
        "batch_count": 3,
        "image_urls": [URL],
    }

    wire = GptImage2Request.parse(body).to_wire()

    assert as_json(wire) == as_json(
        {
            "type": "image-to-image",
            "channel": "standard",
            "prompt": PROMPT,
            "resolution": "2K",
            "aspectRatio": "9:21",
            "batchCount": 3,
            "imageUrls": [URL],
        }
    )


# --- cross-field rules: Seedance video -----------------------------------------------------------


@pytest.mark.parametrize("tier", ["mini", "standard"])
@pytest.mark.parametrize("resolution", ["1080p-plus", "4k"])
def test_seedance2_1080p_plus_and_4k_are_only_on_pro(tier, resolution):
    problem = only_problem(
        Seedance2Request, {"prompt": PROMPT, "quality_tier": tier, "resolution": resolution}
    )

    assert problem.field == "resolution"
    assert problem.allowed == ("720p", "1080p")
    assert "quality_tier" in problem.related
    assert "pro" in problem.message


@pytest.mark.parametrize("resolution", ["1080p-plus", "4k"])
def test_seedance2_pro_only_resolution_without_a_tier_uses_the_standard_default(resolution):
    problem = only_problem(Seedance2Request, {"prompt": PROMPT, "resolution": resolution})

    assert problem.field == "resolution"


@pytest.mark.parametrize("tier", ["mini", "standard", "pro"])
@pytest.mark.parametrize("resolution", ["720p", "1080p"])
def test_seedance2_720p_and_1080p_work_on_every_tier(tier, resolution):
    wire = Seedance2Request.parse(
        {"prompt": PROMPT, "quality_tier": tier, "resolution": resolution}
    ).to_wire()

    assert (wire["quality_tier"], wire["resolution"]) == (tier, resolution)


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("seed", [-1, 0, 42])
def test_seed_is_not_supported_on_the_real_channel(model, seed):
    problem = only_problem(model, {"prompt": PROMPT, "channel": "real", "seed": seed})

    assert problem.field == "seed"
    assert problem.related == ("channel",)
    assert "real" in problem.message


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize("channel", ["standard", "wild"])
def test_seed_is_accepted_on_the_other_channels(model, channel):
    wire = model.parse({"prompt": PROMPT, "channel": channel, "seed": 42}).to_wire()

    assert (wire["channel"], wire["seed"]) == (channel, 42)


@pytest.mark.parametrize("model", VIDEO_MODELS)
def test_the_real_channel_without_a_seed_is_accepted(model):
    assert model.parse({"prompt": PROMPT, "channel": "real"}).to_wire()["channel"] == "real"


def test_seedance2_seed_is_not_supported_on_the_mini_tier():
    problem = only_problem(Seedance2Request, {"prompt": PROMPT, "quality_tier": "mini", "seed": 7})

    assert problem.field == "seed"
    assert problem.related == ("quality_tier",)
    assert "mini" in problem.message


@pytest.mark.parametrize("tier", ["standard", "pro"])
def test_seedance2_seed_is_accepted_on_standard_and_pro(tier):
    wire = Seedance2Request.parse({"prompt": PROMPT, "quality_tier": tier, "seed": 7}).to_wire()

    assert wire["seed"] == 7


def test_seedance2_seed_on_mini_and_real_reports_both_reasons():
    problems = problems_of(
        Seedance2Request, {"prompt": PROMPT, "quality_tier": "mini", "channel": "real", "seed": 7}
    )

    assert sorted(p.related for p in problems) == [("channel",), ("quality_tier",)]
    assert {p.field for p in problems} == {"seed"}


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize(
    ("mode", "inputs", "field", "allowed"),
    [
        pytest.param("image-to-video", {}, "image_url", (), id="i2v-needs-image"),
        pytest.param(
            "image-to-video", {"end_image_url": URL}, "image_url", (), id="i2v-end-frame-only"
        ),
        pytest.param("media-to-video", {}, "media_urls", (), id="m2v-needs-media"),
        pytest.param(
            "text-to-video", {"image_url": URL}, "image_url", ("image-to-video",), id="t2v-image"
        ),
        pytest.param(
            "text-to-video",
            {"end_image_url": URL},
            "end_image_url",
            ("image-to-video",),
            id="t2v-end-image",
        ),
        pytest.param(
            "text-to-video",
            {"media_urls": [URL]},
            "media_urls",
            ("media-to-video",),
            id="t2v-media",
        ),
        pytest.param(
            "image-to-video",
            {"image_url": URL, "media_urls": [URL]},
            "media_urls",
            ("media-to-video",),
            id="i2v-media",
        ),
        pytest.param(
            "media-to-video",
            {"media_urls": [URL], "image_url": URL},
            "image_url",
            ("image-to-video",),
            id="m2v-image",
        ),
        pytest.param(
            "media-to-video",
            {"media_urls": [URL], "end_image_url": URL},
            "end_image_url",
            ("image-to-video",),
            id="m2v-end-image",
        ),
    ],
)
def test_each_mode_needs_its_input_and_refuses_inputs_it_would_ignore(
    model, mode, inputs, field, allowed
):
    problem = only_problem(model, {"prompt": PROMPT, "mode": mode, **inputs})

    assert problem.field == field
    assert problem.allowed == allowed
    assert "mode" in problem.related


@pytest.mark.parametrize("model", VIDEO_MODELS)
def test_an_image_without_a_mode_is_refused_because_the_default_is_text_to_video(model):
    problem = only_problem(model, {"prompt": PROMPT, "image_url": URL})

    assert problem.field == "image_url"
    assert problem.allowed == ("image-to-video",)


@pytest.mark.parametrize("model", VIDEO_MODELS)
def test_image_to_video_sends_start_and_end_frames(model):
    body = {"prompt": PROMPT, "mode": "image-to-video", "image_url": URL, "end_image_url": URL}

    wire = model.parse(body).to_wire()

    assert (wire["mode"], wire["image_url"], wire["end_image_url"]) == ("image-to-video", URL, URL)
    assert "media_urls" not in wire


@pytest.mark.parametrize("model", VIDEO_MODELS)
def test_media_to_video_sends_the_media_urls(model):
    urls = [URL, "https://cdn.example.com/clip.mp4"]

    wire = model.parse({"prompt": PROMPT, "mode": "media-to-video", "media_urls": urls}).to_wire()

    assert (wire["mode"], wire["media_urls"]) == ("media-to-video", urls)
    assert "image_url" not in wire
    assert "end_image_url" not in wire


# --- cross-field rules: images -------------------------------------------------------------------


@pytest.mark.parametrize("resolution", ["2K", "4K"])
@pytest.mark.parametrize("channel", ["standard", "economy"])
def test_gpt_auto_aspect_ratio_only_works_with_1k(resolution, channel):
    body = {**BASE[GptImage2Request], "aspectRatio": "auto", "resolution": resolution}

    problem = only_problem(GptImage2Request, {**body, "channel": channel})

    assert problem.field == "aspect_ratio"
    assert "resolution" in problem.related
    assert "1K" in problem.message


@pytest.mark.parametrize("channel", ["standard", "economy"])
def test_gpt_auto_aspect_ratio_with_1k_is_accepted(channel):
    body = {**BASE[GptImage2Request], "aspectRatio": "auto", "resolution": "1K", "channel": channel}

    wire = GptImage2Request.parse(body).to_wire()

    assert (wire["aspectRatio"], wire["resolution"]) == ("auto", "1K")


@pytest.mark.parametrize("channel", [None, "standard"])
def test_gpt_square_4k_is_refused_on_the_standard_channel(channel):
    body = {**BASE[GptImage2Request], "aspectRatio": "1:1", "resolution": "4K"}
    if channel:
        body["channel"] = channel

    problem = only_problem(GptImage2Request, body)

    assert problem.field == "resolution"
    assert problem.allowed == ("1K", "2K")
    assert set(problem.related) == {"aspect_ratio", "channel"}


def test_gpt_square_4k_is_accepted_on_the_economy_channel():
    body = {
        **BASE[GptImage2Request],
        "aspectRatio": "1:1",
        "resolution": "4K",
        "channel": "economy",
    }

    wire = GptImage2Request.parse(body).to_wire()

    assert (wire["aspectRatio"], wire["resolution"], wire["channel"]) == ("1:1", "4K", "economy")


@pytest.mark.parametrize(
    "ratio",
    [r for r in DOCUMENTED[GptImage2Request, "aspect_ratio"] if r not in ("auto", "1:1")],
)
def test_gpt_4k_on_the_standard_channel_is_fine_for_every_other_ratio(ratio):
    body = {**BASE[GptImage2Request], "aspectRatio": ratio, "resolution": "4K"}

    assert GptImage2Request.parse(body).to_wire()["resolution"] == "4K"


@pytest.mark.parametrize("model", IMAGE_MODELS)
@pytest.mark.parametrize("urls", [None, []])
def test_image_to_image_requires_image_urls(model, urls):
    body = {**BASE[model], "type": "image-to-image"}
    if urls is not None:
        body[wire_name(model, "image_urls")] = urls

    problems = problems_of(model, body)

    assert [p.field for p in problems] == ["image_urls"]


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_image_to_image_without_urls_points_at_the_type(model):
    problem = only_problem(model, {**BASE[model], "type": "image-to-image"})

    assert problem.field == "image_urls"
    assert "type" in problem.related


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_text_to_image_refuses_image_urls(model):
    body = {**BASE[model], wire_name(model, "image_urls"): [URL]}

    problem = only_problem(model, body)

    assert problem.field == "image_urls"
    assert problem.allowed == ("image-to-image",)
    assert "type" in problem.related


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_image_to_image_sends_the_urls(model):
    key = wire_name(model, "image_urls")
    urls = [URL, "https://cdn.example.com/b.jpg"]

    wire = model.parse({**BASE[model], "type": "image-to-image", key: urls}).to_wire()

    assert wire[key] == urls


# --- allowed(): what autocomplete offers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"quality_tier": "mini"}, ("720p", "1080p")),
        ({"quality_tier": "standard"}, ("720p", "1080p")),
        ({}, ("720p", "1080p")),  # the default tier is standard
        ({"quality_tier": "pro"}, ("720p", "1080p", "1080p-plus", "4k")),
    ],
)
def test_seedance2_resolution_offers_pro_only_values_only_on_pro(given, expected):
    assert Seedance2Request.allowed("resolution", given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"resolution": "4k"}, ("pro",)),
        ({"resolution": "1080p-plus"}, ("pro",)),
        ({"resolution": "1080p"}, ("mini", "standard", "pro")),
        ({"seed": 5}, ("standard", "pro")),
        ({"seed": None}, ("mini", "standard", "pro")),
    ],
)
def test_seedance2_quality_tier_offers_what_the_resolution_and_seed_allow(given, expected):
    assert Seedance2Request.allowed("quality_tier", given) == expected


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"seed": 5}, ("standard", "wild")),
        ({"seed": -1}, ("standard", "wild")),
        ({}, ("standard", "real", "wild")),
    ],
)
def test_channel_excludes_real_once_a_seed_is_chosen(model, given, expected):
    assert model.allowed("channel", given) == expected


def test_seedance_resolution_has_no_tier_restriction():
    assert SeedanceRequest.allowed("resolution", {"quality_tier": "standard"}) == ("720p", "1080p")


@pytest.mark.parametrize("model", VIDEO_MODELS)
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # Inputs not attached yet can still be added, so every mode stays on offer.
        ({}, ("text-to-video", "image-to-video", "media-to-video")),
        ({"image_url": None}, ("text-to-video", "image-to-video", "media-to-video")),
        ({"image_url": URL}, ("image-to-video",)),
        ({"end_image_url": URL}, ("image-to-video",)),
        ({"media_urls": [URL]}, ("media-to-video",)),
    ],
)
def test_mode_offers_the_modes_that_use_the_attached_inputs(model, given, expected):
    assert model.allowed("mode", given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"aspect_ratio": "auto"}, ("1K",)),
        ({"aspect_ratio": "auto", "channel": "economy"}, ("1K",)),
        ({"aspect_ratio": "1:1"}, ("1K", "2K")),
        ({"aspect_ratio": "1:1", "channel": "standard"}, ("1K", "2K")),
        ({"aspect_ratio": "1:1", "channel": "economy"}, ("1K", "2K", "4K")),
        ({"aspect_ratio": "16:9"}, ("1K", "2K", "4K")),
        ({}, ("1K", "2K", "4K")),
    ],
)
def test_gpt_resolution_offers_what_the_aspect_ratio_and_channel_allow(given, expected):
    assert GptImage2Request.allowed("resolution", given) == expected


def test_gpt_aspect_ratio_offers_what_the_resolution_and_channel_allow():
    everything = tuple(DOCUMENTED[GptImage2Request, "aspect_ratio"])

    assert GptImage2Request.allowed("aspect_ratio", {"resolution": "1K"}) == everything
    assert GptImage2Request.allowed("aspect_ratio", {"resolution": "2K"}) == everything[1:]
    assert GptImage2Request.allowed("aspect_ratio", {"resolution": "4K"}) == everything[2:]
    assert (
        GptImage2Request.allowed("aspect_ratio", {"resolution": "4K", "channel": "economy"})
        == everything[1:]
    )


def test_gpt_channel_offers_only_economy_for_square_4k():
    given = {"aspect_ratio": "1:1", "resolution": "4K"}

    assert GptImage2Request.allowed("channel", given) == ("economy",)
    assert GptImage2Request.allowed("channel", {"aspect_ratio": "1:1", "resolution": "2K"}) == (
        "standard",
        "economy",
    )


@pytest.mark.parametrize("model", IMAGE_MODELS)
def test_image_type_offers_what_the_attached_images_allow(model):
    assert model.allowed("type", {}) == ("text-to-image", "image-to-image")
    assert model.allowed("type", {"image_urls": [URL]}) == ("image-to-image",)


def test_nano_banana_pro_has_no_restrictions_between_size_format_and_resolution():
    given = {"image_size": "21:9", "output_format": "jpeg"}

    assert NanoBananaProRequest.allowed("resolution", given) == ("1K", "2K", "4K")


# --- choices() of free-form fields ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "field"),
    [
        (Seedance2Request, "prompt"),
        (Seedance2Request, "seed"),
        (Seedance2Request, "image_url"),
        (GptImage2Request, "batch_count"),
        (NanoBananaProRequest, "image_urls"),
    ],
)
def test_free_form_fields_have_no_choices(model, field):
    assert model.choices(field) == ()
