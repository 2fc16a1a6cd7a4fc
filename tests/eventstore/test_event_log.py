"""Conformance suite of `EventLog`: every test runs against each storage location."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import (
    changed,
    delisted,
    exchange_changed,
    exchange_listed,
    listed,
    renamed,
    retracted,
)
from clock import MILLISECOND, Clock

from eventstore import (
    ConcurrencyError,
    EventLog,
    InvalidEventError,
    StorageError,
    StreamVersionConflictError,
    UnknownStreamError,
    compute_event_id,
    compute_hash,
    verify_chain,
)
from eventstore.encoding.schema import SCHEMA
from eventstore.model.events import GENESIS_HASH

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Location

    from eventstore import Event

    Opener = Callable[..., EventLog]


def positions(events: list[Event]) -> list[int | None]:
    """Return the positions of `events`, in order."""
    return [event.position for event in events]


# -- appending -------------------------------------------------------------------------------


def test_append_returns_recorded_events_in_input_order(open_log: Opener, clock: Clock) -> None:
    """Append assigns contiguous positions, per-stream versions and the log's recorded_at."""
    log = open_log(clock=clock)
    batch = [listed(2), listed(1), changed(2), changed(2, day=3, lot_size="1")]

    recorded = log.append(batch)

    assert [e.instrument_id for e in recorded] == [e.instrument_id for e in batch]
    assert [type(e) for e in recorded] == [type(e) for e in batch]
    assert positions(recorded) == [0, 1, 2, 3]
    assert [e.stream_version for e in recorded] == [1, 1, 2, 3]
    assert {e.recorded_at for e in recorded} == {clock.readings[-1]}
    assert all(e.event_id == compute_event_id(e) for e in recorded)
    assert all(e.hash == compute_hash(e) for e in recorded)
    assert recorded[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in recorded[1:]] == [e.hash for e in recorded[:-1]]


def test_second_append_continues_positions_and_stream_versions(
    open_log: Opener, clock: Clock
) -> None:
    """A later append continues the global positions, each stream's version and the chain."""
    log = open_log(clock=clock)
    first = log.append([listed(1), listed(2)])

    second = log.append([changed(2), listed(3), changed(1)])

    assert positions(second) == [2, 3, 4]
    assert [e.stream_version for e in second] == [2, 1, 2]
    assert second[0].prev_hash == first[-1].hash
    assert second[0].recorded_at == clock.readings[-1] > first[0].recorded_at  # type: ignore[operator]
    assert len(log) == 5
    assert log.stream_version("inst-1") == 2
    assert log.stream_version("inst-9") == 0


def test_append_of_nothing_writes_nothing(location: Location, root: str, open_log: Opener) -> None:
    """An empty batch returns [] and creates no table; an unwritten log reads as empty."""
    log = open_log()

    assert log.append([]) == []

    assert location.files(root) == []
    assert log.version() == -1
    assert len(open_log()) == 0
    empty = open_log().read()
    assert empty.num_rows == 0
    assert empty.schema.names == SCHEMA.names


def test_append_refuses_what_is_not_an_event(open_log: Opener) -> None:
    """Append refuses a batch holding a non-event with InvalidEventError and appends nothing."""
    log = open_log()

    with pytest.raises(InvalidEventError, match="item 1"):
        log.append([listed(1), {"kind": "InstrumentListed"}])  # type: ignore[list-item]

    assert len(log) == 0


def test_read_returns_table_sorted_by_position_with_documented_columns(
    open_log: Opener,
) -> None:
    """read() gives the log's full schema, rows in position order across many files."""
    log = open_log()
    for n in range(4):
        log.append([listed(n), changed(n)])

    table = log.read()

    assert table.schema.equals(SCHEMA)
    assert table["position"].to_pylist() == list(range(8))
    assert table["kind"].to_pylist()[:2] == ["InstrumentListed", "InstrumentChanged"]
    assert table["tick_size"].to_pylist()[:2] == [Decimal("0.01"), Decimal("0.1")]
    assert table["recorded_at"].type == pa.timestamp("us", tz="UTC")


