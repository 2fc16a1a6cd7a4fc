"""The naming rules as pure functions: every scheme, every kind (spot, perpetual, dated
future, option, inverse contract), on `NameParts` alone (no catalog, no schema fields)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from projections.names.columnar import names_table
from projections.names.parts import (
    NAME_FIELDS,
    OPTION_FIELDS,
    NameParts,
    native_of_ticker,
    option_type_of,
    parts_of,
)
from projections.names.schemes import Name, ccxt, names_of, strike_text

EXPIRY = datetime(2024, 12, 27, 8, tzinfo=UTC)


def _parts(instrument_id: str, **fields: Any) -> NameParts:
    return parts_of(instrument_id, fields)


#: (instrument id, fields) -> the name in every scheme; the README's table, as tests.
CASES: list[tuple[str, dict[str, Any], dict[str, Name]]] = [
    (
        "binance:spot:BTCUSDT",
        {"symbol": "BINANCE:BTCUSDT", "type": "spot", "base": "BTC", "quote": "USDT"},
        {
            "tradingview": Name("BINANCE", "BINANCE:BTCUSDT"),
            "venue": Name("binance-spot", "BTCUSDT"),
            "ccxt": Name("binance", "BTC/USDT"),
            "nautilus": Name("BINANCE", "BTCUSDT.BINANCE"),
            "tardis": Name("binance", "BTCUSDT"),
        },
    ),
    (
        "binance:usdm:BTCUSDT",
        {"symbol": "BINANCE:BTCUSDT.P", "type": "swap", "base": "BTC", "quote": "USDT",
         "settle": "USDT", "inverse": False},
        {
            "tradingview": Name("BINANCE", "BINANCE:BTCUSDT.P"),
            "venue": Name("binance-usdm", "BTCUSDT"),
            "ccxt": Name("binance", "BTC/USDT:USDT"),
            "nautilus": Name("BINANCE", "BTCUSDT-PERP.BINANCE"),
            "tardis": Name("binance-futures", "BTCUSDT"),
        },
    ),
    (
        "binance:usdm:BTCUSDT_241227",
        {"symbol": "BINANCE:BTCUSDT241227", "type": "futures", "base": "BTC", "quote": "USDT",
         "settle": "USDT", "inverse": False, "expiry": EXPIRY},
        {
            "tradingview": Name("BINANCE", "BINANCE:BTCUSDT241227"),
            "venue": Name("binance-usdm", "BTCUSDT_241227"),
            "ccxt": Name("binance", "BTC/USDT:USDT-241227"),
            "nautilus": Name("BINANCE", "BTCUSDT_241227.BINANCE"),
            "tardis": Name("binance-futures", "BTCUSDT_241227"),
        },
    ),
    (  # COIN-M: inverse perpetual, settled in its base
        "binance:coinm:BTCUSD_PERP",
        {"symbol": "BINANCE:BTCUSD.P", "type": "swap", "base": "BTC", "quote": "USD",
         "settle": "BTC", "inverse": True},
        {
            "tradingview": Name("BINANCE", "BINANCE:BTCUSD.P"),
            "venue": Name("binance-coinm", "BTCUSD_PERP"),
            "ccxt": Name("binance", "BTC/USD:BTC"),
            "nautilus": Name("BINANCE", "BTCUSD_PERP.BINANCE"),
            "tardis": Name("binance-delivery", "BTCUSD_PERP"),
        },
    ),
    (
        "binance:coinm:BTCUSD_241227",
        {"symbol": "BINANCE:BTCUSD241227", "type": "futures", "base": "BTC", "quote": "USD",
         "inverse": True, "expiry": EXPIRY},  # no settle field: an inverse settles in its base
        {
            "tradingview": Name("BINANCE", "BINANCE:BTCUSD241227"),
            "venue": Name("binance-coinm", "BTCUSD_241227"),
            "ccxt": Name("binance", "BTC/USD:BTC-241227"),
            "nautilus": Name("BINANCE", "BTCUSD_241227.BINANCE"),
            "tardis": Name("binance-delivery", "BTCUSD_241227"),
        },
    ),
    (
        "binance:options:BTC-241227-60000-C",
        {"symbol": "BINANCE:BTC241227C60000", "type": "option", "base": "BTC", "quote": "USDT",
         "settle": "USDT", "expiry": EXPIRY, "strike": Decimal("60000"), "option_type": "call"},
        {
            "tradingview": Name("BINANCE", "BINANCE:BTC241227C60000"),
            "venue": Name("binance-options", "BTC-241227-60000-C"),
            "ccxt": Name("binance", "BTC/USDT:USDT-241227-60000-C"),
            "nautilus": Name("BINANCE", "BTC-241227-60000-C.BINANCE"),
            "tardis": Name("binance-european-options", "BTC-241227-60000-C"),
        },
    ),
    (
        "okx:spot:BTC-USDT",
        {"symbol": "OKX:BTCUSDT", "type": "spot", "base": "BTC", "quote": "USDT"},
        {
            "tradingview": Name("OKX", "OKX:BTCUSDT"),
            "venue": Name("okx", "BTC-USDT"),
            "ccxt": Name("okx", "BTC/USDT"),
            "nautilus": Name("OKX", "BTC-USDT.OKX"),
            "tardis": Name("okex", "BTC-USDT"),
        },
    ),
    (
        "okx:swap:BTC-USDT-SWAP",
        {"symbol": "OKX:BTCUSDT.P", "type": "swap", "base": "BTC", "quote": "USDT",
         "settle": "USDT", "inverse": False},
        {
            "tradingview": Name("OKX", "OKX:BTCUSDT.P"),
            "venue": Name("okx", "BTC-USDT-SWAP"),
            "ccxt": Name("okx", "BTC/USDT:USDT"),
            "nautilus": Name("OKX", "BTC-USDT-SWAP.OKX"),
            "tardis": Name("okex-swap", "BTC-USDT-SWAP"),
        },
    ),
    (  # OKX inverse perpetual
        "okx:swap:BTC-USD-SWAP",
        {"symbol": "OKX:BTCUSD.P", "type": "swap", "base": "BTC", "quote": "USD",
         "settle": "BTC", "inverse": True},
        {
            "tradingview": Name("OKX", "OKX:BTCUSD.P"),
            "venue": Name("okx", "BTC-USD-SWAP"),
            "ccxt": Name("okx", "BTC/USD:BTC"),
            "nautilus": Name("OKX", "BTC-USD-SWAP.OKX"),
            "tardis": Name("okex-swap", "BTC-USD-SWAP"),
        },
    ),
    (  # OKX inverse dated future
        "okx:futures:BTC-USD-241227",
        {"symbol": "OKX:BTCUSD241227", "type": "futures", "base": "BTC", "quote": "USD",
         "settle": "BTC", "inverse": True, "expiry": EXPIRY},
        {
            "tradingview": Name("OKX", "OKX:BTCUSD241227"),
            "venue": Name("okx", "BTC-USD-241227"),
            "ccxt": Name("okx", "BTC/USD:BTC-241227"),
            "nautilus": Name("OKX", "BTC-USD-241227.OKX"),
            "tardis": Name("okex-futures", "BTC-USD-241227"),
        },
    ),
    (  # OKX inverse option, its type given as "C"
        "okx:option:BTC-USD-241227-60000-C",
        {"symbol": "OKX:BTCUSD241227C60000", "type": "option", "base": "BTC", "quote": "USD",
         "settle": "BTC", "inverse": True, "expiry": EXPIRY, "strike": Decimal("6E+4"),
         "option_type": "C"},
        {
            "tradingview": Name("OKX", "OKX:BTCUSD241227C60000"),
            "venue": Name("okx", "BTC-USD-241227-60000-C"),
            "ccxt": Name("okx", "BTC/USD:BTC-241227-60000-C"),
            "nautilus": Name("OKX", "BTC-USD-241227-60000-C.OKX"),
            "tardis": Name("okex-options", "BTC-USD-241227-60000-C"),
        },
    ),
    (
        "bybit:spot:BTCUSDT",
        {"symbol": "BYBIT:BTCUSDT", "type": "spot", "base": "BTC", "quote": "USDT"},
        {
            "tradingview": Name("BYBIT", "BYBIT:BTCUSDT"),
            "venue": Name("bybit-spot", "BTCUSDT"),
            "ccxt": Name("bybit", "BTC/USDT"),
            "nautilus": Name("BYBIT", "BTCUSDT-SPOT.BYBIT"),
            "tardis": Name("bybit-spot", "BTCUSDT"),
        },
    ),
    (
        "bybit:linear:BTCUSDT",
        {"symbol": "BYBIT:BTCUSDT.P", "type": "swap", "base": "BTC", "quote": "USDT",
         "settle": "USDT", "inverse": False},
        {
            "tradingview": Name("BYBIT", "BYBIT:BTCUSDT.P"),
            "venue": Name("bybit-linear", "BTCUSDT"),
            "ccxt": Name("bybit", "BTC/USDT:USDT"),
            "nautilus": Name("BYBIT", "BTCUSDT-LINEAR.BYBIT"),
            "tardis": Name("bybit", "BTCUSDT"),
        },
    ),
    (
        "bybit:linear:BTCUSDT-27DEC24",
        {"symbol": "BYBIT:BTCUSDT241227", "type": "futures", "base": "BTC", "quote": "USDT",
         "settle": "USDT", "inverse": False, "expiry": EXPIRY},
        {
            "tradingview": Name("BYBIT", "BYBIT:BTCUSDT241227"),
            "venue": Name("bybit-linear", "BTCUSDT-27DEC24"),
            "ccxt": Name("bybit", "BTC/USDT:USDT-241227"),
            "nautilus": Name("BYBIT", "BTCUSDT-27DEC24-LINEAR.BYBIT"),
            "tardis": Name("bybit", "BTCUSDT-27DEC24"),
        },
    ),
    (  # Bybit inverse perpetual
        "bybit:inverse:BTCUSD",
        {"symbol": "BYBIT:BTCUSD.P", "type": "swap", "base": "BTC", "quote": "USD",
         "settle": "BTC", "inverse": True},
        {
            "tradingview": Name("BYBIT", "BYBIT:BTCUSD.P"),
            "venue": Name("bybit-inverse", "BTCUSD"),
            "ccxt": Name("bybit", "BTC/USD:BTC"),
            "nautilus": Name("BYBIT", "BTCUSD-INVERSE.BYBIT"),
            "tardis": Name("bybit", "BTCUSD"),
        },
    ),
    (  # a recorded Bybit option (bybit_instruments_option.json): settled in USDC, a "put"
        "bybit:option:BTC-29MAR24-100000-P",
        {"symbol": "BYBIT:BTC240329P100000", "type": "option", "base": "BTC", "quote": "USD",
         "settle": "USDC", "expiry": datetime(2024, 3, 29, 8, tzinfo=UTC),
         "strike": Decimal("100000"), "option_type": "Put"},
        {
            "tradingview": Name("BYBIT", "BYBIT:BTC240329P100000"),
            "venue": Name("bybit-option", "BTC-29MAR24-100000-P"),
            "ccxt": Name("bybit", "BTC/USD:USDC-240329-100000-P"),
            "nautilus": Name("BYBIT", "BTC-29MAR24-100000-P-OPTION.BYBIT"),
            "tardis": Name("bybit-options", "BTC-29MAR24-100000-P"),
        },
    ),
]  # fmt: skip


@pytest.mark.parametrize(("instrument_id", "fields", "expected"), CASES, ids=[c[0] for c in CASES])
def test_every_scheme_names_every_kind(
    instrument_id: str, fields: dict[str, Any], expected: dict[str, Name]
) -> None:
    assert names_of(_parts(instrument_id, **fields)) == expected


@pytest.mark.parametrize(("instrument_id", "fields", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_ticker_gives_back_the_native_id_it_came_from(
    instrument_id: str, fields: dict[str, Any], expected: dict[str, Name]
) -> None:
    """The rule used after a rename inverts the connectors' TradingView rule (options are
    not inverted: their id stays)."""
    parts = _parts(instrument_id, **fields)
    found = native_of_ticker(parts)
    assert found == (None if parts.option else parts.native)


def test_a_renamed_version_takes_the_native_id_of_its_new_ticker() -> None:
    fields = {"symbol": "OKX:LUNCUSDT.P", "type": "swap", "base": "LUNC", "quote": "USDT"}
    parts = parts_of("okx:swap:LUNA-USDT-SWAP", fields, renamed=True)
    assert parts.native == "LUNC-USDT-SWAP"
    assert names_of(parts)["nautilus"] == Name("OKX", "LUNC-USDT-SWAP.OKX")
    spot = parts_of("binance:spot:LUNAUSDT", {"symbol": "BINANCE:LUNCUSDT"}, renamed=True)
    assert spot.native == "LUNCUSDT"
    not_renamed = parts_of("okx:swap:LUNA-USDT-SWAP", fields)
    assert not_renamed.native == "LUNA-USDT-SWAP"  # the id's own, while not renamed


def test_an_id_of_another_shape_takes_venue_and_market_from_the_fields() -> None:
    fields = {"symbol": "BINANCE:COIN1USDT.P", "exchange": "BINANCE", "type": "swap",
              "base": "COIN1", "quote": "USDT", "inverse": False}  # fmt: skip
    assert names_of(parts_of("inst-1", fields)) == {
        "tradingview": Name("BINANCE", "BINANCE:COIN1USDT.P"),
        "venue": Name("binance-usdm", "COIN1USDT"),
        "ccxt": Name("binance", "COIN1/USDT:USDT"),
        "nautilus": Name("BINANCE", "COIN1USDT-PERP.BINANCE"),
        "tardis": Name("binance-futures", "COIN1USDT"),
    }


def test_schemes_without_a_rule_give_no_name() -> None:
    """A TradingView-only stock has a TradingView and a venue name, and no other."""
    stock = _parts("tradingview:america:NASDAQ:AAPL", symbol="NASDAQ:AAPL", type="stock")
    assert names_of(stock) == {
        "tradingview": Name("NASDAQ", "NASDAQ:AAPL"),
        "venue": Name("tradingview-america", "NASDAQ:AAPL"),
    }
    # a contract missing what its ccxt symbol needs has none (never a guessed one)
    assert ccxt(_parts("binance:usdm:X_1", symbol="BINANCE:X.P", type="futures", base="X",
                       quote="USDT")) is None  # fmt: skip
    option = _parts("okx:option:BTC-USD-241227-60000-C", symbol="OKX:O", type="option",
                    base="BTC", quote="USD", expiry=EXPIRY)  # fmt: skip
    assert ccxt(option) is None  # no strike or option type in the schema yet


@pytest.mark.parametrize(
    ("given", "shown"),
    [(Decimal("60000"), "60000"), (Decimal("6E+4"), "60000"), (Decimal("0.50"), "0.5"),
     (Decimal("2450.5"), "2450.5")],
)  # fmt: skip
def test_strikes_are_written_without_exponent_or_trailing_zeros(given: Decimal, shown: str) -> None:
    assert strike_text(given) == shown


@pytest.mark.parametrize(
    ("given", "found"),
    [("C", "C"), ("call", "C"), ("Call", "C"), ("P", "P"), ("put", "P"), ("straddle", None),
     (None, None)],
)  # fmt: skip
def test_option_types_read_as_c_or_p(given: str | None, found: str | None) -> None:
    assert option_type_of(given) == found


def test_the_column_kernels_answer_as_the_pure_rules() -> None:
    """`names_table` (Arrow kernels, the pure rules for the rest) equals `names_of` on every
    case, renamed or not, and on ids of another shape."""
    rows = [{"instrument_id": i, **fields, "renamed": False} for i, fields, _ in CASES]
    rows += [{**row, "renamed": True} for row in rows]
    rows.append({"instrument_id": "inst-7", "symbol": "OKX:ABCUSDT.P", "exchange": "OKX",
                 "type": "swap", "base": "ABC", "quote": "USDT", "renamed": False})  # fmt: skip
    rows.append({"instrument_id": "binance:spot:X", "symbol": "BINANCE:X", "renamed": False})
    columns = [*(f for f in NAME_FIELDS if f != "symbol"), *OPTION_FIELDS]
    table = pa.Table.from_pylist(
        [{"symbol": r["symbol"], **{c: r.get(c) for c in columns}, **r} for r in rows],
        schema=pa.schema(
            [("symbol", pa.string()), ("exchange", pa.string()), ("base", pa.string()),
             ("quote", pa.string()), ("settle", pa.string()),
             ("expiry", pa.timestamp("us", "UTC")), ("type", pa.string()),
             ("inverse", pa.bool_()), ("strike", pa.decimal128(38, 18)),
             ("option_type", pa.string()), ("instrument_id", pa.string()),
             ("renamed", pa.bool_())]
        ),
    )  # fmt: skip
    found = names_table(table)
    for index, row in enumerate(rows):
        fields = {k: v for k, v in row.items() if k not in ("instrument_id", "renamed")}
        expected = names_of(parts_of(row["instrument_id"], fields, renamed=row["renamed"]))
        got = {
            scheme: Name(exchanges[index].as_py(), names[index].as_py())
            for scheme, (exchanges, names) in found.items()
            if names[index].is_valid
        }
        assert got == expected, row
