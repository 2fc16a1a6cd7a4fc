"""TradingView's scanner: the universe of a market, descriptive fields and exchanges.

`POST {base}/{market}/scan` is paged with `range` and says `totalCount`; the snapshot is
complete only when every page arrived and the rows add up to it. Paging is bounded
(`connectors.venues.paging`): each page must add a row not seen before, and there are at most
`totalCount / (rows of the first page)` pages, plus two. Numbers arrive as JSON
numbers and are read as exact `Decimal`s (never through float); tick size is
`minmov / pricescale`, and null when either is missing. `GET {base}/{market}/metainfo`
lists the market's fields and its exchanges (the `r` values of its `exchange` field); which
columns each market is asked for is `connectors.venues.tradingview_markets`'s.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import msgspec

from connectors.errors import IncompleteSnapshotError
from connectors.venues.paging import PageBudget
from connectors.venues.snapshot import Rejection, Snapshot, SourceRecord, parse_rows, rejection
from connectors.venues.tradingview_markets import (
    COLUMNS,
    DEFAULT_MARKETS,
    columns_for,
    futures_root,
    reported,
)
from eventstore import InvalidEventError
from eventstore.gcpause import paused_gc
from eventstore.model.events import exchange_stream
from eventstore.model.value_rules import check_name, size

if TYPE_CHECKING:
    from connectors.venues.http import SourceHttp

BASE_URL: Final = "https://scanner.tradingview.com"
ORIGIN: Final = "https://www.tradingview.com"
PAGE_SIZE: Final = 5000
#: Pages allowed beyond those the total and the first page's length call for.
SPARE_PAGES: Final = 2


class Row(msgspec.Struct, frozen=True):
    """One element of `data`: the symbol and the values of the requested columns."""

    s: str
    d: list[Any]


class ScanResponse(msgspec.Struct, frozen=True, rename="camel"):
    """The scan body."""

    total_count: int
    data: list[Row]


class MetaField(msgspec.Struct, frozen=True):
    """One element of `fields` in metainfo: name, type and, for enums, the values."""

    n: str
    t: str
    r: list[Any] | None = None


class MetaInfo(msgspec.Struct, frozen=True):
    """The metainfo body."""

    fields: list[MetaField]


#: JSON numbers with a fraction are read as exact decimals, not floats.
_SCAN: Final = msgspec.json.Decoder(ScanResponse, float_hook=Decimal)
_META: Final = msgspec.json.Decoder(MetaInfo)


def scan_body(market: str, start: int, stop: int, columns: tuple[str, ...] = COLUMNS) -> bytes:
    """Return the JSON body asking for rows [`start`, `stop`) of `market`, sorted by name."""
    return msgspec.json.encode(
        {
            "columns": list(columns),
            "filter": [],
            "markets": [market],
            "options": {"lang": "en"},
            "range": [start, stop],
            "sort": {"sortBy": "name", "sortOrder": "asc"},
            "symbols": {"query": {"types": []}, "tickers": []},
        }
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any, field: str) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    raise InvalidEventError(f"expected a number, got {value!r}", field=field)


def _size(value: Any, field: str) -> Decimal | None:
    """Return a JSON number of `field` by the size rule (positive; 0 is no value here)."""
    if isinstance(value, str):  # the scanner sends numbers; text is not one
        raise InvalidEventError(f"expected a number, got {value!r}", field=field)
    return size(_number(value, field), field)


def _expiry(value: Any) -> datetime | None:
    number = _number(value, "expiry")
    if number is None:
        return None
    try:
        if 19000101 <= number <= 99991231:  # YYYYMMDD
            return datetime.strptime(str(int(number)), "%Y%m%d").replace(tzinfo=UTC)
        return datetime.fromtimestamp(int(number), UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidEventError(f"{number} is not a date: {exc}", field="expiry") from None


def _tick(minmov: Decimal | None, pricescale: Decimal | None) -> Decimal | None:
    if minmov is None or not pricescale:
        return None
    return minmov / pricescale


def record(market: str, row: Row, columns: tuple[str, ...] = COLUMNS) -> SourceRecord:
    """Return one scanner row (its values in the order of `columns`) as a record; its id
    is `tradingview:<market>:<symbol>`. It holds the fields `reported(market, columns)`."""
    if len(row.d) != len(columns):
        raise ValueError(f"{row.s}: {len(row.d)} values for {len(columns)} columns")
    value = dict(zip(columns, row.d, strict=True))
    minmov, pricescale = _size(value["minmov"], "minmov"), _size(value["pricescale"], "pricescale")
    fields = {
        "exchange": _text(value["exchange"]),
        "base": _text(value.get("base_currency")),
        "quote": _text(value["currency"]),
        "type": _text(value["type"]),
        "subtype": _text(value["subtype"]),
        "description": _text(value["description"]),
        "sector": _text(value.get("sector")),
        "industry": _text(value.get("industry")),
        "country": _text(value.get("country")),
        "timezone": _text(value.get("timezone")),
        "session": _text(value.get("session")),
        "root": _text(value.get("root")) or (futures_root(row.s) if market == "futures" else None),
        "tick_size": _tick(minmov, pricescale),
        "minmov": minmov,
        "pricescale": pricescale,
        "expiry": _expiry(value.get("expiration")),
    }
    wanted = reported(market, columns)
    kept = {name: value for name, value in fields.items() if name in wanted}
    return SourceRecord(instrument_id=f"tradingview:{market}:{row.s}", symbol=row.s, fields=kept)


async def _scan(
    http: SourceHttp, url: str, market: str, start: int, columns: tuple[str, ...]
) -> ScanResponse:
    body = await http.post(url, scan_body(market, start, start + PAGE_SIZE, columns))
    return http.decode(url, body, _SCAN)


async def scan_rows(
    http: SourceHttp, url: str, market: str, columns: tuple[str, ...] = COLUMNS
) -> list[Row]:
    """Return every row of one market's scan (duplicates included), page by page.

    Fail unless the rows add up to `totalCount`, which no page may change; a page that adds
    no new symbol, too many pages or too long a time end the scan (`PageBudget`).
    """
    rows: list[Row] = []
    seen: set[str] = set()
    body = await _scan(http, url, market, 0, columns)
    total = body.total_count
    budget = PageBudget(http, url, math.ceil(total / max(1, len(body.data))) + SPARE_PAGES)
    while True:
        if body.total_count != total or not body.data or len(rows) + len(body.data) > total:
            raise IncompleteSnapshotError(
                "tradingview",
                url,
                f"the universe changed or ran dry while paging: {len(rows)} of {total} rows, "
                f"then a page of {len(body.data)} (total now {body.total_count})",
            )
        rows.extend(body.data)
        added = {row.s for row in body.data} - seen
        seen |= added
        if len(rows) == total:
            return rows
        budget.next_page(len(added))
        body = await _scan(http, url, market, len(rows), columns)


async def fetch_market(http: SourceHttp, base_url: str, market: str) -> Snapshot:
    """Fetch one market's metainfo (its fields and exchanges), then every page of its scan
    with the columns it serves, as one snapshot."""
    listed, exchanges = await fetch_metainfo(http, base_url, market)
    columns = columns_for(market, listed)
    url = f"{base_url.rstrip('/')}/{market}/scan"
    rows = await scan_rows(http, url, market, columns)
    with paused_gc(), http.guard(url):  # thousands of records and no cycles among them
        return _snapshot(market, rows, exchanges, columns)


def _snapshot(
    market: str, rows: list[Row], exchanges: list[str], columns: tuple[str, ...]
) -> Snapshot:
    records, rejected = parse_rows(
        rows, lambda row: record(market, row, columns), lambda row: f"tradingview:{market}:{row.s}"
    )
    named, refused = _exchanges(exchanges)
    return Snapshot(
        source="tradingview",
        market=market,
        scope=f"tradingview:{market}:",
        records=records,
        rejected=rejected + refused,
        reported=reported(market, columns),
        exchanges=named,
    )


def _exchanges(names: list[str]) -> tuple[tuple[str, ...], tuple[Rejection, ...]]:
    """Return the exchange names that meet the name rule, and the others rejected."""
    kept, refused = [], []
    for name in names:
        try:
            kept.append(check_name(name, "exchange"))
        except InvalidEventError as exc:
            refused.append(rejection(exchange_stream(name), exc))
    return tuple(kept), tuple(refused)


async def fetch_metainfo(
    http: SourceHttp, base_url: str, market: str
) -> tuple[frozenset[str], list[str]]:
    """Return the fields `market`'s metainfo lists, and its exchanges, sorted."""
    url = f"{base_url.rstrip('/')}/{market}/metainfo"
    body = http.decode(url, await http.get(url), _META)
    names = frozenset(field.n for field in body.fields)
    for field in body.fields:
        if field.n == "exchange" and field.r:
            found = {value for value in field.r if isinstance(value, str) and value}
            return names, sorted(found)
    return names, []


_SYMBOL: Final = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal)


async def fetch_symbol(
    http: SourceHttp, symbol: str, fields: tuple[str, ...] = COLUMNS, base_url: str = BASE_URL
) -> dict[str, Any]:
    """Return the scanner's `fields` of one `EXCHANGE:TICKER` (`GET /symbol`), by name.

    The scanner answers an object keyed by field (in its own order); numbers are exact
    decimals. An unknown symbol is a `SourceRejectedError` (404).
    """
    url = f"{base_url.rstrip('/')}/symbol"
    params = {"symbol": symbol, "fields": ",".join(fields), "no_404": "false"}
    found = http.decode(url, await http.get(url, params), _SYMBOL)
    return {name: found.get(name) for name in fields}


async def fetch(
    http: SourceHttp, base_url: str = BASE_URL, markets: tuple[str, ...] = DEFAULT_MARKETS
) -> list[Snapshot]:
    """Fetch each market's universe (each a complete snapshot of its market)."""
    return [await fetch_market(http, base_url, market) for market in markets]
