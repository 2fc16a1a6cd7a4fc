"""Turn log rows into `EventArrays`: dictionary-coded values, integer times, kind codes."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.codec import TIMESTAMP
from eventstore.events import normalized_decimal
from eventstore.instant import from_micros
from projections.builder import CHANGED, DELISTED, LISTED, RENAMED, STORE_FIELDS, EventArrays
from projections.model import VERSION_SCHEMA

#: Log columns the index reads.
BUILD_COLUMNS: Final = (
    "position",
    "event_id",
    "kind",
    "instrument_id",
    "symbol",
    "new_symbol",
    "effective_at",
    "recorded_at",
    "fields",
    "target",
    *STORE_FIELDS[1:],
)
_KINDS: Final = pa.array(
    ["InstrumentListed", "InstrumentChanged", "InstrumentDelisted", "InstrumentRenamed"]
)
_KIND_CODES: Final = (LISTED, CHANGED, DELISTED, RENAMED)


class Dictionary:
    """The distinct values of one field; code 0 is null. It only grows."""

    def __init__(self, type_: pa.DataType, values: pa.Array | None = None) -> None:
        """Start from `values` (whose first entry must be null) or from null alone."""
        self.values: pa.Array = values if values is not None else pa.array([None], type_)
        self._py: list[Any] = []
        self._codes: dict[Any, int] = {}

    def __len__(self) -> int:
        return len(self.values)

    def encode(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Return the codes of `column`'s values, adding the values not seen before."""
        codes = pc.index_in(column, value_set=self.values, skip_nulls=False)
        if codes.null_count:
            new = pc.unique(pc.filter(column, pc.is_null(codes)))
            if isinstance(new, pa.ChunkedArray):
                new = new.combine_chunks()
            self.values = pa.concat_arrays([self.values, new.cast(self.values.type)])
            codes = pc.index_in(column, value_set=self.values, skip_nulls=False)
        return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int32)

    def py(self) -> list[Any]:
        """Return the values as Python objects (normalized `Decimal`, UTC `datetime`)."""
        done = len(self._py)
        if done < len(self.values):
            self._py.extend(_to_python(self.values.slice(done)))
        return self._py

    def code_of(self, value: object) -> int | None:
        """Return the code of one value, or None if it was never seen."""
        values = self.py()
        done = len(self._codes)
        if done < len(values):
            self._codes.update(zip(values[done:], range(done, len(values)), strict=True))
        return self._codes.get(value)


def _to_python(values: pa.Array) -> list[Any]:
    kind = values.type
    if pa.types.is_decimal(kind):
        return [None if v is None else normalized_decimal(v) for v in values.to_pylist()]
    if pa.types.is_timestamp(kind):
        return [None if v is None else from_micros(v) for v in values.cast(pa.int64()).to_pylist()]
    found: list[Any] = values.to_pylist()
    return found


def field_types() -> dict[str, pa.DataType]:
    """Return the Arrow type of each stored field."""
    return {f: VERSION_SCHEMA.field(f).type for f in STORE_FIELDS}


def visible_rows(rows: pa.Table, known_at_us: int | None) -> pa.Table:
    """Return instrument events known at `known_at_us`, less retractions and their targets."""
    if known_at_us is not None:
        recorded = rows["recorded_at"].cast(pa.int64())
        rows = rows.filter(pc.less_equal(recorded, known_at_us))
    targets = rows.filter(pc.equal(rows["kind"], "EventRetracted"))["target"]
    keep = pc.is_in(rows["kind"], value_set=_KINDS)
    if len(targets):
        withdrawn = pc.is_in(rows["event_id"], value_set=targets.combine_chunks())
        keep = pc.and_(keep, pc.invert(withdrawn))
    return rows.filter(keep)


def _in_fields(fields: pa.ChunkedArray | pa.Array, n: int) -> dict[str, np.ndarray]:
    if isinstance(fields, pa.ChunkedArray):
        fields = fields.combine_chunks()
    flat = pc.list_flatten(fields)
    parents = pc.list_parent_indices(fields).to_numpy()
    found: dict[str, np.ndarray] = {}
    for name in STORE_FIELDS:
        mask = np.zeros(n, dtype=bool)
        mask[parents[np.asarray(pc.equal(flat, name).to_numpy(zero_copy_only=False), bool)]] = True
        found[name] = mask
    return found


def encode_events(
    rows: pa.Table, instruments: Dictionary, dictionaries: dict[str, Dictionary]
) -> EventArrays:
    """Return visible instrument event rows as `EventArrays` coded with the dictionaries."""
    n = rows.num_rows
    kind = np.asarray(pc.index_in(rows["kind"], value_set=_KINDS).to_numpy(False), np.int8)
    kind = np.asarray(_KIND_CODES, dtype=np.int8)[kind]
    sets = _in_fields(rows["fields"], n)
    sets["symbol"] = (kind == LISTED) | (kind == RENAMED)
    sets["status"] = sets["status"] | (kind == LISTED) | (kind == DELISTED)
    symbols = pc.if_else(
        pc.equal(rows["kind"], "InstrumentRenamed"), rows["new_symbol"], rows["symbol"]
    )
    codes = {"symbol": dictionaries["symbol"].encode(symbols)}
    for name in STORE_FIELDS[1:]:
        codes[name] = dictionaries[name].encode(rows[name])
    return EventArrays(
        inst=instruments.encode(rows["instrument_id"]),
        eff=_micros(rows["effective_at"]),
        pos=_int64(rows["position"]),
        rec=_micros(rows["recorded_at"]),
        kind=kind,
        active=kind == LISTED,
        sets=sets,
        codes=codes,
    )


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return _int64(column.cast(TIMESTAMP).cast(pa.int64()))


def _int64(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(column.to_numpy(), dtype=np.int64)
