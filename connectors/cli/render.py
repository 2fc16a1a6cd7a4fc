"""Render catalog answers for people (aligned text tables) and for machines (JSON).

Arrow decimal128 columns come back with 18 digits of scale (`0.010000000000000000`); every
decimal is normalized here, and written without an exponent, before it is shown or encoded.

Text from sources (a symbol, a description) may hold control, format or separator
characters: an ANSI escape, an RTL override, a NUL. `EscapedOutput` writes every such
character as `\\uXXXX`, so nothing from data can drive the terminal; the escape is valid
inside JSON strings too, so `--json` stays JSON.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any, Final

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


#: Characters worth a closer look: all but printable ASCII and the newline.
_SUSPECT: Final = re.compile(r"[^\x20-\x7e\n]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable():  # letters and digits of any script, symbols, punctuation
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    high, low = divmod(code - 0x10000, 0x400)  # a UTF-16 surrogate pair, as JSON writes it
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}"


def printable(text: str) -> str:
    """Return `text` with every non-printable character but the newline as `\\uXXXX`."""
    return _SUSPECT.sub(_escape, text)


class EscapedOutput(io.TextIOBase):
    """A text stream that writes through to `stream`, non-printable characters escaped."""

    def __init__(self, stream: IO[str]) -> None:
        """Wrap `stream` (stdout or stderr)."""
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        """Write `text`, escaped; return the length of `text`."""
        self.stream.write(printable(text))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self.stream.flush()

    def fileno(self) -> int:
        """Return the wrapped stream's file descriptor."""
        return self.stream.fileno()

    def isatty(self) -> bool:
        """Return whether the wrapped stream is a terminal."""
        return self.stream.isatty()

    def writable(self) -> bool:
        """Return True: this stream is for writing."""
        return True


@contextlib.contextmanager
def escaped_streams() -> Iterator[None]:
    """Within the block, stdout and stderr escape what they print (see `EscapedOutput`)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapedOutput(out), EscapedOutput(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
