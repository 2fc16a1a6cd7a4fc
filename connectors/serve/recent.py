"""What happened: the changes in a window (old and new values), and the last audit."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from connectors.serve.answers import encoded, json_answer, rows_answer, wants_arrow
from connectors.serve.openapi import operation, query
from connectors.serve.questions import count, instant, instant_or_now, knowing, text
from connectors.serve.schemas import INSTANT
from connectors.serve.service import Endpoint, Service, service_of
from projections.changes import ChangeFilter, Line, change_lines

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp import web

    from connectors.serve.questions import Knowing

#: The Arrow columns of change lines: `old` and `new` as JSON texts (a listing's are objects).
CHANGE_SCHEMA: Final = pa.schema(
    [
        ("effective_at", pa.timestamp("us", "UTC")),
        ("recorded_at", pa.timestamp("us", "UTC")),
        ("what", pa.string()),
        ("instrument_id", pa.string()),
        ("symbol", pa.string()),
        ("field", pa.string()),
        ("old", pa.string()),
        ("new", pa.string()),
        ("note", pa.string()),
        ("source", pa.string()),
        ("event_id", pa.string()),
        ("position", pa.int64()),
        ("retracted", pa.bool_()),
    ]
)
_KNOWING: Final = ("known_at", "recorded_by")
MOST_LINES: Final = 100_000


def _lines(
    service: Service,
    since: datetime,
    until: datetime,
    known: Knowing,
    keep: ChangeFilter,
    symbol: str | None,
) -> list[Line]:
    found = change_lines(
        service.catalog, since, until, known.known_at, keep, recorded_by=known.recorded_by
    )
    if symbol is None:
        return found
    return [line for line in found if symbol in (line["symbol"], line["instrument_id"])]


async def get_changes(request: web.Request) -> web.Response:
    """The changes effective in [since, until), in fold order; `last` keeps the latest N."""
    service = service_of(request)
    since = instant(request, "since", required=True)
    assert since is not None
    until, known = instant_or_now(request, "until"), knowing(request)
    keep = ChangeFilter(text(request, "exchange"), text(request, "field"))
    last = count(request, "last", MOST_LINES, MOST_LINES)
    lines = await service.run(_lines, service, since, until, known, keep, text(request, "symbol"))
    lines = lines[-last:]
    said = {"since": since, "until": until, **known._asdict()}
    if wants_arrow(request):
        lines = [{**line, "old": _text(line["old"]), "new": _text(line["new"])} for line in lines]
    return rows_answer(request, lines, CHANGE_SCHEMA, said)


def _text(value: Any) -> str | None:
    return None if value is None else encoded(value).decode()


async def get_audit(request: web.Request) -> web.Response:
    """The last audit of the root: the log's integrity and the PIT invariants."""
    service = service_of(request)
    assert service.audits is not None
    summary = await asyncio.wrap_future(service.audits.summary())
    return json_answer(summary)


ENDPOINTS: Final = (
    Endpoint(
        "GET",
        "/changes",
        get_changes,
        operation(
            "what changed in [since, until): one line per field, with old and new values",
            answer="Changes",
            example={
                "since": "2022-01-01T00:00:00Z",
                "until": "2023-01-01T00:00:00Z",
                "known_at": None,
                "recorded_by": None,
                "count": 1,
                "rows": [
                    {
                        "effective_at": "2022-03-01T00:00:00Z",
                        "recorded_at": "2024-05-01T12:00:00Z",
                        "what": "changed",
                        "instrument_id": "binance:spot:BTCUSDT",
                        "symbol": "BINANCE:BTCUSDT",
                        "field": "tick_size",
                        "old": "0.01",
                        "new": "0.1",
                        "note": None,
                        "source": "binance",
                        "event_id": "6f1c2d6e-8d7e-5b1a-9c3f-0a1b2c3d4e5f",
                        "position": 7,
                        "retracted": False,
                    }
                ],
            },
            parameters=(
                query("since", "from this instant, included", INSTANT, required=True),
                query("until", "until this instant, excluded (default: now)", INSTANT),
                *_KNOWING,
                query("exchange", "only instruments of this exchange", {"type": "string"}),
                query("field", "only changes of this field", {"type": "string"}),
                query("symbol", "only lines of this symbol or instrument id", {"type": "string"}),
                query("last", "only the latest N lines", {"type": "integer", "minimum": 1}),
            ),
            arrow=True,
            description="In Arrow, old and new are JSON texts (a listing's are objects).",
        ),
    ),
    Endpoint(
        "GET",
        "/audit",
        get_audit,
        operation(
            "the last audit of the log and its history (as catalog audit --json prints it)",
            answer="Audit",
            example={
                "audited_at": "2024-05-01T12:00:00Z",
                "log_version": 12,
                "root": "data/demo-catalog",
                "ok": True,
                "events": 420,
                "violations": 0,
                "seconds": 0.4,
                "anchor": None,
                "checks": [{"name": "hash-chain", "status": "ok", "count": 0}],
            },
            errors=(),
        ),
    ),
)

__all__ = ["CHANGE_SCHEMA", "ENDPOINTS"]
