"""TradingView beyond crypto: the `america` and `futures` markets, as a source option.

On the real `/futures` and `/america` metainfo bodies (`tests/fixtures/tradingview/`) and
hand-written scans with the columns those bodies make the client ask for (their names say
`synthetic`; see tests/fixtures/SOURCES.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from venues import FAST, by_symbol, fetch_served, fixture, run, write_snapshot

from connectors.cli.main import main
from connectors.daemon.config import load as load_config
from connectors.errors import ConfigError
from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from connectors.venues import tradingview_markets
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

FUTURES = {
    "tradingview/futures.scan.json": "tradingview/futures_scan.synthetic.json",
    "tradingview/futures.metainfo.json": "tradingview/scanner_futures_metainfo_20250622.json",
}
AMERICA = {
    "tradingview/america.scan.json": "tradingview/america_scan.synthetic.json",
    "tradingview/america.metainfo.json": "tradingview/scanner_america_metainfo_20250622.json",
}
OBSERVED = "2024-12-01T00:00:00Z"


def _names(path: str) -> set[str]:
    return {field["n"] for field in fixture(path)["fields"]}


def test_a_market_is_asked_only_the_columns_its_metainfo_lists() -> None:
    """A column a market does not serve fails its whole scan (400): each market is asked
    the core columns and those optional ones its real metainfo lists; crypto keeps its own."""
    futures = tradingview_markets.columns_for(
        "futures", _names(FUTURES["tradingview/futures.metainfo.json"])
    )
    america = tradingview_markets.columns_for(
        "america", _names(AMERICA["tradingview/america.metainfo.json"])
    )
    assert futures[-2:] == ("sector", "expiration")
    assert america[-4:] == ("sector", "industry", "country", "expiration")
    assert not {"timezone", "session", "root", "base_currency"} & {*futures, *america}
    assert tradingview_markets.columns_for("crypto", set()) == tradingview_markets.COLUMNS
    assert "root" in tradingview_markets.reported("futures", futures)  # read off the ticker
    assert "root" not in tradingview_markets.reported("america", america)


@pytest.mark.parametrize(
    ("symbol", "root"),
    [
        ("CBOT_MINI:10Y1!", "10Y"),
        ("CME_MINI:ESZ2024", "ES"),
        ("COMEX:GCG2025", "GC"),
        ("CME:6E2!", "6E"),
        ("CME_MINI:ES", None),  # no contract suffix: no root read off it
    ],
)
def test_a_futures_root_is_read_off_the_ticker(symbol: str, root: str | None) -> None:
    assert tradingview_markets.futures_root(symbol) == root


def test_the_futures_market_gives_roots_expiries_and_its_exchanges(tmp_path: Path) -> None:
    (snapshot,) = fetch_served(tmp_path, "tradingview", FUTURES, ("futures",))
    records = by_symbol(snapshot)
    dated = records["CME_MINI:ESZ2024"].fields
    assert dated["root"] == "ES"
    assert dated["expiry"] == datetime(2024, 12, 20, tzinfo=UTC)
    assert dated["tick_size"] == Decimal("0.25")
    assert dated["sector"] == "Indexes"
    assert "industry" not in dated  # not asked of this market: not reported, never nulled
    assert records["CBOT_MINI:10Y1!"].fields["expiry"] is None
    assert snapshot.scope == "tradingview:futures:"
    assert {"CME", "COMEX", "NYMEX_MINI"} <= set(snapshot.exchanges)


def test_the_america_market_gives_sector_industry_and_country(tmp_path: Path) -> None:
    (snapshot,) = fetch_served(tmp_path, "tradingview", AMERICA, ("america",))
    apple = by_symbol(snapshot)["NASDAQ:AAPL"].fields
    assert (apple["sector"], apple["industry"]) == (
        "Electronic Technology",
        "Telecommunications Equipment",
    )
    assert (apple["country"], apple["quote"], apple["type"]) == ("United States", "USD", "stock")
    assert by_symbol(snapshot)["AMEX:SPY"].fields["subtype"] == "etf"


def _replay_folder(tmp_path: Path, *files: dict[str, str]) -> Path:
    folder = tmp_path / "replay"
    bodies = {name: (found_text(path)) for found in files for name, path in found.items()}
    write_snapshot(folder, "00", bodies, OBSERVED)
    return folder


def found_text(path: str) -> str:
    return json.dumps(fixture(path))


def test_tradingview_owns_futures_on_venues_no_connector_covers_and_they_expire(
    tmp_path: Path,
) -> None:
    """CME, COMEX and CBOT have no exchange connector: TradingView lists their futures; a
    dated one is delisted at its expiry, announced when it was listed."""
    root = tmp_path / "catalog"
    folder = _replay_folder(tmp_path, FUTURES)
    run(lambda: replay(str(root), folder, SyncOptions(), settings=FAST))
    catalog = Catalog.open(root)
    before = catalog.get("CME_MINI:ESZ2024", "2024-12-19T00:00:00Z")
    assert before is not None
    assert before.root == "ES"
    assert before.active
    after = catalog.get("CME_MINI:ESZ2024", "2024-12-21T00:00:00Z")
    assert after is not None
    assert after.status == "expired"
    assert not after.active
    listed = catalog.universe("2024-12-21T00:00:00Z")["symbol"].to_pylist()
    assert sorted(listed) == ["CBOT_MINI:10Y1!", "CME_MINI:ESH2025", "COMEX:GCG2025"]
    assert {"CME_MINI", "COMEX"} <= set(catalog.exchanges("2024-12-02T00:00:00Z"))


def test_sync_market_option_chooses_markets_and_refuses_an_unknown_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--market futures` syncs that market alone; a market no chosen source has is a
    one-line usage error that names the known ones and appends nothing."""
    root = tmp_path / "catalog"
    folder = _replay_folder(tmp_path, FUTURES, AMERICA)
    code = main(
        ["--root", str(root), "sync", "tradingview", "--market", "nowhere", "--replay", str(folder)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "--market 'nowhere'" in err
    assert "america" in err
    assert not root.exists()
    assert main(["--root", str(root), "sync", "--market", "america", "--replay", str(folder)]) == 0
    listed = Catalog.open(root).universe("2024-12-02T00:00:00Z")["symbol"].to_pylist()
    assert sorted(listed) == ["AMEX:SPY", "NASDAQ:AAPL", "NYSE:BRK.B"]


def test_daemon_config_takes_markets_and_names_an_unknown_one(tmp_path: Path) -> None:
    config = tmp_path / "catalog.toml"
    config.write_text(
        '[sources.tradingview]\ninterval = "1h"\nmarkets = ["crypto", "america", "futures"]\n'
    )
    loaded = load_config(config)
    assert loaded.sources["tradingview"].markets == ["crypto", "america", "futures"]
    config.write_text('[sources.tradingview]\ninterval = "1h"\nmarkets = ["moon"]\n')
    with pytest.raises(ConfigError, match=r"sources.tradingview.markets: unknown \['moon'\]"):
        load_config(config)
