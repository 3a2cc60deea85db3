"""Helpers the request model tests share."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from bot.models import InvalidParameters, Problem, ProviderRequest


def as_json(body: Mapping[str, Any]) -> str:
    """Compare bodies as JSON text so that 5, "5" and true are all told apart."""
    return json.dumps(body, sort_keys=True)


def problems_of(model: type[ProviderRequest], data: Mapping[str, Any]) -> tuple[Problem, ...]:
    with pytest.raises(InvalidParameters) as caught:
        model.parse(data)
    return caught.value.problems


def only_problem(model: type[ProviderRequest], data: Mapping[str, Any]) -> Problem:
    problems = problems_of(model, data)
    assert len(problems) == 1, problems
    return problems[0]
