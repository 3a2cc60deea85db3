"""One scrubbing function for every text that may carry a secret: log lines and provider answers.

The log redactor (:mod:`bot.logs`) and the provider clients (:mod:`bot.providers`) both use
:func:`redact`, so what counts as key-shaped is decided here only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"

#: The ``custom_id`` of the key form's text input (``cogs/keys.py``): the value a member types
#: there is a key, and discord.py logs it at DEBUG before the bot has seen it.
KEY_FORM_INPUT_ID = "key-form:key"

# A quoted string in a Python repr ('…' or "…") or in JSON ("…"), escapes included.
_QUOTED = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
# One innermost {…} object: no nested braces outside quoted strings (a text input's own object).
_OBJECT = re.compile(r"""\{(?:[^{}'"]|""" + _QUOTED + r""")*\}""", re.DOTALL)
_KEY_FORM_INPUT = re.compile(r"""(['"])custom_id\1\s*:\s*(['"])""" + re.escape(KEY_FORM_INPUT_ID))
_VALUE = re.compile(r"""(['"])value\1(\s*:\s*)""" + _QUOTED, re.DOTALL)

#: Key-shaped strings, masked wherever they appear (no registration needed).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization headers, whatever the key looks like (seedanceapi keys have no known prefix).
    (re.compile(r"\bBearer\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE), f"Bearer {MASK}"),
    # Provider API keys: seedance2ai sk_live_..., seed2 sk-s2-..., and generic sk-... keys.
    (re.compile(r"\bsk(?:_live_|_test_|-)[A-Za-z0-9_-]{12,}"), MASK),
    # Discord bot tokens: base64 user id . timestamp . HMAC.
    (re.compile(r"[A-Za-z\d_-]{24,}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"), MASK),
    # Interaction tokens: the "token" field of an interaction payload (repr or JSON) ...
    (re.compile(r"""(['"])token\1(\s*:\s*)""" + _QUOTED), rf"\1token\1\2\1{MASK}\1"),
    # ... and the URL paths discord.py logs at DEBUG: /interactions/<id>/<token>/callback and
    # /webhooks/<application id>/<token>/...
    (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s'\"?#]+"), rf"\1{MASK}"),
)


def _hide_key_form_value(match: re.Match[str]) -> str:
    text = match[0]
    if not _KEY_FORM_INPUT.search(text):
        return text
    return _VALUE.sub(lambda m: f"{m[1]}value{m[1]}{m[2]}{m[1]}{MASK}{m[1]}", text)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and every key-shaped string replaced by ``***``.

    Key-shaped: ``Bearer`` credentials, ``sk_live_…``/``sk-…`` keys, Discord bot tokens,
    interaction tokens (the ``token`` field and the ``/interactions/…`` and ``/webhooks/…`` URL
    paths), and the value typed into the key form wherever its payload appears.
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    if KEY_FORM_INPUT_ID in text:
        text = _OBJECT.sub(_hide_key_form_value, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_json(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of a decoded JSON value with :func:`redact` applied to every string in it."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(k), secrets): redact_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_json(item, secrets) for item in value]
    return value


def without_secrets(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of a decoded JSON value with each of ``secrets`` (only) masked in every string.

    For answers whose URLs are still to be read: a key-shaped pattern must not alter a media link,
    but the caller's own key never belongs in one.
    """
    secrets = tuple(s for s in secrets if s)
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {without_secrets(k, secrets): without_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_secrets(item, secrets) for item in value]
    return value
