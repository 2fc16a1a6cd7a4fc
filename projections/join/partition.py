"""`PartitionJoin`: `pit_join` as a picklable function of Arrow batches, for any engine.

A distributed engine (Spark's `mapInArrow`, Dask's `map_partitions`, Ray Data's
`map_batches`, Polars' `map_batches`) ships the joiner to its workers; each worker process
opens the catalog once, read-only, and joins every partition it is given where it lies, with
no shuffle. No engine is imported here: the joiner maps Arrow tables or record batches to
Arrow with a schema it states in advance (`output_schema`); `pandas` and `polars` are thin
conversions imported only when called.

Each process answers from the catalog as it was when that joiner was first used there: the
index is loaded (or built) once and not caught up afterwards, so the partitions of one job
see one state of the log. A new `PartitionJoin` (or `refreshed()`) sees later commits.
"""

from __future__ import annotations

import copy
import inspect
import os
import threading
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from eventstore import EventLog, to_utc
from eventstore.encoding.schema import TIMESTAMP
from projections.catalog import Catalog
from projections.errors import InvalidTableError, NaiveColumnError, NoCatalogError
from projections.index.live import PitIndex
from projections.index.published import index_places
from projections.join.answers import Threads
from projections.join.inputs import read_table
from projections.join.queries import ANSWER_COLUMNS, Backtest, join_fields
from projections.model import VERSION_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

#: The keyword options of `pit_join` the joiner holds itself; any other is forwarded as is.
_OWN: Final = ("bars", "symbol", "ts", "fields", "known_at")
#: The types of the answer columns that do not come from an instrument field.
_ANSWER_TYPES: Final = {
    "instrument_id": pa.string(),
    "active": pa.bool_(),
    "valid_from": TIMESTAMP,
    "known_since": TIMESTAMP,
}
#: Catalogs a process keeps open at most (one per joiner in use; the oldest is dropped).
_KEPT: Final = 4


class _PinnedIndex(PitIndex):
    """An index that is loaded (or built) once, never saved, never caught up again."""

    def __init__(self, log: EventLog) -> None:
        super().__init__(log, *index_places(log))
        self._pinned = False

    def catch_up(self) -> None:
        if not self._pinned:
            super().catch_up()
            self._pinned = True

    def save(self) -> None:
        self._unsaved = 0  # read-only: the writer keeps the saved index current


_open: OrderedDict[tuple[str, str], Catalog] = OrderedDict()
_lock = threading.Lock()


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _open.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def _pit_join_options() -> frozenset[str]:
    found = inspect.signature(Backtest.pit_join).parameters
    return frozenset(name for name in found if name not in ("self", *_OWN))


