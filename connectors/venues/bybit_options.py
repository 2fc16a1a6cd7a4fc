"""Bybit options (`category=option`) as records.

Options (`category=option`, asked with `baseCoin=All`: by default Bybit lists BTC's alone)
are paged like linear. The default list holds PreLaunch, Trading and Delivering options and
Bybit documents no `Closed` list for them, so none is asked: an option that leaves the list
after its expiry is expired at once (the sync's rule for every dated contract). An option
has `type` option, its symbol, `strike` and `option_type` from its id
(`connectors.venues.option_naming`; `optionsType` Call or Put must agree), `underlying`
`<baseCoin>-<quoteCoin>`, the price band, `maxOrderQty`, `settleCoin` (inverse when it is
the base coin), expiry `deliveryTime`; Bybit states no contract size for options: null.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from connectors.venues.option_naming import OPTION_TYPE, bybit_option_name
from connectors.venues.snapshot import SourceRecord, decimal_text, from_millis
from eventstore import InvalidEventError

if TYPE_CHECKING:
    from connectors.venues.bybit import Instrument

#: `optionsType` -> its letter in the option id.
_OPTION_LETTER: Final = {"Call": "C", "Put": "P"}


def option_record(item: Instrument, status: str) -> SourceRecord:
    """Return one Bybit option as a record (`BYBIT:BTCUSD240329C100000`) of `status`."""
    name = bybit_option_name(item.symbol, item.quote_coin)
    if name.base != item.base_coin:
        why = f"{item.base_coin!r} is not the base of {item.symbol!r}"
        raise InvalidEventError(why, field="baseCoin")
    letter = _OPTION_LETTER.get(item.options_type or "")
    if letter is None or OPTION_TYPE[letter] != name.option_type:
        why = f"{item.options_type!r} is not the type of {item.symbol!r} (Call or Put)"
        raise InvalidEventError(why, field="optionsType")
    price, lot = item.price_filter, item.lot_size_filter
    settle = item.settle_coin or None
    listed_at = from_millis(item.launch_time, "listed_at")
    fields = {
        "exchange": "BYBIT",
        "base": name.base,
        "quote": name.quote,
        "type": "option",
        "tick_size": decimal_text(price.tick_size, "tick_size"),
        "lot_size": decimal_text(lot.qty_step, "lot_size"),
        "min_qty": decimal_text(lot.min_order_qty, "min_qty"),
        "expiry": from_millis(item.delivery_time, "expiry"),
        "listed_at": listed_at,
        "settle": settle,
        "inverse": None if settle is None else settle == name.base,
        "max_qty": decimal_text(lot.max_order_qty, "max_qty"),
        "min_price": decimal_text(price.min_price, "min_price"),
        "max_price": decimal_text(price.max_price, "max_price"),
        "strike": name.strike,
        "option_type": name.option_type,
        "underlying": name.underlying,
    }
    return SourceRecord(
        instrument_id=f"bybit:option:{item.symbol}",
        symbol=name.symbol,
        fields=fields,
        status=status,
        venue_status=item.status,
        listed_at=listed_at,
    )
