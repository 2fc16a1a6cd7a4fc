"""Names across schemes and time: resolve a name, every name of an instrument, the holders
of a symbol (`projections.names`, through `Catalog.resolve`, `names` and `holders`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from connectors.serve.answers import json_answer, rows_answer
from connectors.serve.openapi import operation, query
from connectors.serve.problems import ProblemError
from connectors.serve.questions import instant_or_now, knowing, text
from connectors.serve.service import Endpoint, Service, service_of
from projections import AmbiguousNameError, UnknownNameError, UnknownSchemeError

if TYPE_CHECKING:
    from datetime import datetime

    from aiohttp import web

    from connectors.serve.questions import Knowing

_KNOWING: Final = ("known_at", "recorded_by")


def _refused(exc: Exception, name: str) -> ProblemError:
    """Return the problem a name lookup's refusal is: 404 unknown, 409 ambiguous, 400."""
    if isinstance(exc, UnknownNameError):
        return ProblemError(404, "unknown name", str(exc), symbol=name, suggestions=exc.suggestions)
    if isinstance(exc, AmbiguousNameError):
        return ProblemError(409, "ambiguous name", str(exc), symbol=name, holders=exc.holders)
    return ProblemError(400, "unknown scheme", str(exc))


def _resolve(
    service: Service, name: str, at: datetime, scheme: str, exchange: str | None, known: Knowing
) -> dict[str, Any]:
    catalog = service.catalog
    bounds = {"known_at": known.known_at, "recorded_by": known.recorded_by}
    try:
        found = catalog.resolve(name, at, scheme, exchange, **bounds)
    except (UnknownNameError, AmbiguousNameError, UnknownSchemeError) as exc:
        raise _refused(exc, name) from None
    names = None if found is None else catalog.names(found, at, **bounds)
    shown = {k: {"exchange": v.exchange, "name": v.name} for k, v in (names or {}).items()}
    return {"name": name, "scheme": scheme, "as_of": at, "instrument_id": found, "names": shown}


async def get_resolve(request: web.Request) -> web.Response:
    """The instrument that held a name in a scheme at `as_of`, and its other names."""
    service = service_of(request)
    name = text(request, "name")
    if name is None:
        raise ProblemError(400, "missing parameter", "give name=", parameter="name")
    scheme, exchange = text(request, "scheme") or "tradingview", text(request, "exchange")
    at, known = instant_or_now(request, "as_of"), knowing(request)
    return json_answer(await service.run(_resolve, service, name, at, scheme, exchange, known))


async def get_holders(request: web.Request) -> web.Response:
    """Every instrument that ever held a symbol, with the intervals."""
    service = service_of(request)
    symbol, known = request.match_info["symbol"], knowing(request)
    bounds = {"known_at": known.known_at, "recorded_by": known.recorded_by}
    try:
        found = await service.run(service.catalog.holders, symbol, **bounds)
    except UnknownNameError as exc:
        raise _refused(exc, symbol) from None
    said = {"symbol": symbol, **known._asdict()}
    return rows_answer(request, found.to_pylist(), found.schema, said)


ENDPOINTS: Final = (
    Endpoint(
        "GET",
        "/resolve",
        get_resolve,
        operation(
            "the instrument that held a name in a naming scheme at as_of, and its name in "
            "every scheme",
            answer="Resolved",
            example={
                "name": "BTC/USDT:USDT",
                "scheme": "ccxt",
                "as_of": "2024-06-01T00:00:00Z",
                "instrument_id": "binance:usdm:BTCUSDT",
                "names": {
                    "tradingview": {"exchange": "BINANCE", "name": "BINANCE:BTCUSDT.P"},
                    "ccxt": {"exchange": "binance", "name": "BTC/USDT:USDT"},
                },
            },
            parameters=(
                query("name", "the name, in `scheme`", {"type": "string"}, required=True),
                query(
                    "scheme",
                    "tradingview (default), venue, ccxt, nautilus or tardis",
                    {"type": "string"},
                ),
                query("exchange", "the exchange as the scheme spells it", {"type": "string"}),
                "as_of",
                *_KNOWING,
            ),
            errors=(400, 404, 409),
        ),
        schemas=("Resolved",),
    ),
    Endpoint(
        "GET",
        "/holders/{symbol}",
        get_holders,
        operation(
            "every instrument that ever held a symbol, with the intervals, oldest first",
            answer="Holders",
            example={
                "symbol": "BINANCE:LUNAUSDT",
                "known_at": None,
                "recorded_by": None,
                "count": 1,
                "rows": [
                    {
                        "instrument_id": "binance:spot:LUNAUSDT",
                        "held_from": "2020-08-21T00:00:00Z",
                        "held_until": "2022-05-13T00:00:00Z",
                        "active": False,
                    }
                ],
            },
            parameters=("symbol", *_KNOWING),
            arrow=True,
            errors=(400, 404),
        ),
        schemas=("Holders",),
    ),
)

__all__ = ["ENDPOINTS"]
