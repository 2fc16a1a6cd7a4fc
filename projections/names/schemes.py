"""The naming schemes: one pure rule per scheme, from `NameParts` to a `Name`.

A `Name` is (exchange, name): the exchange as that scheme spells it and the name within
it. Each rule returns None for an instrument the scheme has no name for (a TradingView-only
stock has no ccxt symbol). The rules, with examples for every kind, and where each
convention comes from, are in the README ("Names across schemes").

- `tradingview`: the catalog's own symbol, `EXCHANGE:TICKER` (`BINANCE:BTCUSDT.P`).
- `venue`: the venue's native id, with the venue's API (`binance-usdm`, `BTCUSDT`); OKX's
  ids are unique across its instrument types (`okx`, `BTC-USD-SWAP`), Bybit's only within a
  category (`bybit-linear`, `BTCUSDT`).
- `ccxt`: the unified symbol, with ccxt's exchange id: `BASE/QUOTE` spot,
  `BASE/QUOTE:SETTLE` swaps, `BASE/QUOTE:SETTLE-YYMMDD` futures,
  `BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P` options; an inverse contract settles in its base.
- `nautilus`: NautilusTrader's `InstrumentId`, `SYMBOL.VENUE`: Binance USD-M perpetuals
  take `-PERP`, Bybit's symbols the category (`-SPOT`, `-LINEAR`, `-INVERSE`, `-OPTION`).
- `tardis`: Tardis.dev's exchange id per market (`binance-futures`, `okex-swap`, `bybit`)
  and the native symbol.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Final, NamedTuple

from projections.names.parts import NameParts


class Name(NamedTuple):
    """A name in one scheme: the exchange as the scheme spells it, and the name there."""

    exchange: str
    name: str


Rule = Callable[[NameParts], Name | None]
#: The exchange id of each venue in ccxt (its `binance` class loads every Binance market).
CCXT_EXCHANGES: Final = {"binance": "binance", "okx": "okx", "bybit": "bybit"}
#: Other ccxt ids that name the same markets: their unified symbols are those of `binance`.
CCXT_ALIASES: Final = {"binanceusdm": "binance", "binancecoinm": "binance"}
#: Venues whose native ids are unique across all of their markets.
ONE_NAMESPACE: Final = frozenset({"okx"})
_BYBIT_SUFFIX: Final = {m: m.upper() for m in ("spot", "linear", "inverse", "option")}
#: Tardis.dev's exchange id of each (venue, market).
TARDIS_EXCHANGES: Final = {
    ("binance", "spot"): "binance",
    ("binance", "usdm"): "binance-futures",
    ("binance", "coinm"): "binance-delivery",
    ("binance", "options"): "binance-european-options",
    ("okx", "spot"): "okex",
    ("okx", "swap"): "okex-swap",
    ("okx", "futures"): "okex-futures",
    ("okx", "option"): "okex-options",
    ("bybit", "spot"): "bybit-spot",
    ("bybit", "linear"): "bybit",
    ("bybit", "inverse"): "bybit",
    ("bybit", "option"): "bybit-options",
}


def tradingview(parts: NameParts) -> Name:
    """Return the TradingView symbol (the catalog's `symbol`), under its exchange."""
    return Name(parts.exchange, parts.symbol)


def venue(parts: NameParts) -> Name:
    """Return the venue's native id, under `venue-market` (`okx` alone for OKX)."""
    where = parts.venue if parts.venue in ONE_NAMESPACE else f"{parts.venue}-{parts.market}"
    return Name(where, parts.native)


def ccxt(parts: NameParts) -> Name | None:
    """Return the ccxt unified symbol, under ccxt's exchange id."""
    exchange = CCXT_EXCHANGES.get(parts.venue)
    base, quote = parts.base, parts.quote
    if exchange is None or not base or not quote or parts.kind not in _CCXT_KINDS:
        return None
    if parts.kind == "spot":
        return Name(exchange, f"{base}/{quote}")
    settle = parts.settle or (base if parts.inverse else quote)
    symbol = f"{base}/{quote}:{settle}"
    if parts.kind == "swap":
        return Name(exchange, symbol)
    if parts.expiry is None:
        return None
    symbol += f"-{parts.expiry:%y%m%d}"
    if parts.kind == "option":
        if parts.strike is None or parts.option_type is None:
            return None
        symbol += f"-{strike_text(parts.strike)}-{parts.option_type}"
    return Name(exchange, symbol)


_CCXT_KINDS: Final = frozenset({"spot", "swap", "futures", "option"})


def strike_text(strike: Decimal) -> str:
    """Return a strike as ccxt writes it: no exponent, no trailing zeros (60000, 0.5)."""
    text = format(Decimal(strike).normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def nautilus(parts: NameParts) -> Name | None:
    """Return NautilusTrader's instrument id, `SYMBOL.VENUE`, under the venue."""
    if parts.venue == "binance":
        perpetual = parts.market == "usdm" and parts.perpetual
        return Name("BINANCE", f"{parts.native}{'-PERP' if perpetual else ''}.BINANCE")
    if parts.venue == "okx":
        return Name("OKX", f"{parts.native}.OKX")
    suffix = _BYBIT_SUFFIX.get(parts.market)
    if parts.venue == "bybit" and suffix is not None:
        return Name("BYBIT", f"{parts.native}-{suffix}.BYBIT")
    return None


def tardis(parts: NameParts) -> Name | None:
    """Return Tardis.dev's exchange id of the market, and the native symbol."""
    exchange = TARDIS_EXCHANGES.get((parts.venue, parts.market))
    return None if exchange is None else Name(exchange, parts.native.upper())


#: Every scheme, by name; `tradingview` first.
SCHEMES: Final[dict[str, Rule]] = {
    "tradingview": tradingview,
    "venue": venue,
    "ccxt": ccxt,
    "nautilus": nautilus,
    "tardis": tardis,
}
#: Schemes whose names carry their exchange: a name alone is enough to look one up.
QUALIFIED: Final = frozenset({"tradingview", "nautilus"})


def names_of(parts: NameParts) -> dict[str, Name]:
    """Return the instrument's name in every scheme that names it."""
    found = {scheme: rule(parts) for scheme, rule in SCHEMES.items()}
    return {scheme: name for scheme, name in found.items() if name is not None}


def exchange_key(scheme: str, exchange: str) -> str:
    """Return how an exchange is matched in `scheme`: lower case, ccxt aliases resolved."""
    key = exchange.lower()
    return CCXT_ALIASES.get(key, key) if scheme == "ccxt" else key
