"""A prompt with nothing visible in it is refused by every endpoint, naming the option."""

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
from tests.models.helpers import only_problem

BODIES: dict[type[ProviderRequest], dict[str, Any]] = {
    Seedance2Request: {},
    SeedanceRequest: {},
    GptImage2Request: {"type": "text-to-image", "resolution": "1K", "aspect_ratio": "auto"},
    NanoBananaProRequest: {"type": "text-to-image"},
    SeedanceApiRequest: {},
    Seed2Request: {},
}

INVISIBLE = {
    "zero-width-spaces": "\u200b\u200b\u200b\u200b",
    "joiners-and-marks": "\u200c\u200d\u2060\ufeff\u200e\u200f",
    "controls": "\x00\x01\x7f\x1b",
    "mixed-with-spaces": " \u200b \u3000 \u2060\t\n ",
    "fillers": "\u3164\u115f\u2800\u3164",
    "soft-hyphens": "\u00ad\u00ad\u00ad\u034f",
}


@pytest.mark.parametrize("model", list(BODIES))
@pytest.mark.parametrize("prompt", list(INVISIBLE.values()), ids=list(INVISIBLE))
def test_a_prompt_without_a_visible_character_is_refused(
    model: type[ProviderRequest], prompt: str
) -> None:
    problem = only_problem(model, {**BODIES[model], "prompt": prompt})

    assert problem.field == "prompt"
    assert "visible" in problem.message
    assert "blank" in problem.message


@pytest.mark.parametrize("model", list(BODIES))
@pytest.mark.parametrize(
    "prompt", ["\u200bA fox\u200b", "猫がピアノを弾く", "🦊🌨️🎥", "\u00e9t\u00e9 \u2014 dawn"]
)
def test_a_prompt_with_something_visible_is_accepted(
    model: type[ProviderRequest], prompt: str
) -> None:
    parsed = model.parse({**BODIES[model], "prompt": prompt})

    assert parsed.to_wire()["prompt"] == prompt
