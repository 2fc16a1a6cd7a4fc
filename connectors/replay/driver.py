"""Replay recorded responses: an in-process server on loopback that speaks like the venues.

`catalog sync --replay DIR` runs the very same clients and sync against it, so a replay
exercises every line a live sync does, HTTP included. Layout of DIR (one folder per
snapshot, replayed in name order, so start names with the date):

    DIR/<snapshot>/snapshot.json              optional: {"observed_at": "2022-07-23T00:00:00Z"}
    DIR/<snapshot>/binance-spot/exchangeInfo.json
    DIR/<snapshot>/binance-usdm/exchangeInfo.json
    DIR/<snapshot>/okx/<instType>.json        SPOT.json, SWAP.json, FUTURES.json
    DIR/<snapshot>/bybit/<category>[.<status>][.<cursor>].json
    DIR/<snapshot>/tradingview/<market>.scan.json and <market>.metainfo.json

A snapshot syncs the sources (and markets) it has files for. Its observation time is
`observed_at` from `snapshot.json`, else the venue's own server time in the body; a snapshot
with neither is refused. TradingView's recorded scan is served in the pages asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web

from connectors.errors import ReplayError
from connectors.sync.syncer import SourceReport, SourceRun, Syncer, SyncOptions
from connectors.venues.registry import SOURCES
from eventstore import to_utc

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from connectors.venues.http import HttpSettings

_SERVER_TIME: Final = frozenset({"binance-spot", "binance-usdm", "bybit"})


@dataclass(frozen=True)
class RecordedSnapshot:
    """One snapshot folder: its name, observation time and the sources it holds."""

    path: Path
    observed_at: datetime | None
    sources: dict[str, tuple[str, ...]]

    def runs(self, base_url: str) -> list[SourceRun]:
        """Return the source runs that replay this snapshot from the server at `base_url`."""
        return [
            SourceRun(SOURCES[name], f"{base_url}/{self.path.name}/{name}", markets)
            for name, markets in self.sources.items()
        ]


def _markets(source: str, folder: Path) -> tuple[str, ...]:
    names = sorted(p.name for p in folder.glob("*.json"))
    if source in ("binance-spot", "binance-usdm"):
        return ("spot",) if source == "binance-spot" else ("usdm",)
    if source == "tradingview":
        return tuple(n.removesuffix(".scan.json") for n in names if n.endswith(".scan.json"))
    return tuple(n.removesuffix(".json") for n in names if n.count(".") == 1)


def snapshots(directory: str | Path) -> list[RecordedSnapshot]:
    """Return the snapshot folders of `directory`, in replay order, checked."""
    root = Path(directory)
    if not root.is_dir():
        raise ReplayError(str(root), "is not a folder")
    found = [_snapshot(folder) for folder in sorted(p for p in root.iterdir() if p.is_dir())]
    if not found:
        raise ReplayError(str(root), "holds no snapshot folder (see the layout in the README)")
    return found


def _snapshot(folder: Path) -> RecordedSnapshot:
    sources = {name: _markets(name, folder / name) for name in SOURCES if (folder / name).is_dir()}
    if not sources:
        known = ", ".join(SOURCES)
        raise ReplayError(str(folder), f"holds no source folder (expected some of {known})")
    observed = _observed_at(folder)
    if observed is None and not set(sources) <= _SERVER_TIME:
        raise ReplayError(
            str(folder),
            'has no observation time: write {"observed_at": "...Z"} into snapshot.json '
            "(only Binance and Bybit bodies carry the venue's time)",
        )
    return RecordedSnapshot(folder, observed, sources)


def _observed_at(folder: Path) -> datetime | None:
    meta = folder / "snapshot.json"
    if not meta.exists():
        return None
    try:
        return to_utc(json.loads(meta.read_text())["observed_at"], "observed_at")
    except (ValueError, KeyError, TypeError) as exc:
        raise ReplayError(str(meta), f"cannot read observed_at: {exc}") from exc


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
        return f"{query.get('instType', '')}.json"
    if source == "bybit":
        parts = [query.get("category", ""), query.get("status"), query.get("cursor")]
        return ".".join(p for p in parts if p) + ".json"
    if source == "tradingview":
        return tail.replace("/metainfo", ".metainfo") + ".json"
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


async def replay(
    root: str,
    directory: str | Path,
    options: SyncOptions | None = None,
    *,
    settings: HttpSettings | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> list[tuple[RecordedSnapshot, list[SourceReport]]]:
    """Sync every snapshot of `directory` into the catalog under `root`, in order."""
    options = options or SyncOptions()
    recorded = snapshots(directory)
    done = []
    async with ReplayServer(directory) as server:
        for snapshot in recorded:
            timed = replace(options, observed_at=snapshot.observed_at or options.observed_at)
            syncer = Syncer(root, timed, progress=progress)
            done.append((snapshot, await syncer.run(snapshot.runs(server.base_url), settings)))
    return done
