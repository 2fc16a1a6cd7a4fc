"""One instrument at an instant, its history, the exchanges, name search, and health."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import msgspec
import pyarrow as pa

from connectors.release import package_version
from connectors.serve.answers import (
    arrow_answer,
    flat_answer,
    json_answer,
    rows_answer,
    wants_arrow,
)
from connectors.serve.openapi import operation, query
from connectors.serve.problems import ProblemError, suggest, unknown_symbol
from connectors.serve.questions import count, instant, instant_or_now, knowing, text
from connectors.serve.service import Endpoint, Service, service_of
from projections import VERSION_SCHEMA, UnknownSymbolError

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp import web

    from connectors.serve.questions import Knowing
    from projections import Instrument

INSTRUMENT_SCHEMA: Final = VERSION_SCHEMA.remove(VERSION_SCHEMA.get_field_index("valid_until"))
EXCHANGE_SCHEMA: Final = pa.schema(
    [
        ("exchange", pa.string()),
        ("valid_from", pa.timestamp("us", "UTC")),
        ("known_since", pa.timestamp("us", "UTC")),
        ("recorded_since", pa.timestamp("us", "UTC")),
        ("country", pa.string()),
        ("timezone", pa.string()),
        ("is_crypto", pa.bool_()),
        ("description", pa.string()),
    ]
)
_KNOWING: Final = ("known_at", "recorded_by")
EXAMPLE_VERSION: Final = {
    "instrument_id": "binance:spot:BTCUSDT",
    "symbol": "BINANCE:BTCUSDT",
    "active": True,
    "status": "trading",
    "valid_from": "2022-01-01T00:00:00Z",
    "known_since": "2022-01-01T00:00:00Z",
    "recorded_since": "2024-05-01T12:00:00.250000Z",
    "exchange": "BINANCE",
    "base": "BTC",
    "quote": "USDT",
    "type": "spot",
    "tick_size": "0.1",
    "lot_size": "0.00001",
    "min_notional": None,
}


def _instrument(service: Service, key: str, as_of: datetime, known: Knowing) -> Instrument:
    found = service.catalog.get(key, as_of, known.known_at, known.recorded_by)
    if found is not None:
        return found
    names, ordered = service.known_names()
    if key not in names:
        raise unknown_symbol(key, ordered)
    raise ProblemError(
        404,
        "not listed",
        f"{key} is not listed at {as_of.isoformat()} (as known then): no instrument held it",
        kind="/problems/not-listed",
        symbol=key,
    )


async def get_instrument(request: web.Request) -> web.Response:
    """The instrument that held a symbol at `as_of`."""
    service = service_of(request)
    key, as_of = request.match_info["symbol"], instant_or_now(request, "as_of")
    found = await service.run_quick(_instrument, service, key, as_of, knowing(request))
    row = msgspec.structs.asdict(found)
    if wants_arrow(request):
        return arrow_answer(pa.Table.from_pylist([row], INSTRUMENT_SCHEMA))
    return flat_answer(row)


def _history(service: Service, key: str, as_of: datetime | None, known: Knowing) -> pa.Table:
    bounds = {"known_at": known.known_at, "recorded_by": known.recorded_by}
    try:
        return service.catalog.history(key, as_of=as_of, **bounds)
    except UnknownSymbolError:
        raise unknown_symbol(key, service.known_names()[1]) from None


async def get_history(request: web.Request) -> web.Response:
    """Every version of an instrument, as known at `known_at`."""
    service = service_of(request)
    key, as_of, known = request.match_info["symbol"], instant(request, "as_of"), knowing(request)
    found = await service.run(_history, service, key, as_of, known)
    said = {"key": key, **known._asdict()}
    return rows_answer(request, found.to_pylist(), found.schema, said)


async def get_exchanges(request: web.Request) -> web.Response:
    """Every exchange that exists at `as_of`."""
    service = service_of(request)
    as_of, known = instant_or_now(request, "as_of"), knowing(request)
    found = await service.run(service.catalog.exchanges, as_of, known.known_at, known.recorded_by)
    rows = [msgspec.structs.asdict(found[name]) for name in sorted(found)]
    return rows_answer(request, rows, EXCHANGE_SCHEMA, {"as_of": as_of, **known._asdict()})


def matches(names: list[str], wanted: str, limit: int) -> list[str]:
    """Return names starting with `wanted`, then those whose ticker does (`BINANCE:BTC...`
    for `btc`), then those containing it (case aside), then close spellings."""
    folded = wanted.casefold()
    first: list[str] = []
    ticker: list[str] = []
    inside: list[str] = []
    for name in names:
        seen = name.casefold()
        if seen.startswith(folded):
            first.append(name)
        elif seen.partition(":")[2].startswith(folded):
            ticker.append(name)
        elif folded in seen:
            inside.append(name)
        if len(first) >= limit:
            break
    found = (first + ticker + inside)[:limit]
    if len(found) < limit:
        found += [n for n in suggest(wanted, names, limit) if n not in found][: limit - len(found)]
    return found


async def get_search(request: web.Request) -> web.Response:
    """Symbols and instrument ids that match what was typed, for suggestions."""
    service = service_of(request)
    wanted, limit = text(request, "q") or "", count(request, "limit", 10, 100)
    _, names = await service.run_quick(service.known_names)
    return json_answer(
        {"query": wanted, "matches": matches(names, wanted, limit) if wanted else []}
    )


def _health(service: Service) -> dict[str, Any]:
    service.catalog.refresh()
    store = service.catalog.version_store()
    log = service.catalog.log
    return {
        "status": "ok",
        "root": log.root,
        "log_version": log.version(),
        "instruments": len(store.instruments) - 1,
        "version": package_version(),
    }


async def get_health(request: web.Request) -> web.Response:
    """Whether the service answers, and which version of the log it follows."""
    service = service_of(request)
    return json_answer(await service.run(_health, service))


_SYMBOL_OPTIONS: Final = ("symbol", "as_of", *_KNOWING)
ENDPOINTS: Final = (
    Endpoint(
        "GET",
        "/instruments/{symbol}",
        get_instrument,
        operation(
            "the instrument that held a symbol at as_of, as known at known_at",
            answer="Instrument",
            example=EXAMPLE_VERSION,
            parameters=_SYMBOL_OPTIONS,
            arrow=True,
            errors=(400, 404),
        ),
    ),
    Endpoint(
        "GET",
        "/instruments/{symbol}/history",
        get_history,
        operation(
            "every version of an instrument (a symbol resolves at as_of, default its latest "
            "holder)",
            answer="History",
            example={
                "key": "BINANCE:BTCUSDT",
                "known_at": None,
                "recorded_by": None,
                "count": 1,
                "rows": [{**EXAMPLE_VERSION, "valid_until": None}],
            },
            parameters=_SYMBOL_OPTIONS,
            arrow=True,
            errors=(400, 404),
        ),
    ),
    Endpoint(
        "GET",
        "/exchanges",
        get_exchanges,
        operation(
            "every exchange that exists at as_of",
            answer="Exchanges",
            example={
                "as_of": "2024-01-01T00:00:00Z",
                "known_at": None,
                "recorded_by": None,
                "count": 1,
                "rows": [
                    {
                        "exchange": "BINANCE",
                        "valid_from": "2020-01-01T00:00:00Z",
                        "known_since": "2020-01-01T00:00:00Z",
                        "recorded_since": "2024-05-01T12:00:00Z",
                        "country": None,
                        "timezone": "Etc/UTC",
                        "is_crypto": True,
                        "description": "Binance",
                    }
                ],
            },
            parameters=("as_of", *_KNOWING),
            arrow=True,
        ),
    ),
    Endpoint(
        "GET",
        "/search",
        get_search,
        operation(
            "symbols and instrument ids matching what was typed: prefix, then substring, "
            "then close spellings",
            answer="Matches",
            example={"query": "btcu", "matches": ["BINANCE:BTCUSDC", "BINANCE:BTCUSDT"]},
            parameters=(
                query("q", "what was typed", {"type": "string"}),
                query("limit", "at most this many", {"type": "integer", "minimum": 1}),
            ),
        ),
    ),
    Endpoint(
        "GET",
        "/health",
        get_health,
        operation(
            "the service answers; the log version it follows",
            answer="Health",
            example={
                "status": "ok",
                "root": "data/demo-catalog",
                "log_version": 12,
                "instruments": 52,
                "version": "0.1.0",
            },
            errors=(),
        ),
    ),
)

__all__ = ["ENDPOINTS", "INSTRUMENT_SCHEMA", "matches"]
