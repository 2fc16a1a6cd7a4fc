"""What a name is made of: the fields of one version, read into `NameParts`.

Every scheme's rule (`projections.names.schemes`) is a pure function of `NameParts`, so each
rule can be tested for every kind of instrument (options and inverse contracts included)
without a catalog. `parts_of` is the one place that reads a version:

- `venue`, `market` and `native` come from the instrument id `venue:market:native`
  (`binance:usdm:BTCUSDT`, `okx:swap:BTC-USD-SWAP`, `bybit:linear:BTCUSDT`). An id of
  another shape takes its venue from the `exchange` field and its market from the type;
- after a rename (the version's symbol is not the one the instrument was first listed
  under), or for an id of another shape, the native id is the new ticker's, by the venue's
  rule (`native_of_ticker`): the venue renamed the market, so its id changed too;
- `strike` and `option_type` are read only where the version has them (`OPTION_FIELDS`):
  the catalog's schema gains them with options; until then an option has neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime
    from decimal import Decimal

#: The fields a name is derived from, as the version store holds them.
NAME_FIELDS: Final = ("symbol", "exchange", "base", "quote", "settle", "expiry", "type", "inverse")
#: Read from a version only where the schema has them (options, added separately).
OPTION_FIELDS: Final = ("strike", "option_type")
_OPTION_TYPES: Final = {"C": "C", "P": "P", "CALL": "C", "PUT": "P"}
_DATED: Final = re.compile(r"(?P<core>.+?)(?P<date>[0-9]{6})")


@dataclass(frozen=True, slots=True)
class NameParts:
    """The inputs of every naming rule (None: the version does not say)."""

    venue: str  # binance, okx, bybit, tradingview, ... (lower case)
    market: str  # spot, usdm, coinm, options; spot, swap, futures, option; linear, inverse
    native: str  # the venue's own id of the market
    symbol: str  # the TradingView symbol, EXCHANGE:TICKER
    kind: str | None = None  # the `type` field: spot, swap, futures, option
    base: str | None = None
    quote: str | None = None
    settle: str | None = None
    expiry: datetime | None = None
    inverse: bool | None = None
    strike: Decimal | None = None
    option_type: str | None = None  # C or P

    @property
    def perpetual(self) -> bool:
        """Return whether this is a perpetual swap."""
        return self.kind == "swap" or (self.kind is None and self.symbol.endswith(".P"))

    @property
    def option(self) -> bool:
        """Return whether this is an option."""
        return self.kind == "option" or self.strike is not None

    @property
    def exchange(self) -> str:
        """Return the TradingView exchange: the symbol's prefix."""
        return self.symbol.split(":", 1)[0] if ":" in self.symbol else self.venue.upper()


def market_of(venue: str, kind: str | None, inverse: bool | None) -> str:
    """Return the market an instrument of `kind` trades in at `venue` (ids of other shapes)."""
    if kind in (None, "spot"):
        return "spot"
    if venue == "binance":
        return "options" if kind == "option" else "coinm" if inverse else "usdm"
    if venue == "bybit":
        return "option" if kind == "option" else "inverse" if inverse else "linear"
    return kind


def option_type_of(value: object) -> str | None:
    """Return "C" or "P" for the option types sources give ("C", "call", "Put", ...)."""
    return None if value is None else _OPTION_TYPES.get(str(value).upper())


def native_of_ticker(parts: NameParts) -> str | None:
    """Return the venue's id of the market that `parts.symbol` names (None: no rule).

    The inverse of the connectors' TradingView rule (`connectors.venues.naming`): `.P` marks
    a perpetual, a `YYMMDD` suffix a dated contract. An option's ticker is not inverted.
    """
    ticker = parts.symbol.split(":", 1)[-1]
    if parts.option or not ticker:
        return None
    core, date = ticker.removesuffix(".P"), None
    dated = _DATED.fullmatch(core) if parts.expiry is not None and not parts.perpetual else None
    if dated is not None:
        core, date = dated["core"], dated["date"]
    if parts.venue == "binance":
        if parts.market == "coinm":
            return f"{core}_{date or 'PERP'}"
        return f"{core}_{date}" if date else core
    if parts.venue == "okx":
        return _okx_native(parts, core, date)
    if parts.venue == "bybit" and date is not None and parts.expiry is not None:
        return f"{core}-{parts.expiry:%d%b%y}".upper()
    return core


def _okx_native(parts: NameParts, core: str, date: str | None) -> str | None:
    um = "_UM" if core.endswith("_UM") else ""
    core = core.removesuffix("_UM")
    quote = parts.quote
    if not quote or not core.endswith(quote) or len(core) == len(quote):
        return None
    tail = "-SWAP" if parts.perpetual else f"-{date}" if date else ""
    return f"{core[: -len(quote)]}-{quote}{um}{tail}"


def parts_of(
    instrument_id: str, fields: Mapping[str, object], *, renamed: bool = False
) -> NameParts:
    """Return the name inputs of a version: its instrument id and its `fields` by name.

    `renamed` says that the version's symbol is not the one the instrument was first listed
    under. `fields` needs `symbol`; any other field may be missing (then None).
    """
    symbol = str(fields["symbol"])
    kind = _text(fields.get("type"))
    inverse = fields.get("inverse")
    pieces = instrument_id.split(":", 2)
    shaped = len(pieces) == 3 and all(pieces)
    if shaped:
        venue, market, native = pieces[0].lower(), pieces[1].lower(), pieces[2]
    else:
        exchange = _text(fields.get("exchange")) or symbol.split(":", 1)[0]
        venue = exchange.lower()
        market = market_of(venue, kind, inverse if isinstance(inverse, bool) else None)
        native = symbol.split(":", 1)[-1]
    parts = NameParts(
        venue=venue,
        market=market,
        native=native,
        symbol=symbol,
        kind=kind,
        base=_text(fields.get("base")),
        quote=_text(fields.get("quote")),
        settle=_text(fields.get("settle")),
        expiry=fields.get("expiry"),  # type: ignore[arg-type]
        inverse=inverse if isinstance(inverse, bool) else None,
        strike=fields.get("strike"),  # type: ignore[arg-type]
        option_type=option_type_of(fields.get("option_type")),
    )
    if renamed or not shaped:
        found = native_of_ticker(parts)
        if found is not None and found != native:
            return replace(parts, native=found)
    return parts


def _text(value: object) -> str | None:
    return None if value is None else str(value)
