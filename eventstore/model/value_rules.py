"""The value rules every source client and `catalog append` apply before values become events.

The event constructors only normalize (a stored log must always decode); these rules say
which values can be true (sizes, statuses, the listing span, symbols) and refuse the others.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Final

from eventstore.errors import InvalidEventError
from eventstore.model.instants import to_utc
from eventstore.model.rules import DECIMAL_FIELDS, OPTION_TYPES, exact_decimal

if TYPE_CHECKING:
    from decimal import Decimal

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
