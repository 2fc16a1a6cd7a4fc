"""The universe at an instant as a table: dictionary-encoded columns over the store's codes.

Each stored field comes back as an Arrow dictionary array whose indices are the version
rows' codes (one gather of whole rows, then each field's codes wrapped without a copy)
and whose dictionary is the field's own `Dictionary.values`: no value is copied or
converted. Code 0 is null, so it is masked. `Universes` keeps the last few answers of one
store until its rows change; every instant after the store's last version boundary has
the same answer (the present), kept under one key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.index.fold_arrays import OPEN_END, STORE_FIELDS
from projections.model import VERSION_SCHEMA

if TYPE_CHECKING:
    from projections.index.version_store import VersionStore

#: Answers kept per store.
KEPT: Final = 8
#: The schema of a universe: `VERSION_SCHEMA`, its stored fields dictionary-encoded.
UNIVERSE_SCHEMA: Final = pa.schema(
    [
        pa.field(f.name, pa.dictionary(pa.int32(), f.type), f.nullable)
        if f.name in STORE_FIELDS
        else f
        for f in VERSION_SCHEMA
    ]
)


def coded_table(store: VersionStore, rows: np.ndarray) -> pa.Table:
    """Return the versions at `rows` with every stored field dictionary-encoded."""
    arrays = store.envelope(rows)
    for name, codes in store.field_codes(rows).items():
        values = store.dictionaries[name].values
        if codes is None:  # never set in this catalog: every row null
            arrays[name] = pa.DictionaryArray.from_arrays(pa.nulls(len(rows), pa.int32()), values)
        else:
            arrays[name] = _coded(codes, values)
    return pa.Table.from_arrays([arrays[f.name] for f in UNIVERSE_SCHEMA], schema=UNIVERSE_SCHEMA)


def _coded(codes: np.ndarray, values: pa.Array) -> pa.DictionaryArray:
    """Wrap one field's codes (contiguous int32) as indices into its values, 0 masked."""
    size = len(codes)
    present = codes != 0
    nulls = size - int(np.count_nonzero(present))
    validity = None if nulls == 0 else pa.py_buffer(np.packbits(present, bitorder="little"))
    indices = pa.Array.from_buffers(
        pa.int32(), size, [validity, pa.py_buffer(codes)], null_count=nulls
    )
    return pa.DictionaryArray.from_arrays(indices, values, safe=False)


def matching(column: pa.ChunkedArray, value: object) -> pa.ChunkedArray:
    """Return where `column` (plain or dictionary-encoded) equals `value` (null: never)."""
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            wanted = pa.scalar(value, chunk.type.value_type)
            hits = pc.equal(chunk.dictionary, wanted).fill_null(False)
            chunks.append(hits.take(chunk.indices).fill_null(False))
        else:
            chunks.append(pc.equal(chunk, pa.scalar(value, chunk.type)).fill_null(False))
    return pa.chunked_array(chunks, pa.bool_())


class Universes:
    """The last answers of one view, by (instant, inactive included, coded), while its
    store is unchanged."""

    def __init__(self, store: VersionStore, extra: VersionStore | None = None) -> None:
        """Keep answers of a view of `store` (and of the `extra` store beside it, unchanging)."""
        self.store = store
        self.extra = extra
        self.generation = -1
        self.present_from = OPEN_END  # from this instant on, nothing changes any more
        self.kept: dict[tuple[int, bool, bool], pa.Table] = {}

    def key(self, at: int, include_inactive: bool, coded: bool) -> tuple[int, bool, bool]:
        """Return the key of an answer: instants in the present share one."""
        store = self.store
        if self.generation != store.generation:
            self.kept, self.generation = {}, store.generation
            extra = -1 if self.extra is None else _last_boundary(self.extra)
            self.present_from = max(_last_boundary(store), extra)
        return (min(at, self.present_from), include_inactive, coded)

    def get(self, key: tuple[int, bool, bool]) -> pa.Table | None:
        """Return the kept answer, if any."""
        return self.kept.get(key)

    def put(self, key: tuple[int, bool, bool], table: pa.Table) -> None:
        """Keep an answer (the oldest goes when there are too many)."""
        if len(self.kept) >= KEPT:
            self.kept.pop(next(iter(self.kept)))
        self.kept[key] = table


def _last_boundary(store: VersionStore) -> int:
    """Return the last instant at which any live version starts or ends."""
    n = store.n
    if n == 0:
        return -1
    alive = store.columns["alive"][:n]
    starts = store.columns["valid_from"][:n][alive]
    ends = store.columns["valid_until"][:n][alive]
    ends = ends[ends != OPEN_END]
    return int(max(starts.max(initial=-1), ends.max(initial=-1)))


__all__ = ["UNIVERSE_SCHEMA", "Universes", "coded_table", "matching"]
