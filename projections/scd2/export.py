"""The SCD2 interchange layout: one row per version, as backtesters of the older pattern read.

`symbols` has `instrument_id symbol active status valid_from valid_until updated_at` and every
instrument field; `exchanges` has `exchange valid_from valid_until updated_at active` and the
exchange fields. All instants are UTC. `valid_until` of a current version is 9999-12-31 (the
older pattern's far end, so `valid_from <= T < valid_until` works unchanged); `updated_at` is
when the version became knowable (its `known_since`, the latest `observed_at` of its events).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import write_deltalake

from eventstore.encoding.schema import TIMESTAMP
from eventstore.log.storage import failing
from eventstore.model.events import EXCHANGE_FIELDS
from eventstore.model.instants import to_micros
from eventstore.model.kinds import Subject, classes_of
from projections import fold
from projections.knowledge import EVERYTHING, Knowledge
from projections.model import FIELDS, VERSION_SCHEMA

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from eventstore.model.events import Event
    from projections.index.version_store import VersionStore

#: The far end of a current version.
OPEN_UNTIL: Final = datetime(9999, 12, 31, tzinfo=UTC)
_OPEN_US: Final = to_micros(OPEN_UNTIL)
_LEAD: Final = ("instrument_id", "symbol", "active", "status", "valid_from", "valid_until")
#: Columns of `symbols.parquet`, in order.
SYMBOLS_SCHEMA: Final = pa.schema(
    [
        *(VERSION_SCHEMA.field(name) for name in _LEAD),
        pa.field("updated_at", TIMESTAMP, nullable=False),
        *(VERSION_SCHEMA.field(name) for name in FIELDS),
    ]
)
#: Columns of `exchanges.parquet`, in order.
EXCHANGES_SCHEMA: Final = pa.schema(
    [
        pa.field("exchange", pa.string(), nullable=False),
        pa.field("active", pa.bool_(), nullable=False),
        pa.field("valid_from", TIMESTAMP, nullable=False),
        pa.field("valid_until", TIMESTAMP, nullable=False),
        pa.field("updated_at", TIMESTAMP, nullable=False),
        pa.field("country", pa.string()),
        pa.field("timezone", pa.string()),
        pa.field("is_crypto", pa.bool_()),
        pa.field("description", pa.string()),
    ]
)


def live_rows(store: VersionStore) -> np.ndarray:
    """Return the rows of every version in the store, instrument by instrument, oldest first."""
    codes = np.flatnonzero(store.count[: len(store.first)] > 0)
    counts = store.count[codes]
    starts = np.repeat(store.first[codes], counts)
    within = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(counts) - counts, counts
    )
    return starts + within


def symbols_table(store: VersionStore, skip: frozenset[int] = frozenset()) -> pa.Table:
    """Return the versions of `store` (less the instruments in `skip`) in the SCD2 layout."""
    rows = live_rows(store)
    if skip:
        rows = rows[~np.isin(store.columns["inst"][rows], list(skip))]
    versions = store.table(rows)
    until = pc.fill_null(versions["valid_until"], pa.scalar(OPEN_UNTIL, TIMESTAMP))
    versions = versions.set_column(
        versions.schema.get_field_index("valid_until"), "valid_until", until
    )
    versions = versions.rename_columns(
        ["updated_at" if n == "known_since" else n for n in versions.column_names]
    )
    return versions.select(SYMBOLS_SCHEMA.names).cast(SYMBOLS_SCHEMA)


def exchanges_table(events: Sequence[Event], known: Knowledge = EVERYTHING) -> pa.Table:
    """Return every version of every exchange in the SCD2 layout (exchanges stay active)."""
    relevant = [e for e in events if isinstance(e, classes_of(Subject.EXCHANGE))]
    rows: list[dict[str, Any]] = []
    for at in sorted({e.effective_at for e in relevant}):
        for exchange in fold.exchanges(events, at, known.known_at, known.recorded_by).values():
            if exchange.valid_from == at:
                rows.append(
                    {
                        "exchange": exchange.exchange,
                        "active": True,
                        "valid_from": exchange.valid_from,
                        "updated_at": exchange.known_since,
                        **{f: getattr(exchange, f) for f in EXCHANGE_FIELDS},
                    }
                )
    rows.sort(key=lambda r: (r["exchange"], r["valid_from"]))
    for number, row in enumerate(rows):
        after = rows[number + 1] if number + 1 < len(rows) else None
        same = after is not None and after["exchange"] == row["exchange"]
        row["valid_until"] = after["valid_from"] if same and after else OPEN_UNTIL
    return pa.Table.from_pylist(rows, schema=EXCHANGES_SCHEMA)


def is_open(until: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return, per row, whether a `valid_until` means "still current" (null or 9999-12-31)."""
    micros = until.cast(TIMESTAMP).cast(pa.int64()).fill_null(_OPEN_US)
    return np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.int64) >= _OPEN_US


def write_export(folder: Path, tables: Mapping[str, pa.Table], delta: bool) -> list[str]:
    """Write each table as `<name>.parquet` under `folder` (and, with `delta`, as the Delta
    table `delta/<name>`, its contents replaced); return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in tables.items():
        path = folder / f"{name}.parquet"
        pq.write_table(table, path)
        written.append(str(path))
        if delta:
            uri = str(folder / "delta" / name)
            with failing(uri, "writing the Delta table"):
                write_deltalake(uri, table, mode="overwrite", schema_mode="overwrite")
            written.append(uri)
    return written
