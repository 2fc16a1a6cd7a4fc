"""Bybit linear and inverse contracts: settlement, size, limits, leverage and funding.

Linear contracts settle in `settleCoin` (USDT, USDC) and are one base coin each; inverse
ones settle in the base coin and are one USD each (`contract_size` 1 either way, in the
base or in the quote). The price band is `priceFilter.minPrice`/`maxPrice`, the largest
order `lotSizeFilter.maxOrderQty`, the leverage `leverageFilter.maxLeverage`, and
`fundingInterval` (minutes) is stored in hours (0, a dated contract's, is none).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from connectors.venues.snapshot import decimal_text
from eventstore.model.rules import exact_decimal

if TYPE_CHECKING:
    from connectors.venues.bybit import Instrument

_ONE: Final = Decimal(1)
_HOUR: Final = Decimal(60)


def contract_fields(item: Instrument, *, inverse: bool) -> dict[str, Any]:
    """Return a linear or inverse contract's settlement, limits, leverage and funding
    interval; one contract is one base coin (linear) or one USD (inverse)."""
    price, leverage = item.price_filter, item.leverage_filter
    return {
        "settle": item.settle_coin or None,
        "inverse": inverse,
        "contract_size": _ONE,
        "max_qty": decimal_text(item.lot_size_filter.max_order_qty, "max_qty"),
        "min_price": decimal_text(price.min_price, "min_price"),
        "max_price": decimal_text(price.max_price, "max_price"),
        "max_leverage": decimal_text(leverage.max_leverage if leverage else None, "max_leverage"),
        "funding_interval": hours(item.funding_interval),
    }


def hours(minutes: int | None) -> Decimal | None:
    """Return `fundingInterval` (minutes; 0 or absent: none, a dated contract's) in hours."""
    found = decimal_text(None if not minutes else str(minutes), "funding_interval")
    return None if found is None else exact_decimal(found / _HOUR, "funding_interval")
