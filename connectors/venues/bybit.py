"""Bybit `/v5/market/instruments-info` (spot, linear, inverse and option) into snapshots.

By default Bybit lists only instruments that trade, so a missing symbol is not yet a
delisting: each category is also asked explicitly for `status=Closed`, and those rows
delist with their status; a symbol in neither list is merely absent (see `sync`).
Linear is paged with `nextPageCursor`; an interrupted or looping pagination fails the run,
and so does one past `MAX_PAGES` pages (Bybit reports no total), past the paging time limit,
or with a page that adds no new symbol (`connectors.venues.paging`). Bybit documents no "0 means
none": a size that is not a positive decimal rejects the row.

Limits: `max_qty` is `lotSizeFilter.maxOrderQty` (a limit order's; `maxMktOrderQty` and
`postOnlyMaxOrderQty` are not tracked), spot's `max_notional` is `maxOrderAmt`. Linear
contracts settle in `settleCoin`, are not inverse, have a contract size of 1, a price band
(`priceFilter.minPrice`, `maxPrice`), `leverageFilter.maxLeverage` and a funding interval
(`fundingInterval`, minutes, stored in hours; 0, a dated contract's, is none). Inverse
contracts (`category=inverse`: `BTCUSD`, dated `BTCUSDH24`) have linear's shape and fields,
are `inverse`, settle in `settleCoin` (the base coin) and are worth 1 USD each
(`contract_size` 1, in the quote); `BTCUSD` is `BYBIT:BTCUSD.P`, a dated one
`BYBIT:BTCUSD240329` (its `deliveryTime`). Linear contracts are quoted in USDT or USDC,
inverse ones in USD, so the two categories never share a symbol.

Options: `connectors.venues.bybit_options`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import msgspec

from connectors.errors import IncompleteSnapshotError, MalformedResponseError
from connectors.venues.bybit_contracts import contract_fields
from connectors.venues.bybit_options import option_record
from connectors.venues.http import shown_url
from connectors.venues.naming import dated_suffix
from connectors.venues.paging import PageBudget
from connectors.venues.snapshot import (
    DATED_FIELDS,
    Rejection,
    Snapshot,
    SourceRecord,
    decimal_text,
    from_millis,
    parse_rows,
)
from eventstore.gcpause import paused_gc

if TYPE_CHECKING:
    from connectors.venues.http import SourceHttp

BASE_URL: Final = "https://api.bybit.com"
PATH: Final = "/v5/market/instruments-info"
CATEGORIES: Final = ("spot", "linear", "inverse", "option")
#: Statuses asked for explicitly, beside the default list, to confirm what left it.
CONFIRMING: Final = ("Closed",)
MAX_PAGES: Final = 1000
#: What each category reports beside the common fields.
REPORTED: Final = {
    "spot": (*DATED_FIELDS, "max_qty", "max_notional"),
    "linear": (
        *DATED_FIELDS,
        *("settle", "inverse", "contract_size", "max_qty", "min_price", "max_price"),
        *("max_leverage", "funding_interval"),
    ),
    "inverse": (
        *DATED_FIELDS,
        *("settle", "inverse", "contract_size", "max_qty", "min_price", "max_price"),
        *("max_leverage", "funding_interval"),
    ),
    "option": (
        *(f for f in DATED_FIELDS if f != "min_notional"),
        *("settle", "inverse", "max_qty", "min_price", "max_price"),
        *("strike", "option_type", "underlying"),
    ),
}
#: Extra parameters of each category's listing (spot pages by default).
LISTING: Final = {
    "spot": {},
    "linear": {"limit": "1000"},
    "inverse": {"limit": "1000"},
    "option": {"baseCoin": "All", "limit": "1000"},
}
#: Bybit `status` -> normalized status.
STATUS: Final = {
    "PreLaunch": "pre_trading",
    "Trading": "trading",
    "Settling": "settling",
    "Delivering": "settling",
    "Closed": "delisted",
}


class PriceFilter(msgspec.Struct, frozen=True, rename="camel"):
    """`priceFilter` (spot gives the tick size alone)."""

    tick_size: str
    min_price: str | None = None
    max_price: str | None = None


class LeverageFilter(msgspec.Struct, frozen=True, rename="camel"):
    """`leverageFilter` (derivatives)."""

    max_leverage: str | None = None


class LotSizeFilter(msgspec.Struct, frozen=True, rename="camel"):
    """`lotSizeFilter`: linear steps by `qtyStep`, spot by `basePrecision`."""

    min_order_qty: str
    qty_step: str | None = None
    base_precision: str | None = None
    min_notional_value: str | None = None
    min_order_amt: str | None = None
    max_order_qty: str | None = None
    max_order_amt: str | None = None


class Instrument(msgspec.Struct, frozen=True, rename="camel"):
    """One element of `result.list`."""

    symbol: str
    status: str
    base_coin: str
    quote_coin: str
    price_filter: PriceFilter
    lot_size_filter: LotSizeFilter
    contract_type: str | None = None
    launch_time: str | None = None
    delivery_time: str | None = None
    settle_coin: str | None = None
    leverage_filter: LeverageFilter | None = None
    funding_interval: int | None = None
    options_type: str | None = None


class Result(msgspec.Struct, frozen=True, rename="camel"):
    """`result`."""

    rows: list[Instrument] = msgspec.field(name="list")
    next_page_cursor: str = ""


class Response(msgspec.Struct, frozen=True, rename="camel"):
    """The envelope: `retCode` 0 on success."""

    ret_code: int
    ret_msg: str
    result: Result | None = None
    time: int | None = None


_DECODER: Final = msgspec.json.Decoder(Response)


def record(category: str, item: Instrument) -> SourceRecord:
    """Return one Bybit instrument as a record."""
    lot = item.lot_size_filter
    expiry = from_millis(item.delivery_time, "expiry")
    listed_at = from_millis(item.launch_time, "listed_at")
    pair = f"{item.base_coin}{item.quote_coin}"
    if category == "option":
        return option_record(item, STATUS.get(item.status, "halted"))
    if category == "spot":
        kind, symbol, step, notional = "spot", pair, lot.base_precision, lot.min_order_amt
    else:
        dated = expiry is not None
        kind = "futures" if dated else "swap"
        symbol = f"{pair}{dated_suffix(expiry)}" if dated else f"{pair}.P"
        step, notional = lot.qty_step, lot.min_notional_value
    fields = {
        "exchange": "BYBIT",
        "base": item.base_coin,
        "quote": item.quote_coin,
        "type": kind,
        "tick_size": decimal_text(item.price_filter.tick_size, "tick_size"),
        "lot_size": decimal_text(step, "lot_size"),
        "min_qty": decimal_text(lot.min_order_qty, "min_qty"),
        "min_notional": decimal_text(notional, "min_notional"),
        "expiry": expiry,
        "listed_at": listed_at,
        **(
            _spot_limits(item)
            if category == "spot"
            else contract_fields(item, inverse=category == "inverse")
        ),
    }
    return SourceRecord(
        instrument_id=f"bybit:{category}:{item.symbol}",
        symbol=f"BYBIT:{symbol}",
        fields=fields,
        status=STATUS.get(item.status, "halted"),
        venue_status=item.status,
        listed_at=listed_at,
    )


def _spot_limits(item: Instrument) -> dict[str, Any]:
    lot = item.lot_size_filter
    return {
        "max_qty": decimal_text(lot.max_order_qty, "max_qty"),
        "max_notional": decimal_text(lot.max_order_amt, "max_notional"),
    }


def _page(body: Response, url: str) -> Result:
    if body.ret_code != 0 or body.result is None:
        raise MalformedResponseError("bybit", url, f"venue error {body.ret_code}: {body.ret_msg}")
    return body.result


async def _pages(
    http: SourceHttp, url: str, params: dict[str, str]
) -> tuple[list[Instrument], int | None]:
    """Return every row of a paged listing and the venue's time of its first page."""
    rows: list[Instrument] = []
    seen: set[str] = set()
    symbols: set[str] = set()
    server_time = None
    budget = PageBudget(http, shown_url(url, params), MAX_PAGES)
    while True:
        shown = shown_url(url, params)
        body = http.decode(shown, await http.get(url, params), _DECODER)
        server_time = server_time if server_time is not None else body.time
        result = _page(body, shown)
        rows.extend(result.rows)
        added = {item.symbol for item in result.rows} - symbols
        symbols |= added
        cursor = result.next_page_cursor
        if not cursor:
            return rows, server_time
        if cursor in seen:
            raise IncompleteSnapshotError("bybit", shown, f"pagination loops at cursor {cursor!r}")
        seen.add(cursor)
        budget.next_page(len(added))
        params = {**params, "cursor": cursor}


