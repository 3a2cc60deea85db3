"""Logging setup: one stderr handler whose filter scrubs secrets from every record."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.redaction import redact

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Registered secrets shorter than this would mangle ordinary words in log lines.
MIN_SECRET_LENGTH = 6

_plain = logging.Formatter()

#: Records discord.py logs with a traceback for failures it then recovers from by itself
#: (a dropped gateway connection, Discord briefly unreachable): (logger, message start).
EXPECTED_FAILURES: tuple[tuple[str, str], ...] = (
    ("discord.client", "Attempting a reconnect in"),
    ("discord.shard", "Attempting a reconnect"),
)


def _is_expected_failure(record: logging.LogRecord) -> bool:
    text = str(record.msg)
    return any(record.name == name and text.startswith(start) for name, start in EXPECTED_FAILURES)


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message and traceback; never drops a record.

    Attach it to a handler, not a logger: handler filters also see the records that propagate
    up from every other logger (discord.py, aiohttp), logger filters do not.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        """Also hide ``secret`` (for example a user's API key) from now on."""
        if len(secret) < MIN_SECRET_LENGTH or secret in self._secrets:
            return
        # Longest first, so a secret that contains another is masked whole. The tuple is replaced
        # in one assignment, so a record filtered on another thread sees the old or the new set.
        self._secrets = tuple(sorted((*self._secrets, secret), key=len, reverse=True))

    def redact(self, text: str) -> str:
        """``text`` with every registered secret and every key-shaped string masked.

        Key-shaped, whether registered or not: see :func:`bot.redaction.redact` (the same
        function the provider clients scrub their answers with).
        """
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not crash the code that logged it
            message = f"{record.msg!s} (unformattable args: {record.args!r})"
        if record.exc_info and _is_expected_failure(record):
            # A network hiccup discord.py recovers from: one line with its cause, no traceback.
            error = record.exc_info[1]
            message = f"{message} after: {type(error).__name__}: {error}"
            record.exc_info = None
            record.exc_text = None
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = _plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(
    level: str | int, secrets: Iterable[str], *, stream: TextIO | None = None
) -> RedactingFilter:
    """Send every log record to ``stream`` (stderr) through a redacting filter.

    Returns the filter so later code can register more secrets with ``add_secret``. Calling it again
    replaces the handler it installed before instead of adding a second one.
    """
    redactor = RedactingFilter(secrets)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(redactor)

    root = logging.getLogger()
    for old in list(root.handlers):
        if any(isinstance(f, RedactingFilter) for f in old.filters):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return redactor
