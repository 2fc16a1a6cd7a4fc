"""Test helpers: recorded fixtures, replay folders built from them, a scripted venue server.

`ScriptedVenue` is a real aiohttp server on loopback whose answers a test queues per path
(status, headers, body), and which records every request it received.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from connectors.replay.server import ReplayServer
from connectors.venues.http import HttpSettings, SourceHttp, open_session
from connectors.venues.registry import SOURCES

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Coroutine

    from connectors.venues.snapshot import Snapshot, SourceRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
#: Fast and deterministic: no real waiting between attempts in tests.
FAST = HttpSettings(timeout=2.0, attempts=3, backoff=0.0, max_delay=5.0)


def fixture(path: str) -> Any:
    """Return a recorded fixture, decoded."""
    return json.loads((FIXTURES / path).read_text())


def write_snapshot(
    root: Path, name: str, files: dict[str, Any], observed_at: str | None = None
) -> Path:
    """Write one replay snapshot folder: `files` maps `source/file.json` to a body."""
    folder = root / name
    for relative, body in files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = body if isinstance(body, str) else json.dumps(body)
        target.write_text(text)
    if observed_at is not None:
        (folder / "snapshot.json").write_text(json.dumps({"observed_at": observed_at}))
    return folder


def copy_samples(root: Path, *names: str) -> Path:
    """Copy the named sample snapshot folders of `data/samples` under `root`."""
    for name in names:
        shutil.copytree(SAMPLES / name, root / name)
    return root


@dataclass
class Answer:
    """One queued answer: an HTTP status, headers and a body, or a hang."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ScriptedVenue:
    """An in-process HTTP server on 127.0.0.1 answering from per-path queues."""

    def __init__(self) -> None:
        """Start with no queued answers (an unqueued path answers 404)."""
        self.queues: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._never = asyncio.Event()

    def queue(self, path: str, *answers: Answer) -> None:
        """Answer the next requests to `path` with `answers`, in order (the last repeats)."""
        self.queues.setdefault(path, []).extend(answers)

    async def __aenter__(self) -> ScriptedVenue:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._never.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        queue = self.queues.get(request.path)
        if not queue:
            return web.Response(status=404, text="not scripted")
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if answer.hang:
            await self._never.wait()
        return web.Response(status=answer.status, body=answer.body, headers=answer.headers)


def run(factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine in a fresh event loop (the tests are synchronous)."""
    return asyncio.run(factory())


def fetch_served(
    tmp_path: Path, source: str, files: dict[str, Any], markets: tuple[str, ...]
) -> list[Snapshot]:
    """Serve `files` (`source/file` -> a fixture path, or a body to encode) from a replay
    folder on loopback and fetch them with `source`'s client."""
    bodies = {
        name: (FIXTURES / found).read_text() if isinstance(found, str) else json.dumps(found)
        for name, found in files.items()
    }
    write_snapshot(tmp_path, "s", bodies)

    async def go() -> list[Snapshot]:
        async with ReplayServer(tmp_path) as server, open_session(FAST) as session:
            spec = SOURCES[source]
            http = SourceHttp(source, session, FAST, headers=spec.headers)
            return await spec.fetch(http, f"{server.base_url}/s/{source}", markets)

    snapshots: list[Snapshot] = run(go)
    return snapshots


def by_symbol(snapshot: Snapshot) -> dict[str, SourceRecord]:
    """Return a snapshot's records by symbol."""
    return {record.symbol: record for record in snapshot.records}


class Sleeps:
    """A `sleep` for `SourceHttp` that records the delays instead of waiting."""

    def __init__(self) -> None:
        """Record nothing yet."""
        self.delays: list[float] = []

    def __call__(self, delay: float) -> Awaitable[None]:
        self.delays.append(delay)
        return asyncio.sleep(0)


class ThreadedVenue:
    """A `ScriptedVenue` or `ReplayServer` running in a thread, for other processes to call."""

    def __init__(self, server: Any) -> None:
        """Serve `server` (an async context manager with `base_url`) from a thread."""
        self.server = server
        self.base_url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)

    async def _serve(self) -> None:
        async with self.server as running:
            self.base_url = running.base_url
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ThreadedVenue:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the venue did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
