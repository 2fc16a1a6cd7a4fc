"""The fields an event may set, and their normalization: exact decimals, UTC instants, text.

The event constructors only normalize (a stored log must always decode); which values can
be true is `eventstore.model.value_rules`.
"""

from __future__ import annotations

import functools
from decimal import Context, Decimal, InvalidOperation
from typing import Final

from eventstore.errors import InvalidEventError
from eventstore.model.instants import to_utc

#: The text fields that describe an instrument.
DESCRIPTIVE_FIELDS: Final = (
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
)
#: The normalized status and the venue's own word for it.
STATUS_FIELDS: Final = ("status", "venue_status")
#: What a contract settles in, and whether it is inverse (margined and settled in the base
#: asset); null for spot pairs and where the venue does not say.
CONTRACT_TEXT_FIELDS: Final = ("settle",)
BOOLEAN_FIELDS: Final = ("inverse",)
#: Options: the strike (an exact decimal), `call` or `put`, and the underlying index
#: (`BTC-USD`); null for every other instrument.
OPTION_FIELDS: Final = ("strike", "option_type", "underlying")
OPTION_TEXT_FIELDS: Final = ("option_type", "underlying")
#: The values of `option_type`.
OPTION_TYPES: Final = ("call", "put")
#: A futures contract's root, the product its dated contracts share (`ES` for
#: `CME_MINI:ESZ2024` and `CME_MINI:ES1!`); TradingView's futures market gives it.
ROOT_FIELDS: Final = ("root",)
STRING_FIELDS: Final = (
    *DESCRIPTIVE_FIELDS,
    *STATUS_FIELDS,
    *CONTRACT_TEXT_FIELDS,
    *OPTION_TEXT_FIELDS,
    *ROOT_FIELDS,
)
#: Order and price limits, leverage and funding: the largest order (in quantity and in
#: notional), the price band, the highest leverage offered, hours between fundings.
LIMIT_FIELDS: Final = (
    "max_qty",
    "max_notional",
    "min_price",
    "max_price",
    "max_leverage",
    "funding_interval",
)
DECIMAL_FIELDS: Final = (
    "tick_size",
    "minmov",
    "pricescale",
    "lot_size",
    "min_qty",
    "min_notional",
    "contract_size",
    *LIMIT_FIELDS,
    "strike",
)
TIME_FIELDS: Final = ("listed_at", "expiry")
#: Every instrument field an event may set, in the canonical order of the design; the
#: contract, limit and option fields came later (schema evolution: older logs read them as null).
INSTRUMENT_FIELDS: Final = (
    *DESCRIPTIVE_FIELDS,
    *(f for f in DECIMAL_FIELDS if f not in (*LIMIT_FIELDS, *OPTION_FIELDS)),
    *STATUS_FIELDS,
    *TIME_FIELDS,
    *CONTRACT_TEXT_FIELDS,
    *BOOLEAN_FIELDS,
    *LIMIT_FIELDS,
    *OPTION_FIELDS,
    *ROOT_FIELDS,
)
#: Payload fields added after the first release, in the order their columns were added:
#: a log written before one reads it as null and gains its column on its next append.
ADDED_FIELDS: Final = (
    "venue_status",
    *CONTRACT_TEXT_FIELDS,
    *BOOLEAN_FIELDS,
    *LIMIT_FIELDS,
    *OPTION_FIELDS,
    *ROOT_FIELDS,
)
EXCHANGE_FIELDS: Final = ("country", "timezone", "is_crypto", "description")
#: Digits after the point that the log stores exactly (Parquet decimal128(38, 18)).
DECIMAL_SCALE: Final = 18
_MAX_DECIMAL = Decimal(10) ** (38 - DECIMAL_SCALE)


def exact_decimal(value: object, field: str) -> Decimal | None:
    """Return `value` as a normalized `Decimal`; refuse floats and inexact values."""
    if value is None:
        return None
    if type(value) is Decimal and value.is_finite():  # the usual case: a few values, often
        try:
            return _normalized_once(value)
        except InvalidEventError:
            pass  # said again below, naming the field
    return _exact_decimal(value, field)


@functools.lru_cache(maxsize=4096)
def _normalized_once(value: Decimal) -> Decimal | None:
    """Return `exact_decimal` of a finite `Decimal`: equal values normalize alike."""
    return _exact_decimal(value, "")


def _exact_decimal(value: object, field: str) -> Decimal | None:
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
    if field == "is_crypto" or field in BOOLEAN_FIELDS:
        if not isinstance(value, bool):
            raise InvalidEventError(f"expected true or false, got {value!r}", field=field)
        return value
    check_text(value, field)
    return value
