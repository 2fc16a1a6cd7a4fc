"""`GET /`: the page, and its assets, served by the application itself (no CDN).

The page is plain HTML, CSS and JavaScript under `connectors/serve/page/`, with no build
step: its charts are SVG drawn by its own script from the service's JSON answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from aiohttp import web

from connectors.serve.problems import ProblemError

FOLDER: Final = Path(__file__).with_name("page")
#: The page's files and their media types; nothing else is served from the folder.
ASSETS: Final = {
    "page.js": "text/javascript",
    "page.css": "text/css",
}


async def index(request: web.Request) -> web.Response:
    """The page."""
    return web.Response(
        body=(FOLDER / "index.html").read_bytes(),
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


async def asset(request: web.Request) -> web.Response:
    """One of the page's files."""
    name = request.match_info["name"]
    if name not in ASSETS:
        raise ProblemError(404, "not found", f"no asset {name!r}")
    return web.Response(
        body=(FOLDER / name).read_bytes(),
        content_type=ASSETS[name],
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def add_routes(app: web.Application) -> None:
    """Serve the page at `/` and its files under `/assets/`."""
    app.router.add_get("/", index)
    app.router.add_get("/assets/{name}", asset)


__all__ = ["ASSETS", "add_routes"]
