"""Property: `revisions` is the difference of two pure folds, at K1 and at K2, whether the
index was built from the whole log or kept current batch by batch.

Histories are those of the catalog's own property test (`test_properties`): late
corrections, backfills (observed long before recorded), retractions, relistings, renames,
announced changes. K1 and K2 are drawn around the history's observations (basis
`observed`) or recordings (basis `recorded`); K2 may be None (everything).
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from builders import MICROSECOND, day
from clock import Clock
from hypothesis import given, settings
from hypothesis import strategies as st
from profiles import examples
from revisions_oracle import COLUMNS, expected_revisions
from test_properties import HISTORIES, Operation, Recorder

from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from eventstore import Event


@settings(max_examples=examples(15), deadline=None)
@given(history=HISTORIES, data=st.data())
def test_revisions_are_the_difference_of_two_folds(
    history: list[tuple[timedelta, list[Operation]]], data: st.DataObject
) -> None:
    """Every row (intervals, both answers, the cause) equals the oracle's, in its order."""
    with tempfile.TemporaryDirectory() as root:
        clock = Clock(day(0, 1))
        recorder = Recorder(EventLog.open(root, clock=clock), clock)
        for gap, operations in history:
            recorder.append(gap, operations)
        events = recorder.log.events()
        catalog = Catalog.open(root)
        for _ in range(3):
            basis, k1, k2 = _window(data, events)
            got = catalog.revisions(k1, k2, basis=basis)
            rows = [tuple(r[c] for c in COLUMNS) for r in got.to_pylist()]
            assert rows == expected_revisions(events, k1, k2, basis), (k1, k2, basis)


@settings(max_examples=examples(15), deadline=None)
@given(history=HISTORIES, data=st.data())
def test_an_index_kept_current_batch_by_batch_answers_the_same(
    history: list[tuple[timedelta, list[Operation]]], data: st.DataObject
) -> None:
    """The event table the index keeps (folded in batch by batch, saved halfway, loaded
    and caught up by another process) answers as the oracle does."""
    with tempfile.TemporaryDirectory() as root:
        clock = Clock(day(0, 1))
        recorder = Recorder(EventLog.open(root, clock=clock), clock)
        live = Catalog.open(root)
        for step, (gap, operations) in enumerate(history):
            recorder.append(gap, operations)
            live.refresh()
            if step == len(history) // 2:
                live._index.save()
        events = recorder.log.events()
        loaded = Catalog.open(root)  # the halfway snapshot, then the rest folded in
        basis, k1, k2 = _window(data, events)
        expected = expected_revisions(events, k1, k2, basis)
        for catalog in (live, loaded):
            got = catalog.revisions(k1, k2, basis=basis)
            rows = [tuple(r[c] for c in COLUMNS) for r in got.to_pylist()]
            assert rows == expected, (k1, k2, basis)


def _window(data: st.DataObject, events: list[Event]) -> tuple[str, datetime, datetime | None]:
    """Draw a basis and a window (K1, K2] at or just before the instants the events know."""
    basis = data.draw(st.sampled_from(["observed", "recorded"]), label="basis")
    column = "observed_at" if basis == "observed" else "recorded_at"
    instants = sorted({getattr(e, column) for e in events})
    around = [t + d for t in instants for d in (-MICROSECOND, timedelta(0))]
    k1 = data.draw(st.sampled_from(around), label="k1")
    k2 = data.draw(st.none() | st.sampled_from([t for t in around if t >= k1]), label="k2")
    return basis, k1, k2
