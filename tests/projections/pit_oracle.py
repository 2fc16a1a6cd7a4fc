"""The oracle for projection tests: the fold's answers as comparable rows.

The events come from the shared builders (`tests/support/builders.py`).

Every expected answer here is computed with `projections.fold` from `log.events()`, never from
a `Catalog`, so the fast path is held to the pure fold and not to itself. Knowledge is a
`Known` pair (`known_at` bounds observed_at, `recorded_by` bounds recorded_at); a bare
instant or None stands for `Known(known_at=it)`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from eventstore import EventRetracted, InstrumentRenamed
from projections import VERSION_SCHEMA, Catalog, UnknownSymbolError, fold
from projections.catalog import END_OF_TIME

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pyarrow as pa

    from eventstore import Event
    from projections import Instrument

#: The columns of a version row that `universe` and `history` share (all but `valid_until`).
ROW_COLUMNS = tuple(name for name in VERSION_SCHEMA.names if name != "valid_until")
Row = tuple[Any, ...]


class Known(NamedTuple):
    """The two knowledge bounds of a query (None: no bound)."""

    known_at: datetime | None = None
    recorded_by: datetime | None = None


#: What the oracle's functions take as knowledge.
Knows = Known | datetime | None


def knows(known: Knows) -> Known:
    """Return `known` as a `Known` pair (an instant or None bounds `known_at` alone)."""
    return known if isinstance(known, Known) else Known(known_at=known)


def admitted(events: Iterable[Event], known: Knows) -> list[Event]:
    """Return the events observed by `known_at` and recorded by `recorded_by`."""
    k = knows(known)
    return [
        e
        for e in events
        if (k.known_at is None or _observed(e) <= k.known_at)
        and (k.recorded_by is None or _recorded(e) <= k.recorded_by)
    ]


def holder(catalog: Catalog, symbol: str, as_of: datetime, known_at: Knows = None) -> Instrument:
    """Return `catalog.get(...)`, failing the test when it is None."""
    k = knows(known_at)
    found = catalog.get(symbol, as_of, k.known_at, k.recorded_by)
    assert found is not None, f"nobody holds {symbol!r} at {as_of} ({k})"
    return found


def instrument_row(state: Instrument) -> Row:
    """Return a fold state as a row of `ROW_COLUMNS`."""
    return tuple(getattr(state, name) for name in ROW_COLUMNS)


def table_rows(table: pa.Table, columns: Sequence[str] = ROW_COLUMNS) -> list[Row]:
    """Return the rows of a version table as tuples of `columns` (decimals compare by value)."""
    return [tuple(row[name] for name in columns) for row in table.select(columns).to_pylist()]


def stream(events: Iterable[Event], instrument_id: str) -> list[Event]:
    """Return the events of one instrument's stream."""
    return [e for e in events if e.instrument_id == instrument_id]


def expected_universe(
    events: Sequence[Event], as_of: datetime, known_at: Knows, *, inactive: bool = False
) -> Counter[Row]:
    """Return the fold's universe at `as_of` as a multiset of rows."""
    found = fold.states(events, as_of, *knows(known_at)).values()
    return Counter(instrument_row(s) for s in found if inactive or s.active)


def expected_history(versions: Sequence[Instrument]) -> list[Row]:
    """Return the fold's versions as history rows: each row's `valid_until` is the next start."""
    ends: list[datetime | None] = [v.valid_from for v in versions[1:]]
    return [(*instrument_row(v), end) for v, end in zip(versions, [*ends, None], strict=False)]


HISTORY_COLUMNS = (*ROW_COLUMNS, "valid_until")


def assert_get_matches(
    catalog: Catalog,
    events: Sequence[Event],
    symbols: Iterable[str],
    as_of: datetime,
    known_at: Knows,
) -> None:
    """Assert that `catalog.get` answers `fold.lookup` for each symbol."""
    k = knows(known_at)
    for symbol in symbols:
        want = fold.lookup(events, symbol, as_of, *k)
        got = catalog.get(symbol, as_of, k.known_at, k.recorded_by)
        assert got == want, f"get({symbol!r}, {as_of}, {k})"