def test_read_selects_columns_and_position_range(open_log: Opener) -> None:
    """read(columns, since, until) returns those columns for since <= position < until."""
    log = open_log()
    for n in range(3):
        log.append([listed(n), changed(n)])

    part = log.read(["position", "instrument_id"], since=1, until=4)

    assert part.column_names == ["position", "instrument_id"]
    assert part.to_pylist() == [
        {"position": 1, "instrument_id": "inst-0"},
        {"position": 2, "instrument_id": "inst-1"},
        {"position": 3, "instrument_id": "inst-1"},
    ]


def test_read_at_an_older_version_shows_the_log_as_it_was(open_log: Opener) -> None:
    """read(version=v) travels back to the log as it stood after Delta commit v."""
    log = open_log()
    log.append([listed(1)])
    log.append([listed(2), listed(3)])

    assert log.read(version=0)["instrument_id"].to_pylist() == ["inst-1"]
    assert log.read(version=1).num_rows == 3


def test_events_read_back_equal_the_recorded_events(open_log: Opener) -> None:
    """Decoding the stored rows gives back exactly what append returned, explicit nulls kept."""
    log = open_log()
    recorded = log.append(
        [
            listed(1, tick_size="0.0100", min_notional=5, listed_at="2023-12-31T23:00:00-01:00"),
            changed(1, tick_size=None, description="Coin one"),
            exchange_listed(),
            exchange_changed(description=None, timezone="Europe/Malta"),
        ]
    )

    assert open_log().events() == recorded
    assert recorded[1].changes == {"tick_size": None, "description": "Coin one"}  # type: ignore[attr-defined]
    assert str(open_log().events()[0].tick_size) == "0.01"  # type: ignore[attr-defined]


def test_relisting_an_instrument_continues_its_stream(open_log: Opener) -> None:
    """A second listing of the same instrument (a relisting) is a new version of its stream."""
    log = open_log()
    log.append([listed(1)])

    (relisting,) = log.append([listed(1, day=30)])

    assert (relisting.position, relisting.stream_version) == (1, 2)


# -- idempotency -----------------------------------------------------------------------------


def test_identical_event_appended_again_returns_the_original(
    open_log: Opener, clock: Clock
) -> None:
    """Appending an event already in the log appends nothing and returns its recorded form."""
    log = open_log(clock=clock)
    (original,) = log.append([listed(1)])
    log.append([listed(2)])
    version = log.version()
    clock.now += timedelta(days=1)

    (again,) = log.append([listed(1)])

    assert again == original
    assert (again.position, again.recorded_at, again.hash) == (
        0,
        original.recorded_at,
        original.hash,
    )
    assert log.version() == version
    assert len(open_log()) == 2


def test_same_fact_spelled_differently_is_the_same_event(open_log: Opener) -> None:
    """Normalized values give the same event id: '0.0100' is 0.01, +02:00 is the same instant."""
    log = open_log()
    (original,) = log.append([listed(1, tick_size="0.0100", listed_at="2023-06-01T02:00:00+02:00")])

    (again,) = log.append(
        [listed(1, tick_size=Decimal("0.01"), listed_at=datetime(2023, 6, 1, tzinfo=UTC))]
    )

    assert again.position == original.position == 0
    assert len(log) == 1


def test_events_read_back_and_appended_again_append_nothing(open_log: Opener) -> None:
    """Re-appending the whole log as read back (envelopes set) appends nothing."""
    log = open_log()
    recorded = log.append([listed(1), changed(1), listed(2)])

    assert log.append(open_log().events()) == recorded
    assert len(open_log()) == 3


def test_duplicates_inside_one_batch_are_appended_once(open_log: Opener) -> None:
    """An event repeated inside one batch is appended once; each copy returns that record."""
    log = open_log()

    recorded = log.append([listed(1), listed(2), listed(1), changed(1), changed(1)])

    assert positions(recorded) == [0, 1, 0, 2, 2]
    assert recorded[2] == recorded[0]
    assert len(open_log()) == 3
    assert log.stream_version("inst-1") == 2


def test_transaction_retry_with_the_same_sequence_appends_nothing(open_log: Opener) -> None:
    """A batch retried under the same (app_id, seq) appends nothing and returns the records."""
    log = open_log()
    batch = [listed(1), listed(2)]
    first = log.append(batch, transaction=("sync-binance", 1))
    version = log.version()

    again = open_log().append(batch, transaction=("sync-binance", 1))

    assert again == first
    assert open_log().refresh() == version
    assert len(open_log()) == 2


