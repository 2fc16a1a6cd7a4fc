"""Options and the universe filters in every view: `universe` by exchange, type, base and
quote; `get`, `history`, `pit_join` and the SCD2 export (and its import) with `strike`,
`option_type` and `underlying`."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import changed, day, listed

from eventstore import EventLog
from projections import Catalog
from projections.scd2.symbols import plan_symbols

if TYPE_CHECKING:
    from pathlib import Path

UTC_US = pa.timestamp("us", tz="UTC")


@pytest.fixture
def options(log: EventLog) -> EventLog:
    """On day 1: a call C and a put P on BTC-USD at 92,000 (OKX), a Bybit call B at 100,000,
    and an OKX spot pair S; on day 3 C's strike is corrected to 92,500."""
    terms: dict[str, Any] = {
        "type": "option",
        "base": "BTC",
        "quote": "USD",
        "underlying": "BTC-USD",
    }
    log.append(
        [
            listed(
                "C",
                "OKX:BTCUSD241217C92000",
                day(1),
                exchange="OKX",
                **terms,
                strike="92000",
                option_type="call",
                settle="BTC",
                inverse=True,
            ),
            listed(
                "P",
                "OKX:BTCUSD241217P92000",
                day(1),
                exchange="OKX",
                **terms,
                strike="92000",
                option_type="put",
                settle="BTC",
                inverse=True,
            ),
            listed(
                "B",
                "BYBIT:BTCUSD240329C100000",
                day(1),
                exchange="BYBIT",
                **terms,
                strike="100000",
                option_type="call",
                settle="USDC",
                inverse=False,
            ),
            listed(
                "S", "OKX:ETHUSDT", day(1), exchange="OKX", type="spot", base="ETH", quote="USDT"
            ),
            changed("C", "OKX:BTCUSD241217C92000", day(3), strike="92500"),
        ]
    )
    return log


def _symbols(table: pa.Table) -> list[str]:
    return sorted(table["symbol"].to_pylist())


def test_universe_filters_by_exchange_type_base_and_quote(
    options: EventLog, catalog: Catalog
) -> None:
    """Each filter keeps the instruments whose field equals the value; they combine."""
    assert _symbols(catalog.universe(day(2), exchange="BYBIT")) == ["BYBIT:BTCUSD240329C100000"]
    assert _symbols(catalog.universe(day(2), type="spot")) == ["OKX:ETHUSDT"]
    assert len(_symbols(catalog.universe(day(2), type="option", base="BTC"))) == 3
    assert _symbols(catalog.universe(day(2), quote="USDT")) == ["OKX:ETHUSDT"]
    assert _symbols(catalog.universe(day(2), exchange="OKX", type="option", settle="BTC")) == [
        "OKX:BTCUSD241217C92000",
        "OKX:BTCUSD241217P92000",
    ]
    assert catalog.universe(day(2), base="SOL").num_rows == 0


def test_get_history_and_pit_join_carry_the_option_fields(
    options: EventLog, catalog: Catalog
) -> None:
    """`get` as of T; `history` a column per field; `pit_join` returns them on request."""
    before, after = (
        catalog.get("OKX:BTCUSD241217C92000", day(2)),
        catalog.get("OKX:BTCUSD241217C92000", day(3)),
    )
    assert before is not None
    assert after is not None
    assert (before.strike, before.option_type, before.underlying) == (
        Decimal(92000),
        "call",
        "BTC-USD",
    )
    assert after.strike == Decimal(92500)
    history = catalog.history("OKX:BTCUSD241217C92000")
    assert history["strike"].to_pylist() == [Decimal(92000), Decimal(92500)]
    bars = pa.table(
        {
            "symbol": ["OKX:BTCUSD241217P92000", "OKX:ETHUSDT", "OKX:BTCUSD241217C92000"],
            "ts": pa.array([day(2), day(2), day(4)], UTC_US),
        }
    )
    out = catalog.pit_join(bars, fields=["strike", "option_type", "underlying"])
    assert out["strike"].to_pylist() == [Decimal(92000), None, Decimal(92500)]
    assert out["option_type"].to_pylist() == ["put", None, "call"]
    assert out["underlying"].to_pylist() == ["BTC-USD", None, "BTC-USD"]


def test_the_scd2_export_carries_them_and_imports_back(
    options: EventLog, catalog: Catalog, tmp_path: Path
) -> None:
    """One row per version with the option columns; importing the export into a fresh log
    answers the same strike, type and underlying."""
    symbols, _ = catalog.scd2()
    rows = [r for r in symbols.to_pylist() if r["instrument_id"] == "C"]
    assert [r["strike"] for r in rows] == [Decimal(92000), Decimal(92500)]
    assert {r["option_type"] for r in rows} == {"call"}
    planned = plan_symbols(symbols)
    fresh = EventLog.open(tmp_path / "fresh")
    fresh.append(planned.events)
    again = Catalog.open(tmp_path / "fresh").get("OKX:BTCUSD241217C92000", day(4))
    assert again is not None
    assert (again.strike, again.option_type, again.underlying) == (
        Decimal(92500),
        "call",
        "BTC-USD",
    )
