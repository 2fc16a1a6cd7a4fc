"""How the `catalog` command renders values: decimals, instants, tables and JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest

from connectors.cli.render import cell, instant, pairs, plain_decimal, table, to_json


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


def test_cell_shows_missing_values_and_flags_plainly() -> None:
    """None prints as `-`, booleans as yes/no."""
    assert [cell(None), cell(True), cell(False), cell("x")] == ["-", "yes", "no", "x"]


def test_table_aligns_columns_and_right_aligns_numbers() -> None:
    """Text columns are left-aligned, number columns right-aligned, no trailing spaces."""
    rows = [
        {"symbol": "A:LONGNAME", "tick_size": Decimal("0.01"), "note": None},
        {"symbol": "B:X", "tick_size": Decimal("100"), "note": None},
    ]
    assert table(["symbol", "tick_size", "note"], rows).splitlines() == [
        "symbol      tick_size  note",
        "A:LONGNAME       0.01  -",
        "B:X               100  -",
    ]


def test_pairs_aligns_values_after_the_longest_name() -> None:
    """A field/value table puts every value in one column."""
    assert pairs([("a", 1), ("longer", None)]) == "a       1\nlonger  -"


def test_to_json_writes_decimal_strings_and_utc_times() -> None:
    """JSON output has decimals as plain strings and instants as RFC 3339 with `Z`."""
    plus_two = timezone(timedelta(hours=2))
    text = to_json({"tick": Decimal("1E-8"), "at": datetime(2024, 1, 1, 2, tzinfo=plus_two)})
    assert json.loads(text) == {"tick": "0.00000001", "at": "2024-01-01T00:00:00Z"}
