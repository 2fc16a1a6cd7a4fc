"""`Catalog.pit_join` scenarios: inputs it accepts, inputs it refuses, and what rows see."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest
from builders import changed, day, delisted, listed, renamed

from projections import Catalog
from projections.errors import InvalidTableError, NaiveColumnError
from projections.join.answers import Threads

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

    from clock import Clock

    from eventstore import EventLog

UTC_US = pa.timestamp("us", tz="UTC")


class StreamOnly:
    """An object that speaks only the Arrow PyCapsule stream interface (like Polars, DuckDB)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.table.__arrow_c_stream__(requested_schema)


def rows(
    symbols: Sequence[str | None], instants: Sequence[datetime | None], kind: Any = UTC_US
) -> pa.Table:
    """Return a table of (symbol, ts) rows."""
    return pa.table({"symbol": pa.array(symbols, pa.string()), "ts": pa.array(instants, kind)})


@pytest.fixture
def history(log: EventLog, clock: Clock) -> EventLog:
    """A reused ticker and a rename: I1 holds X:A until its delisting on day 5, I2 lists X:A
    on day 8 and renames to X:B on day 12; I1's tick size changes on day 3."""
    log.append(
        [
            listed("I1", "X:A", day(1), tick_size=Decimal("0.01")),
            changed("I1", "X:A", day(3), tick_size=Decimal("0.1")),
            delisted("I1", "X:A", day(5)),
            listed("I2", "X:A", day(8), tick_size=Decimal("1")),
            renamed("I2", "X:A", "X:B", day(12)),
        ]
    )
    return log


def test_rows_see_the_holder_of_their_symbol_at_their_time(
    history: EventLog, catalog: Catalog
) -> None:
    """Each row gets the version in force at its timestamp, through delisting, reuse and rename."""
    table = rows(
        ["X:A"] * 6 + ["X:B", "X:B"],
        [day(0), day(2), day(4), day(6), day(9), day(13), day(9), day(13)],
    )

    joined = catalog.pit_join(table, fields=["tick_size"]).to_pydict()

    assert joined["instrument_id"] == [None, "I1", "I1", "I1", "I2", "I1", None, "I2"]
    assert joined["active"] == [False, True, True, False, True, False, False, True]
    assert joined["tick_size"] == [
        None,
        Decimal("0.01"),
        Decimal("0.1"),
        Decimal("0.1"),
        1,
        Decimal("0.1"),
        None,
        1,
    ]
    assert joined["valid_from"] == [None, day(1), day(3), day(5), day(8), day(5), None, day(12)]


def test_unknown_symbols_and_null_cells_get_nulls_and_inactive(
    history: EventLog, catalog: Catalog
) -> None:
    """A symbol nobody held, a null symbol and a null timestamp raise nothing: nulls, inactive."""
    joined = catalog.pit_join(rows(["X:NOPE", None, "X:A"], [day(2), day(2), None])).to_pydict()

    assert joined["instrument_id"] == [None, None, None]
    assert joined["active"] == [False, False, False]


def test_any_unit_and_time_zone_reads_the_same_instant(history: EventLog, catalog: Catalog) -> None:
    """Seconds in Tokyo time and nanoseconds in New York time name the same instants as UTC us."""
    instants = [day(2), day(4)]
    want = catalog.pit_join(rows(["X:A", "X:A"], instants), fields=["tick_size"])
    for kind in (pa.timestamp("s", tz="Asia/Tokyo"), pa.timestamp("ns", tz="America/New_York")):
        got = catalog.pit_join(rows(["X:A", "X:A"], instants, kind), fields=["tick_size"])
        assert got.drop_columns(["ts"]) == want.drop_columns(["ts"])


def test_nanoseconds_before_a_listing_do_not_see_it(history: EventLog, catalog: Catalog) -> None:
    """A row one nanosecond before the listing sees nothing; one 500 ns after sees it."""
    listing_ns = int((day(1) - day(0)).total_seconds() * 1e9) + int(day(0).timestamp()) * 10**9
    table = pa.table(
        {
            "symbol": ["X:A", "X:A"],
            "ts": pa.array([listing_ns - 1, listing_ns + 500], pa.int64()).cast(
                pa.timestamp("ns", tz="UTC")
            ),
        }
    )

    assert catalog.pit_join(table).column("active").to_pylist() == [False, True]


def test_naive_timestamps_are_refused_unless_assumed_utc(
    history: EventLog, catalog: Catalog
) -> None:
    """A timestamp column without a time zone raises NaiveColumnError; assume_utc reads UTC."""
    naive = rows(["X:A"], [day(2).replace(tzinfo=None)], pa.timestamp("us"))

    with pytest.raises(NaiveColumnError, match="assume_utc=True"):
        catalog.pit_join(naive)
    joined = catalog.pit_join(naive, assume_utc=True)
    assert joined.column("instrument_id").to_pylist() == ["I1"]


