"""Request model of api.seed2.io (from its published README).

Expected values are copied from the README, never computed from the model under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.models import Problem, Seed2Request
from tests.models import helpers
from tests.models.helpers import as_json
from tests.seed_examples import README_EXAMPLES

MODELS = ["seedance_2.0_fast", "seedance_2.0"]
RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "21:9"]
DOCUMENTED = {"model": MODELS, "ratio": RATIOS}

DEFAULTS = {"model": "seedance_2.0_fast", "duration": 5, "ratio": "16:9"}


def only_problem(data: Mapping[str, Any]) -> Problem:
    return helpers.only_problem(Seed2Request, data)


def urls(kind: str, count: int) -> list[str]:
    return [f"https://cdn.example.com/{kind}/{n}" for n in range(1, count + 1)]


@pytest.mark.parametrize("name", README_EXAMPLES)
def test_readme_example_is_sent_with_its_values_and_the_documented_defaults(name):
    example = README_EXAMPLES[name]

    wire = Seed2Request.parse(example).to_wire()

    assert as_json(wire) == as_json({**DEFAULTS, **example})
    assert type(wire["duration"]) is int


def test_defaults_are_the_fast_model_5_seconds_16_9():
    wire = Seed2Request.parse({"prompt": "a fox"}).to_wire()

    assert as_json(wire) == as_json({"prompt": "a fox", **DEFAULTS})


def test_prompt_is_required():
    problem = only_problem({})

    assert (problem.field, problem.message) == ("prompt", "is required.")


# --- enumerations --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", DOCUMENTED)
def test_choices_are_exactly_the_documented_values_in_documented_order(field):
    assert set(Seed2Request.choices(field)) == set(DOCUMENTED[field])
    assert Seed2Request.choices(field) == tuple(DOCUMENTED[field])


@pytest.mark.parametrize(
    ("field", "value"),
    [pytest.param(f, v, id=f"{f}={v}") for f, values in DOCUMENTED.items() for v in values],
)
def test_every_documented_value_is_accepted_and_sent_as_is(field, value):
    assert Seed2Request.parse({"prompt": "a fox", field: value}).to_wire()[field] == value


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratio", "9:21"),  # seedanceapi
        ("ratio", "adaptive"),  # seedance2ai
        ("ratio", "auto"),
        ("model", "seedance_2.0_pro"),
        ("model", "seedance2"),
        ("model", "fast"),
    ],
)
def test_a_value_from_elsewhere_is_rejected_with_the_allowed_values(field, value):
    problem = only_problem({"prompt": "a fox", field: value})

    assert problem.field == field
    assert problem.allowed == tuple(DOCUMENTED[field])


# --- duration: an integer from 4 to 15 -----------------------------------------------------------


@pytest.mark.parametrize("duration", range(4, 16))
def test_every_duration_from_4_to_15_is_sent_as_an_integer(duration):
    wire = Seed2Request.parse({"prompt": "a fox", "duration": duration}).to_wire()

    assert wire["duration"] == duration
    assert type(wire["duration"]) is int


@pytest.mark.parametrize("duration", [3, 16, 0, -5])
def test_duration_outside_4_to_15_is_rejected_with_the_range(duration):
    problem = only_problem({"prompt": "a fox", "duration": duration})

    assert problem.field == "duration"
    assert problem.message == "must be between 4 and 15."


@pytest.mark.parametrize("duration", [5.5, 5.0, "5", True, None])
def test_duration_must_be_an_integer(duration):
    assert only_problem({"prompt": "a fox", "duration": duration}).field == "duration"


# --- prompt and reference files ------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["", "   ", "\n\t"])
def test_empty_or_blank_prompt_is_rejected(prompt):
    assert only_problem({"prompt": prompt}).field == "prompt"


def test_a_long_prompt_is_accepted_since_the_readme_sets_no_limit():
    prompt = "x" * 10_000

    assert Seed2Request.parse({"prompt": prompt}).to_wire()["prompt"] == prompt


@pytest.mark.parametrize(
    ("field", "most"), [("image_files", 9), ("video_files", 3), ("audio_files", 3)]
)
def test_reference_files_up_to_their_limit_are_sent(field, most):
    files = urls(field, most)

    assert Seed2Request.parse({"prompt": "a fox", field: files}).to_wire()[field] == files


@pytest.mark.parametrize(
    ("field", "most"), [("image_files", 9), ("video_files", 3), ("audio_files", 3)]
)
def test_one_reference_file_too_many_is_rejected(field, most):
    problem = only_problem({"prompt": "a fox", field: urls(field, most + 1)})

    assert problem.field == field
    assert f"at most {most} items" in problem.message


@pytest.mark.parametrize("field", ["image_files", "video_files", "audio_files"])
def test_an_empty_file_list_is_rejected(field):
    assert only_problem({"prompt": "a fox", field: []}).field == field


@pytest.mark.parametrize("field", ["image_files", "video_files", "audio_files"])
def test_unset_file_lists_are_left_out_of_the_body(field):
    assert field not in Seed2Request.parse({"prompt": "a fox", field: None}).to_wire()


@pytest.mark.parametrize(
    ("prompt", "images"),
    [
        ("The woman in @image_file_1 walks", 1),
        ("@image_file_1 hugs @image_file_2", 2),
        ("@image_file_9 waves", 9),
        ("@image_file_1 waves", 3),  # attaching more images than referenced is fine
        ("A fox in the snow", 0),
        ("image_file_2 without the at sign is plain text", 1),
    ],
)
def test_image_references_within_the_attached_images_are_accepted(prompt, images):
    body: dict[str, Any] = {"prompt": prompt}
    if images:
        body["image_files"] = urls("image_files", images)

    assert Seed2Request.parse(body).to_wire()["prompt"] == prompt


@pytest.mark.parametrize(
    ("prompt", "images", "named", "spared"),
    [
        ("@image_file_2 walks", 1, ["@image_file_2"], []),
        ("The woman in @image_file_1 walks", 0, ["@image_file_1"], []),
        ("@image_file_0 waves", 1, ["@image_file_0"], []),
        ("@image_file_10 waves", 9, ["@image_file_10"], []),
        (
            "@image_file_3 and @image_file_5 meet @image_file_1",
            2,
            ["@image_file_3", "@image_file_5"],
            ["@image_file_1"],
        ),
    ],
)
def test_image_references_beyond_the_attached_images_are_rejected(prompt, images, named, spared):
    body: dict[str, Any] = {"prompt": prompt}
    if images:
        body["image_files"] = urls("image_files", images)

    problem = only_problem(body)

    assert problem.field == "prompt"
    assert problem.related == ("image_files",)
    for reference in named:
        assert reference in problem.message
    for reference in spared:
        assert reference not in problem.message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, False),
        ({"image_files": urls("i", 1)}, False),
        ({"video_files": urls("v", 1)}, True),
        ({"audio_files": urls("a", 1)}, True),
    ],
)
def test_video_or_audio_references_mark_the_double_price(body, expected):
    assert Seed2Request.parse({"prompt": "a fox", **body}).has_media_references is expected


@pytest.mark.parametrize("name", ["aspect_ratio", "resolution", "image_urls", "generate_audio"])
def test_parameters_of_other_apis_are_rejected_by_name(name):
    problem = only_problem({"prompt": "a fox", name: "x"})

    assert problem.field == name
    assert problem.message == "is not a parameter of this endpoint."


# --- bounds and allowed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "bounds"),
    [
        ("duration", {"ge": 4, "le": 15}),
        ("image_files", {"min_length": 1, "max_length": 9}),
        ("video_files", {"min_length": 1, "max_length": 3}),
        ("audio_files", {"min_length": 1, "max_length": 3}),
    ],
)
def test_bounds_are_the_documented_limits(field, bounds):
    assert Seed2Request.bounds(field) == bounds


@pytest.mark.parametrize("field", DOCUMENTED)
def test_no_cross_field_rules_restrict_the_choices(field):
    given = {"model": "seedance_2.0", "ratio": "21:9", "duration": 15}

    assert Seed2Request.allowed(field, given) == tuple(DOCUMENTED[field])
