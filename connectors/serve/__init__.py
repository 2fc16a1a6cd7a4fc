"""`catalog serve`: a read-only HTTP service over one open `Catalog`, and its page.

`application(catalog)` is the aiohttp application; `Served` runs it inside `async with`,
`InThread` in a thread of its own, `serve` in the foreground until interrupted. Answers are
JSON, or Arrow IPC streams for `Accept: application/vnd.apache.arrow.stream`; refusals are
`application/problem+json`; `/openapi.json` documents every route.
"""

from connectors.serve.app import ENDPOINTS, application
from connectors.serve.running import InThread, Served, serve
from connectors.serve.service import ServiceSettings

__all__ = ["ENDPOINTS", "InThread", "Served", "ServiceSettings", "application", "serve"]
