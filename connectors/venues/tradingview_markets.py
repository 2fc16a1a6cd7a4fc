"""TradingView's markets and the columns each is asked for.

Markets: `crypto` (the default), `america` (US stocks and funds), `futures`, `forex`, `cfd`,
`bonds` and the stock markets of other countries. A market answers 400 to a column it does
not serve, so each scan asks for `CORE_COLUMNS` and those of `OPTIONAL_COLUMNS` that the
market's metainfo lists; `crypto` asks for its fixed `COLUMNS` (its metainfo omits
`base_currency`, which its scan serves). A `futures` ticker gives its root when the scanner
does not.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Collection

#: The scanner's markets (its screener's list): crypto pairs, US stocks, futures, forex,
#: CFDs, bonds and the stock markets of other countries.
MARKETS: Final = (
    "crypto",
    "america",
    "futures",
    "forex",
    "cfd",
    "bonds",
    "australia",
    "canada",
    "germany",
    "india",
    "israel",
    "italy",
    "luxembourg",
    "mexico",
    "spain",
    "turkey",
    "uk",
)
#: What a sync fetches unless told otherwise (`--market`, `markets = [...]`).
DEFAULT_MARKETS: Final = ("crypto",)
#: The columns of a `crypto` scan, in the order of its rows' values.
COLUMNS: Final = (
    "name",
    "description",
    "type",
    "subtype",
    "exchange",
    "currency",
    "base_currency",
    "pricescale",
    "minmov",
    "sector",
    "industry",
    "country",
    "expiration",
)
#: The columns every other market's scan asks for.
CORE_COLUMNS: Final = (
    "name",
    "description",
    "type",
    "subtype",
    "exchange",
    "currency",
    "pricescale",
    "minmov",
)
#: The columns a scan asks for only where the market's metainfo lists them.
OPTIONAL_COLUMNS: Final = (
    "sector",
    "industry",
    "country",
    "expiration",
    "timezone",
    "session",
    "root",
)
#: The instrument fields each column gives (`name` is the ticker: none).
COLUMN_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "name": (),
    "description": ("description",),
    "type": ("type",),
    "subtype": ("subtype",),
    "exchange": ("exchange",),
    "currency": ("quote",),
    "base_currency": ("base",),
    "pricescale": ("tick_size", "pricescale"),
    "minmov": ("minmov",),
    "sector": ("sector",),
    "industry": ("industry",),
    "country": ("country",),
    "expiration": ("expiry",),
    "timezone": ("timezone",),
    "session": ("session",),
    "root": ("root",),
}
#: The fields a `crypto` snapshot reports.
FIELDS: Final = (
    "exchange",
    "base",
    "quote",
    "type",
    "subtype",
    "description",
    "sector",
    "industry",
    "country",
    "tick_size",
    "minmov",
    "pricescale",
    "expiry",
)
#: A futures ticker: its root, then a continuous contract's `1!` or a dated one's month
#: code and year (`ES1!`, `ESZ2024`, `10Y1!`).
_FUTURES_TICKER: Final = re.compile(r"(?P<root>[A-Z0-9_.]+?)(?:\d+!|[FGHJKMNQUVXZ]\d{4})")


def columns_for(market: str, listed: Collection[str]) -> tuple[str, ...]:
    """Return the columns a scan of `market` asks for, given the fields its metainfo lists."""
    if market == "crypto":
        return COLUMNS
    return (*CORE_COLUMNS, *(c for c in OPTIONAL_COLUMNS if c in listed))


def reported(market: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """Return the fields a snapshot of `market` scanned with `columns` reports."""
    if market == "crypto":
        return FIELDS
    found = [field for column in columns for field in COLUMN_FIELDS[column]]
    if market == "futures" and "root" not in found:
        found.append("root")  # read off the ticker
    return tuple(dict.fromkeys(found))


def futures_root(symbol: str) -> str | None:
    """Return the root of the futures ticker of `EXCHANGE:TICKER` (None if it has none)."""
    found = _FUTURES_TICKER.fullmatch(symbol.partition(":")[2])
    return found["root"] if found else None
