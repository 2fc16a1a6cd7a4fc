"""How the `catalog` command renders values: decimals, instants, tables and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from connectors.cli.render import (
    RICH_ROWS,
    cell,
    instant,
    pairs,
    plain_decimal,
    table,
    to_json,
)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.010000000000000000"), "0.01"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("1E+2"), "100"),
        (Decimal("0E-18"), "0"),
        (Decimal("-2.50"), "-2.5"),
    ],
)
def test_plain_decimal_drops_trailing_zeros_and_exponents(value: Decimal, text: str) -> None:
    """A decimal is shown without trailing zeros and never in scientific notation."""
    assert plain_decimal(value) == text


def test_arrow_decimal128_values_lose_their_scale() -> None:
    """Values read back from a decimal128(38, 18) column print as the source wrote them."""
    column = pa.array(["0.01", "5"], pa.string()).cast(pa.decimal128(38, 18))
    assert [cell(value) for value in column.to_pylist()] == ["0.01", "5"]


def test_instant_is_shown_in_utc_with_microseconds_only_when_present() -> None:
    """Instants print as `YYYY-MM-DD HH:MM:SSZ` in UTC, with microseconds only if non-zero."""
    plus_two = timezone(timedelta(hours=2))
    assert instant(datetime(2024, 1, 1, 2, tzinfo=plus_two)) == "2024-01-01 00:00:00Z"
    assert instant(datetime(2024, 1, 1, 0, 0, 1, 5, tzinfo=UTC)) == "2024-01-01 00:00:01.000005Z"


def test_instant_fractions_are_not_padded() -> None:
    """A fraction of a second loses its trailing zeros, as a decimal does."""
    assert (
        instant(datetime(2020, 10, 7, 8, 39, 12, 640000, tzinfo=UTC)) == "2020-10-07 08:39:12.64Z"
    )
    assert instant(datetime(2024, 1, 1, 0, 0, 0, 1000, tzinfo=UTC)) == "2024-01-01 00:00:00.001Z"


def test_cell_shows_missing_values_and_flags_plainly() -> None:
    """None prints as `-`, booleans as yes/no."""
    assert [cell(None), cell(True), cell(False), cell("x")] == ["-", "yes", "no", "x"]


def test_table_aligns_columns_and_right_aligns_numbers() -> None:
    """Text columns are left-aligned, number columns right-aligned, no trailing spaces."""
    rows = [
        {"symbol": "A:LONGNAME", "tick_size": Decimal("0.01"), "note": None},
        {"symbol": "B:X", "tick_size": Decimal("100"), "note": None},
    ]
    assert table(["symbol", "tick_size", "note"], rows, terminal=False).splitlines() == [
        "symbol      tick_size  note",
        "A:LONGNAME       0.01  -",
        "B:X               100  -",
    ]


def test_table_escapes_cells_before_it_aligns_them() -> None:
    """A control character from data is shown as `\\uXXXX` and measured as shown; a wide
    character counts as two terminal cells."""
    rows = [{"symbol": "A\x1bB", "n": 1}, {"symbol": "漢字", "n": 22}]
    assert table(["symbol", "n"], rows, terminal=False).splitlines() == [
        "symbol     n",
        "A\\u001bB   1",
        "漢字      22",
    ]


ROWS = [
    {"symbol": "X:[bold]A[/bold]", "tick_size": Decimal("0.010000000000000000"), "note": None},
    {"symbol": "X:B", "tick_size": Decimal("100"), "note": "[red]listed[/red] by \x1b[31mX"},
]


def test_a_terminal_gets_a_rich_table_that_reads_no_markup() -> None:
    """On a terminal rich draws the table: a rule under the header, numbers right-aligned,
    decimals plain; `[bold]` in data is text, not markup, and escapes stay escaped."""
    lines = table(["symbol", "tick_size", "note"], ROWS, terminal=True).splitlines()
    assert lines[0].split() == ["symbol", "tick_size", "note"]
    assert set(lines[1]) == {"─"}
    assert lines[2].split() == ["X:[bold]A[/bold]", "0.01", "-"]
    assert lines[3].split() == ["X:B", "100", "[red]listed[/red]", "by", "\\u001b[31mX"]
    column = lines[0].index("tick_size") + len("tick_size")
    assert lines[2][:column].endswith("0.01")  # right-aligned under its header
    assert lines[3][:column].endswith("100")
    assert "\x1b" not in "\n".join(lines)


def test_a_terminal_table_wraps_at_spaces_and_cuts_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A table wider than the terminal keeps every word whole: cells wrap at spaces, and
    words alone wider than the terminal are drawn whole (the terminal wraps the line)."""
    monkeypatch.setattr("connectors.cli.render._terminal_width", lambda: 60)
    long = "tick_size: 0.01 -> 0.1 (a note long enough to wrap at spaces here)"
    at = "2020-10-07 08:39:12.64Z"
    rows = [{"symbol": "BINANCE:BTCUSDT", "at": at, "change": long}]
    lines = table(["symbol", "at", "change"], rows, terminal=True).splitlines()
    assert max(len(line) for line in lines) <= 60
    cells = [line.split() for line in lines[2:]]
    assert cells[0][:2] == ["BINANCE:BTCUSDT", "2020-10-07"]  # the date above its time
    assert cells[1][0] == "08:39:12.64Z"
    words = [word for line in cells for word in line]
    assert words[:3] == ["BINANCE:BTCUSDT", "2020-10-07", "tick_size:"]
    assert " ".join(w for w in words if w not in ("BINANCE:BTCUSDT", *at.split())) == long
    wide = [{"a": "x" * 30, "b": "y" * 30, "c": "z"}]
    assert "x" * 30 + "  " + "y" * 30 in table(["a", "b", "c"], wide, terminal=True)


def test_a_long_table_on_a_terminal_is_plain() -> None:
    """Past `RICH_ROWS` rows (rich takes about a millisecond a row) a terminal gets the
    plain columns too."""
    rows = [{"n": number} for number in range(RICH_ROWS + 1)]
    assert table(["n"], rows, terminal=True) == table(["n"], rows, terminal=False)


def test_pairs_aligns_values_after_the_longest_name() -> None:
    """A field/value table puts every value in one column."""
    assert pairs([("a", 1), ("longer", None)]) == "a       1\nlonger  -"


def test_to_json_writes_decimal_strings_and_utc_times() -> None:
    """JSON output has decimals as plain strings and instants as RFC 3339 with `Z`."""
    plus_two = timezone(timedelta(hours=2))
    text = to_json({"tick": Decimal("1E-8"), "at": datetime(2024, 1, 1, 2, tzinfo=plus_two)})
    assert json.loads(text) == {"tick": "0.00000001", "at": "2024-01-01T00:00:00Z"}