@pytest.mark.parametrize(
    ("table", "options", "message"),
    [
        (pa.table({"symbol": ["X:A"]}), {}, "'ts' is not in the table"),
        (pa.table({"symbol": ["X:A"], "ts": ["2024-01-02T00:00:00Z"]}), {}, "not a timestamp"),
        (pa.table({"symbol": [1], "ts": pa.array([day(2)], UTC_US)}), {}, "not text"),
        (rows(["X:A"], [day(2)]).append_column("active", pa.array([True])), {}, "already has"),
        (rows(["X:A"], [day(2)]), {"fields": ["tick"]}, "'tick' unknown"),
        ([1, 2, 3], {}, "cannot be read as an Arrow table"),
    ],
)
def test_unreadable_tables_are_refused_with_a_clear_error(
    history: EventLog, catalog: Catalog, table: Any, options: dict[str, Any], message: str
) -> None:
    """A missing or mistyped column, a clash with an added column, an unknown field: refused."""
    with pytest.raises(InvalidTableError, match=message):
        catalog.pit_join(table, **options)


def test_arrow_streams_are_read_and_the_row_order_kept(history: EventLog, catalog: Catalog) -> None:
    """An object with only `__arrow_c_stream__` is joined; input columns and order are kept."""
    table = rows(["X:B", "X:A", "X:A"], [day(13), day(2), day(0)]).append_column(
        "close", pa.array([1.5, 2.5, 3.5])
    )

    joined = catalog.pit_join(StreamOnly(table), symbol="symbol", ts="ts", fields=[])

    assert joined.select(["symbol", "ts", "close"]) == table
    assert joined.column("instrument_id").to_pylist() == ["I2", "I1", None]
    assert joined.column_names == ["symbol", "ts", "close", "instrument_id", "active", "valid_from"]


def test_known_at_row_never_sees_a_fact_recorded_after_the_row(
    log: EventLog, clock: Clock, catalog: Catalog
) -> None:
    """A correction recorded on day 6 for day 2 shows from day 2 by default, per row from day 6."""
    clock.set(day(0))
    log.append([listed("I1", "X:A", day(1), tick_size=Decimal("0.01"))])
    clock.set(day(6))
    log.append([changed("I1", "X:A", day(2), tick_size=Decimal("0.5"))])
    table = rows(["X:A"] * 3, [day(3), day(6) - timedelta(microseconds=1), day(6)])

    best = catalog.pit_join(table, fields=["tick_size"]).column("tick_size").to_pylist()
    strict = catalog.pit_join(table, fields=["tick_size"], known_at="row")
    pinned = catalog.pit_join(table, fields=["tick_size"], known_at=day(5))

    assert best == [Decimal("0.5")] * 3
    assert strict.column("tick_size").to_pylist() == [
        Decimal("0.01"),
        Decimal("0.01"),
        Decimal("0.5"),
    ]
    assert pinned.column("tick_size").to_pylist() == [Decimal("0.01")] * 3


def test_slices_joined_in_threads_answer_as_one_pass(
    history: EventLog, clock: Clock, catalog: Catalog, root: Path
) -> None:
    """Cut into one slice per thread, the join returns the same columns, in the same order,
    with or without rows that known_at="row" refolds (a correction recorded late)."""
    clock.set(day(20))
    history.append([changed("I1", "X:A", day(2), lot_size=Decimal(1))])
    instants = [day(n, h) for n in range(15) for h in (0, 12)]
    table = rows(["X:A", "X:B", "X:NOPE"] * len(instants), instants * 3)
    whole = [catalog.pit_join(table, known_at=mode) for mode in (None, "row")]

    threaded = Catalog.open(root, threads=Threads(most=3, rows_each=7))
    sliced = [threaded.pit_join(table, known_at=mode) for mode in (None, "row")]

    assert sliced[0].column("instrument_id").num_chunks == 3
    assert sliced == whole
    assert whole[0] != whole[1]  # some rows were refolded


def test_dictionary_coded_symbols_match_like_plain_text(
    history: EventLog, catalog: Catalog
) -> None:
    """A dictionary column (unsigned indices, large strings, nulls) answers as plain text does."""
    plain = rows(["X:A", None, "X:B", "X:A", "X:NOPE"], [day(2), day(2), day(13), day(13), day(2)])
    coded = pa.DictionaryArray.from_arrays(
        pa.array([0, None, 1, 0, 2], pa.uint32()),
        pa.array(["X:A", "X:B", "X:NOPE"], pa.large_string()),
    )
    table = plain.set_column(0, "symbol", coded)

    got = catalog.pit_join(table).drop_columns(["symbol"])

    assert got == catalog.pit_join(plain).drop_columns(["symbol"])
