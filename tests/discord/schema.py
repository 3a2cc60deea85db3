"""Discord's own OpenAPI spec as the judge of every body the bot sends and every answer the fake gives.

The spec (``discord/discord-api-spec``, vendored in ``tests/discord/spec`` with its MIT licence) describes each route's
request and response bodies as JSON Schema 2020-12 under ``components/schemas``. An operation is
found by method and path template; its schema is checked through a ``$ref`` into the whole
document, so every nested ``#/components/...`` reference resolves as it does in the spec.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError, best_match  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

#: The vendored copy (see ``spec/SOURCE.txt`` for its commit); a newer one can be pointed at.
SPEC_PATH = Path(
    os.environ.get("DISCORD_API_SPEC", Path(__file__).resolve().parent / "spec" / "openapi.json")
)
_ROOT_URI = "urn:discord-api-spec"


@dataclass(frozen=True)
class Problem:
    """Why a body does not validate: where (a JSON path) and what."""

    path: tuple[str | int, ...]
    message: str

    def __str__(self) -> str:
        return f"{'/'.join(map(str, self.path)) or '(body)'}: {self.message}"


@dataclass(frozen=True)
class Operation:
    """One route of the spec: ``POST /channels/{channel_id}/messages`` is ``create_message``."""

    method: str
    template: str
    operation_id: str
    pattern: re.Pattern[str]
    literal_segments: int


class DiscordApiSpec:
    """Finds the operation for a request and validates bodies against its schemas."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = _accept_integer_snowflakes(document)
        resource = DRAFT202012.create_resource(self.document)
        self._registry: Registry[Any] = Registry().with_resource(_ROOT_URI, resource)
        self.operations = [
            _operation(method.upper(), template, spec)
            for template, item in self.document["paths"].items()
            for method, spec in item.items()
            if method in {"get", "put", "post", "patch", "delete"}
        ]

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation a concrete path belongs to; literal segments win over parameters."""
        matches = [
            op for op in self.operations if op.method == method and op.pattern.fullmatch(path)
        ]
        return max(matches, key=lambda op: op.literal_segments, default=None)

    def request_errors(self, op: Operation, body: Any) -> list[Problem]:
        """Why ``body`` is not a valid JSON request body for ``op`` (empty when it is)."""
        pointer = ["paths", op.template, op.method.lower(), "requestBody", "content"]
        content = self._at(pointer)
        if content is None or "application/json" not in content:
            return [] if body is None else [Problem((), f"{op.operation_id} takes no body")]
        return self._errors([*pointer, "application/json", "schema"], body)

    def response_errors(self, op: Operation, status: int, body: Any) -> list[Problem]:
        """Why ``body`` is not what the spec says ``op`` answers with ``status``."""
        pointer = ["paths", op.template, op.method.lower(), "responses", str(status), "content"]
        content = self._at(pointer)
        if content is None or "application/json" not in content:
            return []
        return self._errors([*pointer, "application/json", "schema"], body)

    def _at(self, pointer: list[str]) -> Any:
        node: Any = self.document
        for part in pointer:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def _errors(self, pointer: list[str], body: Any) -> list[Problem]:
        validator = self._validator(tuple(pointer))
        errors = list(validator.iter_errors(body))
        if not errors:
            return []
        return [_describe(_innermost(best_match(errors)))]

    @functools.cache  # noqa: B019 - one spec object lives for the whole test session
    def _validator(self, pointer: tuple[str, ...]) -> Draft202012Validator:
        fragment = "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in pointer)
        return Draft202012Validator({"$ref": f"{_ROOT_URI}#{fragment}"}, registry=self._registry)


@functools.cache
def load_spec() -> DiscordApiSpec:
    """The spec, read once per test session."""
    if not SPEC_PATH.is_file():
        raise FileNotFoundError(
            f"Discord's OpenAPI spec is not at {SPEC_PATH}; set DISCORD_API_SPEC to its path"
        )
    return DiscordApiSpec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


def _innermost(error: ValidationError) -> ValidationError:
    """For a union, the deepest error of the branches the body may have meant.

    "Matches none of the 5 schemas" helps nobody; "data/embeds/0/title: too long" does. A branch
    of another JSON type (``null`` against an object) or with another ``type`` discriminator is
    not one the body meant.
    """
    if not error.context:
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    meant = [
        _innermost(sub)
        for errors in branches.values()
        if not any(_wrong_kind(e) for e in errors)
        for sub in errors
    ]
    if not meant:
        return error
    return max(meant, key=lambda e: len(e.absolute_path))


def _wrong_kind(error: ValidationError) -> bool:
    path = list(error.relative_path)
    return path == ["type"] or (not path and error.validator == "type")


def _describe(error: ValidationError) -> Problem:
    message = error.message
    if len(message) > 200:
        message = f"fails {error.validator} {error.validator_value!r}"
    return Problem(tuple(error.absolute_path), message)


def _operation(method: str, template: str, spec: dict[str, Any]) -> Operation:
    segments = template.strip("/").split("/")
    regex = "/" + "/".join(
        "[^/]+" if s.startswith("{") and s.endswith("}") else re.escape(s) for s in segments
    )
    literal = sum(not s.startswith("{") for s in segments)
    return Operation(method, template, spec.get("operationId", ""), re.compile(regex), literal)


def _accept_integer_snowflakes(document: dict[str, Any]) -> dict[str, Any]:
    """The spec types snowflakes as decimal strings, but Discord also takes JSON integers.

    discord.py relies on that: a new upload is announced as ``{"id": 0, "filename": ...}``.
    Without this, every message with a file would count as invalid.
    """
    document = copy.deepcopy(document)
    schemas = document["components"]["schemas"]
    schemas["SnowflakeType"] = {
        "oneOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
    }
    return document
