"""Dated contracts expire: the sync announces a delisting at the expiry when it lists one.

On the real Binance USD-M recordings of 2021-09-06 and 2022-05-04 (`tests/fixtures/binance/`,
copied from the dated snapshots), whose quarterlies are BTCUSDT_210924 and ETHUSDT_210924,
then BTCUSDT_220624 and ETHUSDT_220624. Variants derived in code say what they change.
"""

from __future__ import annotations

import copy
import shutil
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from venues import FAST, fixture, run, write_snapshot

from connectors.replay.driver import replay
from connectors.sync.syncer import SyncOptions
from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.sync.syncer import SourceReport

EARLY = "binance/binance_usdm_2021-09-06.json"
LATE = "binance/binance_usdm_2022-05-04.json"
EXPIRY = datetime(2021, 9, 24, 8, tzinfo=UTC)
#: Years apart: much of the market really did go in between.
BACKFILL = SyncOptions(max_delist_share=1.0)


def body(path: str, at: datetime | None = None, **rows: dict[str, Any]) -> dict[str, Any]:
    """Return a recording, observed at `at` if given, with the named rows' keys replaced."""
    recorded = copy.deepcopy(fixture(path))
    if at is not None:
        recorded["serverTime"] = int(at.timestamp() * 1000)
    for row in recorded["symbols"]:
        row.update(rows.get(row["symbol"], {}))
    return recorded  # type: ignore[no-any-return]


def sync(
    root: Path, *bodies: dict[str, Any], options: SyncOptions = BACKFILL
) -> list[SourceReport]:
    """Replay one USD-M snapshot per body, in order, into the catalog under `root`."""
    folder = root.parent / f"{root.name}-replay"
    shutil.rmtree(folder, ignore_errors=True)
    for number, recorded in enumerate(bodies):
        write_snapshot(folder, f"{number:02d}", {"binance-usdm/exchangeInfo.json": recorded})
    done = run(lambda: replay(str(root), folder, options, settings=FAST))
    return [report for _, reports in done.done for report in reports]


def stream(root: Path, instrument_id: str) -> list[tuple[str, datetime]]:
    """Return the kinds and effective times of one instrument's events, in log order."""
    events = EventLog.open(root).events()
    return [(e.kind, e.effective_at) for e in events if e.instrument_id == instrument_id]


def test_a_listed_quarterly_is_delisted_at_its_expiry_from_the_log(tmp_path: Path) -> None:
    """Listing BTCUSDT_210924 announces its delisting at 2021-09-24 08:00 (`expired`),
    observed at the snapshot; active until then, not after; the same sync again appends 0."""
    root = tmp_path / "lake"
    (first,) = sync(root, body(EARLY))
    assert first.markets[0].announced == 2  # the two quarterlies
    assert stream(root, "binance:usdm:BTCUSDT_210924") == [
        ("InstrumentListed", datetime(2021, 6, 16, 8, tzinfo=UTC)),
        ("InstrumentDelisted", EXPIRY),
    ]
    (delisting,) = [
        e
        for e in EventLog.open(root).events()
        if e.kind == "InstrumentDelisted" and e.instrument_id == "binance:usdm:BTCUSDT_210924"
    ]
    assert delisting.observed_at == datetime(2021, 9, 6, 13, 13, 38, 759000, tzinfo=UTC)
    catalog = Catalog.open(root)
    before = catalog.get("BINANCE:BTCUSDT210924", EXPIRY - timedelta(microseconds=1))
    after = catalog.get("BINANCE:BTCUSDT210924", EXPIRY)
    assert before is not None
    assert before.active
    assert after is not None
    assert not after.active
    assert (after.status, after.valid_from) == ("expired", EXPIRY)
    tradable = catalog.universe(EXPIRY + timedelta(days=1), tradable=True)["symbol"].to_pylist()
    assert "BINANCE:BTCUSDT210924" not in tradable
    assert "BINANCE:BTCUSDT.P" in tradable
    assert sum(r.appended for r in sync(root, body(EARLY))) == 0


def test_pit_join_says_an_expired_quarterly_is_inactive(tmp_path: Path) -> None:
    """The demo's 2022-08-01 question: BTCUSDT_220624 expired on 2022-06-24."""
    root = tmp_path / "lake"
    sync(root, body(EARLY), body(LATE))
    bars = pa.table(
        {
            "symbol": ["BINANCE:BTCUSDT220624", "BINANCE:BTCUSDT220624"],
            "ts": pa.array(
                [datetime(2022, 6, 1, tzinfo=UTC), datetime(2022, 8, 1, tzinfo=UTC)],
                pa.timestamp("us", tz="UTC"),
            ),
        }
    )
    joined = Catalog.open(root).pit_join(bars, fields=["status"])
    assert joined["active"].to_pylist() == [True, False]
    assert joined["status"].to_pylist() == ["trading", "expired"]


