"""Sync on real-shaped data: recorded responses (and variants derived from them in code)
replayed through the real clients into a real log.

Variants say what they change: a status, a tick size, a missing row, an announced change.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from venues import FAST, SAMPLES, fixture, run, write_snapshot

from connectors.replay.driver import replay
from connectors.replay.folders import snapshots
from connectors.replay.server import ReplayServer
from connectors.sync.syncer import Syncer, SyncOptions
from eventstore import EventLog, verify_chain
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.sync.syncer import SourceReport

SPOT = "binance/binance_spot_exchangeInfo.json"
T0 = datetime(2021, 10, 22, tzinfo=UTC)


def spot(
    day: int, edit: dict[str, dict[str, Any]] | None = None, drop: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Return the recorded spot body as of 2021-10-`day`, rows edited or dropped."""
    body = copy.deepcopy(fixture(SPOT))
    body["serverTime"] = int((T0 + timedelta(days=day - 22)).timestamp() * 1000)
    rows = []
    for row in body["symbols"]:
        if row["symbol"] in drop:
            continue
        for key, value in (edit or {}).get(row["symbol"], {}).items():
            if key == "tickSize":
                row["filters"][0]["tickSize"] = value
            else:
                row[key] = value
        rows.append(row)
    body["symbols"] = rows
    return body  # type: ignore[no-any-return]


def at(day: int) -> datetime:
    """Return the instant of the `spot(day)` snapshot."""
    return T0 + timedelta(days=day - 22)


def sync(root: Path, folder: Path, options: SyncOptions | None = None) -> list[SourceReport]:
    """Replay `folder` into the catalog under `root`; return the reports, flattened."""
    done = run(lambda: replay(str(root), folder, options, settings=FAST))
    return [report for _, reports in done.done for report in reports]


def spot_snapshots(tmp_path: Path, *bodies: dict[str, Any]) -> Path:
    """Write one replay folder per spot body, named in order."""
    folder = tmp_path / "replay"
    for number, body in enumerate(bodies):
        write_snapshot(folder, f"{number:02d}", {"binance-spot/exchangeInfo.json": body})
    return folder


def test_listing_then_an_identical_rerun_appends_nothing(tmp_path: Path) -> None:
    """First sync lists both pairs at the venue's time; the same sync again appends nothing."""
    folder = spot_snapshots(tmp_path, spot(22))
    (first,) = sync(tmp_path / "lake", folder)
    assert first.ok
    assert first.appended == 2
    assert first.markets[0].listed == 2
    (second,) = sync(tmp_path / "lake", folder)
    assert second.ok
    assert second.appended == 0
    assert second.markets[0].unchanged == 2
    btc = Catalog.open(tmp_path / "lake").get("BINANCE:BTCUSDT", at(22))
    assert btc is not None
    assert btc.valid_from == at(22)
    assert btc.tick_size == Decimal("0.01")


def test_a_tick_size_change_is_one_change_effective_when_observed(tmp_path: Path) -> None:
    """A new tickSize becomes one InstrumentChanged at the second snapshot's time."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, {"BTCUSDT": {"tickSize": "0.10000000"}}))
    reports = sync(tmp_path / "lake", folder)
    assert [r.markets[0].changed for r in reports] == [0, 1]
    catalog = Catalog.open(tmp_path / "lake")
    assert catalog.get("BINANCE:BTCUSDT", at(22)).tick_size == Decimal("0.01")  # type: ignore[union-attr]
    assert catalog.get("BINANCE:BTCUSDT", at(23)).tick_size == Decimal("0.1")  # type: ignore[union-attr]
    changes = catalog.changes(at(23), at(24))
    assert changes["kind"].to_pylist() == ["InstrumentChanged"]
    assert changes["fields"].to_pylist() == [["tick_size"]]


def test_break_delists_and_trading_again_relists(tmp_path: Path) -> None:
    """BREAK (how Binance keeps delisted pairs) delists; TRADING again relists."""
    folder = spot_snapshots(
        tmp_path, spot(22), spot(23, {"ETHUSDT": {"status": "BREAK"}}), spot(24)
    )
    reports = sync(tmp_path / "lake", folder, SyncOptions(max_delist_share=1.0))
    assert [(r.markets[0].delisted, r.markets[0].relisted) for r in reports] == [
        (0, 0),
        (1, 0),
        (0, 1),
    ]
    catalog = Catalog.open(tmp_path / "lake")
    gone = catalog.get("BINANCE:ETHUSDT", at(23))
    assert gone is not None
    assert not gone.active
    assert (gone.status, gone.venue_status) == ("delisted", "BREAK")
    back = catalog.get("BINANCE:ETHUSDT", at(24))
    assert back is not None
    assert back.active
    assert back.venue_status == "TRADING"


def test_a_halt_is_a_status_change_that_leaves_the_tradable_universe(tmp_path: Path) -> None:
    """HALT keeps the instrument listed with status `halted`; `tradable` leaves it out."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, {"BTCUSDT": {"status": "HALT"}}))
    sync(tmp_path / "lake", folder)
    catalog = Catalog.open(tmp_path / "lake")
    halted = catalog.get("BINANCE:BTCUSDT", at(23))
    assert halted is not None
    assert halted.active
    assert halted.status == "halted"
    assert catalog.universe(at(23)).num_rows == 2
    assert catalog.universe(at(23), tradable=True)["symbol"].to_pylist() == ["BINANCE:ETHUSDT"]


