"""Rounding to the grid in force: exact single values, and the same answers for whole columns."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from builders import changed, day, listed
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples

from eventstore.encoding.schema import DECIMAL
from projections import rounding
from projections.errors import InvalidTableError, RoundingError

if TYPE_CHECKING:
    from eventstore import EventLog
    from projections import Catalog

UTC_US = pa.timestamp("us", tz="UTC")


@pytest.fixture
def grid(log: EventLog) -> EventLog:
    """X:A lists on day 1 with tick 0.05, lot 0.001, min_qty 0.01, min_notional 10; its tick
    becomes 0.5 on day 3. X:N lists on day 1 with no tick or lot size."""
    log.append(
        [
            listed(
                "I1",
                "X:A",
                day(1),
                tick_size="0.05",
                lot_size="0.001",
                min_qty="0.01",
                min_notional="10",
            ),
            changed("I1", "X:A", day(3), tick_size="0.5"),
            listed("I2", "X:N", day(1)),
        ]
    )
    return log


@pytest.mark.parametrize(
    ("price", "mode", "when", "want"),
    [
        ("101.02", "nearest", 2, "101"),
        ("101.025", "nearest", 2, "101.05"),  # a tie goes up
        ("101.02", "up", 2, "101.05"),
        ("101.07", "down", 2, "101.05"),
        ("101.05", "down", 2, "101.05"),  # on the grid: unchanged
        ("101.3", "nearest", 4, "101.5"),  # the tick in force on day 4 is 0.5
        (101, "up", 4, "101"),
    ],
)
def test_round_price_puts_the_price_on_the_tick_grid_in_force(
    grid: EventLog, catalog: Catalog, price: object, mode: str, when: int, want: str
) -> None:
    """round_price rounds exactly to a multiple of the tick size valid at as_of."""
    assert catalog.round_price("X:A", price, day(when), mode) == Decimal(want)


def test_round_qty_floors_to_the_lot_and_checks_the_minimums(
    grid: EventLog, catalog: Catalog
) -> None:
    """round_qty floors to the lot step; below min_qty or min_notional is refused, saying which."""
    assert catalog.round_qty("X:A", "1.23456", day(2)) == Decimal("1.234")
    assert catalog.round_qty("X:A", Decimal("2"), day(2), price="5") == 2
    with pytest.raises(RoundingError, match=r"below min_qty 0\.01"):
        catalog.round_qty("X:A", "0.0099", day(2))
    with pytest.raises(RoundingError, match=r"9\.99 at price 999 is below min_notional 10"):
        catalog.round_qty("X:A", "0.01", day(2), price="999")
    with pytest.raises(RoundingError, match="below the lot size"):
        catalog.round_qty("X:A", "0.0004", day(2))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.round_price("X:A", 101.02, day(2)), "float is inexact"),
        (lambda c: c.round_price("X:A", "abc", day(2)), "not a decimal number"),
        (lambda c: c.round_price("X:A", "1", day(0)), "no instrument held the symbol"),
        (lambda c: c.round_price("X:N", "1", day(2)), "no tick_size is known"),
        (lambda c: c.round_qty("X:N", "1", day(2)), "no lot_size is known"),
        (lambda c: c.round_price("X:A", "1", day(2), "sideways"), "unknown mode"),
        (lambda c: c.round_qty("X:A", "-1", day(2)), "must be positive"),
    ],
)
def test_what_cannot_be_rounded_is_refused_with_the_reason(
    grid: EventLog, catalog: Catalog, call: object, message: str
) -> None:
    """A float, a non-number, no holder, no step, an unknown mode or a negative size: refused."""
    with pytest.raises(RoundingError, match=message):
        call(catalog)  # type: ignore[operator]


def test_snap_rounds_each_row_with_its_own_tick_and_lot(grid: EventLog, catalog: Catalog) -> None:
    """snap puts prices on each row's tick grid and floors quantities; no step gives null."""
    table = pa.table(
        {
            "symbol": ["X:A", "X:A", "X:N", "X:Q"],
            "ts": pa.array([day(2), day(4), day(2), day(2)], UTC_US),
            "price": [101.02, 101.3, 5.0, 1.0],
            "qty": pa.array(
                [Decimal("1.23456"), Decimal("2"), Decimal("1"), Decimal("1")], DECIMAL
            ),
        }
    )

    snapped = catalog.snap(table, price_cols=["price"], qty_cols=["qty"]).to_pydict()

    assert snapped["price"] == [Decimal("101"), Decimal("101.5"), None, None]
    assert snapped["qty"] == [Decimal("1.234"), Decimal("2"), None, None]


def test_check_grid_lists_off_grid_unlisted_and_tickless_rows(
    grid: EventLog, catalog: Catalog
) -> None:
    """check_grid reports each offending (row, column) with the tick in force and why."""
    table = pa.table(
        {
            "symbol": ["X:A", "X:A", "X:A", "X:N", "X:Q"],
            "ts": pa.array([day(2), day(2), day(4), day(2), day(2)], UTC_US),
            "open": [101.05, 101.02, 101.05, 1.0, 1.0],
            "close": [101.1, 101.1, 101.5, None, 2.0],
        }
    )

    report = catalog.check_grid(table, price_cols=["open", "close"])

    found = list(
        zip(*(report.column(c).to_pylist() for c in ("row", "column", "problem")), strict=True)
    )
    assert found == [
        (1, "open", "off_grid"),
        (2, "open", "off_grid"),
        (3, "open", "no_tick_size"),
        (4, "close", "not_listed"),
        (4, "open", "not_listed"),
    ]
    assert report.column("tick_size").to_pylist()[:2] == [Decimal("0.05"), Decimal("0.5")]


def test_check_grid_needs_a_price_column(grid: EventLog, catalog: Catalog) -> None:
    """Without price columns there is nothing to check: refused."""
    with pytest.raises(InvalidTableError, match="price_cols is empty"):
        catalog.check_grid(
            pa.table({"symbol": ["X:A"], "ts": pa.array([day(2)], UTC_US)}), price_cols=[]
        )


STEPS = st.sampled_from(["0.01", "0.05", "0.5", "1", "25", "0.000001", "0.00000001", "0.3"]).map(
    Decimal
)
VALUES = st.decimals(
    min_value=-(10**12), max_value=10**12, places=9, allow_nan=False
) | st.decimals(min_value=-(10**19), max_value=10**19, places=4, allow_nan=False)


@settings(max_examples=examples(60), deadline=None)
@given(
    cells=st.lists(st.tuples(VALUES, STEPS | st.none()), min_size=1, max_size=20),
    mode=st.sampled_from(rounding.MODES),
)
def test_a_snapped_column_equals_rounding_each_value_exactly(
    cells: list[tuple[Decimal, Decimal | None]], mode: str
) -> None:
    """snap_column (int64 at a common scale, big values one by one) equals on_grid per value."""
    values = pa.chunked_array([pa.array([v for v, _ in cells], DECIMAL)])
    steps = pa.array([s for _, s in cells], DECIMAL)

    got = rounding.snap_column(values, steps, mode, "price").to_pylist()

    want = [None if s is None else rounding.on_grid(v, s, mode) for v, s in cells]
    assert got == want
