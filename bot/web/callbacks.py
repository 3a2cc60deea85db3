"""``POST /callbacks/<provider>/<token>``: a provider says one of its tasks finished.

Callbacks are not signed, so one proves nothing. It is accepted only for a token the bot handed
out with a job (looked up by the token's digest), its body is never read, and all it does is make
the engine ask the provider itself, once, through the key's budget. It is answered at once (202);
the status request runs in the engine's own time. Anything else is a 404, with no lookup for a
provider that does not call back or a token that is not shaped like one the bot makes.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

from aiohttp import web

from bot.jobs import CALLBACK_PATH, CallbackUrls
from bot.metrics import Metrics
from bot.providers.registry import callback_providers
from bot.settings import Settings

log = logging.getLogger(__name__)

#: What ``secrets.token_urlsafe`` makes (43 characters for 32 bytes), with room either side.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_NO_STORE = {"Cache-Control": "no-store"}


class CallbackReceiver(Protocol):
    """What the route needs from the job engine."""

    async def job_for_callback(self, provider: str, token: str) -> int | None:
        """The job whose callback URL at ``provider`` ends in ``token``, or None."""

    def notify_callback(self, job_id: int) -> bool:
        """Ask the provider how the job is doing, soon (never waits)."""


def callback_urls(settings: Settings) -> CallbackUrls | None:
    """Callback URLs below ``PUBLIC_URL``, when the built-in server that receives them runs
    (``HTTP_PORT``); None without either, and jobs are only polled."""
    if settings.public_url is None or settings.http_port is None:
        return None
    return CallbackUrls(settings.public_url)


def callback_routes(
    receiver: CallbackReceiver, metrics: Metrics | None = None
) -> list[web.RouteDef]:
    """The route providers call back on, for ``build_app(extra_routes=...)``."""
    providers = callback_providers()

    async def receive(request: web.Request) -> web.Response:
        provider, token = request.match_info["provider"], request.match_info["token"]
        if provider not in providers:
            return _not_found()
        job_id = (
            await receiver.job_for_callback(provider, token) if _TOKEN.fullmatch(token) else None
        )
        if metrics is not None:
            metrics.provider_callback(provider, accepted=job_id is not None)
        if job_id is None:
            log.debug("A %s callback with an unknown token was refused", provider)
            return _not_found()
        receiver.notify_callback(job_id)
        return web.json_response({"status": "accepted"}, status=202, headers=_NO_STORE)

    return [web.post(f"{CALLBACK_PATH}/{{provider}}/{{token}}", receive)]


def _not_found() -> web.Response:
    return web.json_response({"status": "not found"}, status=404, headers=_NO_STORE)
