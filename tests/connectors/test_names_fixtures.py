"""Names on the real recordings: the bundled samples (2020-2023) and the recorded fixtures
of every venue, replayed through the clients and the sync into one catalog.

Every kind the connectors produce today is there: spot pairs, linear perpetuals and dated
futures (Binance USD-M, OKX, Bybit), OKX's inverse perpetuals and inverse dated futures.
Each version of each instrument is named in every scheme at its own time, and each name
resolves back to that instrument (name -> id -> name); `pit_join` on each scheme's names
answers exactly what it answers on TradingView symbols, also with `known_at="row"` after a
rename the catalog learned of late (and the renamed ticker reused by a new listing).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import changed, listed, observed, renamed
from venues import FIXTURES, SAMPLES

from connectors.cli.main import main
from eventstore import EventLog
from projections import SCHEMES, Catalog
from projections.names.parts import native_of_ticker, parts_of
from projections.names.schemes import names_of

if TYPE_CHECKING:
    from pathlib import Path

#: The recorded fixtures, as one snapshot of every source after the samples.
FILES = {
    "binance-spot/exchangeInfo.json": "binance/binance_spot_exchangeInfo.json",
    "binance-usdm/exchangeInfo.json": "binance/binance_usdm_futures_exchangeInfo.json",
    "okx/SPOT.json": "okx/okx_instruments_spot.json",
    "okx/SWAP.json": "okx/okx_instruments_swap.json",
    "okx/FUTURES.json": "okx/okx_instruments_futures.json",
    "bybit/spot.json": "bybit/bybit_instruments_spot.json",
    "bybit/linear.json": "bybit/bybit_instruments_linear.json",
}
EMPTY_BYBIT = '{"retCode":0,"retMsg":"OK","result":{"list":[]},"time":1694668718723}'


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a catalog root holding the samples and the fixtures, replayed in date order."""
    base = tmp_path_factory.mktemp("names")
    replay = base / "replay"
    shutil.copytree(SAMPLES, replay, ignore=shutil.ignore_patterns("*.md", "*.py"))
    last = replay / "2024-12-10-fixtures"
    for target, source in FILES.items():
        (last / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIXTURES / source, last / target)
    for category in ("spot", "linear"):
        (last / "bybit" / f"{category}.Closed.json").write_text(EMPTY_BYBIT)
    (last / "snapshot.json").write_text(json.dumps({"observed_at": "2024-12-10T00:00:00Z"}))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        status = main(["--root", str(base / "lake"), "sync", "--replay", str(replay), "--force"])
    assert status == 0
    return base / "lake"


@pytest.fixture(scope="module")
def catalog(root: Path) -> Catalog:
    return Catalog.open(root, persist=False)


#: The rename learned late: ETHUSDT becomes ETHWUSDT (base ETHW) on Dec 20, learned Dec 25;
#: a new instrument takes the ticker on Dec 22 (learned then).
RENAMED = "binance:spot:ETHUSDT"
REUSED = "eth-2"
RENAMED_AT, REUSED_AT, LEARNED_AT = (datetime(2024, 12, d, tzinfo=UTC) for d in (20, 22, 25))


