"""The contract and limit fields in every view: universe filters, get, history, pit_join,
the SCD2 export, and the maximums that round_qty and check_grid enforce."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from builders import changed, day, listed

from eventstore import EventLog
from projections import Catalog
from projections.errors import RoundingError
from projections.scd2.symbols import plan_symbols

if TYPE_CHECKING:
    from pathlib import Path

UTC_US = pa.timestamp("us", tz="UTC")


@pytest.fixture
def contracts(log: EventLog) -> EventLog:
    """On day 1: a linear USDT perpetual L (max qty 100, max notional 50,000, 8 h funding,
    leverage 100), an inverse BTC-settled perpetual V, and a spot pair S (neither). On day 3
    L's funding interval becomes 4 h and its leverage 50."""
    log.append(
        [
            listed(
                "L",
                "X:BTCUSDT.P",
                day(1),
                type="swap",
                settle="USDT",
                inverse=False,
                contract_size="1",
                lot_size="0.001",
                max_qty="100",
                max_notional="50000",
                min_price="0.1",
                max_price="1000000",
                max_leverage="100",
                funding_interval="8",
            ),
            listed("V", "X:BTCUSD.P", day(1), type="swap", settle="BTC", inverse=True),
            listed("S", "X:BTCUSDT", day(1), type="spot", lot_size="0.001"),
            changed("L", "X:BTCUSDT.P", day(3), funding_interval="4", max_leverage="50"),
        ]
    )
    return log


def _symbols(table: pa.Table) -> list[str]:
    return sorted(table["symbol"].to_pylist())


def test_universe_filters_by_settlement_and_inverse(contracts: EventLog, catalog: Catalog) -> None:
    """`settle` and `inverse` keep the matching contracts; a spot pair (null) matches neither."""
    assert _symbols(catalog.universe(day(2))) == ["X:BTCUSD.P", "X:BTCUSDT", "X:BTCUSDT.P"]
    assert _symbols(catalog.universe(day(2), settle="USDT")) == ["X:BTCUSDT.P"]
    assert _symbols(catalog.universe(day(2), inverse=True)) == ["X:BTCUSD.P"]
    assert _symbols(catalog.universe(day(2), inverse=False)) == ["X:BTCUSDT.P"]
    assert _symbols(catalog.universe(day(2), settle="BTC", inverse=False)) == []


def test_get_and_history_carry_the_new_fields(contracts: EventLog, catalog: Catalog) -> None:
    """`get` answers each field as of T; `history` has a column per field, one row a version."""
    before, after = catalog.get("X:BTCUSDT.P", day(2)), catalog.get("X:BTCUSDT.P", day(3))
    assert before is not None
    assert after is not None
    assert (before.settle, before.inverse, before.contract_size) == ("USDT", False, Decimal(1))
    assert (before.max_qty, before.max_notional) == (Decimal(100), Decimal(50000))
    assert (before.min_price, before.max_price) == (Decimal("0.1"), Decimal(1000000))
    assert (before.funding_interval, before.max_leverage) == (Decimal(8), Decimal(100))
    assert (after.funding_interval, after.max_leverage) == (Decimal(4), Decimal(50))
    history = catalog.history("X:BTCUSDT.P")
    assert history["funding_interval"].to_pylist() == [Decimal(8), Decimal(4)]
    assert history["max_leverage"].to_pylist() == [Decimal(100), Decimal(50)]
    assert history.schema.field("inverse").type == pa.bool_()


def test_pit_join_can_request_the_new_fields(contracts: EventLog, catalog: Catalog) -> None:
    """Each row gets the funding interval and leverage in force at its own time."""
    bars = pa.table(
        {
            "symbol": ["X:BTCUSDT.P", "X:BTCUSDT.P", "X:BTCUSD.P", "X:BTCUSDT"],
            "ts": pa.array([day(2), day(4), day(2), day(2)], UTC_US),
        }
    )
    out = catalog.pit_join(
        bars, fields=["funding_interval", "max_leverage", "settle", "inverse", "max_qty"]
    )
    assert out["funding_interval"].to_pylist() == [Decimal(8), Decimal(4), None, None]
    assert out["max_leverage"].to_pylist() == [Decimal(100), Decimal(50), None, None]
    assert out["settle"].to_pylist() == ["USDT", "USDT", "BTC", None]
    assert out["inverse"].to_pylist() == [False, False, True, None]
    assert out["max_qty"].to_pylist() == [Decimal(100), Decimal(100), None, None]


