"""The web application: the endpoints, the page, `/openapi.json`, and the limits.

Every refusal is `application/problem+json`: the service's own (`ProblemError`), aiohttp's
(an unknown route, a wrong method, a body over `max_body`: 413) and the time limit (a
request that takes longer than `request_seconds`: 503). An error that is none of these is a
bug: a 500 that names the exception, and the traceback in the service's log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from aiohttp import web

from connectors.serve import joins, lookups, naming, page, recent, revised, universe
from connectors.serve.answers import json_answer
from connectors.serve.openapi import document
from connectors.serve.problems import ProblemError
from connectors.serve.service import SERVICE, Endpoint, Service, ServiceSettings
from eventstore import InvalidInstantError
from projections import CatalogError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from projections import Catalog

_log = logging.getLogger(__name__)
#: Every endpoint that reads the catalog, in the order the document lists them.
ENDPOINTS: Final[Sequence[Endpoint]] = (
    *lookups.ENDPOINTS,
    *universe.ENDPOINTS,
    *recent.ENDPOINTS,
    *joins.ENDPOINTS,
    *naming.ENDPOINTS,
    *revised.ENDPOINTS,
)


def _problem_of(exc: BaseException, request: web.Request) -> ProblemError:
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, web.HTTPException):
        title = exc.reason.lower()
        if exc.status == 404:
            return ProblemError(404, title, f"no route {request.path} (see /openapi.json)")
        if exc.status == 405:
            return ProblemError(405, title, f"{request.method} is not answered at {request.path}")
        if exc.status == 413:
            return ProblemError(413, title, f"the body is larger than the cap: {exc.text}")
        return ProblemError(exc.status, title, exc.text or exc.reason)
    if isinstance(exc, InvalidInstantError):
        return ProblemError(400, "bad instant", str(exc), parameter=exc.what)
    if isinstance(exc, TimeoutError):
        return ProblemError(503, "too slow", "the request took longer than the service's limit")
    if isinstance(exc, CatalogError):
        return ProblemError(400, "refused", str(exc))
    _log.error("internal error", exc_info=exc)
    return ProblemError(500, "internal error", f"{type(exc).__name__}: {exc} (a bug)")


def _limited(settings: ServiceSettings) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def limits(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            async with asyncio.timeout(settings.request_seconds):
                return await handler(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if isinstance(exc, web.HTTPException) and exc.status < 400:
                raise
            return _problem_of(exc, request).response(request.path)

    return limits


def application(catalog: Catalog, settings: ServiceSettings | None = None) -> web.Application:
    """Return the read-only application over `catalog`."""
    settings = settings or ServiceSettings()
    app = web.Application(client_max_size=settings.max_body, middlewares=[_limited(settings)])
    service = Service(catalog, settings)
    app[SERVICE] = service
    spec = document(ENDPOINTS)

    async def openapi(request: web.Request) -> web.Response:
        return json_answer(spec)

    for endpoint in ENDPOINTS:
        app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
    app.router.add_get("/openapi.json", openapi)
    page.add_routes(app)

    async def stop(app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, service.close)

    app.on_cleanup.append(stop)
    return app


__all__ = ["ENDPOINTS", "application"]
