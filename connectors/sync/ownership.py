"""Which source may write which field of which instrument.

Exchange connectors own the instruments of their venues: they list, change and delist them,
and their tick size, lot size and min notional are the ones that count. On those venues
TradingView never lists nor delists, and adds only the fields it alone reports; everywhere
else TradingView owns the instrument outright. Every (venue, field) pair thus has exactly one
writer, so two sources can never ping-pong a value.

| field | owners, first wins |
| --- | --- |
| tick_size | the venue's exchange connector, then tradingview |
| lot_size min_qty min_notional contract_size status venue_status | the exchange connector |
| settle inverse max_qty max_notional min_price max_price | the exchange connector |
| max_leverage funding_interval | the exchange connector |
| strike option_type underlying | the exchange connector |
| exchange base quote type subtype expiry listed_at | the exchange connector, then tradingview |
| description sector industry country minmov pricescale | tradingview |
| timezone session root | tradingview |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from connectors.venues.snapshot import Snapshot, SourceRecord

#: Venues with an exchange connector, and the connectors that cover them.
COVERED_VENUES: Final = {
    "BINANCE": ("binance-spot", "binance-usdm", "binance-coinm"),
    "OKX": ("okx",),
    "BYBIT": ("bybit",),
}
#: Fields only TradingView reports: it adds them to instruments of covered venues.
TRADINGVIEW_ONLY: Final = (
    "description",
    "sector",
    "industry",
    "country",
    "minmov",
    "pricescale",
    "timezone",
    "session",
    "root",
)
#: Fields compared for a lifecycle owner beside those its snapshot reports.
STATUS_FIELDS: Final = ("status", "venue_status")
#: The fields a listing dates once; later snapshots do not rewrite them (OKX's `listTime` moves).
SET_ONCE: Final = frozenset({"listed_at"})


def venue(symbol: str) -> str:
    """Return the exchange part of `EXCHANGE:TICKER`."""
    return symbol.partition(":")[0]


def enriches_only(source: str, symbol: str) -> bool:
    """Return whether `source` may only add its own fields to `symbol` (never list it)."""
    return source == "tradingview" and venue(symbol) in COVERED_VENUES


def split(snapshot: Snapshot) -> tuple[list[SourceRecord], list[SourceRecord]]:
    """Return the records whose instruments the source owns, and those it only enriches."""
    owned: list[SourceRecord] = []
    enriching: list[SourceRecord] = []
    for record in snapshot.records:
        (enriching if enriches_only(snapshot.source, record.symbol) else owned).append(record)
    return owned, enriching


def compared(snapshot: Snapshot, *, enriching: bool) -> tuple[str, ...]:
    """Return the fields a snapshot's records are compared on: on instruments the source
    owns, those it reports (but the set-once ones) and, for an exchange, the statuses; on
    instruments it enriches, its own fields only."""
    if enriching:
        return tuple(n for n in snapshot.reported if n in TRADINGVIEW_ONLY)
    reported = tuple(n for n in snapshot.reported if n not in SET_ONCE)
    return reported if snapshot.source == "tradingview" else (*reported, *STATUS_FIELDS)
