"""Discord's attachment CDN for tests: real ``https://cdn.discordapp.com`` links, answered offline.

The request models only take public https URLs, so attachments that flow into a provider
request must carry Discord's real CDN host. discord.py downloads them (``Attachment.read()``,
``to_file()``) with ``bot.http.get_from_cdn(url)``; :class:`DiscordCdn` answers that call from
bytes registered per URL path, which is the HTTP edge, and checks the link's signature: a link
whose signature was expired with :meth:`DiscordCdn.expire_signatures` answers 404, as Discord's
CDN does for a link older than about a day.

:class:`CdnFakeDiscord` is a :class:`~tests.discord.fake.FakeDiscord` whose uploads (files the bot
sends with a message) get such links, and that signs them afresh every time the bot fetches a
message, as Discord does. Every bot attached to it downloads from its CDN::

    @pytest.fixture
    async def discord_fake() -> AsyncIterator[CdnFakeDiscord]:
        async with CdnFakeDiscord() as fake:
            yield fake
        assert_discord_was_satisfied(fake)

    frame = discord_fake.cdn.attachment("frame.png", PNG)   # a slash-command upload
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import discord

from tests.discord.fake import FakeDiscord
from tests.discord.payloads import Payload, attachment_payload
from tests.discord.routes import RecordedRequest, Reply
from tests.discord.world import Upload, World

CDN_HOST = "cdn.discordapp.com"
MEDIA_HOST = "media.discordapp.net"


@dataclass
class _CdnResponse:
    """What ``discord.HTTPException`` reads from a response."""

    status: int
    reason: str


class DiscordCdn:
    """Files by URL path, links with expiring signatures, and a log of what was downloaded."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        #: Every URL a bot asked for, in order (whether or not it was served).
        self.fetched: list[str] = []
        self._expired: set[str] = set()
        self._issued: set[str] = set()

    # -- links -----------------------------------------------------------------------------

    def sign(self, path: str, *, host: str = CDN_HOST) -> str:
        """A freshly signed link to ``path``, like the ones Discord hands out."""
        now = int(time.time())
        signature = secrets.token_hex(32)
        self._issued.add(signature)
        return f"https://{host}{path}?ex={now + 86_400:x}&is={now:x}&hm={signature}&"

    def register(self, url_or_path: str, data: bytes) -> None:
        """Serve ``data`` at a path (any signature of it that has not expired)."""
        self.files[urlsplit(url_or_path).path or url_or_path] = data

    def attachment(
        self,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        channel_id: str = "0",
        ephemeral: bool = True,
    ) -> Payload:
        """An attachment payload (a slash command's upload by default) served by this CDN."""
        attachment = attachment_payload(
            filename,
            size=len(data),
            content_type=content_type,
            channel_id=channel_id,
            ephemeral=ephemeral,
        )
        path = urlsplit(attachment["url"]).path
        attachment.update(url=self.sign(path), proxy_url=self.sign(path, host=MEDIA_HOST))
        self.register(path, data)
        return attachment

    def expire_signatures(self) -> None:
        """A day passes: every link handed out so far stops working."""
        self._expired |= self._issued
        self._issued = set()

    def is_valid(self, url: str) -> bool:
        parts = urlsplit(url)
        signature = parse_qs(parts.query).get("hm", [""])[0]
        return (
            parts.scheme == "https"
            and parts.hostname in (CDN_HOST, MEDIA_HOST)
            and parts.path in self.files
            and signature not in self._expired
        )

    # -- the HTTP edge ---------------------------------------------------------------------

    async def get(self, url: str) -> bytes:
        """``HTTPClient.get_from_cdn``: the bytes, or what discord.py raises for a 404."""
        self.fetched.append(url)
        if not self.is_valid(url):
            raise discord.NotFound(_CdnResponse(404, "Not Found"), "asset not found")  # type: ignore[arg-type]
        return self.files[urlsplit(url).path]

    def install(self, bot: discord.Client) -> None:
        """Make ``bot`` download Discord attachments from this CDN."""
        bot.http.get_from_cdn = self.get  # type: ignore[method-assign]


class CdnWorld(World):
    """A world whose uploaded files live on :class:`DiscordCdn` under Discord's real host."""

    cdn: DiscordCdn

    def _store_upload(self, channel_id: str, upload: Upload, item: Payload) -> Payload:
        attachment = super()._store_upload(channel_id, upload, item)
        path = f"/attachments/{channel_id}/{attachment['id']}/{attachment['filename']}"
        attachment.update(url=self.cdn.sign(path), proxy_url=self.cdn.sign(path, host=MEDIA_HOST))
        self.cdn.register(path, upload.data)
        return attachment


class CdnFakeDiscord(FakeDiscord):
    """:class:`FakeDiscord` with Discord's CDN: uploads get signed https links, re-signed on
    every fetch of their message, and attached bots download through :attr:`cdn`."""

    def __init__(self, **options: Any) -> None:
        self.cdn = DiscordCdn()
        super().__init__(**options)

    def _build_default_world(self) -> None:
        world = CdnWorld()
        world.cdn = self.cdn
        self.world = world
        super()._build_default_world()

    def attach(self, bot: discord.Client) -> None:
        self.cdn.install(bot)
        super().attach(bot)

    async def _get_message(self, request: RecordedRequest) -> Reply:
        reply = await super()._get_message(request)
        if 200 <= reply.status < 300:
            for attachment in reply.body.get("attachments", []):
                path = urlsplit(attachment["url"]).path
                if path in self.cdn.files:
                    attachment["url"] = self.cdn.sign(path)
                    attachment["proxy_url"] = self.cdn.sign(path, host=MEDIA_HOST)
        return reply


def assert_discord_was_satisfied(fake: FakeDiscord) -> None:
    """The checks the ``discord_fake`` fixture makes at teardown, for fixtures built on a
    subclass: no body Discord would reject, no unknown route, no answer outside the spec."""
    assert not fake.schema_errors, "Discord would reject these bodies:\n" + "\n".join(
        fake.schema_errors
    )
    assert not fake.unhandled, "FakeDiscord has no route for: " + ", ".join(fake.unhandled)
    assert not fake.response_schema_errors, "FakeDiscord answered outside the spec:\n" + "\n".join(
        fake.response_schema_errors
    )