def test_absence_delists_only_after_it_persists(tmp_path: Path) -> None:
    """Missing once: no event; missing twice in a row: delisted as of the first absence."""
    folder = spot_snapshots(
        tmp_path, spot(22), spot(23, drop=("ETHUSDT",)), spot(24, drop=("ETHUSDT",))
    )
    options = SyncOptions(max_delist_share=1.0)
    reports = sync(tmp_path / "lake", folder, options)
    assert [(r.appended, r.markets[0].absent, r.markets[0].delisted) for r in reports] == [
        (2, 0, 0),
        (0, 1, 0),
        (1, 0, 1),
    ]
    gone = Catalog.open(tmp_path / "lake").get("BINANCE:ETHUSDT", at(23))
    assert gone is not None
    assert not gone.active
    assert gone.valid_from == at(23)


def test_a_symbol_back_before_the_limit_produces_no_event(tmp_path: Path) -> None:
    """Missing from one snapshot, back in the next: nothing appended, ever."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, drop=("ETHUSDT",)), spot(24), spot(25))
    reports = sync(tmp_path / "lake", folder, SyncOptions(max_delist_share=1.0))
    assert [r.appended for r in reports] == [2, 0, 0, 0]


def test_replaying_the_same_absence_does_not_count_twice(tmp_path: Path) -> None:
    """The same snapshot replayed again is one observation, not two."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, drop=("ETHUSDT",)))
    options = SyncOptions(max_delist_share=1.0)
    sync(tmp_path / "lake", folder, options)
    reports = sync(tmp_path / "lake", folder, options)
    assert [r.appended for r in reports] == [0, 0]
    assert Catalog.open(tmp_path / "lake").get("BINANCE:ETHUSDT", at(30)).active  # type: ignore[union-attr]


def test_a_partial_snapshot_trips_the_delisting_guard_and_changes_nothing(tmp_path: Path) -> None:
    """Half the market missing (limit 5%): refused with a clear message, log unchanged;
    `--force` accepts it."""
    folder = spot_snapshots(tmp_path, spot(22), spot(23, drop=("ETHUSDT",)))
    first, refused = sync(tmp_path / "lake", folder)
    assert first.ok
    assert not refused.ok
    assert refused.error_kind == "DelistingGuardError"
    assert "would delist 1 of 2 active instruments (50.0%, limit 5%)" in (refused.error or "")
    assert "--force" in (refused.error or "")
    assert len(EventLog.open(tmp_path / "lake")) == 2
    assert not (tmp_path / "lake" / "sync" / "absence.json").read_bytes().count(b"ETHUSDT")
    forced = sync(tmp_path / "lake", folder, SyncOptions(force=True))
    assert forced[1].ok
    assert forced[1].markets[0].absent == 1


def test_an_empty_universe_appends_nothing(tmp_path: Path) -> None:
    """A snapshot listing no instrument is incomplete: nothing appended for the source."""
    empty = spot(23)
    empty["symbols"] = []
    folder = spot_snapshots(tmp_path, spot(22), empty)
    first, failed = sync(tmp_path / "lake", folder)
    assert failed.error_kind == "IncompleteSnapshotError"
    assert len(EventLog.open(tmp_path / "lake")) == first.appended == 2


def test_a_failing_source_does_not_stop_the_others(tmp_path: Path) -> None:
    """Live, Binance fine and OKX malformed: Binance is appended, OKX is not. (A replay
    appends nothing for a snapshot with a failed source: see test_replay_stops.)"""
    files = {
        "binance-spot/exchangeInfo.json": spot(22),
        "okx/SPOT.json": '{"code": "0", "data": [{"instId": 1}]}',
    }
    folder = write_snapshot(
        tmp_path / "replay", "00", files, observed_at="2021-10-22T00:00:00Z"
    ).parent
    (recorded,) = snapshots(folder)

    async def live() -> list[SourceReport]:
        async with ReplayServer(folder) as server:
            syncer = Syncer(str(tmp_path / "lake"), SyncOptions(observed_at=recorded.observed_at))
            return await syncer.run(recorded.runs(server.base_url), FAST)

    reports = {r.source: r for r in run(live)}
    assert reports["binance-spot"].ok
    assert reports["binance-spot"].appended == 2
    assert reports["okx"].error_kind == "MalformedResponseError"
    assert "unexpected shape" in (reports["okx"].error or "")
    assert {e.source for e in EventLog.open(tmp_path / "lake").events()} == {"binance-spot"}


def _okx_swap(announce: dict[str, str] | None) -> dict[str, Any]:
    body = copy.deepcopy(fixture("okx/okx_instruments_swap.json"))
    for row in body["data"]:
        row["upcChg"] = [announce] if announce and row["instId"] == "BTC-USDT-SWAP" else []
    return body  # type: ignore[no-any-return]