def assert_universe_matches(
    catalog: Catalog, events: Sequence[Event], as_of: datetime, known_at: Knows
) -> None:
    """Assert that `catalog.universe`, with and without inactive rows, is the fold's."""
    k = knows(known_at)
    for inactive in (False, True):
        got = catalog.universe(
            as_of, k.known_at, include_inactive=inactive, recorded_by=k.recorded_by
        )
        want = expected_universe(events, as_of, known_at, inactive=inactive)
        assert Counter(table_rows(got)) == want, f"universe({as_of}, {known_at}, {inactive})"


def assert_history_matches(
    catalog: Catalog, events: Sequence[Event], instrument_id: str, known_at: Knows
) -> None:
    """Assert that `catalog.history(instrument_id)` is the fold's version list, in order.

    An instrument in the log with no version known at `known_at` has an empty history.
    """
    k = knows(known_at)
    versions = fold.instrument_versions(stream(events, instrument_id), *k)
    got = catalog.history(instrument_id, known_at=k.known_at, recorded_by=k.recorded_by)
    assert table_rows(got, HISTORY_COLUMNS) == expected_history(versions), (
        f"history({instrument_id!r}, {k})"
    )


def assert_symbol_history_matches(
    catalog: Catalog,
    events: Sequence[Event],
    symbol: str,
    as_of: datetime | None,
    known_at: Knows,
) -> None:
    """Assert that `history(symbol)` is the history of the fold's holder, or raises if none."""
    k = knows(known_at)
    holder = fold.lookup(events, symbol, as_of or END_OF_TIME, *k)
    if holder is None:
        try:
            catalog.history(symbol, as_of=as_of, known_at=k.known_at, recorded_by=k.recorded_by)
        except UnknownSymbolError:
            return
        raise AssertionError(f"history({symbol!r}, as_of={as_of}) should raise")
    versions = fold.instrument_versions(stream(events, holder.instrument_id), *k)
    got = catalog.history(symbol, as_of=as_of, known_at=k.known_at, recorded_by=k.recorded_by)
    assert table_rows(got, HISTORY_COLUMNS) == expected_history(versions)


def assert_changes_matches(
    catalog: Catalog,
    events: Sequence[Event],
    since: datetime,
    until: datetime,
    known_at: Knows,
) -> None:
    """Assert `changes` holds the events `known_at` admits effective in [since, until).

    Each is flagged `retracted` when a retraction it admits withdraws it.
    """
    k = knows(known_at)
    known = admitted(events, k)
    withdrawn = {e.target for e in known if isinstance(e, EventRetracted)}
    want = Counter(
        (e.event_id, e.event_id in withdrawn) for e in known if since <= e.effective_at < until
    )
    got = catalog.changes(since, until, k.known_at, k.recorded_by)
    assert Counter(table_rows(got, ("event_id", "retracted"))) == want, (since, until, k)


def _recorded(event: Event) -> datetime:
    assert event.recorded_at is not None, "an event read from the log is recorded"
    return event.recorded_at


def _observed(event: Event) -> datetime:
    assert event.observed_at is not None, "an event read from the log says when it was observed"
    assert event.observed_at <= _recorded(event), "never observed after it was recorded"
    return event.observed_at


def assert_catalog_matches_fold(
    catalog: Catalog,
    events: Sequence[Event],
    instants: Iterable[datetime],
    known_ats: Iterable[Knows] = (None,),
) -> None:
    """Assert get, universe and history agree with the fold at every instant and known_at."""
    symbols = sorted({e.symbol for e in events} | _new_symbols(events))
    instrument_ids = sorted({e.instrument_id for e in events})
    for known_at in known_ats:
        for as_of in instants:
            assert_get_matches(catalog, events, symbols, as_of, known_at)
            assert_universe_matches(catalog, events, as_of, known_at)
        for instrument_id in instrument_ids:
            assert_history_matches(catalog, events, instrument_id, known_at)


def _new_symbols(events: Iterable[Event]) -> set[str]:
    return {e.new_symbol for e in events if isinstance(e, InstrumentRenamed)}
