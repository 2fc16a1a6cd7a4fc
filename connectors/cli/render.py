"""Render catalog answers for people (aligned text tables) and for machines (JSON).

Arrow decimal128 columns come back with 18 digits of scale (`0.010000000000000000`); every
decimal is normalized here, and written without an exponent, before it is shown or encoded.
Instants are shown in UTC, with their fraction of a second only when they have one and
without trailing zeros (`00:00:01.64Z`).

Tables: on a terminal, `rich` draws a table of up to `RICH_ROWS` rows (a rule under the
header, numbers right-aligned; a table wider than the terminal has its cells wrapped at
spaces, never inside a word, and no cell is ever cut). Output that is not a terminal (a
pipe, a file, a test), and longer tables, are plain columns two spaces apart with no
trailing spaces: stable for scripts, and fast for a universe of tens of thousands of rows.
Widths are terminal cells (`rich.cells`), so a wide character does not shift a column.

Text from sources (a symbol, a description) may hold control, format or separator
characters: an ANSI escape, an RTL override, a NUL. `EscapedOutput` writes every such
character as `\\uXXXX`, so nothing from data can drive the terminal; the escape is valid
inside JSON strings too, so `--json` stays JSON. A cell is escaped before it is measured
(so columns stay aligned), and reaches `rich` as `Text`, never as markup: `[bold]` in data
prints as it is.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, Any, Final

import msgspec
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: What a missing value looks like in a text table.
MISSING: Final = "-"
#: The most rows a table drawn by `rich` has on a terminal (rich takes about 1 ms a row).
RICH_ROWS: Final = 500
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
    if not utc.microsecond:
        return f"{text}Z"
    return f"{text}.{utc.microsecond:06d}".rstrip("0") + "Z"


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


def _numeric(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> list[bool]:
    """Return, per column, whether it holds numbers only (missing values aside)."""
    return [
        any(_is_number(row.get(name)) for row in rows)
        and all(row.get(name) is None or _is_number(row.get(name)) for row in rows)
        for name in columns
    ]


def on_terminal() -> bool:
    """Return whether stdout is a terminal (a person reads it)."""
    return sys.stdout.isatty()


def table(
    columns: Sequence[str], rows: Sequence[Mapping[str, object]], *, terminal: bool | None = None
) -> str:
    """Return `rows` as a table under a header; numbers are right-aligned.

    `terminal` (default: whether stdout is one) chooses rich's table over plain columns
    (see the module's docstring).
    """
    texts = [[printable(cell(row.get(name))) for name in columns] for row in rows]
    numeric = _numeric(columns, rows)
    terminal = on_terminal() if terminal is None else terminal
    if terminal and len(rows) <= RICH_ROWS:
        return _rich_table(columns, texts, numeric)
    return _plain_table(columns, texts, numeric)


def _plain_table(columns: Sequence[str], texts: list[list[str]], numeric: list[bool]) -> str:
    widths = [
        max([cell_len(name), *(cell_len(line[i]) for line in texts)])
        for i, name in enumerate(columns)
    ]

    def line(values: Sequence[str]) -> str:
        padded = (
            _pad(value, width, right)
            for value, width, right in zip(values, widths, numeric, strict=True)
        )
        return "  ".join(padded).rstrip()

    return "\n".join([line(columns), *(line(values) for values in texts)])


def _pad(value: str, width: int, right: bool) -> str:
    space = " " * (width - cell_len(value))
    return space + value if right else value + space


def _rich_table(columns: Sequence[str], texts: list[list[str]], numeric: list[bool]) -> str:
    """Draw the table with rich at the terminal's width, columns two spaces apart.

    A table that fits is drawn on one line per row. One that does not has its cells
    wrapped at spaces (an instant's date above its time, a long change over a few lines),
    never inside a word: a column is never narrower than its longest word, and a table
    whose words alone are wider than the terminal is drawn whole (the terminal wraps it).
    """
    grid = Table(
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0), highlight=False
    )
    needed = 0
    for i, name in enumerate(columns):
        least = max(cell_len(word) for text in (name, *(line[i] for line in texts)) for word in
                    text.split() or [""])  # fmt: skip
        needed += least + 2
        grid.add_column(
            Text(name), justify="right" if numeric[i] else "left", min_width=least, overflow="fold"
        )
    for line in texts:
        grid.add_row(*(Text(value) for value in line))
    return _draw(grid, max(needed, _terminal_width()))


def _terminal_width() -> int:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, io.UnsupportedOperation):
        return 80


def _draw(renderable: Table, width: int) -> str:
    """Return what rich draws of `renderable` at `width`, in plain text (no colour, no
    markup), each line without its trailing spaces."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=False,
        color_system=None,
        markup=False,
        emoji=False,
        highlight=False,
    )
    console.print(renderable)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())


def pairs(items: Sequence[tuple[str, object]]) -> str:
    """Return a two-column field/value table."""
    width = max((cell_len(name) for name, _ in items), default=0)
    return "\n".join(
        f"{_pad(name, width, False)}  {printable(cell(value))}".rstrip() for name, value in items
    )


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