def test_a_later_snapshot_still_showing_or_no_longer_showing_it_appends_nothing(
    tmp_path: Path,
) -> None:
    """After the expiry: one snapshot still lists BTCUSDT_210924 as DELIVERING (derived:
    status and contractType set as Binance reports a delivered quarterly), the real
    2022-05-04 one lacks both quarterlies; neither appends anything for them."""
    root = tmp_path / "lake"
    delivering = {"status": "DELIVERING", "contractType": "CURRENT_QUARTER DELIVERING"}
    reports = sync(
        root,
        body(EARLY),
        body(EARLY, EXPIRY + timedelta(hours=2), BTCUSDT_210924=delivering),
        body(LATE),
    )
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert reports[1].appended == 0
    for quarterly in ("binance:usdm:BTCUSDT_210924", "binance:usdm:ETHUSDT_210924"):
        assert [kind for kind, _ in stream(root, quarterly)] == [
            "InstrumentListed",
            "InstrumentDelisted",
        ]
    assert sum(r.appended for r in sync(root, body(EARLY), body(LATE))) == 0


def test_a_moved_expiry_retracts_the_old_announcement_and_announces_the_new(
    tmp_path: Path,
) -> None:
    """Derived: a day later ETHUSDT_210924's deliveryDate says 2021-10-01 08:00. Its old
    announcement is retracted, the new one announced; replayed again, nothing is appended."""
    root = tmp_path / "lake"
    moved = datetime(2021, 10, 1, 8, tzinfo=UTC)
    later = body(
        EARLY,
        datetime(2021, 9, 7, tzinfo=UTC),
        ETHUSDT_210924={"deliveryDate": int(moved.timestamp() * 1000)},
    )
    _, second = sync(root, body(EARLY), later)
    assert second.ok, second.error
    kinds = [kind for kind, _ in stream(root, "binance:usdm:ETHUSDT_210924")]
    assert kinds == [
        "InstrumentListed",
        "InstrumentDelisted",
        "InstrumentRenamed",
        "InstrumentChanged",
        "EventRetracted",
        "InstrumentDelisted",
    ]
    catalog = Catalog.open(root)
    still = catalog.get("BINANCE:ETHUSDT211001", EXPIRY + timedelta(days=1))
    assert still is not None
    assert still.active
    gone = catalog.get("BINANCE:ETHUSDT211001", moved)
    assert gone is not None
    assert (gone.active, gone.status, gone.valid_from) == (False, "expired", moved)
    assert sum(r.appended for r in sync(root, body(EARLY), later)) == 0


def test_a_relisting_with_a_moved_expiry_retracts_the_old_announcement(tmp_path: Path) -> None:
    """Derived: ETHUSDT_210924 is SETTLING on 2021-09-07 (delisted), TRADING again on
    2021-09-08 with its deliveryDate moved to 2021-10-01: relisted, the delisting announced
    at 2021-09-24 is retracted and one at 2021-10-01 announced."""
    root = tmp_path / "lake"
    moved = datetime(2021, 10, 1, 8, tzinfo=UTC)
    settling = body(EARLY, datetime(2021, 9, 7, tzinfo=UTC), ETHUSDT_210924={"status": "SETTLING"})
    back = body(
        EARLY,
        datetime(2021, 9, 8, tzinfo=UTC),
        ETHUSDT_210924={"deliveryDate": int(moved.timestamp() * 1000)},
    )
    reports = sync(root, body(EARLY), settling, back)
    assert all(r.ok for r in reports), [r.error for r in reports]
    assert [kind for kind, _ in stream(root, "binance:usdm:ETHUSDT_210924")][-3:] == [
        "InstrumentListed",
        "InstrumentDelisted",
        "EventRetracted",
    ]
    catalog = Catalog.open(root)
    relisted = catalog.get("BINANCE:ETHUSDT211001", EXPIRY + timedelta(days=1))
    assert relisted is not None
    assert relisted.active
    gone = catalog.get("BINANCE:ETHUSDT211001", moved)
    assert gone is not None
    assert (gone.active, gone.status) == (False, "expired")
    assert sum(r.appended for r in sync(root, body(EARLY), settling, back)) == 0
