"""Request model of seedanceapi.org (from its published API guide).

Expected values are copied from the guide, never computed from the model under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.models import Problem, SeedanceApiRequest
from tests.models import helpers

URL = "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1"


def only_problem(data: Mapping[str, Any]) -> Problem:
    return helpers.only_problem(SeedanceApiRequest, data)


# --- duration ------------------------------------------------------------------------------------


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
    assert "at most 2,000 characters" in problem.message


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
