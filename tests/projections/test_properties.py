"""Property tests of the PIT contract: whatever the history, `Catalog` answers as the pure fold.

A history is drawn as batches of raw operations over a few instruments and fewer symbols, so
renames and ticker reuse collide. `record` turns them into events the log accepts and appends
each batch with the clock moved on, so recorded_at differs between batches and effective_at
falls both before (late corrections) and after (announced changes) the recording. Each event
is observed a drawn lag before it is recorded (a backfill: days or a month), or left for the
log to observe when it records it; the answers are asked under both knowledge bounds.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from builders import MICROSECOND, changed, day, delisted, listed, observed, renamed, retracted
from clock import Clock
from hypothesis import given, settings
from hypothesis import strategies as st
from pit_oracle import (
    Known,
    Knows,
    assert_changes_matches,
    assert_get_matches,
    assert_history_matches,
    assert_symbol_history_matches,
    assert_universe_matches,
)
from profiles import examples

from eventstore import EventLog, EventRetracted, ExchangeChanged, ExchangeListed
from projections import Catalog, fold

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventstore import Event

INSTRUMENTS = ("I0", "I1", "I2")
SYMBOLS = ("X:A", "X:B", "X:C")
DAYS = 10
#: Effective times: whole days and noons, so versions meet, and some share an instant.
EFFECTIVE = st.builds(day, st.integers(0, DAYS - 1), st.sampled_from([0, 0, 12]))
#: Gaps between two batches' recording: zero (same recorded_at) up to a few days.
GAPS = st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(days=1), timedelta(days=3)])
#: How long before its recording an event was observed (None: the log observes it then).
LAGS = st.sampled_from(
    [None, None, timedelta(0), timedelta(hours=1), timedelta(days=2), timedelta(days=30)]
)
AS_OF = [day(n, h) for n in range(-1, DAYS + 1) for h in (0, 12)] + [day(3650)]

DECIMALS = st.sampled_from(["0.01", "0.005", "0.00001", "1", "0.10", "2.5"]).map(Decimal)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "tick_size": DECIMALS,
    "lot_size": DECIMALS,
    "min_notional": DECIMALS,
    "description": st.sampled_from(["alpha", "beta"]),
    "sector": st.sampled_from(["tech", "energy"]),
    "status": st.sampled_from(["trading", "halted", "break"]),
    "expiry": EFFECTIVE,
}


@st.composite
def field_values(draw: st.DrawFn, *, change: bool) -> dict[str, Any]:
    """Draw a few instrument fields; a change sets at least one, maybe to an explicit None."""
    names = draw(
        st.lists(
            st.sampled_from(sorted(VALUES)), min_size=1 if change else 0, max_size=3, unique=True
        )
    )
    return {n: draw(st.none() | VALUES[n] if change else VALUES[n]) for n in names}


@dataclass(frozen=True)
class Operation:
    """One drawn step: `who` and `what` pick an instrument, symbol, target or text by index."""

    kind: str
    who: int
    what: int
    at: datetime
    fields: dict[str, Any]
    lag: timedelta | None = None


#: Kinds by weight: changes and listings (relistings too) often, exchanges now and then.
KINDS = ("list", "list", "change", "change", "change", "delist", "rename", "retract", "retract")


@st.composite
def operations(draw: st.DrawFn) -> Operation:
    """Draw one operation; `Recorder.event` makes it an event the log accepts."""
    kind = draw(st.sampled_from((*KINDS, "exchange")))
    fields = draw(field_values(change=kind == "change")) if kind in ("list", "change") else {}
    return Operation(
        kind,
        draw(st.integers(0, 7)),
        draw(st.integers(0, 20)),
        draw(EFFECTIVE),
        fields,
        draw(LAGS),
    )


HISTORIES = st.lists(
    st.tuples(GAPS, st.lists(operations(), min_size=1, max_size=6)), min_size=2, max_size=6
)


@dataclass
class Recorder:
    """Turn drawn operations into events the log accepts, and append them batch by batch."""

    log: EventLog
    clock: Clock
    recorded: list[Event] = field(default_factory=list)
    symbols: dict[str, str] = field(default_factory=dict)
    exchanges: set[str] = field(default_factory=set)

    def append(self, gap: timedelta, operations: list[Operation]) -> None:
        """Append one batch, recorded `gap` after the previous one."""
        batch = [e for op in operations if (e := self.event(op)) is not None]
        self.clock.set(self.clock.now + gap)
        if batch:
            self.recorded += self.log.append(batch)

    def event(self, op: Operation) -> Event | None:
        """Return the event `op` stands for, observed `op.lag` before now (the recording
        comes later still), or None where the log would refuse any."""
        found = self.fact(op)
        if found is None or op.lag is None:
            return found
        return observed(found, self.clock.now - op.lag)

    def fact(self, op: Operation) -> Event | None:
        """Return the event `op` stands for, as its source said it."""
        if op.kind == "exchange":
            return self.exchange_event(op)
        if op.kind == "list" or not self.symbols:  # nothing else is appendable before a listing
            instrument_id, symbol = INSTRUMENTS[op.who % len(INSTRUMENTS)], pick(SYMBOLS, op.what)
            self.symbols[instrument_id] = symbol
            return listed(instrument_id, symbol, op.at, **op.fields)
        instrument_id = pick(sorted(self.symbols), op.who)
        symbol = self.symbols[instrument_id]
        if op.kind == "change":
            return changed(instrument_id, symbol, op.at, **op.fields)
        if op.kind == "delist":
            return delisted(instrument_id, symbol, op.at, reason=f"notice {op.what % 3}")
        if op.kind == "rename":
            new = pick([s for s in SYMBOLS if s != symbol], op.what)
            self.symbols[instrument_id] = new
            return renamed(instrument_id, symbol, new, op.at)
        return self.retraction(instrument_id, op.what, op.at)

    def retraction(self, instrument_id: str, which: int, at: datetime) -> Event | None:
        """Return the retraction of an earlier recorded event of the stream, if there is one."""
        targets = [
            e
            for e in self.recorded
            if e.instrument_id == instrument_id and not isinstance(e, EventRetracted)
        ]
        if not targets:
            return None
        return retracted(targets[which % len(targets)], at, reason=f"wrong {which}")

    def exchange_event(self, op: Operation) -> Event:
        """Return an exchange event: instrument answers must leave them out."""
        exchange = ("X", "Y")[op.who % 2]
        kind = ExchangeChanged if exchange in self.exchanges else ExchangeListed
        self.exchanges.add(exchange)
        description = pick(("alpha", "beta", "gamma"), op.what)
        return kind(exchange=exchange, effective_at=op.at, source="test", description=description)


def pick(options: Sequence[str], index: int) -> str:
    """Return the option `index` designates, wrapping around."""
    return options[index % len(options)]


def _around(instants: set[datetime | None]) -> list[datetime]:
    """Return both sides of every instant: just before it, and it."""
    found = sorted(t for t in instants if t is not None)
    return [t + d for t in found for d in (-MICROSECOND, timedelta(0))]


def known_ats(events: list[Event]) -> list[datetime | None]:
    """Return the known_at worth asking: None, and both sides of every observation."""
    return [None, *_around({e.observed_at for e in events})]


def knowledge(events: list[Event]) -> list[Known]:
    """Return the knowledge worth asking: none, each bound alone around every observation
    and recording, and both bounds together (early observations with late recordings and
    the other way round)."""
    observations = _around({e.observed_at for e in events})
    recordings = _around({e.recorded_at for e in events})
    return [
        Known(),
        *(Known(known_at=k) for k in observations),
        *(Known(recorded_by=r) for r in recordings),
        *(Known(k, r) for k, r in zip(observations, reversed(recordings), strict=False)),
    ]


def check_point(catalog: Catalog, events: list[Event], as_of: datetime, known_at: Knows) -> None:
    """Assert get and universe match the fold at one (as_of, known_at)."""
    assert_get_matches(catalog, events, SYMBOLS, as_of, known_at)
    assert_universe_matches(catalog, events, as_of, known_at)


def check_all(catalog: Catalog, events: list[Event], points: list[tuple[datetime, Known]]) -> None:
    """Assert every answer matches the fold at `points`, and every history at their knowledge."""
    for as_of, known_at in points:
        check_point(catalog, events, as_of, known_at)
        got = catalog.exchanges(as_of, known_at.known_at, known_at.recorded_by)
        assert got == fold.exchanges(events, as_of, *known_at)
        assert_changes_matches(catalog, events, as_of - timedelta(days=2), as_of, known_at)
        for symbol in SYMBOLS:
            assert_symbol_history_matches(catalog, events, symbol, as_of, known_at)
    instrument_ids = sorted({e.instrument_id for e in events} - {"exchange:X", "exchange:Y"})
    for known_at in {k for _, k in points}:
        for instrument_id in instrument_ids:
            assert_history_matches(catalog, events, instrument_id, known_at)


@settings(max_examples=examples(60), deadline=None)
@given(history=HISTORIES, data=st.data())
def test_catalog_answers_as_the_fold_over_any_history(
    history: list[tuple[timedelta, list[Operation]]], data: st.DataObject
) -> None:
    """get, universe, history, changes and exchanges equal the fold for any history and point.

    One catalog stays open while batches arrive, so its index is caught up incrementally, and
    answers after each batch; at the end, it and a freshly opened one answer at a few points.
    """
    with tempfile.TemporaryDirectory() as root:
        clock = Clock(day(0, 1))
        recorder = Recorder(EventLog.open(root, clock=clock), clock)
        catalog = Catalog.open(root)
        for gap, operations in history:
            recorder.append(gap, operations)
            events = recorder.log.events()
            as_of = data.draw(st.sampled_from(AS_OF), label="as_of after batch")
            known_at = data.draw(st.sampled_from(knowledge(events)), label="knowledge after batch")
            check_point(catalog, events, as_of, known_at)
        events = recorder.log.events()
        point = st.tuples(st.sampled_from(AS_OF), st.sampled_from(knowledge(events)))
        points = data.draw(st.lists(point, min_size=1, max_size=3), label="points")
        check_all(catalog, events, points)
        check_all(Catalog.open(root), events, points)