def test_transaction_sequence_reused_for_new_events_is_refused(open_log: Opener) -> None:
    """A committed (app_id, seq) with events the log lacks raises and appends nothing."""
    log = open_log()
    log.append([listed(1)], transaction=("sync-binance", 1))

    with pytest.raises(ConcurrencyError, match="already committed"):
        log.append([listed(2)], transaction=("sync-binance", 1))

    assert len(open_log()) == 1
    (next_run,) = log.append([listed(2)], transaction=("sync-binance", 2))
    assert next_run.position == 1


# -- refusals, all atomic --------------------------------------------------------------------


def test_expected_versions_mismatch_raises_and_appends_nothing(open_log: Opener) -> None:
    """A wrong expected stream version raises StreamVersionConflictError; nothing is appended."""
    log = open_log()
    log.append([listed(1)], expected_versions={"inst-1": 0})

    with pytest.raises(StreamVersionConflictError) as caught:
        log.append([listed(2), changed(1)], expected_versions={"inst-1": 0, "inst-2": 0})

    assert caught.value.conflicts == {"inst-1": (0, 1)}
    assert "inst-1 expected 0, log has 1" in str(caught.value)
    assert len(open_log()) == 1
    (ok,) = log.append([changed(1)], expected_versions={"inst-1": 1})
    assert ok.stream_version == 2


def test_change_of_unknown_instrument_fails_the_whole_batch(open_log: Opener) -> None:
    """A change to an unknown instrument raises UnknownStreamError; its valid batch-mates too."""
    log = open_log()
    log.append([listed(1)])

    with pytest.raises(UnknownStreamError) as caught:
        log.append([listed(2), changed(1), changed(3)])

    assert caught.value.key == "inst-3"
    assert isinstance(caught.value, LookupError)
    assert len(open_log()) == 1
    assert log.stream_version("inst-2") == 0
    assert positions(log.append([listed(2)])) == [1]


def test_change_of_unknown_exchange_is_refused(open_log: Opener) -> None:
    """An ExchangeChanged before its ExchangeListed raises UnknownStreamError."""
    log = open_log()

    with pytest.raises(UnknownStreamError, match="exchange:OKX"):
        log.append([exchange_listed("BINANCE"), exchange_changed("OKX")])

    assert len(open_log()) == 0


def test_listing_then_change_in_one_batch_is_accepted(open_log: Opener) -> None:
    """A change may follow its instrument's listing inside the same batch."""
    log = open_log()

    recorded = log.append([exchange_listed(), exchange_changed(), listed(1), changed(1)])

    assert [e.stream_version for e in recorded] == [1, 2, 1, 2]
    assert recorded[0].instrument_id == "exchange:BINANCE"


def test_retraction_of_an_own_event_is_appended(open_log: Opener) -> None:
    """A retraction of an event of the same stream is recorded, even within the same batch."""
    log = open_log()
    _, change = log.append([listed(1), changed(1)])
    assert change.event_id is not None

    (retraction,) = log.append([retracted(change.event_id, stream=1)])
    fresh = changed(1, tick_size="0.5")
    same_batch = log.append([fresh, retracted(compute_event_id(fresh), stream=1)])

    assert retraction.position == 2
    assert positions(same_batch) == [3, 4]


def test_retraction_of_a_missing_event_is_refused(open_log: Opener) -> None:
    """Retracting an id the log has never seen raises UnknownStreamError; nothing is appended."""
    log = open_log()
    log.append([listed(1)])
    missing = compute_event_id(changed(1))

    with pytest.raises(UnknownStreamError, match=missing):
        log.append([listed(2), retracted(missing, stream=1)])

    assert len(open_log()) == 1


def test_retraction_of_another_streams_event_is_refused(open_log: Opener) -> None:
    """Retracting an event of another instrument raises InvalidEventError; nothing appended."""
    log = open_log()
    other, _ = log.append([listed(1), listed(2)])
    assert other.event_id is not None

    with pytest.raises(InvalidEventError, match="inst-1") as caught:
        log.append([changed(2), retracted(other.event_id, stream=2)])

    assert caught.value.field == "target"
    assert len(open_log()) == 2


