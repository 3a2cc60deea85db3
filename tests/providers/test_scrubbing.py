"""Provider text never carries a key past the client: messages, status words, raw payloads.

Every text a provider sends back is scrubbed of the caller's key (whatever its shape: seedanceapi
keys have no known prefix) and of key-shaped strings (someone else's ``sk_live_…``, a Discord
token) before a TaskState, a Submission or an error leaves the client.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from bot.providers import ProviderError
from tests.fakes.base import Fault
from tests.providers.conftest import FLAVOURS, Flavour, SleepRecorder, make_client

#: A seedanceapi-style key: no prefix, so only knowing it (not its shape) can hide it.
PLAIN_KEY = "Zq7Lw4Rt8Yp3Nb6Hc1Xm9Kd2Vf5"
OTHER_KEY = "sk_live_someoneelse_0123456789abcdef"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456"
SECRETS = (PLAIN_KEY, OTHER_KEY, DISCORD_TOKEN)


def failed_task(flavour: str, text: str) -> dict[str, Any]:
    """A failed-task poll answer in ``flavour``'s wire format whose texts all quote ``text``."""
    echo = {"authorization": f"Bearer {PLAIN_KEY}", "note": text, "list": [text, {"k": text}]}
    if flavour == "seedance2ai":
        return {
            "id": "task-1",
            "status": "failed",
            "error": {"code": "upstream_error", "message": f"upstream refused: {text}"},
            "debug": echo,
        }
    if flavour == "seedanceapi":
        return {
            "code": 200,
            "message": "success",
            "data": {
                "task_id": "task-1",
                "status": "FAILED",
                "error_message": f"upstream refused: {text}",
                "debug": echo,
            },
        }
    return {
        "code": 0,
        "message": "success",
        "data": {
            "id": 1,
            "status": "failed",
            "error": f"upstream refused: {text}",
            "debug": echo,
        },
    }


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    # Not even a recognisable piece of one.
    assert PLAIN_KEY[4:-4] not in text


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_a_failed_poll_quoting_the_key_is_scrubbed_in_the_task_state(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    quoted = f"key {PLAIN_KEY} (and {OTHER_KEY}, token {DISCORD_TOKEN})"
    async with flavour.fake_cls(keys={PLAIN_KEY: 1000}) as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        fake.inject(Fault("respond", status=200, body=failed_task(flavour.name, quoted), path="/"))

        state = await client.status("1", PLAIN_KEY)

    assert state.error_message is not None
    assert "upstream refused: key ***" in state.error_message
    assert_clean(state.error_message)
    assert_clean(str(state.error_code))
    assert_clean(json.dumps(state.raw))
    assert "***" in json.dumps(state.raw)


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_an_error_answer_quoting_keys_is_scrubbed(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    async with flavour.fake_cls(keys={PLAIN_KEY: 1000}) as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        body = flavour.error(
            fake, 400, "INVALID_PROMPT", f"bad request from {PLAIN_KEY}; also {OTHER_KEY}"
        )
        fake.inject(Fault("respond", status=400, body=body, path="/"))

        with pytest.raises(ProviderError) as caught:
            await client.status("1", PLAIN_KEY)

    assert "bad request from ***" in caught.value.message
    assert_clean(caught.value.message)
    assert_clean(str(caught.value))


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_an_unknown_status_word_quoting_a_key_is_scrubbed(
    flavour: Flavour, session: aiohttp.ClientSession, sleeps: SleepRecorder
) -> None:
    body = failed_task(flavour.name, "x")
    word = f"weird-{OTHER_KEY}-{PLAIN_KEY}"
    if flavour.name == "seedance2ai":
        body["status"] = word
    else:
        body["data"]["status"] = word
    async with flavour.fake_cls(keys={PLAIN_KEY: 1000}) as fake:
        client = make_client(flavour.client_cls, session, fake, sleeps)
        fake.inject(*[Fault("respond", status=200, body=body, path="/") for _ in range(5)])

        with pytest.raises(ProviderError) as caught:
            await client.status("1", PLAIN_KEY)

    assert "unknown task status" in caught.value.message
    assert_clean(caught.value.message)
