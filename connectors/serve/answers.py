"""Answers as JSON (the default) or as Arrow IPC streams, as the client's `Accept` says.

JSON follows the command line's `--json`: decimals as plain strings (`"0.01"`, never a
float), instants as RFC 3339 in UTC (`...Z`). An Arrow answer is one IPC stream of the
table with its exact types (decimal128, UTC timestamps); what the JSON answer says beside
its rows (`as_of`, the knowledge bounds) is in the stream's schema metadata.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import msgspec
import pyarrow as pa
from aiohttp import web

from connectors.cli.render import jsonable, plain_decimal

ARROW_STREAM: Final = "application/vnd.apache.arrow.stream"
JSON: Final = "application/json"
_json = msgspec.json.Encoder()


def wants_arrow(request: web.Request) -> bool:
    """Return whether the client asked for an Arrow IPC stream (and did not refuse it)."""
    for part in request.headers.get("Accept", "").split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if media.lower() == ARROW_STREAM:
            return not any(param.replace(" ", "") in ("q=0", "q=0.0") for param in params)
    return False


def encoded(value: Any) -> bytes:
    """Return `value` as JSON bytes, decimals as plain strings and instants in UTC."""
    return _json.encode(jsonable(value))


def json_answer(value: Any, status: int = 200) -> web.Response:
    """Return `value` as a JSON response."""
    return web.Response(status=status, body=encoded(value), content_type=JSON)


def flat_answer(row: dict[str, Any]) -> web.Response:
    """Return one flat row (an instrument) as JSON: the quick path of `json_answer`."""
    plain = {
        name: plain_decimal(value)
        if isinstance(value, Decimal)
        else value.astimezone(UTC)
        if isinstance(value, datetime)
        else value
        for name, value in row.items()
    }
    return web.Response(body=_json.encode(plain), content_type=JSON)


def arrow_bytes(table: pa.Table) -> bytes:
    """Return `table` as one Arrow IPC stream."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def arrow_answer(table: pa.Table) -> web.Response:
    """Return `table` as an Arrow IPC stream response."""
    return web.Response(body=arrow_bytes(table), content_type=ARROW_STREAM)


def _said(value: object) -> str:
    return encoded(value).decode().strip('"')


def table_answer(request: web.Request, table: pa.Table, said: dict[str, Any]) -> web.Response:
    """Return `table` as Arrow (with `said` in its metadata) or as JSON `{**said, rows}`."""
    if wants_arrow(request):
        metadata = {key: _said(value) for key, value in said.items() if value is not None}
        return arrow_answer(table.replace_schema_metadata(metadata))
    return json_answer({**said, "count": table.num_rows, "rows": table.to_pylist()})


def rows_answer(
    request: web.Request, rows: list[dict[str, Any]], schema: pa.Schema, said: dict[str, Any]
) -> web.Response:
    """Return plain rows as a table answer; Arrow takes them in `schema`."""
    if wants_arrow(request):
        return table_answer(request, pa.Table.from_pylist(rows, schema), said)
    return json_answer({**said, "count": len(rows), "rows": rows})


__all__ = [
    "ARROW_STREAM",
    "JSON",
    "arrow_answer",
    "arrow_bytes",
    "encoded",
    "flat_answer",
    "json_answer",
    "rows_answer",
    "table_answer",
    "wants_arrow",
]
