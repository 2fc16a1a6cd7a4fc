"""Run the application: in the foreground (`catalog serve`), or in a thread (benches, tests,
notebooks) on loopback.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

from aiohttp import web

from connectors.serve.app import application

if TYPE_CHECKING:
    from collections.abc import Callable

    from connectors.serve.service import ServiceSettings
    from projections import Catalog

LOOPBACK = "127.0.0.1"


class Served:
    """The application over `catalog`, listening while inside `async with`."""

    def __init__(
        self,
        catalog: Catalog,
        host: str = LOOPBACK,
        port: int = 0,
        settings: ServiceSettings | None = None,
    ) -> None:
        """Listen on `host`:`port` (0: any free port; see `base_url`)."""
        self.app = application(catalog, settings)
        self.host = host
        self.port = port
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Served:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://{self.host}:{self.port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def serve(
    catalog: Catalog,
    host: str,
    port: int,
    settings: ServiceSettings | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Answer on `host`:`port` until interrupted (Ctrl-C, SIGTERM)."""
    app = application(catalog, settings)
    web.run_app(app, host=host, port=port, print=say, access_log=None, handle_signals=True)


class InThread:
    """`Served` on loopback in a thread of its own: `with InThread(catalog) as served:`."""

    def __init__(self, catalog: Catalog, settings: ServiceSettings | None = None) -> None:
        """Serve `catalog` on a free loopback port."""
        self.served = Served(catalog, settings=settings)
        self.base_url = ""
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(),), daemon=True)

    async def _run(self) -> None:
        try:
            async with self.served as served:
                self.base_url = served.base_url
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            self._failed = exc
            self._ready.set()
            raise

    def __enter__(self) -> InThread:
        self._thread.start()
        if not self._ready.wait(30) or self._failed is not None:
            raise RuntimeError(f"the service did not start: {self._failed}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


__all__ = ["LOOPBACK", "InThread", "Served", "serve"]
