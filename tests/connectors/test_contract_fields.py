"""The contract and limit fields of each venue, read from the real recordings on loopback.

`settle inverse contract_size max_qty max_notional min_price max_price max_leverage
funding_interval`: exact decimals, null where the venue says nothing. Binance's
`fundingInfo` has no recording: `binance_usdm_fundingInfo.derived-docs.json` is built from
the documented response (see tests/fixtures/SOURCES.md).
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from venues import FIXTURES, by_symbol, fetch_served, fixture

from connectors.venues import binance, binance_funding

if TYPE_CHECKING:
    from pathlib import Path


USDM = "binance/binance_usdm_futures_exchangeInfo.json"
FUNDING = "binance/binance_usdm_fundingInfo.derived-docs.json"
#: Every field this file is about, none of which a venue may leave out of a record silently.
LIMITS = ("max_qty", "max_notional", "min_price", "max_price", "max_leverage")


def test_binance_spot_limits_from_price_lot_and_notional_filters(tmp_path: Path) -> None:
    """PRICE_FILTER's band, LOT_SIZE.maxQty, NOTIONAL.maxNotional; MARKET_LOT_SIZE ignored."""
    files = {
        "binance-spot/exchangeInfo.json": "binance/binance_spot_2023-04-14.subset-notional.json"
    }
    (snapshot,) = fetch_served(tmp_path, "binance-spot", files, ("spot",))
    records = by_symbol(snapshot)
    xrp, btc = records["BINANCE:XRPBTC"].fields, records["BINANCE:BTCUSDT"].fields
    assert xrp["max_notional"] == Decimal("9000000")  # NOTIONAL.maxNotional
    assert xrp["min_notional"] == Decimal("0.0001")
    assert btc["max_notional"] is None  # the older MIN_NOTIONAL filter has no maximum
    assert btc["max_qty"] == Decimal("9000")  # LOT_SIZE, not MARKET_LOT_SIZE
    assert (btc["min_price"], btc["max_price"]) == (Decimal("0.01"), Decimal("1000000"))
    assert all(btc.get(name) is None for name in ("settle", "inverse", "contract_size"))
    assert {"max_qty", "max_notional", "min_price", "max_price"} <= set(snapshot.reported)
    assert "funding_interval" not in snapshot.reported


def test_binance_spot_max_notional_filter_and_zero_as_no_limit() -> None:
    """The `MAX_NOTIONAL` filter shape gives the maximum too; a 0 (no limit) is null.

    Derived in code from the 2021 recording: its MIN_NOTIONAL entry renamed MAX_NOTIONAL
    with a `maxNotional`, and PRICE_FILTER's maxPrice set to 0.
    """
    body = copy.deepcopy(fixture("binance/binance_spot_exchangeInfo.json"))
    row = body["symbols"][0]
    for entry in row["filters"]:
        if entry["filterType"] == "MIN_NOTIONAL":
            entry.update(filterType="MAX_NOTIONAL", maxNotional="100000.00000000")
        if entry["filterType"] == "PRICE_FILTER":
            entry["maxPrice"] = "0.00000000"
    snapshot = binance.parse_spot(binance.decode(json.dumps(body).encode()))
    fields = by_symbol(snapshot)[f"BINANCE:{row['symbol']}"].fields
    assert fields["max_notional"] == Decimal("100000")
    assert fields["max_price"] is None
    assert fields["min_notional"] is None


def test_binance_usdm_contracts_and_funding_intervals(tmp_path: Path) -> None:
    """USD-M is linear, settles in marginAsset, 1 per contract; funding from fundingInfo:
    ETHUSDT listed there at 4 h, BTCUSDT not listed (the documented 8 h), the quarterly none."""
    files = {"binance-usdm/exchangeInfo.json": USDM, "binance-usdm/fundingInfo.json": FUNDING}
    (snapshot,) = fetch_served(tmp_path, "binance-usdm", files, ("usdm",))
    records = by_symbol(snapshot)
    btc, eth = records["BINANCE:BTCUSDT.P"].fields, records["BINANCE:ETHUSDT.P"].fields
    quarterly = records["BINANCE:BTCUSDT220325"].fields
    assert (btc["settle"], btc["inverse"], btc["contract_size"]) == ("USDT", False, Decimal(1))
    assert btc["max_qty"] == Decimal("1000")
    assert (btc["min_price"], btc["max_price"]) == (Decimal("402"), Decimal("1246396.6"))
    assert btc["funding_interval"] == Decimal(8)
    assert eth["funding_interval"] == Decimal(4)
    assert quarterly["funding_interval"] is None
    assert btc.get("max_notional") is None
    assert btc.get("max_leverage") is None
    assert "funding_interval" in snapshot.reported
    assert "max_leverage" not in snapshot.reported


def test_binance_usdm_without_funding_info_reports_no_interval(tmp_path: Path) -> None:
    """A folder (or venue) without `fundingInfo` (404): the interval is not said at all."""
    (snapshot,) = fetch_served(
        tmp_path, "binance-usdm", {"binance-usdm/exchangeInfo.json": USDM}, ("usdm",)
    )
    assert "funding_interval" not in snapshot.reported
    assert all("funding_interval" not in r.fields for r in snapshot.records)


