"""The Catalog's contract at its edges: instants, columns, freshness, the index cache, changes."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import MICROSECOND, changed, day, delisted, listed, renamed, retracted
from pit_oracle import assert_catalog_matches_fold, assert_changes_matches, holder, table_rows

from eventstore import EventLog
from projections import VERSION_SCHEMA, Catalog, UnknownSymbolError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from clock import Clock

NAIVE_INSTANTS = (
    datetime(2024, 1, 5),
    1704067200,
    1704067200.0,
    "2024-01-05T00:00:00",
    "2024-01-05",
)
CALLS: dict[str, Callable[[Catalog, Any], object]] = {
    "as_of": lambda c, v: c.get("X:ABC", v),
    "known_at": lambda c, v: c.get("X:ABC", day(5), known_at=v),
    "universe as_of": lambda c, v: c.universe(v),
    "universe known_at": lambda c, v: c.universe(day(5), v),
    "history as_of": lambda c, v: c.history("X:ABC", as_of=v),
    "history known_at": lambda c, v: c.history("I1", known_at=v),
    "since": lambda c, v: c.changes(v, day(9)),
    "until": lambda c, v: c.changes(day(0), v),
}
INSTANTS = [day(n, h) for n in range(0, 11) for h in (0, 12)]


def record_history(log: EventLog, clock: Clock) -> None:
    """Append a history with every instrument event kind, in batches recorded on different days."""
    clock.set(day(1))
    log.append(
        [
            listed("I1", "X:ABC", day(1), tick_size="0.01", description="Alpha"),
            listed("I2", "X:XYZ", day(2), tick_size="0.5"),
        ]
    )
    clock.set(day(3))
    (wrong,) = log.append([changed("I1", "X:ABC", day(3), tick_size="0.1")])
    clock.set(day(5))
    log.append(
        [
            renamed("I2", "X:XYZ", "X:XY2", day(5)),
            delisted("I1", "X:ABC", day(6)),
            changed("I2", "X:XY2", day(8), min_qty="0.001"),  # announced
        ]
    )
    clock.set(day(7))
    log.append(
        [
            retracted(wrong, day(7)),
            changed("I1", "X:ABC", day(2), sector="Tech"),  # late correction
            listed("I3", "X:ABC", day(7), tick_size="0.25"),  # ticker reuse
        ]
    )


def answers(catalog: Catalog) -> list[object]:
    """Return the catalog's answers over a grid: what must not change when the index goes."""
    found: list[object] = []
    for known_at in (None, day(4), day(6)):
        for as_of in INSTANTS:
            found += [catalog.get(s, as_of, known_at) for s in ("X:ABC", "X:XYZ", "X:XY2")]
            found.append(catalog.universe(as_of, known_at, include_inactive=True).to_pylist())
        found += [catalog.history(i, known_at=known_at).to_pylist() for i in ("I1", "I2", "I3")]
    return found


@pytest.mark.parametrize("value", NAIVE_INSTANTS, ids=repr)
@pytest.mark.parametrize("call", CALLS)
def test_naive_and_unitless_instants_are_refused_with_advice(
    log: EventLog, catalog: Catalog, call: str, value: object
) -> None:
    """A naive datetime or ISO string, or a bare number, is refused naming what to pass."""
    log.append([listed("I1", "X:ABC", day(1))])

    with pytest.raises((TypeError, ValueError), match="pass a timezone-aware datetime") as caught:
        CALLS[call](catalog, value)
    assert call.split()[-1] in str(caught.value)


@pytest.mark.parametrize("value", NAIVE_INSTANTS[:3], ids=repr)
def test_naive_instants_are_refused_by_an_empty_catalog_too(root: Path, value: object) -> None:
    """An empty catalog refuses a naive as_of as well, rather than answering None."""
    with pytest.raises((TypeError, ValueError), match="pass a timezone-aware datetime"):
        Catalog.open(root).get("X:ABC", value)


@pytest.mark.parametrize(
    "as_of",
    [
        "2024-01-03T00:00:00Z",
        "2024-01-03T02:00:00+02:00",
        datetime(2024, 1, 2, 19, tzinfo=timezone(timedelta(hours=-5))),
    ],
    ids=repr,
)
def test_aware_instants_in_any_offset_mean_the_same_utc_instant(
    log: EventLog, clock: Clock, catalog: Catalog, as_of: object
) -> None:
    """An aware datetime or an ISO string with an offset is the UTC instant it denotes."""
    log.append([listed("I1", "X:ABC", day(1))])
    clock.set(day(2))  # the change is recorded exactly at the instant under test
    log.append([changed("I1", "X:ABC", day(2), sector="Tech")])

    assert holder(catalog, "X:ABC", as_of) == holder(catalog, "X:ABC", day(2))  # type: ignore[arg-type]
    assert holder(catalog, "X:ABC", as_of).sector == "Tech"  # type: ignore[arg-type]
    assert holder(catalog, "X:ABC", day(3), known_at=as_of).sector == "Tech"  # type: ignore[arg-type]
    assert catalog.universe(as_of).equals(catalog.universe(day(2)))
    assert catalog.universe(day(3), as_of).equals(catalog.universe(day(3), day(2)))


