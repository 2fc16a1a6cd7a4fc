"""Check and normalize field values: exact decimals, UTC instants, non-empty text."""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from typing import Final

from eventstore.errors import InvalidEventError
from eventstore.instant import to_utc

STRING_FIELDS: Final = (
    "exchange",
    "base",
    "quote",
    "type",
    "subtype",
    "description",
    "sector",
    "industry",
    "country",
    "timezone",
    "session",
    "status",
    "venue_status",
)
DECIMAL_FIELDS: Final = (
    "tick_size",
    "minmov",
    "pricescale",
    "lot_size",
    "min_qty",
    "min_notional",
    "contract_size",
)
TIME_FIELDS: Final = ("listed_at", "expiry")
#: Every instrument field an event may set, in the canonical order of the design.
INSTRUMENT_FIELDS: Final = (
    *STRING_FIELDS[:11],
    *DECIMAL_FIELDS,
    "status",
    "venue_status",
    *TIME_FIELDS,
)
EXCHANGE_FIELDS: Final = ("country", "timezone", "is_crypto", "description")
#: Digits after the point that the log stores exactly (Parquet decimal128(38, 18)).
DECIMAL_SCALE: Final = 18
_MAX_DECIMAL = Decimal(10) ** (38 - DECIMAL_SCALE)


def exact_decimal(value: object, field: str) -> Decimal | None:
    """Return `value` as a normalized `Decimal`; refuse floats and inexact values."""
    if value is None:
        return None
    if isinstance(value, (bool, float)):
        raise InvalidEventError(
            f"{value!r} is a {type(value).__name__}; pass a Decimal or a string such as '0.1'",
            field=field,
        )
    if isinstance(value, int | str):
        try:
            value = Decimal(value)
        except InvalidOperation:
            raise InvalidEventError(f"{value!r} is not a decimal number", field=field) from None
    if not isinstance(value, Decimal):
        raise InvalidEventError(f"{type(value).__name__} is not a decimal number", field=field)
    if not value.is_finite() or value.copy_abs() >= _MAX_DECIMAL:
        raise InvalidEventError(f"{value} is out of range", field=field)
    reduced = normalized_decimal(value)
    if _exponent(reduced) < -DECIMAL_SCALE:
        raise InvalidEventError(
            f"{value} has more than {DECIMAL_SCALE} digits after the point", field=field
        )
    return reduced


#: Enough digits for any decimal128(38, 18) value: the default context's 28 would round.
_EXACT = Context(prec=60)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def normalized_decimal(value: Decimal) -> Decimal:
    """Return `value` without trailing zeros, whole numbers without an exponent (100, not 1E+2)."""
    if value.is_zero():
        return Decimal(0)
    reduced = value.normalize(_EXACT)
    return reduced.quantize(Decimal(1), context=_EXACT) if _exponent(reduced) > 0 else reduced


def check_text(value: object, field: str, *, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidEventError(f"expected a non-empty string, got {value!r}", field=field)


def coerce_field(field: str, value: object) -> object:
    """Return `value` checked and normalized for instrument or exchange field `field`."""
    if value is None:
        return None
    if field in DECIMAL_FIELDS:
        return exact_decimal(value, field)
    if field in TIME_FIELDS:
        return to_utc(value, field)
    if field == "is_crypto":
        if not isinstance(value, bool):
            raise InvalidEventError(f"expected true or false, got {value!r}", field=field)
        return value
    check_text(value, field)
    return value
