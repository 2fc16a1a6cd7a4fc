"""Inverse contracts: OKX inverse futures (the real recording), Bybit `category=inverse` and
Binance COIN-M (`binance-coinm`), each margined and settled in its base coin.

Bybit's and Binance COIN-M's samples are derived (no recording exists): see
tests/fixtures/SOURCES.md (`bybit_instruments_inverse.derived-linear.json`,
`binance_coinm_exchangeInfo.derived-docs.json`).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from venues import FAST, by_symbol, fetch_served, fixture, run, write_snapshot

from connectors.replay.driver import replay
from connectors.sync.ownership import COVERED_VENUES, enriches_only
from connectors.sync.syncer import SyncOptions
from connectors.venues.registry import SOURCES
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

COINM = "binance/binance_coinm_exchangeInfo.derived-docs.json"
BYBIT_INVERSE = "bybit/bybit_instruments_inverse.derived-linear.json"
QUARTER = datetime(2020, 9, 25, 8, tzinfo=UTC)


def test_okx_inverse_futures_settle_in_the_base_and_count_usd(tmp_path: Path) -> None:
    """`ctType` inverse: `inverse` true, `settleCcy` BTC, `ctVal` 100 x `ctMult` 1 USD."""
    files = {"okx/FUTURES.json": "okx/okx_instruments_futures.json"}
    (snapshot,) = fetch_served(tmp_path, "okx", files, ("FUTURES",))
    fields = by_symbol(snapshot)["OKX:BTCUSD241220"].fields
    assert (fields["settle"], fields["inverse"], fields["contract_size"]) == (
        "BTC",
        True,
        Decimal(100),
    )
    assert (fields["max_leverage"], fields["max_qty"]) == (Decimal(20), Decimal(1000000))
    assert fields["expiry"] == datetime(2024, 12, 20, 8, tzinfo=UTC)


def test_bybit_inverse_perpetual_and_dated(tmp_path: Path) -> None:
    """`BTCUSD` is `BYBIT:BTCUSD.P`, `BTCUSDH24` is `BYBIT:BTCUSD240329`; both inverse,
    settled in BTC, 1 USD a contract, with leverage; only the perpetual funds. (The
    `status=Closed` list is the sample with no rows.)"""
    closed = copy.deepcopy(fixture(BYBIT_INVERSE))
    closed["result"]["list"] = []
    files = {"bybit/inverse.json": BYBIT_INVERSE, "bybit/inverse.Closed.json": closed}
    (snapshot,) = fetch_served(tmp_path, "bybit", files, ("inverse",))
    assert (snapshot.market, snapshot.scope) == ("inverse", "bybit:inverse:")
    records = by_symbol(snapshot)
    assert sorted(records) == ["BYBIT:BTCUSD.P", "BYBIT:BTCUSD240329"]
    perpetual, dated = records["BYBIT:BTCUSD.P"], records["BYBIT:BTCUSD240329"]
    assert perpetual.instrument_id == "bybit:inverse:BTCUSD"
    for record in (perpetual, dated):
        fields = record.fields
        assert (fields["settle"], fields["inverse"], fields["contract_size"]) == (
            "BTC",
            True,
            Decimal(1),
        )
        assert (fields["quote"], fields["lot_size"], fields["max_qty"]) == (
            "USD",
            Decimal(1),
            Decimal(1000000),
        )
    assert (perpetual.fields["funding_interval"], perpetual.fields["type"]) == (Decimal(8), "swap")
    assert (dated.fields["funding_interval"], dated.fields["type"]) == (None, "futures")
    assert dated.fields["expiry"] == datetime(2024, 3, 29, 8, tzinfo=UTC)
    assert dated.fields["max_leverage"] == Decimal(50)


def test_binance_coinm_contracts(tmp_path: Path) -> None:
    """COIN-M: `BTCUSD_PERP` is `BINANCE:BTCUSD.P`, the quarterly `BINANCE:BTCUSD200925`;
    inverse, settled in `marginAsset`, `contractSize` USD each; the status from
    `contractStatus`; LOT_SIZE's maximum, not MARKET_LOT_SIZE's."""
    (snapshot,) = fetch_served(
        tmp_path, "binance-coinm", {"binance-coinm/exchangeInfo.json": COINM}, ("coinm",)
    )
    assert (snapshot.source, snapshot.market, snapshot.scope) == (
        "binance-coinm",
        "coinm",
        "binance:coinm:",
    )
    records = by_symbol(snapshot)
    assert sorted(records) == ["BINANCE:BTCUSD.P", "BINANCE:BTCUSD200925"]
    perpetual, quarterly = records["BINANCE:BTCUSD.P"], records["BINANCE:BTCUSD200925"]
    assert (perpetual.instrument_id, quarterly.instrument_id) == (
        "binance:coinm:BTCUSD_PERP",
        "binance:coinm:BTCUSD_200925",
    )
    for record in (perpetual, quarterly):
        fields = record.fields
        assert (fields["settle"], fields["inverse"], fields["contract_size"]) == (
            "BTC",
            True,
            Decimal(100),
        )
        assert (fields["tick_size"], fields["lot_size"], fields["max_qty"]) == (
            Decimal("0.1"),
            Decimal(1),
            Decimal(100000),
        )
        assert (fields["min_price"], fields["max_price"]) == (Decimal("0.1"), Decimal(100000))
        assert (record.status, record.venue_status) == ("trading", "TRADING")
    assert (perpetual.fields["expiry"], perpetual.delisted_at) == (None, None)  # the sentinel
    assert quarterly.fields["expiry"] == QUARTER
    assert "funding_interval" not in snapshot.reported


def test_binance_coinm_replays_and_its_quarterly_expires(tmp_path: Path) -> None:
    """A replay folder `binance-coinm/exchangeInfo.json` syncs like USD-M's: the quarterly's
    expiry is announced, so it is inactive after 2020-09-25 08:00; a dated row settling
    (`CURRENT_QUARTER DELIVERING`, derived in code) is expired."""
    body = fixture(COINM)
    folder, root = tmp_path / "replay", tmp_path / "cat"
    write_snapshot(folder, "1", {"binance-coinm/exchangeInfo.json": body})
    done = run(lambda: replay(str(root), folder, SyncOptions(), settings=FAST))
    assert done.stopped is None
    catalog = Catalog.open(root)
    assert catalog.universe("2020-09-25T07:00:00Z", settle="BTC", inverse=True).num_rows == 2
    gone = catalog.get("BINANCE:BTCUSD200925", as_of="2020-09-25T08:00:00Z")
    assert gone is not None
    assert (gone.active, gone.status) == (False, "expired")
    kinds = [e.kind for e in EventLog.open(root).events() if e.source == "binance-coinm"]
    assert kinds.count("InstrumentListed") == 2
    delivering = copy.deepcopy(body)
    delivering["symbols"][0]["contractType"] = "CURRENT_QUARTER DELIVERING"
    (snapshot,) = fetch_served(
        tmp_path / "d", "binance-coinm", {"binance-coinm/exchangeInfo.json": delivering}, ("coinm",)
    )
    assert by_symbol(snapshot)["BINANCE:BTCUSD200925"].status == "expired"


def test_every_source_is_registered_with_one_writer_per_venue() -> None:
    """`binance-coinm` is a source beside the others; BINANCE's instruments, COIN-M's too,
    are owned by the Binance connectors, so TradingView only enriches them."""
    assert {"binance-spot", "binance-usdm", "binance-coinm", "okx", "bybit"} <= set(SOURCES)
    assert "binance-coinm" in COVERED_VENUES["BINANCE"]
    assert SOURCES["bybit"].markets == ("spot", "linear", "inverse", "option")
    assert enriches_only("tradingview", "BINANCE:BTCUSD.P")
