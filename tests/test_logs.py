"""Log output never contains a secret, from any logger, in messages or tracebacks."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import RedactingFilter, setup_logging

DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456"
REGISTERED = "registered-secret-value"
SK_LIVE = "sk_live_0123456789abcdefABCDEF"
SEED2_KEY = "sk-s2-0123456789abcdef"


@pytest.fixture
def output() -> Iterator[tuple[io.StringIO, RedactingFilter]]:
    """The root logger wired by setup_logging into a StringIO; restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    stream = io.StringIO()
    redactor = setup_logging("DEBUG", [REGISTERED], stream=stream)
    yield stream, redactor
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_registered_secret_is_masked_in_message_args(
    output: tuple[io.StringIO, RedactingFilter],
) -> None:
    stream, _ = output
    logging.getLogger("bot.jobs").info("submitting job %s with key %s", "job-42", REGISTERED)
    text = stream.getvalue()
    assert REGISTERED not in text
    assert "submitting job job-42 with key ***" in text
    assert "INFO bot.jobs: " in text


def test_records_from_discord_loggers_are_masked(
    output: tuple[io.StringIO, RedactingFilter],
) -> None:
    stream, _ = output
    headers = {"Authorization": f"Bot {DISCORD_TOKEN}", "X-Other": "kept"}
    logging.getLogger("discord.http").debug("request headers %r", headers)
    text = stream.getvalue()
    assert DISCORD_TOKEN not in text
    assert "'X-Other': 'kept'" in text
    assert "discord.http" in text


@pytest.mark.parametrize(
    ("secret", "line"),
    [
        ("anything-after-bearer", "Authorization: Bearer anything-after-bearer sent"),
        (SK_LIVE, f"seedance2ai refused key {SK_LIVE} (401)"),
        (SEED2_KEY, f"seed2 key {SEED2_KEY} looks wrong"),
        (DISCORD_TOKEN, f"token {DISCORD_TOKEN} rejected"),
    ],
)
def test_key_shaped_strings_are_masked_without_registration(
    output: tuple[io.StringIO, RedactingFilter], secret: str, line: str
) -> None:
    stream, _ = output
    logging.getLogger("bot.providers.http").warning(line)
    text = stream.getvalue()
    assert secret not in text
    assert secret[-8:] not in text
    assert "***" in text


def test_exception_text_is_masked(output: tuple[io.StringIO, RedactingFilter]) -> None:
    stream, _ = output
    try:
        raise RuntimeError(f"upstream said: bad key {REGISTERED}, header Bearer {SK_LIVE}")
    except RuntimeError:
        logging.getLogger("discord.client").exception("poll failed for job %s", "job-7")
    text = stream.getvalue()
    assert REGISTERED not in text
    assert SK_LIVE not in text
    assert "poll failed for job job-7" in text
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: upstream said: bad key ***, header Bearer ***" in text


def test_add_secret_masks_from_then_on(output: tuple[io.StringIO, RedactingFilter]) -> None:
    stream, redactor = output
    user_key = "plain-user-key-without-prefix"
    logging.getLogger("bot").info("before %s", user_key)
    redactor.add_secret(user_key)
    logging.getLogger("bot").info("after %s", user_key)
    before, after = stream.getvalue().splitlines()
    assert before.endswith(f"before {user_key}")
    assert after.endswith("after ***")


def test_ordinary_text_and_short_secrets_are_kept() -> None:
    redactor = RedactingFilter(["abc", "sk-"])
    line = "job 12 on seedance2ai: task sk-short done, abc tokens, ask-me-anything-please"
    assert redactor.redact(line) == line


def test_longer_secret_containing_a_shorter_one_is_masked_whole() -> None:
    redactor = RedactingFilter(["secret", "secret-and-more"])
    assert redactor.redact("x secret-and-more y") == "x *** y"


def test_bad_format_arguments_do_not_crash_the_caller(
    output: tuple[io.StringIO, RedactingFilter],
) -> None:
    stream, _ = output
    logging.getLogger("bot").info("two %s %s", REGISTERED)  # one argument short
    text = stream.getvalue()
    assert REGISTERED not in text
    assert "two %s %s" in text


def test_setup_twice_keeps_one_handler(output: tuple[io.StringIO, RedactingFilter]) -> None:
    first, _ = output
    second = io.StringIO()
    setup_logging("INFO", [], stream=second)
    logging.getLogger("bot").info("once")
    assert first.getvalue() == ""
    assert second.getvalue().count("once") == 1


def test_a_reconnect_discord_recovers_from_is_one_line_without_traceback(
    output: tuple[io.StringIO, RedactingFilter],
) -> None:
    stream, _ = output
    try:
        raise ConnectionResetError("Connection reset by peer")
    except ConnectionResetError:
        # Exactly how discord.Client.connect logs it before reconnecting.
        logging.getLogger("discord.client").exception("Attempting a reconnect in %.2fs", 1.5)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        "Attempting a reconnect in 1.50s after: ConnectionResetError: Connection reset by peer"
    )
