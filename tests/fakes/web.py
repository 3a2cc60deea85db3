"""A web server that is not a generation API: every path is a 404 page (a wrong base URL)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.base import FakeApi, not_found_page


class FakeWebServer(FakeApi):
    """Answers every request with an HTML 404, as a site does for paths it does not serve."""

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self.anything)

    def error_body(self, status: int, code: str, message: str) -> Any:
        return f"<html><body><h1>{status} {message}</h1></body></html>"

    async def anything(self, request: web.Request) -> web.Response:
        return not_found_page()