async def fetch_category(http: SourceHttp, base_url: str, category: str) -> Snapshot:
    """Fetch one category: the default list, then the confirming statuses."""
    url = base_url.rstrip("/") + PATH
    limit = LISTING.get(category, {"limit": "1000"})
    listings = [await _pages(http, url, {"category": category, **limit})]
    for status in () if category == "option" else CONFIRMING:
        listings.append(await _pages(http, url, {"category": category, "status": status, **limit}))
    with paused_gc(), http.guard(url):  # thousands of records and no cycles among them
        return _snapshot(category, [rows for rows, _ in listings], listings[0][1])


def _snapshot(category: str, listings: list[list[Instrument]], server_time: int | None) -> Snapshot:
    """Return the snapshot of one category's listings (the default one, then confirming ones).

    Within one listing, two rows for a symbol must agree; a symbol in two listings (it
    closed between the requests) takes the later listing's row.
    """
    listed: dict[str, SourceRecord] = {}
    rejected: dict[str, Rejection] = {}
    for rows in listings:
        records, refused = parse_rows(
            rows,
            lambda item: record(category, item),
            lambda item: f"bybit:{category}:{item.symbol}",
        )
        for found in records:
            listed[found.instrument_id] = found
            rejected.pop(found.instrument_id, None)
        for rejection in refused:
            rejected[rejection.instrument_id] = rejection
            listed.pop(rejection.instrument_id, None)
    return Snapshot(
        source="bybit",
        market=category,
        scope=f"bybit:{category}:",
        records=list(listed.values()),
        rejected=tuple(rejected.values()),
        server_time=from_millis(server_time),
        reported=REPORTED.get(category, DATED_FIELDS),
    )


async def fetch(
    http: SourceHttp, base_url: str = BASE_URL, categories: tuple[str, ...] = CATEGORIES
) -> list[Snapshot]:
    """Fetch and parse each category (each a complete snapshot of its market)."""
    return [await fetch_category(http, base_url, category) for category in categories]