def test_the_scd2_export_carries_them(contracts: EventLog, catalog: Catalog) -> None:
    """One row per version, with every new field as a column of the catalog's type."""
    symbols, _ = catalog.scd2()
    rows = [r for r in symbols.to_pylist() if r["instrument_id"] == "L"]
    assert [r["funding_interval"] for r in rows] == [Decimal(8), Decimal(4)]
    assert {r["settle"] for r in rows} == {"USDT"}
    for name in ("settle", "inverse", "max_qty", "max_notional", "min_price", "max_price"):
        assert name in symbols.column_names


def test_round_qty_refuses_an_order_above_the_maximums(
    contracts: EventLog, catalog: Catalog
) -> None:
    """Above max_qty, or a notional above max_notional, is refused saying which limit."""
    assert catalog.round_qty("X:BTCUSDT.P", "100", day(2)) == Decimal(100)
    with pytest.raises(RoundingError, match=r"100\.001 is above max_qty 100"):
        catalog.round_qty("X:BTCUSDT.P", "100.0015", day(2))
    with pytest.raises(
        RoundingError, match=r"notional 50001 at price 500\.01 is above max_notional"
    ):
        catalog.round_qty("X:BTCUSDT.P", "100", day(2), price="500.01")
    assert catalog.round_qty("X:BTCUSDT", "1000000", day(2), price="1000") == Decimal(1000000)


def test_check_grid_reports_quantities_above_the_maximums(
    contracts: EventLog, catalog: Catalog
) -> None:
    """Quantity columns: `above_max_qty`, `above_max_notional` at the row's price, with the
    limit broken; an instrument without maximums has none to break."""
    orders = pa.table(
        {
            "symbol": ["X:BTCUSDT.P", "X:BTCUSDT.P", "X:BTCUSDT.P", "X:BTCUSDT"],
            "ts": pa.array([day(2)] * 4, UTC_US),
            "price": [Decimal("100"), Decimal("100"), Decimal("600"), Decimal("100")],
            "qty": [Decimal("10"), Decimal("101"), Decimal("90"), Decimal("999999")],
        }
    )
    report = catalog.check_grid(orders, qty_cols=["qty"], price_col="price")
    found = list(
        zip(*(report[c].to_pylist() for c in ("row", "problem", "limit", "qty")), strict=True)
    )
    assert found == [
        (1, "above_max_qty", Decimal(100), Decimal(101)),
        (2, "above_max_notional", Decimal(50000), Decimal(90)),
    ]
    both = catalog.check_grid(orders, price_cols=["price"], qty_cols=["qty"])
    found = list(zip(*(both[c].to_pylist() for c in ("row", "column", "problem")), strict=True))
    assert found == [  # no tick size was given; without price_col no notional is checked
        (0, "price", "no_tick_size"),
        (1, "price", "no_tick_size"),
        (1, "qty", "above_max_qty"),
        (2, "price", "no_tick_size"),
        (3, "price", "no_tick_size"),
    ]
    assert both["limit"].to_pylist()[2] == Decimal(100)
    assert both["limit"].null_count == 4


def test_the_scd2_import_of_the_export_keeps_them(
    contracts: EventLog, catalog: Catalog, tmp_path: Path
) -> None:
    """Export, import into a fresh log: every version answers the same new fields."""
    symbols, _ = catalog.scd2()
    plan = plan_symbols(symbols)
    assert plan.defects == []
    EventLog.open(tmp_path / "copy").append(plan.events)
    copy = Catalog.open(tmp_path / "copy")
    for when in (day(2), day(4)):
        for symbol in ("X:BTCUSDT.P", "X:BTCUSD.P"):
            old, new = catalog.get(symbol, when), copy.get(symbol, when)
            assert old is not None
            assert new is not None
            for name in ("settle", "inverse", "max_qty", "max_leverage", "funding_interval"):
                assert getattr(new, name) == getattr(old, name)
