"""`known_at` reads observed_at, `recorded_by` reads recorded_at: a backfilled catalog.

The log is filled "today" (2026) from facts observed in 2024, as a replay of archived
snapshots fills it: `known_at` still answers what could have been known then, while
`recorded_by` answers what the catalog itself said at an instant.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from builders import changed, day, listed, observed, retracted
from clock import Clock
from deltalake import write_deltalake
from pit_oracle import Known, assert_catalog_matches_fold

from eventstore import EventLog, NaiveTimestampError
from projections import Catalog
from projections.index import snapshots

if TYPE_CHECKING:
    from pathlib import Path

TODAY = datetime(2026, 12, 1, tzinfo=UTC)


def _backfilled(root: Path) -> tuple[EventLog, Clock]:
    """Coin 1 listed (observed day 0), tick 0.1 (observed day 5), all recorded TODAY."""
    clock = Clock(TODAY)
    log = EventLog.open(root, clock=clock)
    log.append([observed(listed(1), day(0)), observed(changed(1, day=4), day(5))])
    return log, clock


def test_known_at_answers_what_was_observable_on_a_backfilled_catalog(tmp_path: Path) -> None:
    """Between the two observations the old tick shows; recorded_by then shows nothing."""
    _backfilled(tmp_path)
    catalog = Catalog.open(tmp_path)

    then = catalog.get("BINANCE:COIN1USDT", day(4, 12), known_at=day(4, 12))
    later = catalog.get("BINANCE:COIN1USDT", day(4, 12), known_at=day(5))

    assert then is not None
    assert later is not None
    assert (then.tick_size, then.known_since, then.recorded_since) == (
        Decimal("0.01"),
        day(0),
        TODAY,
    )
    assert (later.tick_size, later.known_since, later.recorded_since) == (
        Decimal("0.1"),
        day(5),
        TODAY,
    )
    assert catalog.get("BINANCE:COIN1USDT", day(4, 12), recorded_by=day(5)) is None
    assert catalog.universe(day(1), recorded_by=day(5)).num_rows == 0
    assert catalog.universe(day(1), known_at=day(1)).num_rows == 1
    history = catalog.history("inst-1", known_at=day(4, 12))
    assert history["known_since"].to_pylist() == [day(0)]
    assert history["recorded_since"].to_pylist() == [TODAY]


def test_recorded_by_reproduces_the_answer_given_before_a_later_backfill(tmp_path: Path) -> None:
    """A fact observed on day 2 but recorded after R: recorded_by=R keeps the old answer,
    known_at counts it from day 2; both together take an event when it passes both."""
    log, clock = _backfilled(tmp_path)
    answered_at = clock.now
    catalog = Catalog.open(tmp_path)
    before = catalog.get("BINANCE:COIN1USDT", day(3))
    clock.set(TODAY + timedelta(days=3))
    log.append([observed(changed(1, day=2, lot_size="5"), day(2))])

    again = catalog.get("BINANCE:COIN1USDT", day(3), recorded_by=answered_at)
    backfilled = catalog.get("BINANCE:COIN1USDT", day(3), known_at=day(3))
    both = catalog.get("BINANCE:COIN1USDT", day(3), known_at=day(3), recorded_by=answered_at)

    assert again == before
    assert backfilled is not None
    assert backfilled.lot_size == Decimal("5")
    assert backfilled.recorded_since == TODAY + timedelta(days=3)
    assert both == before
    events = log.events()
    points = [Known(day(3)), Known(recorded_by=answered_at), Known(day(3), answered_at), None]
    assert_catalog_matches_fold(catalog, events, [day(1), day(3), day(6)], points)
    assert_catalog_matches_fold(Catalog.open(tmp_path), events, [day(3), day(6)], points)


def test_a_retraction_counts_from_its_own_observation(tmp_path: Path) -> None:
    """A retraction observed on day 6 withdraws the change for known_at from day 6 on."""
    log, clock = _backfilled(tmp_path)
    target = log.events()[1]
    clock.set(TODAY + timedelta(hours=1))
    log.append([observed(retracted(target, day(6)), day(6))])
    catalog = Catalog.open(tmp_path)

    before = catalog.get("BINANCE:COIN1USDT", day(7), known_at=day(5, 12))
    after = catalog.get("BINANCE:COIN1USDT", day(7), known_at=day(6))

    assert before is not None
    assert before.tick_size == Decimal("0.1")
    assert after is not None
    assert (after.tick_size, after.known_since) == (Decimal("0.01"), day(6))
    assert catalog.changes(day(0), day(9), known_at=day(5, 12))["retracted"].to_pylist() == [
        False,
        False,
    ]
    found = catalog.changes(day(0), day(9), known_at=day(6))  # the retraction is a row too
    assert found["retracted"].to_pylist() == [False, True, False]


def test_pit_join_row_mode_uses_observations_on_a_backfilled_catalog(tmp_path: Path) -> None:
    """known_at="row": a row on day 4 sees the listing (observed day 0), not the day-5 tick;
    recorded_by before the backfill leaves every row without a holder."""
    _backfilled(tmp_path)
    catalog = Catalog.open(tmp_path)
    bars = pa.table(
        {
            "symbol": ["BINANCE:COIN1USDT"] * 2,
            "ts": pa.array([day(4, 12), day(5)], pa.timestamp("us", "UTC")),
        }
    )

    strict = catalog.pit_join(bars, fields=["tick_size", "known_since"], known_at="row")
    old = catalog.pit_join(bars, fields=["tick_size"], known_at="row", recorded_by=day(9))

    assert strict["tick_size"].to_pylist() == [Decimal("0.01"), Decimal("0.1")]
    assert strict["known_since"].to_pylist() == [day(0), day(5)]
    assert old["active"].to_pylist() == [False, False]


def test_a_naive_recorded_by_is_refused() -> None:
    """A naive recorded_by raises NaiveTimestampError before any query runs."""
    catalog = Catalog(EventLog.open("/nonexistent-root-never-read"), persist=False)
    with pytest.raises(NaiveTimestampError, match="recorded_by"):
        catalog.get("X:A", day(1), recorded_by=datetime(2024, 1, 1))
    with pytest.raises(NaiveTimestampError, match="recorded_by"):
        catalog.universe(day(1), recorded_by="2024-01-01T00:00:00")


def test_a_log_written_before_observed_at_answers_as_observed_when_recorded(
    tmp_path: Path,
) -> None:
    """A schema-1 log (no observed_at column): known_at reads each row's recorded_at, so
    known_at and recorded_by give the same answers, and known_since is the recording."""
    scratch = EventLog.open(tmp_path / "scratch", clock=Clock(TODAY))
    scratch.append([listed(1), changed(1, day=4)])
    table = scratch.read().drop_columns(["observed_at"])
    at = table.schema.get_field_index("schema_version")
    ones = pa.array([1] * table.num_rows, pa.int32())
    write_deltalake(str(tmp_path / "old" / "events"), table.set_column(at, "schema_version", ones))
    catalog = Catalog.open(tmp_path / "old")

    found = catalog.get("BINANCE:COIN1USDT", day(5), known_at=TODAY)

    assert found is not None
    assert (found.tick_size, found.known_since, found.recorded_since) == (
        Decimal("0.1"),
        TODAY,
        TODAY,
    )
    assert catalog.get("BINANCE:COIN1USDT", day(5), known_at=day(9)) is None
    assert catalog.universe(day(5), known_at=TODAY) == catalog.universe(day(5), recorded_by=TODAY)


def test_a_snapshot_of_the_format_before_observed_at_is_rebuilt(tmp_path: Path) -> None:
    """A saved index of format 6 (no observed_at), checksums intact: discarded and rebuilt."""
    _backfilled(tmp_path)
    Catalog.open(tmp_path).refresh()
    directory = tmp_path / "projections"
    old = directory / (directory / "CURRENT").read_text()
    header = old / "header.json"
    meta = json.loads(header.read_text())
    meta["format"] = 6
    meta["self"] = snapshots._header_sum(meta)
    header.write_text(json.dumps(meta))

    found = Catalog.open(tmp_path).get("BINANCE:COIN1USDT", day(4), known_at=day(4, 12))

    assert found is not None
    assert (found.tick_size, found.known_since) == (Decimal("0.01"), day(0))
    rebuilt = directory / (directory / "CURRENT").read_text()
    assert rebuilt != old
    assert json.loads((rebuilt / "header.json").read_text())["format"] == snapshots.FORMAT
