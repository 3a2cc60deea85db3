"""At LOG_LEVEL=DEBUG, discord.py's own log lines carry no API key and no interaction token.

discord.py logs every gateway event at DEBUG, including the INTERACTION_CREATE of the key form's
submission, whose text input holds the key, before the bot has seen (or registered) the key. It
also logs the URLs of interaction callbacks and webhooks, which embed the interaction token.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from typing import Any, cast

import pytest
from discord.gateway import DiscordWebSocket

from bot.logs import setup_logging
from bot.redaction import KEY_FORM_INPUT_ID
from cogs.keys import LinkKeyModal
from tests.discord.fake import FakeDiscord
from tests.discord.payloads import modal_submit_interaction

#: Shaped like nothing in particular: only its place in the form can give it away.
KEY = "Zq7Lw4Rt8Yp3Nb6Hc1Xm9Kd2Vf5"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("DEBUG", [], stream=stream)
    yield stream
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def key_form_submission(key: str = KEY) -> dict[str, object]:
    fake = FakeDiscord()
    return modal_submit_interaction(
        "key-form",
        channel=fake.text_channel,
        user=fake.member_user,
        values={"key-form:provider": ["seedanceapi"], KEY_FORM_INPUT_ID: key},
    )


def gateway_event(interaction: dict[str, object]) -> dict[str, object]:
    return {"op": 0, "s": 42, "t": "INTERACTION_CREATE", "d": interaction}


async def test_the_form_custom_id_is_the_one_the_redactor_looks_for() -> None:
    modal = LinkKeyModal(cast(Any, None))
    assert modal.key_input.custom_id == KEY_FORM_INPUT_ID


async def test_the_gateway_debug_line_of_a_key_form_submission_hides_key_and_token(
    output: io.StringIO,
) -> None:
    interaction = key_form_submission()
    token = str(interaction["token"])
    ws = DiscordWebSocket(None, loop=asyncio.get_running_loop())  # type: ignore[arg-type]
    ws.shard_id = None
    ws._discord_parsers = {}  # no client state: discord.py only logs the unknown event

    await ws.received_message(json.dumps(gateway_event(interaction)))

    text = output.getvalue()
    assert "WebSocket Event: {'op': 0" in text  # discord.py's own line, as a dict repr
    assert "INTERACTION_CREATE" in text
    assert "'custom_id': 'key-form:key'" in text
    assert KEY not in text
    assert token not in text
    assert "'value': '***'" in text
    assert "'token': '***'" in text
    # Everything else of the event stays readable.
    assert "'values': ['seedanceapi']" in text


@pytest.mark.parametrize(
    "key",
    [KEY, "it's {a} \"key\", with: 'quotes'", "back\\slash'}{"],
    ids=["plain", "quotes-and-braces", "backslash"],
)
@pytest.mark.parametrize("style", ["repr", "json"])
def test_the_form_value_is_hidden_in_either_quoting_style(
    output: io.StringIO, key: str, style: str
) -> None:
    event = gateway_event(key_form_submission(key))
    shown = repr(event) if style == "repr" else json.dumps(event)
    logging.getLogger("discord.gateway").debug(
        "For Shard ID %s: WebSocket Event: %s", None, shown if style == "json" else event
    )

    text = output.getvalue()
    for piece in (key, repr(key)[1:-1], json.dumps(key)[1:-1]):
        assert piece not in text
    assert "key-form:key" in text
    assert str(event["d"]["token"]) not in text  # type: ignore[index]


def test_interaction_and_webhook_urls_hide_the_token(output: io.StringIO) -> None:
    token = str(key_form_submission()["token"])
    callback = f"https://discord.com/api/v10/interactions/1234567890123/{token}/callback"
    webhook = f"https://discord.com/api/v10/webhooks/987654321098/{token}/messages/@original"
    # The exact calls discord.http and discord.webhook.async_ make at DEBUG.
    logging.getLogger("discord.http").debug(
        "%s %s with %s has returned %s", "POST", callback, '{"type":5}', 200
    )
    logging.getLogger("discord.webhook.async_").debug(
        "Webhook ID %s with %s %s has returned status code %s", 987654321098, "PATCH", webhook, 200
    )

    text = output.getvalue()
    assert token not in text
    assert "/interactions/1234567890123/***/callback" in text
    assert "/webhooks/987654321098/***/messages/@original" in text


def test_a_form_value_of_another_form_is_kept(output: io.StringIO) -> None:
    fake = FakeDiscord()
    event = gateway_event(
        modal_submit_interaction(
            "prompt-form",
            channel=fake.text_channel,
            user=fake.member_user,
            values={"prompt-form:prompt": "A lighthouse in a storm"},
        )
    )
    logging.getLogger("discord.gateway").debug("For Shard ID %s: WebSocket Event: %s", 0, event)
    assert "'value': 'A lighthouse in a storm'" in output.getvalue()
