"""Each source client against recorded responses served on loopback: the happy paths."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from venues import FAST, by_symbol, fetch_served, run

from connectors.venues.http import SourceHttp, open_session

if TYPE_CHECKING:
    from pathlib import Path


def _utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def test_binance_spot(tmp_path: Path) -> None:
    """Binance spot: `BINANCE:BTCUSDT`, exact decimals, status kept raw and normalized."""
    (snapshot,) = fetch_served(
        tmp_path,
        "binance-spot",
        {"binance-spot/exchangeInfo.json": "binance/binance_spot_exchangeInfo.json"},
        ("spot",),
    )
    btc = by_symbol(snapshot)["BINANCE:BTCUSDT"]
    assert btc.instrument_id == "binance:spot:BTCUSDT"
    assert btc.fields["tick_size"] == Decimal("0.01")
    assert btc.fields["lot_size"] == Decimal("0.00001") == btc.fields["min_qty"]
    assert btc.fields["min_notional"] == Decimal("10")
    assert (btc.status, btc.venue_status) == ("trading", "TRADING")
    assert snapshot.server_time is not None
    assert snapshot.server_time.year == 2021


def test_binance_usdm_perpetual_sentinels_and_a_dated_quarterly(tmp_path: Path) -> None:
    """Both perpetual sentinels (…800000 and …802000) are perpetuals; the quarterly is dated."""
    (snapshot,) = fetch_served(
        tmp_path,
        "binance-usdm",
        {"binance-usdm/exchangeInfo.json": "binance/binance_usdm_futures_exchangeInfo.json"},
        ("usdm",),
    )
    records = by_symbol(snapshot)
    assert set(records) == {"BINANCE:BTCUSDT.P", "BINANCE:ETHUSDT.P", "BINANCE:BTCUSDT220325"}
    perpetual, quarterly = records["BINANCE:BTCUSDT.P"], records["BINANCE:BTCUSDT220325"]
    assert perpetual.fields["type"] == "swap"
    assert perpetual.fields["expiry"] is None
    assert quarterly.fields["type"] == "futures"
    assert quarterly.fields["expiry"] == _utc(2022, 3, 25, 8)
    assert quarterly.instrument_id == "binance:usdm:BTCUSDT_220325"
    assert perpetual.fields["min_notional"] == Decimal("10")  # MIN_NOTIONAL.notional
    assert perpetual.listed_at == _utc(2019, 9, 25, 8)


def test_okx_spot_swap_and_futures(tmp_path: Path) -> None:
    """OKX: one snapshot per type; contract size ctVal x ctMult; empty strings are null."""
    files = {
        f"okx/{kind.upper()}.json": f"okx/okx_instruments_{kind}.json"
        for kind in ("spot", "swap", "futures")
    }
    spot, swap, futures = fetch_served(tmp_path, "okx", files, ("SPOT", "SWAP", "FUTURES"))
    assert (spot.market, swap.market, futures.market) == ("spot", "swap", "futures")
    btc = by_symbol(spot)["OKX:BTCUSD"]
    assert btc.fields["contract_size"] is None
    assert btc.fields["expiry"] is None
    assert btc.fields["lot_size"] == Decimal("0.00000001")
    inverse = by_symbol(swap)["OKX:BTCUSD.P"]
    assert inverse.instrument_id == "okx:swap:BTC-USD-SWAP"
    assert inverse.fields["contract_size"] == Decimal("100")
    dated = by_symbol(futures)["OKX:BTCUSD241220"]
    assert dated.fields["expiry"] == _utc(2024, 12, 20, 8)


def test_bybit_spot_and_linear_with_the_closed_list(tmp_path: Path) -> None:
    """Bybit: spot steps by basePrecision, linear by qtyStep; the Closed list is asked too."""
    empty = '{"retCode":0,"retMsg":"OK","result":{"list":[]},"time":1694668718723}'
    files = {
        "bybit/spot.json": "bybit/bybit_instruments_spot.json",
        "bybit/linear.json": "bybit/bybit_instruments_linear.json",
    }
    for category in ("spot", "linear"):
        path = tmp_path / "s" / "bybit" / f"{category}.Closed.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(empty)
    spot, linear = fetch_served(tmp_path, "bybit", files, ("spot", "linear"))
    assert by_symbol(spot)["BYBIT:BTCUSDT"].fields["lot_size"] == Decimal("0.000001")
    assert by_symbol(spot)["BYBIT:BTCUSDT"].fields["min_notional"] == Decimal("1")
    perpetual = by_symbol(linear)["BYBIT:BTCUSDT.P"]
    assert perpetual.fields["lot_size"] == Decimal("0.001")
    assert perpetual.fields["min_notional"] == Decimal("5")
    assert perpetual.fields["expiry"] is None  # deliveryTime "0"
    assert linear.server_time == datetime.fromtimestamp(1694668718.723, UTC)


def test_tradingview_scan_and_metainfo(tmp_path: Path) -> None:
    """TradingView: tick = minmov / pricescale exactly; exchanges from the real metainfo."""
    files = {
        "tradingview/crypto.scan.json": "tradingview/crypto_scan.synthetic.json",
        "tradingview/crypto.metainfo.json": "tradingview/scanner_crypto_metainfo_20250622.json",
    }
    (snapshot,) = fetch_served(tmp_path, "tradingview", files, ("crypto",))
    records = by_symbol(snapshot)
    assert records["COINBASE:00USD"].fields["tick_size"] == Decimal("0.0001")
    assert records["BINANCE:BTCUSDT"].fields["description"] == "Bitcoin / TetherUS"
    assert {"BINANCE", "COINBASE", "BYBIT"} <= set(snapshot.exchanges)


def test_tradingview_missing_pricescale_gives_no_tick_size() -> None:
    """No `pricescale`: the tick size is null, never a made-up 1."""
    from connectors.venues import tradingview

    row = tradingview.Row(
        s="X:Y", d=["Y", None, "spot", None, "X", None, None, None, 1, None, None, None, None]
    )
    record = tradingview.record("crypto", row)
    assert record.fields["tick_size"] is None
    assert record.fields["pricescale"] is None


def test_tradingview_single_symbol_lookup() -> None:
    """`GET /symbol` (shape of the real probe: keys sorted, numbers bare) gives exact values."""
    import json

    from venues import Answer, ScriptedVenue, Sleeps

    from connectors.venues import tradingview

    body = {"description": "Apple Inc.", "minmov": 1, "name": "AAPL", "pricescale": 100}

    async def go() -> tuple[dict[str, object], dict[str, str]]:
        async with ScriptedVenue() as venue, open_session(FAST) as session:
            venue.queue("/symbol", Answer(200, json.dumps(body).encode()))
            http = SourceHttp("tradingview", session, FAST, sleep=Sleeps())
            fields = ("name", "description", "pricescale", "minmov", "sector")
            found = await tradingview.fetch_symbol(http, "NASDAQ:AAPL", fields, venue.base_url)
            return found, venue.seen[0].query

    found, query = run(go)
    assert found == {
        "name": "AAPL",
        "description": "Apple Inc.",
        "pricescale": Decimal(100),
        "minmov": Decimal(1),
        "sector": None,
    }
    assert query["symbol"] == "NASDAQ:AAPL"
    assert query["fields"] == "name,description,pricescale,minmov,sector"