def test_retraction_of_a_retraction_is_refused(open_log: Opener) -> None:
    """A retraction cannot itself be retracted."""
    log = open_log()
    _, change = log.append([listed(1), changed(1)])
    (retraction,) = log.append([retracted(change.event_id or "", stream=1)])

    with pytest.raises(InvalidEventError, match="retraction cannot be retracted"):
        log.append([retracted(retraction.event_id or "", day=3, stream=1)])

    assert len(open_log()) == 3


# -- time ------------------------------------------------------------------------------------


def test_recorded_at_never_goes_backwards_when_the_clock_does(
    open_log: Opener, clock: Clock
) -> None:
    """A clock set back between appends does not make recorded_at go backwards."""
    log = open_log(clock=clock)
    (first,) = log.append([listed(1)])
    clock.now -= timedelta(days=1)

    (second,) = log.append([listed(2)])
    later = open_log(clock=Clock(datetime(2000, 1, 1, tzinfo=UTC), MILLISECOND))
    (third,) = later.append([listed(3)])

    assert first.recorded_at is not None
    assert first.recorded_at <= second.recorded_at <= third.recorded_at  # type: ignore[operator]
    assert verify_chain(open_log().read()) == []


# -- several writers -------------------------------------------------------------------------


def test_second_instance_sees_the_first_ones_appends(open_log: Opener) -> None:
    """A log opened before another writer's appends catches up and appends after them."""
    first, second = open_log(), open_log()
    first.append([listed(1)])
    assert len(second) == 1
    first.append([changed(1), listed(2)])

    recorded = second.append([changed(1, day=5, lot_size="1"), listed(3)])

    assert positions(recorded) == [3, 4]
    assert [e.stream_version for e in recorded] == [3, 1]
    assert len(first) == 5
    assert first.stream_version("inst-1") == 3
    assert verify_chain(open_log().read()) == []


def _writer_that_is_overtaken(
    open_log: Opener, rival: EventLog, rival_batch: list[Event]
) -> EventLog:
    """Return a log whose first clock reading (between reading and committing) lets `rival`
    append `rival_batch` first."""
    overtaken: list[bool] = []

    def clock() -> datetime:
        if not overtaken:
            overtaken.append(True)
            rival.append(rival_batch)
        return datetime.now(UTC)

    return open_log(clock=clock)


def test_writer_overtaken_between_read_and_commit_plans_again(open_log: Opener) -> None:
    """A writer whose commit loses the race re-plans: the rival's events keep their places."""
    rival = open_log()
    rival.append([listed(1)])
    writer = _writer_that_is_overtaken(open_log, rival, [listed(2), changed(1)])
    writer.refresh()

    recorded = writer.append([changed(1, day=9, lot_size="1")])

    assert positions(recorded) == [3]
    assert recorded[0].stream_version == 3
    table = open_log().read()
    assert table["instrument_id"].to_pylist() == ["inst-1", "inst-2", "inst-1", "inst-1"]
    assert verify_chain(table) == []


def test_writer_overtaken_while_creating_the_log_plans_again(open_log: Opener) -> None:
    """Two writers racing to create the log both land, at contiguous distinct positions."""
    rival = open_log()
    writer = _writer_that_is_overtaken(open_log, rival, [listed(1), listed(2)])

    recorded = writer.append([listed(3)])

    assert positions(recorded) == [2]
    table = open_log().read()
    assert table["position"].to_pylist() == [0, 1, 2]
    assert verify_chain(table) == []


# -- integrity and maintenance ---------------------------------------------------------------


def test_verify_chain_on_a_clean_log_finds_nothing(open_log: Opener) -> None:
    """verify_chain on an untouched log, of every event kind, returns no violation."""
    log = open_log()
    _, change, *_ = log.append([listed(1), changed(1), exchange_listed(), exchange_changed()])
    log.append([retracted(change.event_id or "", stream=1), listed(2), changed(2, tick_size=None)])

    assert verify_chain(open_log().read()) == []