class PartitionJoin:
    """`Catalog.open(root).pit_join(rows, symbol=, ts=, fields=, known_at=, **options)` per
    partition: picklable, opening the catalog once per process (read-only).

    `options` are `pit_join`'s other keyword options (`assume_utc=True`, ...), forwarded
    as given. `threads` is how many threads each call may join in (default 1: the engine
    runs the partitions in parallel). Call it on a table, a record batch or any Arrow
    stream; `batch`, `batches`, `pandas` and `polars` fit the engines' calling conventions.
    The constructor checks that `root` holds a catalog and that `pit_join` takes the
    arguments; it keeps nothing open.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        symbol: str = "symbol",
        ts: str = "ts",
        fields: Sequence[str] | None = None,
        known_at: object = None,
        storage_options: Mapping[str, str] | None = None,
        threads: int = 1,
        **options: Any,
    ) -> None:
        """Hold what each partition is joined with (see the class)."""
        log = EventLog.open(root, storage_options=storage_options)
        if log.refresh() < 0:
            raise NoCatalogError(log.root)
        unknown = sorted(set(options) - _pit_join_options())
        if unknown:
            raise TypeError(f"pit_join takes no option {', '.join(map(repr, unknown))}")
        self.root = log.root
        self.symbol, self.ts = symbol, ts
        self.fields = join_fields(fields)
        self.known_at = known_at
        if known_at is not None and known_at != "row":
            self.known_at = to_utc(known_at, "known_at")
        self.options = dict(options)
        self.storage_options = dict(storage_options) if storage_options else None
        self.threads = max(1, threads)
        #: Which open catalog this joiner uses in each process (its copies share it).
        self.token = uuid.uuid4().hex

    def __repr__(self) -> str:
        """Say what it joins."""
        said = f"fields={list(self.fields)}, known_at={self.known_at!r}"
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return (
            f"PartitionJoin({self.root!r}, symbol={self.symbol!r}, ts={self.ts!r}, {said}{extra})"
        )

    def refreshed(self) -> PartitionJoin:
        """Return the same joiner, answering from the log as it will be when next used."""
        fresh = copy.copy(self)
        fresh.token = uuid.uuid4().hex
        return fresh

    # -- what it answers with ------------------------------------------------------------

    def output_schema(self, input_schema: pa.Schema) -> pa.Schema:
        """Return the schema of the joined rows of input with `input_schema`, or raise the
        error the join would raise on such rows (a column missing or mistyped)."""
        added = self._added(input_schema.names)
        _check_text(input_schema.field(self.symbol).type, self.symbol)
        kind = input_schema.field(self.ts).type
        if not pa.types.is_timestamp(kind):
            raise InvalidTableError(f"column {self.ts!r}", f"is {kind}, not a timestamp")
        if kind.tz is None and not self.options.get("assume_utc", False):
            raise NaiveColumnError(self.ts, kind)
        return pa.schema([*input_schema, *added])

    def _added(self, names: Sequence[str]) -> list[pa.Field]:
        """Return the answer columns, once the key columns are there and none clashes."""
        for name in (self.symbol, self.ts):
            if name not in names:
                raise InvalidTableError(
                    f"column {name!r}", f"is not in the table (its columns: {', '.join(names)})"
                )
        added = (*self.fields, *ANSWER_COLUMNS)
        clash = sorted(set(added) & set(names))
        if clash:
            raise InvalidTableError(
                "table", f"already has the column(s) {', '.join(clash)} that the answer adds"
            )
        return [pa.field(name, self._type(name)) for name in added]

    def _type(self, name: str) -> pa.DataType:
        if name in _ANSWER_TYPES:
            return _ANSWER_TYPES[name]
        if name in VERSION_SCHEMA.names:
            return VERSION_SCHEMA.field(name).type
        empty = pa.table({self.symbol: pa.array([], pa.string()), self.ts: pa.array([], TIMESTAMP)})
        return self._join(empty).schema.field(name).type  # a field added since: ask the join

    # -- joining -------------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """Return this process's catalog for this joiner, opening it on first use."""
        key = (self.root, self.token)
        with _lock:
            found = _open.get(key)
            if found is None:
                log = EventLog.open(self.root, storage_options=self.storage_options)
                if log.refresh() < 0:
                    raise NoCatalogError(self.root)
                found = Catalog(log, threads=Threads(most=self.threads), index=_PinnedIndex(log))
                empty = pa.table({self.symbol: pa.array([], pa.string())})
                self._join_on(found, empty.append_column(self.ts, pa.array([], TIMESTAMP)))
                _open[key] = found  # loaded, and warmed for these options, under the lock
                while len(_open) > _KEPT:
                    _open.popitem(last=False)
            else:
                _open.move_to_end(key)
        return found

    def _join_on(self, catalog: Catalog, table: pa.Table) -> pa.Table:
        return catalog.pit_join(
            table,
            symbol=self.symbol,
            ts=self.ts,
            fields=self.fields,
            known_at=self.known_at,
            **self.options,
        )

    def _join(self, table: pa.Table) -> pa.Table:
        return self._join_on(self.catalog(), table)

    def __call__(self, rows: object) -> pa.Table:
        """Return `rows` (a table, a record batch, an Arrow stream) with the answer columns,
        in `output_schema(rows' schema)`."""
        table = read_table(rows, "rows")
        wanted = self.output_schema(table.schema)
        joined = self._join(table)
        return joined if joined.schema.equals(wanted) else joined.cast(wanted)

    def batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Return one record batch joined (Ray Data's and Arrow's one-batch-at-a-time)."""
        joined = self(batch).combine_chunks()
        found = joined.to_batches()
        if found:
            return found[0]
        return pa.record_batch([pa.array([], f.type) for f in joined.schema], schema=joined.schema)

    def batches(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Yield each batch joined (Spark's `mapInArrow` hands an iterator of batches)."""
        for batch in batches:
            yield from self(batch).to_batches()

    def pandas(self, frame: Any) -> Any:
        """Return a pandas DataFrame with the answer columns added (Dask's `map_partitions`).

        Only the symbol and timestamp columns go through Arrow; the frame's own columns and
        index are kept as they are, and the answer columns are Arrow-backed
        (`pd.ArrowDtype`: exact decimals, no Python object per cell).
        """
        import pandas as pd  # only when called: not a dependency

        self._added([str(name) for name in frame.columns])
        keys = pa.Table.from_pandas(frame[[self.symbol, self.ts]], preserve_index=False)
        joined = self(keys)
        added = {
            name: pd.Series(pd.arrays.ArrowExtensionArray(joined[name]), index=frame.index)
            for name in joined.column_names[2:]
        }
        return pd.concat([frame, pd.DataFrame(added, index=frame.index)], axis=1)

    def pandas_meta(self, frame: Any) -> Any:
        """Return an empty DataFrame shaped like `pandas(frame)` (Dask's `meta=`)."""
        import pandas as pd  # only when called: not a dependency

        added = {
            f.name: pd.Series(pd.arrays.ArrowExtensionArray(pa.array([], f.type)))
            for f in self._added([str(name) for name in frame.columns])
        }
        empty = pd.DataFrame(added).set_axis(frame.index[:0])
        return pd.concat([frame.iloc[:0], empty], axis=1)

    def polars(self, frame: Any) -> Any:
        """Return a Polars DataFrame joined (Polars' `LazyFrame.map_batches`)."""
        import polars as pl  # only when called: not a dependency

        return pl.DataFrame(self(frame))

    def polars_schema(self, frame: Any) -> Any:
        """Return the Polars schema of `polars(frame)`, for a Polars DataFrame or LazyFrame."""
        import polars as pl  # only when called: not a dependency

        empty = frame.head(0)
        empty = empty.collect() if isinstance(empty, pl.LazyFrame) else empty
        schema = self.output_schema(empty.to_arrow().schema)
        return pl.DataFrame(schema.empty_table()).schema


def _check_text(kind: pa.DataType, name: str) -> None:
    value = kind.value_type if pa.types.is_dictionary(kind) else kind
    text = pa.types.is_string(value) or pa.types.is_large_string(value)
    if not (text or getattr(pa.types, "is_string_view", lambda _: False)(value)):
        raise InvalidTableError(f"column {name!r}", f"is {kind}, not text")
