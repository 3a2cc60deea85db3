"""Request model of seedanceapi.org (from its published API guide).

Expected values are copied from the guide, never computed from the model under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.models import Problem, SeedanceApiRequest
from tests.models import helpers
from tests.models.helpers import as_json
from tests.seed_examples import GUIDE_EXAMPLES

URL = "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1"

ASPECT_RATIOS = ["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21"]
RESOLUTIONS = ["480p", "720p"]
DURATIONS = ["4", "8", "12"]
DOCUMENTED = {"aspect_ratio": ASPECT_RATIOS, "resolution": RESOLUTIONS, "duration": DURATIONS}

# Every default of the parameter table, spelled out on the wire.
DEFAULTS = {
    "aspect_ratio": "1:1",
    "resolution": "720p",
    "duration": "8",
    "generate_audio": False,
    "fixed_lens": False,
}


def only_problem(data: Mapping[str, Any]) -> Problem:
    return helpers.only_problem(SeedanceApiRequest, data)


@pytest.mark.parametrize("name", GUIDE_EXAMPLES)
def test_guide_example_is_sent_with_its_values_and_the_documented_defaults(name):
    example = GUIDE_EXAMPLES[name]

    wire = SeedanceApiRequest.parse(example).to_wire()

    assert as_json(wire) == as_json({**DEFAULTS, **example})
    assert type(wire["duration"]) is str


def test_defaults_are_1_1_720p_8_seconds_without_audio():
    wire = SeedanceApiRequest.parse({"prompt": "a fox"}).to_wire()

    assert as_json(wire) == as_json({"prompt": "a fox", **DEFAULTS})


def test_prompt_is_required():
    problem = only_problem({})

    assert (problem.field, problem.message) == ("prompt", "is required.")


# --- enumerations --------------------------------------------------------------------------------


@pytest.mark.parametrize("field", DOCUMENTED)
def test_choices_are_exactly_the_documented_values_in_documented_order(field):
    assert set(SeedanceApiRequest.choices(field)) == set(DOCUMENTED[field])
    assert SeedanceApiRequest.choices(field) == tuple(DOCUMENTED[field])


@pytest.mark.parametrize(
    ("field", "value"),
    [pytest.param(f, v, id=f"{f}={v}") for f, values in DOCUMENTED.items() for v in values],
)
def test_every_documented_value_is_accepted_and_sent_as_a_string(field, value):
    wire = SeedanceApiRequest.parse({"prompt": "a fox", field: value}).to_wire()

    assert wire[field] == value
    assert type(wire[field]) is str


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aspect_ratio", "adaptive"),  # Seedance 2 on seedance2ai
        ("aspect_ratio", "auto"),
        ("aspect_ratio", "2:1"),  # GPT Image 2
        ("resolution", "1080p"),  # seedance2ai
        ("resolution", "480"),
        ("duration", "5"),  # seedance2ai's default
        ("duration", "10"),
        ("duration", "15"),
        ("duration", 5),
        ("duration", 8.0),
        ("duration", True),
    ],
)
def test_a_value_from_elsewhere_is_rejected_with_the_allowed_values(field, value):
    problem = only_problem({"prompt": "a fox", field: value})

    assert problem.field == field
    assert problem.allowed == tuple(DOCUMENTED[field])


@pytest.mark.parametrize(("given", "sent"), [(4, "4"), (8, "8"), (12, "12")])
def test_duration_given_as_an_integer_is_sent_as_a_string(given, sent):
    wire = SeedanceApiRequest.parse({"prompt": "a fox", "duration": given}).to_wire()

    assert wire["duration"] == sent
    assert type(wire["duration"]) is str


# --- prompt, booleans, images --------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["a", "x" * 2000])
def test_prompt_of_1_to_2000_characters_is_accepted(prompt):
    assert SeedanceApiRequest.parse({"prompt": prompt}).to_wire()["prompt"] == prompt


def test_prompt_over_2000_characters_is_rejected():
    problem = only_problem({"prompt": "x" * 2001})

    assert problem.field == "prompt"
    assert "at most 2000 characters" in problem.message


@pytest.mark.parametrize("prompt", ["", " ", "   \n\t"])
def test_empty_or_blank_prompt_is_rejected(prompt):
    assert only_problem({"prompt": prompt}).field == "prompt"


@pytest.mark.parametrize("field", ["generate_audio", "fixed_lens"])
@pytest.mark.parametrize("value", [True, False])
def test_booleans_are_sent_as_json_booleans(field, value):
    assert SeedanceApiRequest.parse({"prompt": "a fox", field: value}).to_wire()[field] is value


@pytest.mark.parametrize("field", ["generate_audio", "fixed_lens"])
@pytest.mark.parametrize("value", ["maybe", 2, None, "true", 1])
def test_booleans_refuse_values_that_are_not_booleans(field, value):
    assert only_problem({"prompt": "a fox", field: value}).field == field


def test_one_image_url_is_accepted_for_image_to_video():
    wire = SeedanceApiRequest.parse({"prompt": "a fox", "image_urls": [URL]}).to_wire()

    assert wire["image_urls"] == [URL]


def test_two_image_urls_are_rejected():
    problem = only_problem(
        {"prompt": "a fox", "image_urls": [URL, "https://cdn.example.com/b.png"]}
    )

    assert problem.field == "image_urls"
    assert problem.message == "takes at most 1 item."


def test_an_empty_image_list_is_rejected():
    problem = only_problem({"prompt": "a fox", "image_urls": []})

    assert (problem.field, problem.message) == ("image_urls", "needs at least 1 item.")


def test_unset_options_are_left_out_of_the_body():
    wire = SeedanceApiRequest.parse(
        {"prompt": "a fox", "image_urls": None, "callback_url": None}
    ).to_wire()

    assert "image_urls" not in wire
    assert "callback_url" not in wire


@pytest.mark.parametrize(
    "name", ["model", "mode", "seed", "image_url", "negative_prompt", "quality_tier"]
)
def test_parameters_of_other_apis_are_rejected_by_name(name):
    problem = only_problem({"prompt": "a fox", name: "x"})

    assert problem.field == name
    assert problem.message == "is not a parameter of this endpoint."


# --- bounds and allowed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "bounds"),
    [
        ("prompt", {"min_length": 1, "max_length": 2000}),
        ("image_urls", {"min_length": 1, "max_length": 1}),
        ("duration", {}),
    ],
)
def test_bounds_are_the_documented_limits(field, bounds):
    assert SeedanceApiRequest.bounds(field) == bounds


@pytest.mark.parametrize("field", DOCUMENTED)
def test_no_cross_field_rules_restrict_the_choices(field):
    given = {"resolution": "480p", "duration": "12", "aspect_ratio": "9:21", "generate_audio": True}

    assert SeedanceApiRequest.allowed(field, given) == tuple(DOCUMENTED[field])
