"""`PartitionJoin`: per partition, under Dask (threads and processes) and Polars, the joiner
answers row by row what one `Catalog.pit_join` over the whole table answers."""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

import dask.dataframe as dd
import polars as pl
import pyarrow as pa
import pytest
from builders import changed, day
from dask.base import compute
from engine_history import UTC_US, bars, write_history

from projections import Catalog, NoCatalogError, PartitionJoin
from projections.errors import InvalidTableError, NaiveColumnError
from projections.join.queries import DEFAULT_FIELDS

if TYPE_CHECKING:
    from pathlib import Path

    from clock import Clock

    from eventstore import EventLog

#: The three modes of `known_at`: everything, an instant between commits, each row's time.
MODES: tuple[object, ...] = (None, day(7), "row")


@pytest.fixture
def history(log: EventLog, clock: Clock) -> EventLog:
    """The engine history (`engine_history`), written under `root`."""
    write_history(log, clock)
    return log


def one_process(root: Path, known_at: object, fields: list[str] | None = None) -> pa.Table:
    """Return the single-process join of all the bars."""
    return Catalog.open(root).pit_join(bars(), fields=fields, known_at=known_at)


def from_pandas(frame: Any, join: PartitionJoin) -> pa.Table:
    """Return a joined pandas frame as Arrow in the joiner's stated schema."""
    schema = join.output_schema(bars().schema)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


@pytest.mark.parametrize("known_at", MODES)
def test_the_joiner_answers_as_one_pit_join_in_its_stated_schema(
    history: EventLog, root: Path, known_at: object
) -> None:
    """Called on slices (tables and record batches), it equals the whole join, every field
    included, and its schema is the one `output_schema` states before any row is joined."""
    fields = [*DEFAULT_FIELDS, "known_since"]
    want = one_process(root, known_at, fields)
    join = PartitionJoin(root, fields=fields, known_at=known_at)
    rows = bars()

    tables = [join(rows.slice(begin, 50)) for begin in range(0, rows.num_rows, 50)]
    batches = [join.batch(b) for b in rows.to_batches(max_chunksize=64)]

    assert pa.concat_tables(tables) == want
    assert pa.Table.from_batches(batches) == want
    assert pa.Table.from_batches(list(join.batches(rows.to_batches(max_chunksize=40)))) == want
    assert want.schema.equals(join.output_schema(rows.schema))
    assert join.batch(rows.to_batches()[0].slice(0, 0)).schema.equals(want.schema)


def test_dask_on_threads_and_on_processes_answers_row_by_row(history: EventLog, root: Path) -> None:
    """`map_partitions` over five partitions, on two threads and on two processes, in the
    three modes of known_at: the same rows in the same order as one process."""
    frame = dd.from_pandas(bars().to_pandas(), npartitions=5)  # type: ignore[no-untyped-call]
    joins = [PartitionJoin(root, known_at=mode) for mode in MODES]
    joined = [frame.map_partitions(j.pandas, meta=j.pandas_meta(frame._meta)) for j in joins]

    on_threads = compute(*joined, scheduler="threads", num_workers=2)  # type: ignore[no-untyped-call]
    on_processes = compute(*joined, scheduler="processes", num_workers=2)  # type: ignore[no-untyped-call]

    every, pinned, strict = (one_process(root, mode) for mode in MODES)
    assert every != pinned != strict != every  # the three modes answer differently here
    for mode, join, threaded, processed in zip(MODES, joins, on_threads, on_processes, strict=True):
        want = one_process(root, mode)
        assert from_pandas(threaded, join) == want, mode
        assert from_pandas(processed, join) == want, mode


def test_polars_map_batches_on_a_lazy_frame_answers_as_one_process(
    history: EventLog, root: Path
) -> None:
    """A lazy frame's `map_batches` with the joiner and its stated Polars schema."""
    join = PartitionJoin(root, known_at="row")
    lazy = pl.DataFrame(bars()).lazy()

    got = lazy.map_batches(join.polars, schema=join.polars_schema(lazy)).collect()

    assert got.to_arrow().cast(join.output_schema(bars().schema)) == one_process(root, "row")