def _rewrite_value(location: Location, root: str, column: str, position: int, value: object) -> int:
    """Rewrite the log's only data file with `column` of `position` set to `value`.

    Return the new file's size. The Delta log still records the old size.
    """
    (name,) = [f for f in location.files(root) if f.endswith(".parquet") and "/" not in f]
    table = pq.read_table(io.BytesIO(location.read(root, name)))
    index = table.schema.get_field_index(column)
    values = table[column].to_pylist()
    values[table["position"].to_pylist().index(position)] = value
    field = table.field(index)
    sink = io.BytesIO()
    pq.write_table(table.set_column(index, field, pa.array(values, field.type)), sink)
    location.write(root, name, sink.getvalue())
    return len(sink.getvalue())


def _record_file_size(location: Location, root: str, size: int) -> None:
    """Make the Delta log record `size` for the only data file, as a careful forger would."""
    for name in location.files(root):
        if not (name.startswith("_delta_log/") and name.endswith(".json")):
            continue
        actions = [json.loads(line) for line in location.read(root, name).splitlines() if line]
        for action in actions:
            if "add" in action:
                action["add"]["size"] = size
        location.write(root, name, b"".join(json.dumps(a).encode() + b"\n" for a in actions))


def test_log_with_delistings_and_renames_verifies_clean(open_log: Opener) -> None:
    """verify_chain finds nothing in a log holding delistings (default status) and renames."""
    log = open_log()
    log.append([listed(1), listed(2), renamed(1, None, "BINANCE:NEWUSDT")])
    log.append([delisted(1), delisted(2, status="expired")])

    assert verify_chain(open_log().read()) == []


def test_delisting_read_back_and_appended_again_appends_nothing(open_log: Opener) -> None:
    """A delisting read back from the log has the id it was recorded with: no second copy."""
    log = open_log()
    recorded = log.append([listed(1), delisted(1)])

    again = log.append(open_log().events())

    assert positions(again) == positions(recorded) == [0, 1]
    assert len(open_log()) == 2


@pytest.mark.parametrize(
    ("column", "value"),
    [("tick_size", Decimal("0.05")), ("symbol", "BINANCE:EVILUSDT")],
)
def test_edited_value_in_a_copy_of_the_log_is_detected(
    location: Location, open_log: Opener, root: str, column: str, value: object
) -> None:
    """Rewriting one stored value in a copy of the log makes verify_chain flag that event."""
    open_log().append([listed(1), listed(2), changed(1)])
    copy = location.new_root()
    location.copy_log(root, copy)

    _record_file_size(location, copy, _rewrite_value(location, copy, column, 1, value))

    tampered = open_log(copy).read()
    assert tampered[column][1].as_py() == value
    found = {(v.check, v.position) for v in verify_chain(tampered)}
    assert found == {("event-id", 1), ("hash", 1)}
    assert verify_chain(open_log().read()) == []


def test_data_file_rewritten_behind_the_delta_log_is_never_read_silently(
    location: Location, open_log: Opener, root: str
) -> None:
    """A data file swapped without touching the Delta log fails reads or fails verify_chain."""
    open_log().append([listed(1), listed(2)])

    _rewrite_value(location, root, "tick_size", 0, Decimal("0.05"))

    try:
        found = {(v.check, v.position) for v in verify_chain(open_log().read())}
    except StorageError:  # delta-rs reads a file by the size the Delta log recorded
        found = {("unreadable", None)}
    assert found in ({("unreadable", None)}, {("event-id", 0), ("hash", 0)})


def test_compaction_changes_no_event(open_log: Opener) -> None:
    """compact() merges files but read() stays identical, and the chain stays clean."""
    log = open_log()
    for n in range(5):
        log.append([listed(n), changed(n)])
    before = log.read()

    report = log.compact()

    assert report.files_before == 5
    assert report.files_after == 1
    after = open_log().read()
    assert after.equals(before)
    assert verify_chain(after) == []
    assert positions(log.append([listed(9)])) == [10]
    assert len(open_log()) == 11


def test_compaction_with_vacuum_keeps_every_event(open_log: Opener) -> None:
    """compact(vacuum=True) keeps every event readable, from this and a fresh instance."""
    log = open_log()
    for n in range(3):
        log.append([listed(n)])
    before = log.read()

    log.compact(vacuum=True)

    assert open_log().read().equals(before)
    assert log.read().equals(before)