def test_binance_usdm_a_bad_funding_interval_rejects_its_row_only() -> None:
    """`fundingIntervalHours` 0 breaks the value rule: that contract is rejected."""
    body = binance.decode((FIXTURES / USDM).read_bytes())
    funding = binance_funding.parse(
        [binance_funding.FundingInfo("ETHUSDT", funding_interval_hours=0)]
    )
    snapshot = binance.parse_usdm(body, funding)
    assert [r.instrument_id for r in snapshot.rejected] == ["binance:usdm:ETHUSDT"]
    assert "funding_interval" in snapshot.rejected[0].reason
    assert len(snapshot.records) == 2


def test_okx_settlement_inverse_limits_and_leverage(tmp_path: Path) -> None:
    """OKX: settleCcy, ctType, maxLmtSz, maxLmtAmt, lever; maxMktSz is not read."""
    files = {
        f"okx/{kind.upper()}.json": f"okx/okx_instruments_{kind}.json"
        for kind in ("spot", "swap", "futures")
    }
    spot, swap, futures = fetch_served(tmp_path, "okx", files, ("SPOT", "SWAP", "FUTURES"))
    pair = by_symbol(spot)["OKX:BTCUSD"].fields
    assert (pair["settle"], pair["inverse"], pair["max_leverage"]) == (None, None, None)
    assert (pair["max_qty"], pair["max_notional"]) == (Decimal("9999999999"), Decimal(20000000))
    inverse = by_symbol(swap)["OKX:BTCUSD.P"].fields
    assert (inverse["settle"], inverse["inverse"]) == ("BTC", True)
    assert inverse["contract_size"] == Decimal(100)  # ctVal 100 x ctMult 1, in USD
    assert inverse["max_qty"] == Decimal(100000000)  # maxLmtSz, not maxMktSz 30000
    assert inverse["max_leverage"] == Decimal(100)
    linear = by_symbol(swap)["OKX:BTCUSDT.P"].fields
    assert (linear["settle"], linear["inverse"]) == ("USDT", False)
    dated = by_symbol(futures)["OKX:BTCUSD241220"].fields
    assert (dated["inverse"], dated["max_leverage"]) == (True, Decimal(20))
    assert all(
        f.get("min_price") is None and f.get("funding_interval") is None
        for f in (pair, inverse, dated)
    )
    assert set(LIMITS) - {"min_price", "max_price"} <= set(swap.reported)


def test_okx_older_field_set_without_max_limit_amount() -> None:
    """The 2022 recording has no `maxLmtAmt`: max notional is null, the rest is read."""
    from connectors.venues import okx

    body = okx._DECODER.decode((FIXTURES / "okx/okx_swap_2022-07-23.json").read_bytes())
    snapshot = okx.parse("SWAP", body, "recorded")
    btc = by_symbol(snapshot)["OKX:BTCUSD.P"].fields
    assert btc["max_notional"] is None
    assert (btc["max_leverage"], btc["inverse"], btc["settle"]) == (Decimal(125), True, "BTC")


def test_bybit_spot_and_linear_limits_leverage_and_funding(tmp_path: Path) -> None:
    """Bybit: maxOrderQty/maxOrderAmt on spot; linear adds priceFilter, leverageFilter,
    settleCoin and fundingInterval (480 minutes: 8 hours); maxMktOrderQty is not read."""
    empty = '{"retCode":0,"retMsg":"OK","result":{"list":[]},"time":1694668718723}'
    files: dict[str, Any] = {
        "bybit/spot.json": "bybit/bybit_instruments_spot.json",
        "bybit/linear.json": "bybit/bybit_instruments_linear.json",
        "bybit/spot.Closed.json": json.loads(empty),
        "bybit/linear.Closed.json": json.loads(empty),
    }
    spot, linear = fetch_served(tmp_path, "bybit", files, ("spot", "linear"))
    pair = by_symbol(spot)["BYBIT:BTCUSDT"].fields
    assert (pair["max_qty"], pair["max_notional"]) == (Decimal("399.9992"), Decimal(2000000))
    assert pair.get("inverse") is None
    assert pair.get("max_leverage") is None
    perpetual = by_symbol(linear)["BYBIT:BTCUSDT.P"].fields
    assert (perpetual["settle"], perpetual["inverse"]) == ("USDT", False)
    assert perpetual["contract_size"] == Decimal(1)
    assert perpetual["max_qty"] == Decimal(100)  # maxOrderQty, not maxMktOrderQty 500
    assert (perpetual["min_price"], perpetual["max_price"]) == (Decimal("0.1"), Decimal("199999.8"))
    assert perpetual["max_leverage"] == Decimal(100)
    assert perpetual["funding_interval"] == Decimal(8)
    assert {"funding_interval", "max_leverage", "settle"} <= set(linear.reported)
    assert "funding_interval" not in spot.reported


def test_bybit_funding_interval_in_minutes_becomes_exact_hours() -> None:
    """90 minutes is 1.5 hours; 0 (a dated contract's) is none."""
    from connectors.venues.bybit_contracts import hours

    assert hours(90) == Decimal("1.5")
    assert hours(0) is None
    assert hours(None) is None
