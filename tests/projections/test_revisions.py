"""`Catalog.revisions`: each cause on a small history, the filters, and bad input.

Every history starts with coin 1 listed on day 0 (tick 0.01) and its tick changed to 0.1 on
day 4, both observed and recorded on day 0; K1 is then day 0 (`K1`). What is appended
after it is observed on day 9 and recorded on day 10 unless a test says otherwise. Bad input
raises one error before anything is read: the log is never opened by those tests.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from builders import changed, day, delisted, listed, observed, renamed, retracted
from clock import Clock

from eventstore import EventLog, NaiveTimestampError
from projections import Catalog
from projections.index import snapshots
from projections.revisions import REVISION_SCHEMA, RevisionsError

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

    from eventstore import Event

K1 = day(0, 1)
#: When what is appended after K1 was observed, unless a test says otherwise.
SEEN = day(9)


def _log(root: Path) -> tuple[EventLog, Clock]:
    clock = Clock(day(0))
    log = EventLog.open(root, clock=clock)
    log.append([listed(1), changed(1, day=4)])
    clock.set(day(10))
    return log, clock


def _later(log: EventLog, *events: Event, seen: datetime = SEEN) -> None:
    log.append([observed(e, seen) for e in events])


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return [
        (r["field"], r["effective_from"], r["effective_until"], r["before"], r["after"], r["cause"])
        for r in table.to_pylist()
    ]


def test_a_correction_rewrites_known_history(root: Path) -> None:
    """A lot size effective on day 2, before the day-4 version K1 knew: from day 2 on."""
    log, _ = _log(root)
    _later(log, changed(1, day=2, lot_size="5"))

    found = Catalog.open(root).revisions(K1)

    assert found.schema == REVISION_SCHEMA
    assert _rows(found) == [("lot_size", day(2), None, None, "5", ["correction"])]
    assert found["symbol"].to_pylist() == ["BINANCE:COIN1USDT"]


def test_a_backfill_fills_history_after_the_last_known_version(root: Path) -> None:
    """Effective on day 6, after the day-4 version but before K1 = day 7: a backfill; from
    day 8 on a change effective after K1 takes over, a row of its own."""
    log, _ = _log(root)
    _later(log, changed(1, day=6, tick_size="0.2"), changed(1, day=8, tick_size="0.5"))

    found = Catalog.open(root).revisions(day(7))

    assert _rows(found) == [
        ("tick_size", day(6), day(8), "0.1", "0.2", ["backfill"]),
        ("tick_size", day(8), None, "0.1", "0.5", ["change"]),
    ]


def test_a_change_effective_after_k1(root: Path) -> None:
    """Effective on day 5, after K1: K1 assumed the day-4 tick held on."""
    log, _ = _log(root)
    _later(log, changed(1, day=5, tick_size="1"))

    found = Catalog.open(root).revisions(K1)

    assert _rows(found) == [("tick_size", day(5), None, "0.1", "1", ["change"])]


def test_a_retraction_withdraws_what_k1_knew(root: Path) -> None:
    """The day-4 tick withdrawn: 0.01 again from day 4."""
    log, _ = _log(root)
    _later(log, retracted(log.events()[1]))

    found = Catalog.open(root).revisions(K1)

    assert _rows(found) == [("tick_size", day(4), None, "0.1", "0.01", ["retraction"])]


def test_a_late_listing_and_a_listing(root: Path) -> None:
    """Coin 2 listed on day 0 (before K1 = day 1) is late; coin 3 on day 5 is not. `active`
    goes from none (did not exist) to true, every field the listing gives with it."""
    log, _ = _log(root)
    _later(log, listed(2, day=0), listed(3, day=5))

    found = Catalog.open(root).revisions(day(1), fields=["active", "tick_size"])

    assert found["instrument_id"].to_pylist() == ["inst-2", "inst-2", "inst-3", "inst-3"]
    assert _rows(found) == [
        ("active", day(0), None, None, "true", ["late listing"]),
        ("tick_size", day(0), None, None, "0.01", ["late listing"]),
        ("active", day(5), None, None, "true", ["listing"]),
        ("tick_size", day(5), None, None, "0.01", ["listing"]),
    ]


def test_a_late_delisting_and_a_delisting(root: Path) -> None:
    """A delisting effective on day 3 (seen on day 9) is late for K1 = day 6: it was true
    then; for K1 = day 1 it is a delisting still to come."""
    log, _ = _log(root)
    _later(log, delisted(1, day=3))
    catalog = Catalog.open(root)

    late = catalog.revisions(day(6), fields="active")
    coming = catalog.revisions(day(1), fields=["active", "status"])

    assert _rows(late) == [("active", day(3), None, "true", "false", ["late delisting"])]
    assert _rows(coming) == [
        ("active", day(3), None, "true", "false", ["delisting"]),
        ("status", day(3), None, None, "delisted", ["delisting"]),
    ]


def test_a_rename_is_a_change_of_the_symbol(root: Path) -> None:
    """The symbol column names the symbol after the rename (K2's answer)."""
    log, _ = _log(root)
    _later(log, renamed(1, None, "BINANCE:NEWUSDT", day=5))

    found = Catalog.open(root).revisions(K1)

    assert _rows(found) == [
        ("symbol", day(5), None, "BINANCE:COIN1USDT", "BINANCE:NEWUSDT", ["change"])
    ]
    assert found["symbol"].to_pylist() == ["BINANCE:NEWUSDT"]


def test_a_row_names_every_kind_that_made_it(root: Path) -> None:
    """A retraction and a correction of the same tick in one interval: both are named."""
    log, _ = _log(root)
    _later(log, retracted(log.events()[1]), changed(1, day=4, tick_size="0.3"))

    found = Catalog.open(root).revisions(K1)

    assert _rows(found) == [("tick_size", day(4), None, "0.1", "0.3", ["correction", "retraction"])]


def test_observed_and_recorded_bases_differ_on_a_backfill(root: Path) -> None:
    """Observed on day 2 but recorded on day 10: news on the recorded basis from day 5,
    not on the observed one; a window (K1, K2] that ends before it holds nothing."""
    log, _ = _log(root)
    _later(log, changed(1, day=2, lot_size="5"), seen=day(2))

    assert Catalog.open(root).revisions(day(5)).num_rows == 0
    recorded = Catalog.open(root).revisions(day(5), basis="recorded")
    assert _rows(recorded) == [("lot_size", day(2), None, None, "5", ["correction"])]
    assert Catalog.open(root).revisions(day(5), day(9), basis="recorded").num_rows == 0
    assert Catalog.open(root).revisions(day(1), day(2)).num_rows == 1


def test_the_exchange_filter_and_an_empty_window(root: Path) -> None:
    """Only instruments of the exchange asked for; K1 = K2 holds nothing."""
    log, _ = _log(root)
    _later(log, changed(1, day=2, lot_size="5"))
    catalog = Catalog.open(root)

    assert catalog.revisions(K1, exchange="BINANCE").num_rows == 1
    assert catalog.revisions(K1, exchange="OKX").num_rows == 0
    assert catalog.revisions(day(9), day(9)).num_rows == 0


def test_the_exchange_filter_sees_versions_from_before_the_news(root: Path) -> None:
    """Coin 1 was on OKX only on days 2-3; news from day 6 on still counts it as OKX's."""
    clock = Clock(day(0))
    log = EventLog.open(root, clock=clock)
    log.append([listed(1), changed(1, day=2, exchange="OKX"), changed(1, day=3, exchange="X")])
    clock.set(day(10))
    _later(log, changed(1, day=6, lot_size="5"))
    catalog = Catalog.open(root)

    assert _rows(catalog.revisions(K1, exchange="OKX")) == [
        ("lot_size", day(6), None, None, "5", ["change"])
    ]
    assert catalog.revisions(K1, exchange="BINANCE").num_rows == 1
    assert catalog.revisions(K1, exchange="Y").num_rows == 0


def test_a_snapshot_saved_before_the_event_table_is_rebuilt(root: Path) -> None:
    """A saved index of format 12 (the names, no event table), checksums intact: discarded, rebuilt
    from the log, and the revisions answered from the rebuilt one."""
    log, _ = _log(root)
    _later(log, changed(1, day=2, lot_size="5"))
    Catalog.open(root).refresh()
    directory = root / "projections"
    old = directory / (directory / "CURRENT").read_text()
    meta = json.loads((old / "header.json").read_text())
    for name in [n for n in meta["checksums"] if n.startswith(("ev_", "es_", "rt_"))]:
        (old / name).unlink()
        del meta["checksums"][name]
    del meta["events"]
    meta["format"] = 12
    meta["self"] = snapshots._header_sum(meta)
    (old / "header.json").write_text(json.dumps(meta))

    found = Catalog.open(root).revisions(K1)

    assert _rows(found) == [("lot_size", day(2), None, None, "5", ["correction"])]
    rebuilt = directory / (directory / "CURRENT").read_text()
    assert rebuilt != old
    assert json.loads((rebuilt / "header.json").read_text())["format"] == snapshots.FORMAT == 13


def test_bad_input_raises_one_line_errors_before_reading_anything() -> None:
    """A naive instant, K2 before K1, an unknown field or basis: one line, nothing read."""
    catalog = Catalog(EventLog.open("/nonexistent-root-never-read"), persist=False)
    with pytest.raises(NaiveTimestampError, match="known_since"):
        catalog.revisions(datetime(2024, 1, 1))
    with pytest.raises(NaiveTimestampError, match="known_until"):
        catalog.revisions(K1, "2024-02-01T00:00:00")
    with pytest.raises(RevisionsError, match="before known_since") as backwards:
        catalog.revisions(day(2), day(1))
    with pytest.raises(RevisionsError, match="unknown field 'tick'") as unknown:
        catalog.revisions(K1, fields=["tick"])
    with pytest.raises(RevisionsError, match="basis"):
        catalog.revisions(K1, basis="valid")
    for error in (backwards.value, unknown.value):
        assert "\n" not in str(error)
