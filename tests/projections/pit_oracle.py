"""The oracle for projection tests: the fold's answers as comparable rows.

The events come from the shared builders (`tests/support/builders.py`).

Every expected answer here is computed with `projections.fold` from `log.events()`, never from
a `Catalog`, so the fast path is held to the pure fold and not to itself.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from eventstore import EventRetracted, InstrumentRenamed
from projections import VERSION_SCHEMA, Catalog, UnknownSymbolError, fold
from projections.catalog import END_OF_TIME

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    import pyarrow as pa

    from eventstore import Event
    from projections import Instrument

#: The columns of a version row that `universe` and `history` share (all but `valid_until`).
ROW_COLUMNS = tuple(name for name in VERSION_SCHEMA.names if name != "valid_until")
Row = tuple[Any, ...]


def holder(
    catalog: Catalog, symbol: str, as_of: datetime, known_at: datetime | None = None
) -> Instrument:
    """Return `catalog.get(...)`, failing the test when it is None."""
    found = catalog.get(symbol, as_of, known_at)
    assert found is not None, f"nobody holds {symbol!r} at {as_of} (known_at={known_at})"
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
    events: Sequence[Event], as_of: datetime, known_at: datetime | None, *, inactive: bool = False
) -> Counter[Row]:
    """Return the fold's universe at `as_of` as a multiset of rows."""
    found = fold.states(events, as_of, known_at).values()
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
    known_at: datetime | None,
) -> None:
    """Assert that `catalog.get` answers `fold.lookup` for each symbol."""
    for symbol in symbols:
        want = fold.lookup(events, symbol, as_of, known_at)
        got = catalog.get(symbol, as_of, known_at)
        assert got == want, f"get({symbol!r}, {as_of}, known_at={known_at})"


def assert_universe_matches(
    catalog: Catalog, events: Sequence[Event], as_of: datetime, known_at: datetime | None
) -> None:
    """Assert that `catalog.universe`, with and without inactive rows, is the fold's."""
    for inactive in (False, True):
        got = catalog.universe(as_of, known_at, include_inactive=inactive)
        want = expected_universe(events, as_of, known_at, inactive=inactive)
        assert Counter(table_rows(got)) == want, f"universe({as_of}, {known_at}, {inactive})"


def assert_history_matches(
    catalog: Catalog, events: Sequence[Event], instrument_id: str, known_at: datetime | None
) -> None:
    """Assert that `catalog.history(instrument_id)` is the fold's version list, in order.

    An instrument in the log with no version known at `known_at` has an empty history.
    """
    versions = fold.instrument_versions(stream(events, instrument_id), known_at)
    got = catalog.history(instrument_id, known_at=known_at)
    assert table_rows(got, HISTORY_COLUMNS) == expected_history(versions), (
        f"history({instrument_id!r}, known_at={known_at})"
    )


def assert_symbol_history_matches(
    catalog: Catalog,
    events: Sequence[Event],
    symbol: str,
    as_of: datetime | None,
    known_at: datetime | None,
) -> None:
    """Assert that `history(symbol)` is the history of the fold's holder, or raises if none."""
    holder = fold.lookup(events, symbol, as_of or END_OF_TIME, known_at)
    if holder is None:
        try:
            catalog.history(symbol, as_of=as_of, known_at=known_at)
        except UnknownSymbolError:
            return
        raise AssertionError(f"history({symbol!r}, as_of={as_of}) should raise")
    versions = fold.instrument_versions(stream(events, holder.instrument_id), known_at)
    got = catalog.history(symbol, as_of=as_of, known_at=known_at)
    assert table_rows(got, HISTORY_COLUMNS) == expected_history(versions)


def assert_changes_matches(
    catalog: Catalog,
    events: Sequence[Event],
    since: datetime,
    until: datetime,
    known_at: datetime | None,
) -> None:
    """Assert `changes` holds the events known at `known_at` effective in [since, until).

    Each is flagged `retracted` when a retraction known at `known_at` withdraws it.
    """
    known = [e for e in events if known_at is None or _recorded(e) <= known_at]
    withdrawn = {e.target for e in known if isinstance(e, EventRetracted)}
    want = Counter(
        (e.event_id, e.event_id in withdrawn) for e in known if since <= e.effective_at < until
    )
    got = catalog.changes(since, until, known_at)
    assert Counter(table_rows(got, ("event_id", "retracted"))) == want, (since, until, known_at)


def _recorded(event: Event) -> datetime:
    assert event.recorded_at is not None, "an event read from the log is recorded"
    return event.recorded_at


def assert_catalog_matches_fold(
    catalog: Catalog,
    events: Sequence[Event],
    instants: Iterable[datetime],
    known_ats: Iterable[datetime | None] = (None,),
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
