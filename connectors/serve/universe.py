"""The universe at an instant (with the command line's filters), and its size over time.

Filters: `include_inactive`, `tradable`, `settle`, `inverse` (the catalog's own), and
`exchange`, `type`, `base`, `quote` (a column equal to the value given).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.serve.answers import json_answer, table_answer
from connectors.serve.openapi import operation, query
from connectors.serve.problems import bad_parameter
from connectors.serve.questions import count, flag, instant, instant_or_now, knowing, text
from connectors.serve.schemas import INSTANT
from connectors.serve.service import Endpoint, Service, service_of
from eventstore.model.instants import from_micros

if TYPE_CHECKING:
    from aiohttp import web

    from connectors.serve.questions import Knowing

#: Columns a universe can be narrowed to one value of, beside the catalog's own options.
COLUMN_FILTERS: Final = ("exchange", "type", "base", "quote")
_KNOWING: Final = ("known_at", "recorded_by")


def narrowed(table: pa.Table, wanted: dict[str, str | None]) -> pa.Table:
    """Keep the rows whose columns equal the values given (None: any)."""
    for name, value in wanted.items():
        if value is not None:
            table = table.filter(pc.equal(table[name], value))
    return table


async def get_universe(request: web.Request) -> web.Response:
    """The instruments that exist (are active, unless asked) at `as_of`."""
    service = service_of(request)
    as_of, known = instant_or_now(request, "as_of"), knowing(request)
    options = {
        "include_inactive": bool(flag(request, "include_inactive")),
        "tradable": bool(flag(request, "tradable")),
        "settle": text(request, "settle"),
        "inverse": flag(request, "inverse"),
    }
    found = await service.run(
        service.catalog.universe,
        as_of,
        known.known_at,
        recorded_by=known.recorded_by,
        **options,
    )
    found = narrowed(found, {name: text(request, name) for name in COLUMN_FILTERS})
    return table_answer(request, found, {"as_of": as_of, **known._asdict()})


def _span(service: Service) -> tuple[datetime, datetime]:
    """Return when the catalog's first version began and its latest began (by now)."""
    store = service.catalog.version_store()
    starts = store.columns["valid_from"][: store.n][store.columns["alive"][: store.n]]
    now = datetime.now(UTC)
    if not len(starts):
        return now, now
    cap = int((now - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    past = starts[starts <= cap]
    first = from_micros(int(np.min(starts)))
    return first, from_micros(int(np.max(past))) if len(past) else first


def counts_over_time(
    service: Service, since: datetime | None, until: datetime | None, points: int, known: Knowing
) -> dict[str, Any]:
    """Return how many instruments each exchange had active at `points` instants."""
    first, last = _span(service)
    start, end = since or first, until or last
    if end < start:
        raise bad_parameter("until", "is before since")
    step = (end - start) / max(points - 1, 1)
    instants = [start + step * i for i in range(points)] if end > start else [start]
    series: dict[str, list[int]] = {}
    for at, when in enumerate(instants):
        table = service.catalog.universe(when, known.known_at, recorded_by=known.recorded_by)
        for exchange, number in Counter(table["exchange"].to_pylist()).items():
            series.setdefault(exchange or "", [0] * len(instants))[at] = number
    return {"instants": instants, "exchanges": dict(sorted(series.items())), **known._asdict()}


async def get_counts(request: web.Request) -> web.Response:
    """The number of active instruments per exchange, sampled between two instants."""
    service = service_of(request)
    since, until = instant(request, "since"), instant(request, "until")
    points, known = count(request, "points", 48, 400), knowing(request)
    return json_answer(await service.run(counts_over_time, service, since, until, points, known))


def _filter(name: str, description: str) -> dict[str, Any]:
    return query(name, description, {"type": "string"})


def _yes_no(name: str, description: str) -> dict[str, Any]:
    return query(name, description, {"type": "boolean"})


_EXAMPLE_ROW: Final = {
    "instrument_id": "binance:spot:BTCUSDT",
    "symbol": "BINANCE:BTCUSDT",
    "active": True,
    "status": "trading",
    "valid_from": "2022-01-01T00:00:00Z",
    "valid_until": None,
    "known_since": "2022-01-01T00:00:00Z",
    "recorded_since": "2024-05-01T12:00:00Z",
    "exchange": "BINANCE",
    "tick_size": "0.1",
}
ENDPOINTS: Final = (
    Endpoint(
        "GET",
        "/universe",
        get_universe,
        operation(
            "the instruments active at as_of (every one that exists, if asked)",
            answer="Universe",
            example={
                "as_of": "2024-01-01T00:00:00Z",
                "known_at": None,
                "recorded_by": None,
                "count": 1,
                "rows": [_EXAMPLE_ROW],
            },
            parameters=(
                "as_of",
                *_KNOWING,
                _yes_no("include_inactive", "also the delisted instruments"),
                _yes_no("tradable", "only those whose status is trading at as_of"),
                _filter("settle", "only contracts settled in this currency"),
                _yes_no("inverse", "only inverse (true) or only linear (false) contracts"),
                *(
                    _filter(name, f"only instruments whose {name} is this")
                    for name in COLUMN_FILTERS
                ),
            ),
            arrow=True,
        ),
    ),
    Endpoint(
        "GET",
        "/universe/counts",
        get_counts,
        operation(
            "how many instruments each exchange had active, at evenly spaced instants",
            answer="UniverseCounts",
            example={
                "instants": ["2021-01-01T00:00:00Z", "2022-01-01T00:00:00Z"],
                "exchanges": {"BINANCE": [10, 12], "OKX": [4, 5]},
                "known_at": None,
                "recorded_by": None,
            },
            parameters=(
                query("since", "the first instant (default: the first version's)", INSTANT),
                query("until", "the last instant (default: the latest version's)", INSTANT),
                query("points", "how many instants (default 48)", {"type": "integer"}),
                *_KNOWING,
            ),
        ),
    ),
)

__all__ = ["COLUMN_FILTERS", "ENDPOINTS", "counts_over_time", "narrowed"]