def test_universe_and_history_carry_every_instrument_column(
    log: EventLog, catalog: Catalog
) -> None:
    """Both tables have the identity, lifecycle and every field column, typed as the schema says."""
    log.append([listed("I1", "X:ABC", day(1), tick_size="0.01", expiry=day(30))])
    wanted = [
        "instrument_id",
        "symbol",
        "active",
        "status",
        "valid_from",
        "known_since",
        "exchange",
        "base",
        "quote",
        "type",
        "subtype",
        "description",
        "sector",
        "industry",
        "country",
        "timezone",
        "session",
        "tick_size",
        "minmov",
        "pricescale",
        "lot_size",
        "min_qty",
        "min_notional",
        "contract_size",
        "listed_at",
        "expiry",
    ]

    universe, history = catalog.universe(day(2)), catalog.history("I1")
    assert set(wanted) <= set(universe.column_names)
    assert {*wanted, "valid_until"} <= set(history.column_names)
    for table in (universe, history):
        for name in table.column_names:
            assert table.schema.field(name).type == VERSION_SCHEMA.field(name).type, name
    assert universe.column("tick_size").type == pa.decimal128(38, 18)
    assert history.column("expiry").to_pylist() == [day(30)]


def test_an_open_catalog_sees_appends_by_another_writer(
    root: Path, clock: Clock, catalog: Catalog
) -> None:
    """Events appended through another EventLog show on the next query, and after refresh()."""
    assert catalog.get("X:ABC", day(5)) is None
    writer = EventLog.open(root, clock=clock)
    writer.append([listed("I1", "X:ABC", day(1), tick_size="0.01")])

    assert holder(catalog, "X:ABC", day(5)).tick_size == Decimal("0.01")
    assert table_rows(catalog.universe(day(5)), ("instrument_id",)) == [("I1",)]
    clock.set(day(2))
    EventLog.open(root, clock=clock).append([changed("I1", "X:ABC", day(2), sector="Tech")])
    catalog.refresh()
    assert holder(catalog, "X:ABC", day(5)).sector == "Tech"
    assert len(catalog.history("I1")) == 2
    assert_catalog_matches_fold(catalog, writer.events(), INSTANTS[:8], (None, day(1)))


