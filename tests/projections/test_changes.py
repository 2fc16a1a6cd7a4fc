"""`Catalog.versions_before` and `change_lines`: old values from the index equal the pure fold."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from builders import MICROSECOND, changed, day, delisted, listed, renamed, retracted

from eventstore import NaiveTimestampError
from eventstore.encoding.schema import TIMESTAMP
from projections import fold
from projections.changes import ChangeFilter, change_lines

if TYPE_CHECKING:
    from clock import Clock

    from eventstore import EventLog
    from projections import Catalog


def _history(log: EventLog, clock: Clock) -> None:
    """Two instruments, a late correction, a retraction, a rename and a delisting."""
    clock.set(day(0))
    log.append([listed("A", "X:A", day(1), tick_size="0.1"), listed("B", "X:B", day(1))])
    clock.set(day(10))
    [wrong] = log.append([changed("A", "X:A", day(5), tick_size="0.5")])
    log.append([changed("A", "X:A", day(3), tick_size="0.2", lot_size="1")])  # a late correction
    clock.set(day(20))
    log.append([retracted(wrong, day(20)), renamed("B", "X:B", "X:C", day(6))])
    log.append([delisted("B", "X:C", day(8))])


def test_versions_before_equal_the_fold_just_before(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """For every instrument and instant, the version just before is the fold's state then."""
    _history(log, clock)
    instants = [day(n) for n in range(0, 12)] + [day(3) + MICROSECOND, day(8) - MICROSECOND]
    ids = ["A", "B", "Z"]
    pairs = [(i, t) for i in ids for t in instants]

    found = catalog.versions_before(
        pa.array([i for i, _ in pairs]), pa.array([t for _, t in pairs], TIMESTAMP)
    ).to_pylist()

    events = log.events()
    for (instrument_id, at), row in zip(pairs, found, strict=True):
        state = fold.states(events, at - MICROSECOND, None).get(instrument_id)
        if state is None:
            assert row["instrument_id"] is None, (instrument_id, at)
        else:
            assert (row["tick_size"], row["symbol"], row["active"]) == (
                state.tick_size,
                state.symbol,
                state.active,
            ), (instrument_id, at)


def test_change_lines_give_the_value_each_change_replaced(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """Each line's old value is the fold's value just before the event took effect."""
    _history(log, clock)

    lines = change_lines(catalog, day(0), day(30))

    summary = [(line["what"], line["field"], line["old"], line["new"]) for line in lines]
    assert summary[2:] == [
        ("changed", "lot_size", None, Decimal(1)),
        ("changed", "tick_size", Decimal("0.1"), Decimal("0.2")),
        ("changed", "tick_size", Decimal("0.2"), Decimal("0.5")),  # retracted; still shown
        ("renamed", "symbol", "X:B", "X:C"),
        ("delisted", "status", None, "delisted"),
        ("retracted", None, None, None),
    ]
    assert [line["retracted"] for line in lines[2:5]] == [False, False, True]


def test_change_lines_as_known_at_an_earlier_instant(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """With `known_at`, later records are left out and old values are what was known then."""
    _history(log, clock)

    lines = change_lines(
        catalog, day(0), day(30), known_at=day(10), keep=ChangeFilter(field="tick_size")
    )

    assert [(line["old"], line["new"]) for line in lines] == [
        (None, Decimal("0.1")),
        (Decimal("0.1"), Decimal("0.2")),
        (Decimal("0.2"), Decimal("0.5")),
    ]


def test_versions_before_obeys_the_timestamp_contract(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """ISO strings and aware datetimes are instants; naive values and bare numbers are refused."""
    _history(log, clock)
    ids = pa.array(["A", "A"])
    expected = catalog.versions_before(ids, pa.array([day(2), day(4)], TIMESTAMP)).to_pylist()

    as_text = catalog.versions_before(ids, ["2024-01-03T00:00:00Z", "2024-01-05T01:00:00+01:00"])
    as_datetimes = catalog.versions_before(ids, [day(2), day(4)])

    assert as_text.to_pylist() == expected == as_datetimes.to_pylist()
    naive = [
        pa.array([day(2).replace(tzinfo=None)] * 2, pa.timestamp("us")),
        ["2024-01-03T00:00:00", "2024-01-05T00:00:00"],
        [172_800_000_000, 345_600_000_000],
        pa.array([172_800_000_000, 345_600_000_000]),
        "2024-01-03T00:00:00Z",
    ]
    for given in naive:
        with pytest.raises(NaiveTimestampError):
            catalog.versions_before(ids, given)
