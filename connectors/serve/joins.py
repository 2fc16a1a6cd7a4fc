"""`POST /pit-join`: a remote worker's bars in, the same bars with their metadata out.

The body is one Arrow IPC stream of bars (any columns, a symbol column and a timestamp
column with a time zone); the answer is one Arrow IPC stream of `Catalog.pit_join`'s
table, row for row. Options are query parameters: `symbol`, `ts` (the column names),
`fields` (comma-separated), `known_at` (an instant, or `row`), `recorded_by`, `assume_utc`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import pyarrow as pa

from connectors.serve.answers import ARROW_STREAM, arrow_answer
from connectors.serve.openapi import operation, query
from connectors.serve.problems import ProblemError, bad_parameter
from connectors.serve.questions import flag, instant, read_instant, text
from connectors.serve.schemas import INSTANT
from connectors.serve.service import Endpoint, Service, service_of
from eventstore.model.events import INSTRUMENT_FIELDS
from projections import InvalidTableError

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp import web

EXTRA_FIELDS: Final = frozenset({"status", "known_since", "recorded_since"})


def _bars(body: bytes) -> pa.Table:
    try:
        return pa.ipc.open_stream(pa.py_buffer(body)).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise ProblemError(400, "bad body", f"the body is not an Arrow IPC stream: {exc}") from None


def _join(
    service: Service,
    body: bytes,
    options: dict[str, object],
) -> pa.Table:
    bars = _bars(body)
    try:
        return service.catalog.pit_join(bars, **options)  # type: ignore[arg-type]
    except (InvalidTableError, ValueError, KeyError) as exc:
        raise ProblemError(400, "bad bars", str(exc)) from None


def _fields(request: web.Request) -> list[str] | None:
    given = text(request, "fields")
    if given is None:
        return None
    names = [name.strip() for name in given.split(",") if name.strip()]
    unknown = [name for name in names if name not in INSTRUMENT_FIELDS and name not in EXTRA_FIELDS]
    if unknown:
        raise bad_parameter("fields", f"no such field: {', '.join(unknown)}")
    return names


def _known_at(request: web.Request) -> datetime | str | None:
    given = text(request, "known_at")
    if given == "row":
        return "row"
    return None if given is None else read_instant("known_at", given)


async def post_pit_join(request: web.Request) -> web.Response:
    """Join the metadata valid at each bar's time onto the bars sent."""
    service = service_of(request)
    if request.content_type != ARROW_STREAM:
        raise ProblemError(
            415,
            "unsupported media type",
            f"send the bars as {ARROW_STREAM}, not {request.content_type or 'nothing'}",
        )
    options: dict[str, object] = {
        "symbol": text(request, "symbol") or "symbol",
        "ts": text(request, "ts") or "ts",
        "fields": _fields(request),
        "known_at": _known_at(request),
        "recorded_by": instant(request, "recorded_by"),
        "assume_utc": bool(flag(request, "assume_utc")),
    }
    body = await request.read()
    return arrow_answer(await service.run(_join, service, body, options))


_STRING: Final = {"type": "string"}
ENDPOINTS: Final = (
    Endpoint(
        "POST",
        "/pit-join",
        post_pit_join,
        {
            **operation(
                "the bars sent, with the metadata valid at each row's time (an Arrow stream)",
                answer=None,
                parameters=(
                    query("symbol", "the symbol column (default symbol)", _STRING),
                    query("ts", "the timestamp column (default ts)", _STRING),
                    query("fields", "comma-separated fields (default: all)", _STRING),
                    query(
                        "known_at",
                        "an instant (only what was observed by then), or row",
                        {"anyOf": [INSTANT, {"const": "row"}]},
                    ),
                    "recorded_by",
                    query("assume_utc", "read a naive ts column as UTC", {"type": "boolean"}),
                ),
                errors=(400, 413, 415),
            ),
            "requestBody": {
                "required": True,
                "content": {
                    ARROW_STREAM: {"schema": {"type": "string", "contentMediaType": ARROW_STREAM}}
                },
            },
        },
    ),
)

__all__ = ["ENDPOINTS", "post_pit_join"]
