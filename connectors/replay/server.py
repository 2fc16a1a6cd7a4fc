"""The loopback server of a replay: it answers the venues' requests from a replay folder.

See `connectors.replay.folders` for the layout it serves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from collections.abc import Mapping


class ReplayServer:
    """Serve a replay folder on 127.0.0.1 (any free port) while the context is open."""

    def __init__(self, directory: str | Path) -> None:
        """Serve `directory`."""
        self.root = Path(directory).resolve()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> ReplayServer:
        """Start the server; `base_url` says where."""
        app = web.Application()
        app.router.add_route("*", "/{snapshot}/{source}/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the server."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        folder = self.root / request.match_info["snapshot"] / request.match_info["source"]
        source, tail = request.match_info["source"], request.match_info["tail"]
        if source == "tradingview" and tail.endswith("/scan"):
            return await _scan(folder / f"{tail.removesuffix('/scan')}.scan.json", request)
        path = folder / _file(source, tail, request.query)
        if not path.is_file() or self.root not in path.resolve().parents:
            return web.Response(status=404, text=f"no recording {path.name}")
        return web.Response(body=path.read_bytes(), content_type="application/json")


def _file(source: str, tail: str, query: Mapping[str, str]) -> str:
    if source == "okx":
        parts = [query.get("instType", ""), query.get("instFamily")]
        return ".".join(p for p in parts if p) + ".json"
    if source == "bybit":
        parts = [query.get("category", ""), query.get("status"), query.get("cursor")]
        return ".".join(p for p in parts if p) + ".json"
    if source == "tradingview":
        return tail.replace("/metainfo", ".metainfo") + ".json"
    if tail.endswith("/fundingInfo"):
        return "fundingInfo.json"
    return "exchangeInfo.json"


async def _scan(path: Path, request: web.Request) -> web.Response:
    """Answer a scan page from a recorded full scan, as the live scanner pages it."""
    if not path.is_file():
        return web.Response(status=404, text=f"no recording {path.name}")
    recorded = json.loads(path.read_bytes())
    asked = await request.json()
    start, stop = asked.get("range", [0, len(recorded["data"])])
    page = {"totalCount": len(recorded["data"]), "data": recorded["data"][start:stop]}
    return web.json_response(page)
