"""Check and normalize field values: exact decimals, UTC instants, non-empty text.

Then the value rules of each field (sizes, statuses, the listing span, symbols), which
every source client and `catalog append` apply to what they are given.
"""

from __future__ import annotations

import functools
import re
import unicodedata
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


# -- the value rules every source and `catalog append` apply ------------------------------
#
# The event constructors above only normalize (a stored log must always decode); the rules
# below say which values can be true, and refuse the others before they become events.

#: Every structural number is a size: positive when given (null when the source gives none).
SIZE_FIELDS: Final = DECIMAL_FIELDS
#: The normalized statuses, and those after which an instrument no longer trades.
STATUSES: Final = (
    "pre_trading",
    "trading",
    "halted",
    "cancel_only",
    "settling",
    "delisted",
    "expired",
)
TERMINAL_STATUSES: Final = frozenset({"delisted", "expired"})
#: The longest symbol (`EXCHANGE:TICKER`) and instrument id accepted, in characters.
MAX_SYMBOL_LENGTH: Final = 100
MAX_ID_LENGTH: Final = 200
_DIGITS: Final = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
#: Unicode categories never allowed in a name: control, format, surrogate, private use,
#: unassigned, and the separators (spaces, line and paragraph breaks).
_UNPRINTABLE: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})
#: Characters a ticker may not hold beside those: path separators and a second colon.
_FORBIDDEN: Final = frozenset("/\\:")


def size(value: object, field: str, *, zero_is_null: bool = False) -> Decimal | None:
    """Return `value` as a size of `field`: a positive exact decimal, or None.

    Text must be ASCII digits with an optional point (`"0.01"`; not `"1_000"`, `"1e-8"`,
    `"-1"` or other scripts' digits); a number must be an int or a `Decimal`. Zero is
    null where the venue documents 0 as "no constraint" (`zero_is_null`), else refused.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value) is None:
        raise InvalidEventError(f"{value!r} is not a decimal of ASCII digits", field=field)
    number = exact_decimal(value, field)
    if number is None or number > 0:
        return number
    if number.is_zero() and zero_is_null:
        return None
    raise InvalidEventError(f"{value!r} is not positive (use null for none)", field=field)


def check_status(value: object, field: str = "status", *, terminal: bool = False) -> None:
    """Refuse a status that is not one of `STATUSES` (of `TERMINAL_STATUSES` if `terminal`)."""
    if value is None:
        return
    allowed = sorted(TERMINAL_STATUSES) if terminal else STATUSES
    if value not in allowed:
        raise InvalidEventError(f"{value!r} is not one of {', '.join(allowed)}", field=field)


def check_option_type(value: object, field: str = "option_type") -> None:
    """Refuse an option type that is not one of `OPTION_TYPES` (`call`, `put`)."""
    if value is not None and value not in OPTION_TYPES:
        raise InvalidEventError(f"{value!r} is not one of {', '.join(OPTION_TYPES)}", field=field)


def check_span(listed_at: object, expiry: object) -> None:
    """Refuse an expiry before the listing."""
    if listed_at is None or expiry is None:
        return
    listed, expires = to_utc(listed_at, "listed_at"), to_utc(expiry, "expiry")
    if expires < listed:
        reason = f"{expires.isoformat()} is before the listing at {listed.isoformat()}"
        raise InvalidEventError(reason, field="expiry")


def _printable(text: str, field: str, limit: int) -> None:
    if len(text) > limit:
        raise InvalidEventError(
            f"{text[:20]!r}... is {len(text)} characters long, more than {limit}", field=field
        )
    for char in text:
        if unicodedata.category(char) in _UNPRINTABLE:
            name = unicodedata.name(char, "").lower() or f"U+{ord(char):04X}"
            raise InvalidEventError(f"{text!r} holds {name}", field=field)


def check_name(value: object, field: str) -> str:
    """Refuse an exchange name or ticker that is not a printable name.

    Any script's letters and digits are allowed, and punctuation (`.P`, `1!`, `M&M`), but
    no control, format or separator character, no `/`, `\\` or `:`, and at least one
    letter or digit.
    """
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"expected a non-empty name, got {value!r}", field=field)
    _printable(value, field, MAX_SYMBOL_LENGTH)
    bad = sorted(_FORBIDDEN.intersection(value))
    if bad:
        raise InvalidEventError(f"{value!r} holds {bad[0]!r}", field=field)
    if not any(char.isalnum() for char in value):
        raise InvalidEventError(f"{value!r} has no letter or digit", field=field)
    return value


def check_symbol(value: object, field: str = "symbol") -> str:
    """Refuse a symbol that is not `EXCHANGE:TICKER`, both parts printable names.

    At most `MAX_SYMBOL_LENGTH` characters in all.
    """
    if not isinstance(value, str) or ":" not in value:
        raise InvalidEventError(f"{value!r} is not EXCHANGE:TICKER", field=field)
    _printable(value, field, MAX_SYMBOL_LENGTH)
    exchange, _, ticker = value.partition(":")
    check_name(exchange, f"{field} exchange")
    check_name(ticker, f"{field} ticker")
    return value


def check_instrument_id(value: object, field: str = "instrument_id") -> str:
    """Refuse an instrument id that is empty, too long or holds unprintable characters."""
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"expected a non-empty id, got {value!r}", field=field)
    _printable(value, field, MAX_ID_LENGTH)
    return value
