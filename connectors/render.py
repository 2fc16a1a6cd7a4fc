"""Render catalog answers for people (aligned text tables) and for machines (JSON).

Arrow decimal128 columns come back with 18 digits of scale (`0.010000000000000000`); every
decimal is normalized here, and written without an exponent, before it is shown or encoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import msgspec

#: What a missing value looks like in a text table.
MISSING: Final = "-"
_json = msgspec.json.Encoder()


def plain_decimal(value: Decimal) -> str:
    """Return `value` without trailing zeros and without an exponent (`1E-8` -> `0.00000001`)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def instant(value: datetime) -> str:
    """Return an instant as `2024-01-01 00:00:00Z` (microseconds only when it has some)."""
    utc = value.astimezone(UTC)
    text = utc.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{utc.microsecond:06d}Z" if utc.microsecond else f"{text}Z"


def cell(value: object) -> str:
    """Return `value` as the text of one table cell."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime):
        return instant(value)
    return str(value)


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


def table(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> str:
    """Return `rows` as an aligned text table under a header; numbers are right-aligned."""
    texts = [[cell(row.get(name)) for name in columns] for row in rows]
    widths = [max([len(name), *(len(line[i]) for line in texts)]) for i, name in enumerate(columns)]
    numeric = [
        any(_is_number(row.get(name)) for row in rows)
        and all(row.get(name) is None or _is_number(row.get(name)) for row in rows)
        for name in columns
    ]

    def line(values: Sequence[str]) -> str:
        padded = (
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(columns), *(line(values) for values in texts)])


def pairs(items: Sequence[tuple[str, object]]) -> str:
    """Return a two-column field/value table."""
    width = max((len(name) for name, _ in items), default=0)
    return "\n".join(f"{name.ljust(width)}  {cell(value)}".rstrip() for name, value in items)


def jsonable(value: Any) -> Any:
    """Return `value` ready for msgspec: decimals as plain strings, containers walked."""
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, msgspec.Struct):
        return jsonable(msgspec.structs.asdict(value))
    return value


def to_json(value: Any) -> str:
    """Return `value` as one line of JSON; instants are RFC 3339 in UTC (`...Z`)."""
    return _json.encode(jsonable(value)).decode()
