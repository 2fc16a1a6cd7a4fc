"""Property tests of `Catalog.pit_join`: every row equals the pure fold's lookup.

Histories come from the generators of `test_properties` (renames, ticker reuse, late
corrections, announced changes, retractions). The rows ask every symbol (and one nobody
held) at every instant of `AS_OF`, shuffled, with timestamps in a drawn unit and time
zone. The three `known_at` modes are held to `fold.lookup` with known_at None, K, and the
row's own timestamp; with "row", the join on venue ids answers as the join on symbols.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from builders import day
from clock import Clock
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples
from test_properties import AS_OF, HISTORIES, SYMBOLS, Operation, Recorder, knowledge

from eventstore import EventLog
from projections import Catalog, fold
from projections.join.queries import DEFAULT_FIELDS

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    from eventstore import Event

FIELDS = (*DEFAULT_FIELDS, "known_since", "recorded_since")
ANSWER = (*FIELDS, "instrument_id", "active", "valid_from")
ZONES = ("UTC", "Asia/Tokyo", "America/New_York")
UNITS = ("s", "ms", "us", "ns")


def bars(order: Sequence[int], unit: str, zone: str) -> pa.Table:
    """Return a row for every (symbol, instant), in the drawn order, plus a payload column."""
    cells = [(s, t) for s in (*SYMBOLS, "X:NOBODY") for t in AS_OF]
    cells = [cells[i] for i in order]
    return pa.table(
        {
            "payload": pa.array(range(len(cells))),
            "symbol": pa.array([s for s, _ in cells]),
            "ts": pa.array([t for _, t in cells], pa.timestamp(unit, tz=zone)),
        }
    )


def expected(
    events: Sequence[Event], symbol: str, at: datetime, known: Any, recorded_by: Any
) -> dict[str, Any]:
    """Return the fold's answer for one row as the join's added columns."""
    found = fold.lookup(events, symbol, at, known, recorded_by)
    if found is None:
        return {name: (False if name == "active" else None) for name in ANSWER}
    return {name: getattr(found, name) for name in ANSWER}


def assert_join_matches(
    catalog: Catalog,
    events: Sequence[Event],
    table: pa.Table,
    known_at: Any,
    recorded_by: datetime | None = None,
    names: bool = False,
) -> None:
    """Assert each row of the join equals the fold's lookup under `known_at` and
    `recorded_by`, and with `names` that the join on names answers alike."""
    joined = catalog.pit_join(table, fields=FIELDS, known_at=known_at, recorded_by=recorded_by)
    assert joined.column_names == [*table.column_names, *ANSWER]
    assert joined.select(table.column_names) == table
    for row in joined.to_pylist():
        at = row["ts"]
        known = at if known_at == "row" else known_at
        got = {name: row[name] for name in ANSWER}
        want = expected(events, row["symbol"], at, known, recorded_by)
        assert got == want, (row, known_at, recorded_by)
    if names:
        assert_names_join_alike(catalog, table, joined, recorded_by)


def ticker(symbol: str) -> str:
    """Return the ticker of `EXCHANGE:TICKER`."""
    return symbol.split(":", 1)[1]


#: Another scheme's names of the drawn symbols (`X:A`): the venue id `A` of `x-spot` (the
#: instruments' ids are of another shape: the id is the symbol's ticker, renamed or not).
NAMED = (("venue", "x-spot", ticker),)


def assert_names_join_alike(
    catalog: Catalog, table: pa.Table, joined: pa.Table, recorded_by: datetime | None
) -> None:
    """Assert that joining on each scheme's names answers as the join on symbols did."""
    for scheme, exchange, name_of in NAMED:
        names = pa.array([name_of(s) for s in table["symbol"].to_pylist()])
        named = table.set_column(table.schema.get_field_index("symbol"), "symbol", names)
        by_name = catalog.pit_join(
            named, fields=FIELDS, known_at="row", recorded_by=recorded_by,
            scheme=scheme, exchange=exchange,
        )  # fmt: skip
        assert by_name.drop_columns(["symbol"]).equals(joined.drop_columns(["symbol"])), scheme


@settings(max_examples=examples(40), deadline=None)
@given(history=HISTORIES, data=st.data())
def test_pit_join_equals_the_fold_row_by_row_in_every_known_at_mode(
    history: list[tuple[timedelta, list[Operation]]], data: st.DataObject
) -> None:
    """pit_join with known_at None, K and "row" (with and without recorded_by) equals
    fold.lookup for every row; events are observed before they are recorded. With "row",
    the join on names in other schemes answers as the join on symbols.

    One catalog stays open while batches arrive (its index is caught up incrementally) and
    joins after some of them; at the end it and a freshly opened catalog join again.
    """
    size = (len(SYMBOLS) + 1) * len(AS_OF)
    order = data.draw(st.permutations(range(size)), label="row order")
    table = bars(order, data.draw(st.sampled_from(UNITS)), data.draw(st.sampled_from(ZONES)))
    with tempfile.TemporaryDirectory() as root:
        clock = Clock(day(0, 1))
        recorder = Recorder(EventLog.open(root, clock=clock), clock)
        catalog = Catalog.open(root)
        for gap, operations in history:
            recorder.append(gap, operations)
            if data.draw(st.booleans(), label="join after this batch"):
                events = recorder.log.events()
                assert_join_matches(catalog, events, table, "row")
        events = recorder.log.events()
        known = data.draw(st.sampled_from(knowledge(events)), label="knowledge")
        for mode in (None, known.known_at, "row"):
            assert_join_matches(catalog, events, table, mode, names=mode == "row")
            assert_join_matches(catalog, events, table, mode, known.recorded_by, mode == "row")
        assert_join_matches(Catalog.open(root), events, table, "row")
