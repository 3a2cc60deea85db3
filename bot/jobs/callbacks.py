"""Provider callbacks as the engine sees them: one unguessable URL per submit, and how often to
poll a job whose callback is expected (only as a fallback, in case it never comes).

A callback is not signed, so the engine never believes what it says: it only makes the engine
ask the provider once, soon, through the key's budget (:meth:`JobEngine.notify_callback`).
"""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

#: Where callbacks arrive, below the bot's public URL: ``/callbacks/<provider>/<token>``.
CALLBACK_PATH = "/callbacks"


def callback_digest(token: str) -> str:
    """What is stored of a callback token, and what a callback is looked up by: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


class CallbackUrls:
    """Hands out callback URLs below ``public_url``, the bot's externally reachable base.

    Providers only call https URLs back; ``allow_http`` admits plain http, for a test server on
    this machine (the ``PUBLIC_URL`` setting never does).
    """

    def __init__(self, public_url: str, *, allow_http: bool = False) -> None:
        base = public_url.strip().rstrip("/")
        parts = urlsplit(base)
        schemes = ("https", "http") if allow_http else ("https",)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"callback URLs need an https base URL with a host, not {base!r}")
        self.base = base

    def issue(self, provider: str) -> tuple[str, str]:
        """A new callback URL for one submit to ``provider``, and the digest to store with the job.

        The token is 32 random bytes (43 URL-safe characters); only its digest is kept.
        """
        token = secrets.token_urlsafe(32)
        return f"{self.base}{CALLBACK_PATH}/{provider}/{token}", callback_digest(token)


def fallback_delay(
    elapsed: float, expected: float, deadline: float, interval: float, planned: float
) -> float:
    """Seconds until the next poll of a job whose callback is expected (``planned``: the delay
    without one).

    No poll before the expected finish plus ``interval`` (the callback should have come by
    then), then one every ``interval`` at most; but never past the deadline, so a job whose
    callback never comes still times out when it should.
    """
    delay = max(planned, interval, expected + interval - elapsed)
    return min(delay, max(deadline - elapsed, 0.0) + 1.0)