def test_a_copy_shares_its_catalog_and_answers_from_it_until_refreshed(
    history: EventLog, root: Path, clock: Clock
) -> None:
    """Pickling carries no open catalog; a process's copies share one, pinned to the log as
    first used; `refreshed()` sees the commits since."""
    join = PartitionJoin(root, fields=["lot_size"])
    rows = pa.table({"symbol": ["X:B"], "ts": pa.array([day(15)], UTC_US)})
    assert join(rows)["lot_size"].to_pylist() == [2]
    copy = pickle.loads(pickle.dumps(join))
    assert len(pickle.dumps(join)) < 2_000
    clock.set(day(20))
    history.append([changed("I-B", "X:B", day(14), lot_size=3)])

    assert copy.catalog() is join.catalog()
    assert copy(rows)["lot_size"].to_pylist() == [2]
    assert join.refreshed()(rows)["lot_size"].to_pylist() == [3]


def test_the_catalog_is_opened_read_only(history: EventLog, root: Path) -> None:
    """A joiner on a root whose index was never saved builds it in memory, saves nothing."""
    join = PartitionJoin(root)
    join(bars())
    assert not (root / "projections").exists()


@pytest.mark.parametrize(
    ("rows", "options", "error", "message"),
    [
        (pa.table({"symbol": ["X:A"]}), {}, InvalidTableError, r"^column 'ts' is not in the "),
        (
            pa.table({"symbol": ["X:A"], "ts": pa.array([day(2).replace(tzinfo=None)])}),
            {},
            NaiveColumnError,
            r"^column 'ts' is timestamp\[us\] without a time zone; pass assume_utc=True",
        ),
        (
            pa.table({"sym": ["X:A"], "ts": pa.array([day(2)], UTC_US)}),
            {"symbol": "sym", "fields": ["tick"]},
            InvalidTableError,
            r"^fields 'tick' unknown",
        ),
        (
            pa.table({"symbol": ["X:A"], "ts": pa.array([day(2)], UTC_US)}),
            {"asume_utc": True},
            TypeError,
            r"^pit_join takes no option 'asume_utc'$",
        ),
    ],
)
def test_bad_rows_and_options_fail_in_one_line(
    history: EventLog,
    root: Path,
    rows: pa.Table,
    options: dict[str, Any],
    error: type[Exception],
    message: str,
) -> None:
    """A missing column and a naive timestamp column (when the schema is stated and when
    rows are joined), an unknown field or option (at once): one line saying what is wrong."""

    def stated() -> None:
        PartitionJoin(root, **options).output_schema(rows.schema)

    with pytest.raises(error, match=message) as raised:
        stated()
    assert "\n" not in str(raised.value)
    if "symbol" not in options and "asume_utc" not in options:
        with pytest.raises(error, match=message):
            PartitionJoin(root)(rows)


def test_a_naive_column_read_as_utc_when_told(history: EventLog, root: Path) -> None:
    """`assume_utc=True` is forwarded to `pit_join`, and the stated schema follows it."""
    rows = pa.table({"symbol": ["X:A"], "ts": pa.array([day(2).replace(tzinfo=None)])})
    join = PartitionJoin(root, assume_utc=True, fields=["tick_size"])

    assert join(rows)["instrument_id"].to_pylist() == ["I-A"]
    assert join(rows).schema == join.output_schema(rows.schema)


def test_a_root_without_a_catalog_fails_in_one_line(tmp_path: Path) -> None:
    """A path with no log under it is refused when the joiner is made, saying so."""
    with pytest.raises(NoCatalogError, match=r"^no catalog at .*nowhere: its log") as raised:
        PartitionJoin(tmp_path / "nowhere")
    assert "\n" not in str(raised.value)
