"""`EventLog.append_table`: events as an Arrow table, with every guarantee of `append`.

The same facts appended as Python events and as a table give byte-identical logs (ids,
hashes, rows); the audit passes on a log the table path wrote; repeats are not appended
again; a bad table raises one line and appends nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from builders import (
    T0,
    changed,
    day,
    delisted,
    exchange_changed,
    exchange_listed,
    listed,
    observed,
    renamed,
)
from clock import Clock
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples
from test_fast_append import events as any_events

from eventstore import (
    EventLog,
    EventRetracted,
    InvalidEventError,
    NaiveTimestampError,
    StreamVersionConflictError,
    UnknownStreamError,
    verify_chain,
)
from eventstore.audit.log_audit import audit_log
from eventstore.encoding.given_table import events_table, given_events
from eventstore.encoding.hashing import batch_event_ids, batch_payloads
from eventstore.errors import ConcurrencyError

if TYPE_CHECKING:
    from pathlib import Path

    from eventstore import Event


def _facts() -> list[Event]:
    """Every kind, explicit nulls, an observation time, a default and a set status."""
    return [
        exchange_listed(),
        listed(1),
        listed(2, status="trading", lot_size="0.001", listed_at=T0),
        observed(changed(1, tick_size=None, status="halted"), day(1, 1)),
        changed(2, min_notional=Decimal("5.000")),
        renamed(1, None, "BINANCE:NEWCOIN1USDT"),
        delisted(2),
        delisted(1, status="expired"),
        exchange_changed(),
        listed('odd "id"\\', 'X:quote"d'),
    ]


def _logs(tmp_path: Path) -> tuple[EventLog, EventLog]:
    clock = Clock(datetime(2024, 6, 1, tzinfo=UTC))
    return EventLog.open(tmp_path / "a", clock=clock), EventLog.open(tmp_path / "b", clock=clock)


def test_a_table_and_the_same_python_events_give_byte_identical_logs(tmp_path: Path) -> None:
    by_events, by_table = _logs(tmp_path)
    facts = _facts()
    recorded = by_events.append(facts)
    retraction = EventRetracted(
        instrument_id="inst-2",
        symbol="BINANCE:COIN2USDT",
        effective_at=day(5),
        source="manual",
        target=recorded[4].event_id or "",
        reason="wrong minimum",
    )
    by_events.append([retraction])
    done = by_table.append_table(events_table(facts))
    by_table.append_table(events_table([retraction]))
    assert done.appended == len(facts)
    assert done.repeated == 0
    assert by_table.read().equals(by_events.read())  # ids, hashes and every column
    assert by_table.read()["hash"].to_pylist() == by_events.read()["hash"].to_pylist()
    assert verify_chain(by_table.read()) == []
    assert audit_log(by_table).ok


@settings(max_examples=examples(150), deadline=None)
@given(batch=st.lists(any_events(), min_size=1, max_size=10))
def test_the_columnar_canonical_form_is_the_codec_s(batch: list[Event]) -> None:
    found = given_events(events_table(batch))
    payloads = batch_payloads(batch)
    assert found.payloads.to_pylist() == payloads
    assert found.ids.to_pylist() == batch_event_ids(payloads).text


def test_repeats_are_not_appended_again(tmp_path: Path) -> None:
    log, _ = _logs(tmp_path)
    first, second = listed(1), listed(2)
    log.append([first])
    table = events_table([first, second, second, changed(2)])
    done = log.append_table(table)
    assert done.appended == 2  # the second listing and the change
    assert done.repeated == 2  # one already in the log, one repeating an earlier row
    assert log.append_table(table).appended == 0
    assert len(log) == 3
    assert log.stream_version("inst-2") == 2
    assert log.read()["stream_version"].to_pylist() == [1, 1, 2]


def test_a_table_then_python_events_continue_one_chain(tmp_path: Path) -> None:
    log, _ = _logs(tmp_path)
    log.append_table(events_table([listed(1), listed(2)]))
    log.append([changed(1), changed(2)])  # a fresh writer would read the same tail
    other = EventLog.open(log.root)
    other.append_table(events_table([delisted(1)]))
    assert verify_chain(log.read()) == []
    assert log.read()["stream_version"].to_pylist() == [1, 1, 2, 2, 3]


def _without(table: pa.Table, name: str) -> pa.Table:
    return table.drop_columns([name])


def _replaced(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, column)


def _bad_tables() -> dict[str, tuple[pa.Table, type[Exception], str]]:
    good = events_table([listed(1), changed(1)])
    size = good.num_rows
    naive = pa.array([datetime(2024, 1, 1)] * size, pa.timestamp("us"))
    floats = pa.array([0.01, None], pa.float64())
    blank = pa.array([" ", "BINANCE:COIN1USDT"], pa.string())
    kinds = pa.array(["InstrumentListed", "InstrumentSplit"], pa.string())
    listing = ["exchange", "base", "quote", "tick_size"]
    said = pa.array([listing, ["tick_size", "symbol"]], pa.list_(pa.string()))
    unsaid = pa.array([[], ["tick_size"]], pa.list_(pa.string()))
    return {
        "missing column": (_without(good, "effective_at"), InvalidEventError, "missing column"),
        "wrong type": (_replaced(good, "tick_size", floats), InvalidEventError, "expected"),
        "naive instant": (_replaced(good, "effective_at", naive), NaiveTimestampError, "time zone"),
        "blank symbol": (_replaced(good, "symbol", blank), InvalidEventError, "row 0"),
        "unknown kind": (_replaced(good, "kind", kinds), InvalidEventError, "InstrumentSplit"),
        "a field no change sets": (_replaced(good, "fields", said), InvalidEventError, "symbol"),
        "a value fields does not say": (
            _replaced(good, "fields", unsaid),
            InvalidEventError,
            "does not say",
        ),
        "a column the log assigns": (
            good.append_column("hash", pa.array(["x"] * size)),
            InvalidEventError,
            "assigned by the log",
        ),
        "an unknown column": (
            good.append_column("colour", pa.array(["red"] * size)),
            InvalidEventError,
            "unknown column",
        ),
        "a rename to itself": (_renamed_to_itself(), InvalidEventError, "new_symbol"),
    }


def _renamed_to_itself() -> pa.Table:
    table = events_table([listed(1), renamed(1, None, "BINANCE:X")])
    same = pc.if_else(pc.equal(table["kind"], "InstrumentRenamed"), table["symbol"], None)
    return _replaced(table, "new_symbol", same.combine_chunks())


@pytest.mark.parametrize("case", sorted(_bad_tables()))
def test_a_bad_table_raises_one_line_and_appends_nothing(tmp_path: Path, case: str) -> None:
    log, _ = _logs(tmp_path)
    log.append([listed(9)])
    table, error, words = _bad_tables()[case]
    with pytest.raises(error) as raised:
        log.append_table(table)
    assert words in str(raised.value)
    assert "\n" not in str(raised.value)
    assert len(EventLog.open(log.root)) == 1  # nothing appended


def test_refusals_of_the_plan_append_nothing(tmp_path: Path) -> None:
    log, _ = _logs(tmp_path)
    log.append([listed(1)])
    with pytest.raises(UnknownStreamError, match="inst-2"):
        log.append_table(events_table([listed(3), changed(2)]))  # no listing opens inst-2
    with pytest.raises(StreamVersionConflictError):
        log.append_table(events_table([changed(1)]), expected_versions={"inst-1": 0})
    late = observed(changed(1), datetime(2030, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidEventError, match="observed"):
        log.append_table(events_table([late]))
    ghost = EventRetracted(
        instrument_id="inst-1",
        symbol="BINANCE:COIN1USDT",
        effective_at=day(2),
        source="manual",
        target="00000000-0000-5000-8000-000000000000",
        reason="none such",
    )
    with pytest.raises(UnknownStreamError, match="retraction target"):
        log.append_table(events_table([ghost]))
    assert len(EventLog.open(log.root)) == 1


def test_a_transaction_commits_at_most_once(tmp_path: Path) -> None:
    log, _ = _logs(tmp_path)
    log.append_table(events_table([listed(1)]), transaction=("loader", 1))
    with pytest.raises(ConcurrencyError, match="already committed"):
        log.append_table(events_table([listed(2)]), transaction=("loader", 1))
    assert log.append_table(events_table([listed(1)]), transaction=("loader", 1)).appended == 0
    assert len(log) == 1


def test_a_writer_that_lost_the_race_plans_again(tmp_path: Path) -> None:
    log, _ = _logs(tmp_path)
    log.append([listed(1)])
    stale = EventLog.open(log.root)
    len(stale)  # its tail is read now
    log.append([changed(1)])  # another writer commits meanwhile
    done = stale.append_table(events_table([changed(1, day=2, tick_size="0.5")]))
    assert done.rows["position"].to_pylist() == [2]
    assert done.rows["stream_version"].to_pylist() == [3]
    assert verify_chain(log.read()) == []


def test_an_empty_table_appends_nothing(tmp_path: Path) -> None:
    log, _ = _logs(tmp_path)
    empty = events_table([listed(1)]).slice(0, 0)
    assert log.append_table(empty).appended == 0
    assert log.version() == -1
    with pytest.raises(InvalidEventError, match="pyarrow Table"):
        log.append_table([listed(1)])


def test_timestamps_in_another_zone_or_unit_are_read_exactly(tmp_path: Path) -> None:
    log, other = _logs(tmp_path)
    table = events_table([listed(1, None, T0 + timedelta(microseconds=7))])
    ns = table["effective_at"].cast(pa.timestamp("ns", tz="Asia/Tokyo"))
    log.append_table(_replaced(table, "effective_at", ns.combine_chunks()))
    other.append_table(table)
    assert log.read().equals(other.read())
    nanos = pa.array([ns[0].value + 1], pa.timestamp("ns", tz="UTC"))
    with pytest.raises(InvalidEventError, match="effective_at"):
        log.append_table(_replaced(table, "effective_at", nanos))