@pytest.fixture(scope="module")
def late(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """Return a copy of the catalog with the late rename and the reuse appended."""
    lake = tmp_path_factory.mktemp("late") / "lake"
    shutil.copytree(root, lake)
    log = EventLog.open(lake)
    last = Catalog.open(lake, persist=False).get("BINANCE:ETHUSDT", RENAMED_AT)
    assert last is not None
    assert last.instrument_id == RENAMED
    pair: dict[str, Any] = {"exchange": "BINANCE", "type": "spot", "quote": "USDT"}
    log.append(
        [
            observed(
                renamed(RENAMED, "BINANCE:ETHUSDT", "BINANCE:ETHWUSDT", RENAMED_AT), LEARNED_AT
            ),
            observed(changed(RENAMED, "BINANCE:ETHWUSDT", RENAMED_AT, base="ETHW"), LEARNED_AT),
            observed(listed(REUSED, "BINANCE:ETHUSDT", REUSED_AT, base="ETH", **pair), REUSED_AT),
        ]
    )
    return Catalog.open(lake, persist=False)


def _versions(catalog: Catalog) -> list[dict[str, Any]]:
    versions: list[dict[str, Any]] = catalog.scd2()[0].to_pylist()
    return versions


def test_the_recordings_hold_every_kind_the_connectors_produce(catalog: Catalog) -> None:
    kinds = {
        (v["instrument_id"].split(":")[0], v["type"], v["inverse"]) for v in _versions(catalog)
    }
    assert kinds >= {
        ("binance", "spot", None), ("binance", "swap", False), ("binance", "futures", False),
        ("okx", "spot", None), ("okx", "swap", False), ("okx", "swap", True),
        ("okx", "futures", True), ("bybit", "spot", None), ("bybit", "swap", False),
    }  # fmt: skip


def test_every_version_is_named_in_every_scheme_and_resolves_back(catalog: Catalog) -> None:
    checked = 0
    for version in _versions(catalog):
        at = version["valid_from"]
        names = catalog.names(version["instrument_id"], at)
        assert names is not None
        assert set(names) == set(SCHEMES), version["instrument_id"]
        assert names["tradingview"].name == version["symbol"]
        for scheme, name in names.items():
            found = catalog.resolve(name.name, at, scheme, name.exchange)
            assert found == version["instrument_id"], (scheme, name)
            checked += 1
    assert checked >= 5 * 100


def test_the_rename_rule_agrees_with_every_recorded_native_id(catalog: Catalog) -> None:
    """`native_of_ticker` (the native id after a rename) gives back each recorded id's own
    native part from its symbol: the inverse of the connectors' TradingView rule."""
    for version in _versions(catalog):
        parts = parts_of(version["instrument_id"], version)
        assert native_of_ticker(parts) == parts.native, version["instrument_id"]
        # and the catalog's names (the column kernels) are the pure rules' (no renames here)
        assert catalog.names(version["instrument_id"], version["valid_from"]) == names_of(parts)


def _bars(catalog: Catalog) -> pa.Table:
    """Return rows at, and a day after, each version's start (under its symbol, and the one
    its instrument had before); and rows nobody answers."""
    rows = []
    before: dict[str, str] = {}
    for version in _versions(catalog):
        symbols = {version["symbol"], before.get(version["instrument_id"], version["symbol"])}
        before[version["instrument_id"]] = version["symbol"]
        for shift in (timedelta(0), timedelta(days=1)):
            for symbol in sorted(symbols):
                rows.append({"symbol": symbol, "ts": version["valid_from"] + shift})
        rows.append(
            {"symbol": version["symbol"], "ts": version["valid_from"] - timedelta(days=9000)}
        )
    rows.append({"symbol": "BINANCE:NOPEUSDT", "ts": rows[0]["ts"]})
    return pa.Table.from_pylist(
        rows, schema=pa.schema([("symbol", pa.string()), ("ts", pa.timestamp("us", "UTC"))])
    )


def _name(
    catalog: Catalog, row: dict[str, Any], known_at: str | None, first: dict[str, str]
) -> dict[str, Any]:
    """Return the names of a joined row's instrument: the catalog's, or with "row" the pure
    rules' over the fields the row was answered (asking the catalog as known at each row's
    own instant would refold most instruments: the recordings' listings are all late)."""
    if known_at is None:
        found = catalog.names(row["instrument_id"], row["ts"])
        assert found is not None
        return found
    inst = row["instrument_id"]
    if inst not in first:
        first[inst] = catalog.symbols(inst)["symbol"][0].as_py()
    return dict(names_of(parts_of(inst, row, renamed=row["symbol"] != first[inst])))


def _assert_joins_alike(catalog: Catalog, scheme: str, known_at: str | None) -> None:
    """Join the bars on `scheme`'s names (each row's instrument's name then, as known then
    with "row") and assert the answers are those of the join on symbols."""
    bars = _bars(catalog)
    by_symbol = catalog.pit_join(bars, known_at=known_at)
    rows = by_symbol.to_pylist()
    groups: dict[str, list[int]] = {}
    names: list[str | None] = []
    first: dict[str, str] = {}  # each instrument's first symbol (none is renamed back)
    for index, row in enumerate(rows):
        name = (
            None if row["instrument_id"] is None else _name(catalog, row, known_at, first)[scheme]
        )
        names.append(None if name is None else name.name)
        groups.setdefault("" if name is None else name.exchange, []).append(index)
    named = bars.append_column("name", pa.array(names, pa.string()))
    assert len(groups) > 2  # several exchanges in every scheme
    for exchange, indices in groups.items():
        picked = pa.array(indices)
        joined = catalog.pit_join(
            named.take(picked),
            symbol="name",
            scheme=scheme,
            exchange=exchange or "binance",
            known_at=known_at,
        )
        assert joined.drop_columns(["name"]).equals(by_symbol.take(picked)), (scheme, exchange)


@pytest.mark.parametrize("scheme", [s for s in SCHEMES if s != "tradingview"] + ["tradingview"])
def test_pit_join_on_each_scheme_equals_pit_join_on_symbols(catalog: Catalog, scheme: str) -> None:
    _assert_joins_alike(catalog, scheme, None)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_pit_join_per_row_on_each_scheme_equals_it_on_symbols(late: Catalog, scheme: str) -> None:
    """known_at="row" on every scheme answers as on symbols: the recordings' listings are
    dated before they were observed, and the late rename is not known before Dec 25."""
    _assert_joins_alike(late, scheme, "row")
    ts = pa.array([RENAMED_AT + timedelta(days=d) for d in (1, 1, 3, 6)], pa.timestamp("us", "UTC"))
    bars = pa.table({"name": ["ETH/USDT", "ETHW/USDT", "ETH/USDT", "ETHW/USDT"], "ts": ts})
    ccxt: dict[str, Any] = {"symbol": "name", "scheme": "ccxt", "exchange": "binance"}
    per_row = late.pit_join(bars, **ccxt, known_at="row")
    assert per_row.column("instrument_id").to_pylist() == [RENAMED, None, REUSED, RENAMED]
    everything = late.pit_join(bars, **ccxt)
    assert everything.column("instrument_id").to_pylist() == [None, RENAMED, REUSED, RENAMED]
