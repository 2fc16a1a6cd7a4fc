"""Options: one symbol per option id, derived from the venue's id alone.

TradingView lists no crypto options for OKX or Bybit, so the catalog defines the rule, in the
shape of its dated futures (`OKX:BTCUSD241220`): the underlying's base and quote, the expiry
as `YYMMDD`, `C` or `P`, then the strike as the id writes it.

| venue | option id | symbol |
| --- | --- | --- |
| OKX | `BTC-USD-241217-92000-C` | `OKX:BTCUSD241217C92000` |
| OKX | `BTC-USD_UM-241217-92000-P` | `OKX:BTCUSD_UM241217P92000` |
| Bybit | `BTC-29MAR24-100000-C` (quote coin USD) | `BYBIT:BTCUSD240329C100000` |
| Bybit | `ETH-25JUN27-7000-P-USDT` (quote coin USDT) | `BYBIT:ETHUSDT250627P7000_USDT` |

Injective: read from the end, a ticker gives back every part of the id. An optional `_XXX`
marker (Bybit's settlement suffix) ends it; before it, the strike is the trailing digits
and point; before those, `C` or `P`; before that, exactly six digits of date; what is left
is base + quote, which splits in one way only because the quote is one of
`okx_naming.QUOTES`, in which no member ends with another (OKX's `_UM` marker sits between
quote and date, as in its futures). Distinct ids therefore never share a symbol. Bybit's day
is written without a leading zero (`1DEC23`): a padded one (`01DEC23`) is refused, since both
would name one date. An id of another shape, an impossible date, a quote outside `QUOTES` or
a strike that is no positive decimal is refused with the reason (the row is rejected).
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Final, NamedTuple

from connectors.venues.okx_naming import QUOTES
from eventstore import InvalidEventError
from eventstore.model.value_rules import size

if TYPE_CHECKING:
    from decimal import Decimal

#: The venues' letters for calls and puts -> `option_type`.
OPTION_TYPE: Final = {"C": "call", "P": "put"}
_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN")
_MONTHS_LATER: Final = ("JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS: Final = {name: number for number, name in enumerate((*_MONTHS, *_MONTHS_LATER), 1)}
_STRIKE: Final = r"(?P<strike>[0-9]+(?:\.[0-9]+)?)"
_OKX: Final = re.compile(
    rf"(?P<base>[A-Z0-9]+)-(?P<quote>[A-Z]+)(?P<um>_UM)?-(?P<date>[0-9]{{6}})-{_STRIKE}-(?P<kind>[CP])"
)
_BYBIT: Final = re.compile(
    r"(?P<base>[A-Z0-9]+)-(?P<day>[1-9][0-9]?)(?P<month>[A-Z]{3})(?P<year>[0-9]{2})"
    rf"-{_STRIKE}-(?P<kind>[CP])(?:-(?P<marker>[A-Z]+))?"
)


class OptionName(NamedTuple):
    """What an option id names: its symbol and the option's terms."""

    symbol: str
    base: str
    quote: str
    underlying: str
    strike: Decimal
    option_type: str


def okx_option_name(inst_id: str) -> OptionName:
    """Return the symbol and terms of the OKX option `inst_id` (`BTC-USD-241217-92000-C`).

    Raises `InvalidEventError` (field `instId`) for an id the rule cannot name.
    """
    found = _OKX.fullmatch(inst_id)
    if found is None:
        raise _refuse("instId", inst_id, "is not BASE-QUOTE[_UM]-YYMMDD-STRIKE-C|P")
    base, quote, um, day = found["base"], found["quote"], found["um"] or "", found["date"]
    _check_date(2000 + int(day[:2]), int(day[2:4]), int(day[4:]), "instId", inst_id)
    return _name("OKX", f"{base}{quote}{um}", day, found, "instId", inst_id, (base, quote))


def bybit_option_name(symbol: str, quote: str) -> OptionName:
    """Return the symbol and terms of the Bybit option `symbol` (`BTC-29MAR24-100000-C`)
    whose quote coin is `quote`.

    Raises `InvalidEventError` (field `symbol`) for an id the rule cannot name.
    """
    found = _BYBIT.fullmatch(symbol)
    if found is None:
        raise _refuse("symbol", symbol, "is not BASE-DMMMYY-STRIKE-C|P[-SETTLE]")
    month = MONTHS.get(found["month"])
    if month is None:
        raise _refuse("symbol", symbol, f"month {found['month']!r} is not one of JAN ... DEC")
    year, day = 2000 + int(found["year"]), int(found["day"])
    _check_date(year, month, day, "symbol", symbol)
    marker = f"_{found['marker']}" if found["marker"] else ""
    base = found["base"]
    dated = f"{year % 100:02d}{month:02d}{day:02d}"
    named = _name("BYBIT", f"{base}{quote}", dated, found, "symbol", symbol, (base, quote))
    return named._replace(symbol=named.symbol + marker)


def _name(
    exchange: str,
    pair: str,
    dated: str,
    found: re.Match[str],
    field: str,
    given: str,
    terms: tuple[str, str],
) -> OptionName:
    base, quote = terms
    if quote not in QUOTES:
        raise _refuse(field, given, f"quote {quote!r} is not one the symbol rule knows")
    strike = size(found["strike"], "strike")
    if strike is None:
        raise _refuse(field, given, "has no strike")
    kind = found["kind"]
    symbol = f"{exchange}:{pair}{dated}{kind}{found['strike']}"
    return OptionName(symbol, base, quote, f"{base}-{quote}", strike, OPTION_TYPE[kind])


def _check_date(year: int, month: int, day: int, field: str, given: str) -> None:
    try:
        date(year, month, day)
    except ValueError:
        raise _refuse(field, given, f"holds no real date ({year}-{month:02d}-{day:02d})") from None


def _refuse(field: str, given: str, why: str) -> InvalidEventError:
    return InvalidEventError(f"{given!r} {why}", field=field)
