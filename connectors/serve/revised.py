"""What the catalog learned between two knowledge times (`Catalog.revisions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from connectors.serve.answers import table_answer
from connectors.serve.openapi import operation, query
from connectors.serve.problems import ProblemError
from connectors.serve.questions import instant, text
from connectors.serve.service import Endpoint, Service, service_of
from projections.revisions.window import RevisionsError

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa
    from aiohttp import web


def _revisions(
    service: Service,
    since: datetime,
    until: datetime | None,
    basis: str,
    fields: list[str] | None,
    exchange: str | None,
) -> pa.Table:
    try:
        return service.catalog.revisions(since, until, basis, fields, exchange)
    except RevisionsError as exc:
        raise ProblemError(400, "bad revisions window", str(exc)) from None


async def get_revisions(request: web.Request) -> web.Response:
    """One row per (instrument, field, effective interval) whose answer differs between
    knowledge `known_since` and `known_until` (default: everything), with its cause."""
    service = service_of(request)
    since = instant(request, "known_since", required=True)
    assert since is not None
    until = instant(request, "known_until")
    basis = text(request, "basis") or "observed"
    fields = request.query.getall("field", []) or None
    exchange = text(request, "exchange")
    found = await service.run(_revisions, service, since, until, basis, fields, exchange)
    said = {"known_since": since, "known_until": until, "basis": basis}
    return table_answer(request, found, said)


_TEXT: Final[dict[str, Any]] = {"type": "string"}
ENDPOINTS: Final = (
    Endpoint(
        "GET",
        "/revisions",
        get_revisions,
        operation(
            "the answers that differ between two knowledge times, and the events that made "
            "the difference",
            answer="Revisions",
            example={
                "known_since": "2024-01-10T00:00:00Z",
                "known_until": None,
                "basis": "observed",
                "count": 1,
                "rows": [
                    {
                        "instrument_id": "binance:spot:BTCUSDT",
                        "symbol": "BINANCE:BTCUSDT",
                        "field": "tick_size",
                        "effective_from": "2024-01-03T00:00:00Z",
                        "effective_until": None,
                        "before": "0.01",
                        "after": "0.1",
                        "cause": ["correction"],
                    }
                ],
            },
            parameters=(
                query("known_since", "K1, an instant", {"type": "string"}, required=True),
                query("known_until", "K2, an instant (default: everything)", _TEXT),
                query("basis", "observed (default: known_at) or recorded (recorded_by)", _TEXT),
                query("field", "only this field (repeatable)", _TEXT),
                query("exchange", "only instruments of this exchange", _TEXT),
            ),
            arrow=True,
        ),
        schemas=("Revisions",),
    ),
)

__all__ = ["ENDPOINTS"]