def test_okx_announced_change_applies_from_its_effective_time(tmp_path: Path) -> None:
    """`upcChg` (added to the recording) becomes a change effective at `effTime`, once."""
    effective = datetime(2025, 11, 1, tzinfo=UTC)
    announce = {
        "param": "tickSz",
        "newValue": "0.5",
        "effTime": str(int(effective.timestamp() * 1000)),
    }
    folder = tmp_path / "replay"
    write_snapshot(folder, "00", {"okx/SWAP.json": _okx_swap(announce)}, "2025-10-01T00:00:00Z")
    write_snapshot(folder, "01", {"okx/SWAP.json": _okx_swap(announce)}, "2025-10-15T00:00:00Z")
    first, second = sync(tmp_path / "lake", folder)
    assert first.markets[0].announced == 1
    assert second.appended == 0
    catalog = Catalog.open(tmp_path / "lake")
    before = catalog.get("OKX:BTCUSDT.P", effective - timedelta(seconds=1))
    after = catalog.get("OKX:BTCUSDT.P", effective)
    assert before.tick_size == Decimal("0.1")  # type: ignore[union-attr]
    assert after.tick_size == Decimal("0.5")  # type: ignore[union-attr]
    assert after.valid_from == effective  # type: ignore[union-attr]


def test_two_sources_own_different_fields_of_one_instrument(tmp_path: Path) -> None:
    """Binance owns the tick size, TradingView adds the description; no ping-pong on rerun.

    The (synthetic) scan says 0.001 for BINANCE:BTCUSDT's tick (pricescale 1000); Binance's
    own 0.01 stands. COINBASE:BTCUSD, on a venue with no exchange connector, is listed by
    TradingView with its tick size.
    """
    scan = fixture("tradingview/crypto_scan.synthetic.json")
    scan["data"][0]["d"][7] = 1000
    files = {
        "binance-spot/exchangeInfo.json": spot(22),
        "tradingview/crypto.scan.json": scan,
        "tradingview/crypto.metainfo.json": fixture(
            "tradingview/scanner_crypto_metainfo_20250622.json"
        ),
    }
    folder = tmp_path / "replay"
    write_snapshot(folder, "00", files, observed_at="2021-10-22T00:00:00Z")
    write_snapshot(folder, "01", files, observed_at="2021-10-23T00:00:00Z")
    first = {r.source: r for r in sync(tmp_path / "lake", folder)}
    assert first["tradingview"].ok, first["tradingview"].error
    catalog = Catalog.open(tmp_path / "lake")
    btc = catalog.get("BINANCE:BTCUSDT", at(24))
    assert btc is not None
    assert btc.instrument_id == "binance:spot:BTCUSDT"
    assert btc.tick_size == Decimal("0.01")
    assert btc.description == "Bitcoin / TetherUS"
    assert btc.pricescale == Decimal("1000")
    coinbase = catalog.get("COINBASE:BTCUSD", at(24))
    assert coinbase is not None
    assert coinbase.tick_size == Decimal("0.01")
    assert "COINBASE" in catalog.exchanges(at(24))
    again = sync(tmp_path / "lake", folder)
    assert [r.appended for r in again] == [0, 0, 0, 0]


def test_real_history_from_the_bundled_samples(tmp_path: Path) -> None:
    """Replaying real snapshots (2020-2023) gives real delistings, relistings and expiries."""
    reports = sync(tmp_path / "lake", SAMPLES, SyncOptions(max_delist_share=0.5))
    assert all(r.ok for r in reports), [r.error for r in reports if not r.ok]
    catalog = Catalog.open(tmp_path / "lake")
    usdc = catalog.history("BINANCE:BTCUSDC")
    assert usdc["venue_status"].to_pylist() == ["TRADING", "BREAK", "TRADING"]
    assert usdc["active"].to_pylist() == [True, False, True]
    quarterly = catalog.get("BINANCE:BTCUSDT210924", datetime(2021, 10, 1, tzinfo=UTC))
    assert quarterly is not None
    assert not quarterly.active
    assert quarterly.status == "expired"
    assert quarterly.valid_from == datetime(2021, 9, 24, 8, tzinfo=UTC)
    lend = catalog.get("BINANCE:LENDUSDT", datetime(2020, 11, 2, tzinfo=UTC))
    assert lend is not None
    assert lend.venue_status == "BREAK"
    assert not lend.active
    assert verify_chain(EventLog.open(tmp_path / "lake").read()) == []
    again = sync(tmp_path / "lake", SAMPLES, SyncOptions(max_delist_share=0.5))
    assert sum(r.appended for r in again) == 0


def test_replay_refuses_a_snapshot_without_an_observation_time(tmp_path: Path) -> None:
    """OKX bodies carry no time: without snapshot.json the folder is refused, nothing synced."""
    from connectors.errors import ReplayError

    write_snapshot(tmp_path / "replay", "00", {"okx/SWAP.json": _okx_swap(None)})
    with pytest.raises(ReplayError, match="no observation time"):
        sync(tmp_path / "lake", tmp_path / "replay")
    assert not (tmp_path / "lake").exists()