def test_a_catalog_reopened_after_more_appends_is_up_to_date(
    root: Path, log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """An index persisted before later appends is caught up when a new Catalog opens it."""
    log.append([listed("I1", "X:ABC", day(1))])
    assert_catalog_matches_fold(catalog, log.events(), INSTANTS)
    record_history(log, clock)

    reopened = Catalog.open(root)
    assert holder(reopened, "X:ABC", day(8)).instrument_id == "I3"
    assert_catalog_matches_fold(reopened, log.events(), INSTANTS, (None, day(4)))


def test_deleting_the_index_changes_no_answer(
    root: Path, log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """The index under <root>/projections is a cache: without it, every answer is the same."""
    record_history(log, clock)
    before = answers(catalog)

    shutil.rmtree(root / "projections", ignore_errors=True)
    reopened = Catalog.open(root)
    assert answers(reopened) == before
    assert_catalog_matches_fold(reopened, log.events(), INSTANTS, (None, day(4), day(6)))


def test_a_damaged_index_is_rebuilt_from_the_log(
    root: Path, log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """Garbage in every index file changes no answer: the log is the truth."""
    record_history(log, clock)
    before = answers(catalog)

    for path in (root / "projections").rglob("*"):
        if path.is_file():
            path.write_bytes(b"not an index")
    reopened = Catalog.open(root)
    assert answers(reopened) == before
    assert_catalog_matches_fold(reopened, log.events(), INSTANTS, (None, day(4)))


@pytest.mark.parametrize("exists", [False, True], ids=["missing root", "empty root"])
def test_a_catalog_over_no_events_answers_nothing(root: Path, exists: bool) -> None:
    """Over a missing or empty root: get is None, tables are empty, history raises."""
    if exists:
        root.mkdir()
    catalog = Catalog.open(root)

    assert catalog.get("X:ABC", day(1)) is None
    for table in (catalog.universe(day(1)), catalog.universe(day(1), include_inactive=True)):
        assert table.num_rows == 0
        assert table.column_names == VERSION_SCHEMA.names
    assert catalog.changes(day(0), day(9)).num_rows == 0
    assert catalog.exchanges(day(1)) == {}
    with pytest.raises(UnknownSymbolError):
        catalog.history("X:ABC")


def test_changes_lists_events_effective_in_the_half_open_window_with_a_retracted_flag(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """changes(since, until) holds events with since <= effective_at < until, flagged if withdrawn.

    With known_at before the retraction was recorded, the target is not flagged and the
    retraction itself is not listed.
    """
    record_history(log, clock)
    events = log.events()

    for since, until, known_at in [
        (day(2), day(7), None),
        (day(0), day(30), None),
        (day(3), day(3) + MICROSECOND, None),
        (day(2), day(8), day(5)),
        (day(5), day(5), None),
    ]:
        assert_changes_matches(catalog, events, since, until, known_at)
    assert table_rows(catalog.changes(day(3), day(4)), ("kind", "retracted")) == [
        ("InstrumentChanged", True)
    ]
    assert table_rows(catalog.changes(day(3), day(4), day(6)), ("kind", "retracted")) == [
        ("InstrumentChanged", False)
    ]
    assert catalog.changes(day(7), day(8), day(6)).num_rows == 0
    assert sorted(table_rows(catalog.changes(day(7), day(8)), ("kind",))) == [
        ("EventRetracted",),
        ("InstrumentListed",),
    ]


@pytest.mark.parametrize("seen", [True, False], ids=["seen before", "first seen retracted"])
def test_history_of_an_instrument_with_no_known_version_is_empty(
    log: EventLog, clock: Clock, catalog: Catalog, seen: bool
) -> None:
    """history(id) of an instrument in the log is empty while none of its versions is known.

    That holds before its listing was recorded and after the listing's retraction, whether
    or not the catalog saw the listing before the retraction arrived.
    """
    clock.set(day(3))
    (listing,) = log.append([listed("I1", "X:ABC", day(1))])
    if seen:
        assert catalog.history("I1").num_rows == 1
    clock.set(day(5))
    log.append([retracted(listing, day(5))])

    for known_at in (day(3) - MICROSECOND, None):
        table = catalog.history("I1", known_at=known_at)
        assert table.num_rows == 0, known_at
        assert table.column_names == VERSION_SCHEMA.names
    assert catalog.history("I1", known_at=day(4)).num_rows == 1


def test_universe_tradable_keeps_only_trading_instruments(tmp_path: Path) -> None:
    """`tradable=True` leaves out halted instruments, which stay in the plain universe."""
    from eventstore import InstrumentChanged, InstrumentListed

    log = EventLog.open(tmp_path)
    t0 = "2024-01-01T00:00:00Z"
    log.append(
        [
            InstrumentListed(
                instrument_id=f"i{n}",
                symbol=f"X:S{n}",
                effective_at=t0,  # type: ignore[arg-type]
                source="t",
                status="trading",
            )
            for n in range(3)
        ]
        + [
            InstrumentChanged(  # type: ignore[list-item]
                instrument_id="i1",
                symbol="X:S1",
                effective_at="2024-02-01T00:00:00Z",  # type: ignore[arg-type]
                source="t",
                changes={"status": "halted", "venue_status": "HALT"},
            )
        ]
    )
    catalog = Catalog.open(tmp_path)
    later = "2024-03-01T00:00:00Z"
    assert catalog.universe(later).num_rows == 3
    tradable = catalog.universe(later, tradable=True)
    assert sorted(tradable["instrument_id"].to_pylist()) == ["i0", "i2"]
    assert catalog.get("X:S1", later).venue_status == "HALT"  # type: ignore[union-attr]
    assert catalog.universe("2024-01-15T00:00:00Z", tradable=True).num_rows == 3


def test_a_retracted_exchange_change_is_withdrawn(tmp_path: Path) -> None:
    """Retracting an exchange's change restores what it replaced, except as known before."""
    from eventstore import EventRetracted, ExchangeChanged, ExchangeListed

    log = EventLog.open(tmp_path)
    listed = ExchangeListed(
        exchange="X",
        effective_at="2024-01-01T00:00:00Z",  # type: ignore[arg-type]
        source="t",
        country="US",
    )
    changed = ExchangeChanged(
        exchange="X",
        effective_at="2024-02-01T00:00:00Z",  # type: ignore[arg-type]
        source="t",
        country="GB",
    )
    recorded = log.append([listed, changed])
    before = Catalog.open(tmp_path).exchanges("2024-06-01T00:00:00Z")["X"].country
    known = recorded[1].recorded_at
    log.append(
        [
            EventRetracted(
                instrument_id="exchange:X",
                symbol="X",
                effective_at="2024-03-01T00:00:00Z",  # type: ignore[arg-type]
                source="t",
                target=recorded[1].event_id,  # type: ignore[arg-type]
                reason="wrong country",
            )
        ]
    )
    for catalog in (Catalog.open(tmp_path), Catalog.open(tmp_path, persist=False)):
        assert catalog.exchanges("2024-06-01T00:00:00Z")["X"].country == "US"
        assert catalog.exchanges("2024-06-01T00:00:00Z", known_at=known)["X"].country == "GB"
    assert before == "GB"
