"""`Service`: one open `Catalog` answering a web application's questions, read-only.

The catalog is not shared between threads at once: every question runs on the service's
one catalog thread, in turn, under one lock, while the event loop keeps reading and writing
sockets. A quick question (one instrument, a name search) is answered on the event loop
itself when the catalog is free (the lock taken without waiting), which saves the hop to
the thread; when the catalog is busy it waits its turn on the thread like any other. Each
question starts by taking in the commits made since the last one (`Catalog` checks for
them before every query), so a writer appending to the same root is followed as it goes.

An `Endpoint` is one route: its handler and its OpenAPI operation, side by side, so the
document at `/openapi.json` cannot leave a route out. A new endpoint is one handler and
one `Endpoint` in a module's `ENDPOINTS`, gathered by `connectors.serve.app.ENDPOINTS`
(and one real request of it in `tests/connectors/test_serve_openapi.py`).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeVar

from aiohttp import web

from connectors.serve.audits import AuditKeeper

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from projections import Catalog

T = TypeVar("T")
#: The default cap of a request body (a `POST /pit-join` of bars): 256 MiB.
MAX_BODY: Final = 256 * 1024 * 1024
#: The default time a request may take before it is answered 503.
REQUEST_SECONDS: Final = 60.0


@dataclass(frozen=True)
class ServiceSettings:
    """Limits of the service: the largest body and the longest request it accepts."""

    max_body: int = MAX_BODY
    request_seconds: float = REQUEST_SECONDS
    #: Audit again when asked, at most this often, once the log has moved on.
    audit_every: float = 300.0


@dataclass(frozen=True)
class Endpoint:
    """One route: method, path, handler, and its OpenAPI operation object."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    operation: dict[str, Any]
    #: The names of the component schemas its answers use (for the document's checks).
    schemas: Sequence[str] = ()


@dataclass
class Service:
    """The catalog behind the application, its thread, its limits and the known names."""

    catalog: Catalog
    settings: ServiceSettings = field(default_factory=ServiceSettings)
    _thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="catalog")
    )
    _names: tuple[int, int, frozenset[str], list[str]] | None = None
    audits: AuditKeeper | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        """Keep the audit of the catalog's root."""
        if self.audits is None:
            self.audits = AuditKeeper(self.catalog.log.root, self.settings.audit_every)

    async def run(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `call` on the catalog thread and return what it returns."""
        loop = asyncio.get_running_loop()
        locked = functools.partial(self._locked, call, args, kwargs)
        return await loop.run_in_executor(self._thread, locked)

    async def run_quick(self, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run a quick `call` here if the catalog is free, else on the catalog thread."""
        if self._lock.acquire(blocking=False):
            try:
                return call(*args, **kwargs)
            finally:
                self._lock.release()
        return await self.run(call, *args, **kwargs)

    def _locked(self, call: Callable[..., T], args: Any, kwargs: Any) -> T:
        with self._lock:
            return call(*args, **kwargs)

    def known_names(self) -> tuple[frozenset[str], list[str]]:
        """Return every symbol ever held and every instrument id (on the catalog thread).

        Cached until the index changes.
        """
        store = self.catalog.version_store()
        key = (id(store), store.generation)
        if self._names is None or self._names[:2] != key:
            values = store.dictionaries["symbol"].values.to_pylist()
            ids = store.instruments.values.to_pylist()
            names = sorted({name for name in (*values, *ids) if name})
            self._names = (*key, frozenset(names), names)
        return self._names[2], self._names[3]

    def close(self) -> None:
        """Stop the catalog thread (the questions under way finish first)."""
        self._thread.shutdown(wait=True)
        if self.audits is not None:
            self.audits.close()


SERVICE: Final = web.AppKey("service", Service)


def service_of(request: web.Request) -> Service:
    """Return the service a request is answered by."""
    return request.app[SERVICE]


__all__ = ["MAX_BODY", "REQUEST_SECONDS", "SERVICE", "Endpoint", "Service", "ServiceSettings"]
