"""Request model of api.seed2.io (from its published README).

Expected values are copied from the README, never computed from the model under test.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from bot.models import Problem, Seed2Request
from tests.models import helpers


def only_problem(data: Mapping[str, Any]) -> Problem:
    return helpers.only_problem(Seed2Request, data)


def urls(kind: str, count: int) -> list[str]:
    return [f"https://cdn.example.com/{kind}/{n}" for n in range(1, count + 1)]


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
