"""`Dictionary`: the distinct values of one stored field, coded 0 (null), 1, 2, ...

Codes are given in the order values are first seen and never change. Looking a value up
by code reads it from the Arrow array (large text dictionaries are decoded value by value,
never converted whole); looking a code up by value goes through a `CodeMap` saved with
the snapshot for the dictionaries `get` and `history` search (symbols, instrument ids),
and through a Python dict, built on first use, for the others and for the values added
since the map was saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.model.events import normalized_decimal
from eventstore.model.instants import from_micros
from projections.index.lookup import CodeMap, Texts

#: Below this many values, encode through a Python dict: no hashing of the whole dictionary.
_SMALL: Final = 20_000
#: From this many values on, a text dictionary is read by code from its buffers...
LARGE: Final = 4_096
#: ... and searched through its saved map, until this many lookups have shown a process
#: that lives long enough to pay for Python objects of every value (faster from then on).
WARM: Final = 1_000


class Dictionary:
    """The distinct values of one field; code 0 is null. It only grows."""

    def __init__(
        self, type_: pa.DataType, values: pa.Array | None = None, codes: CodeMap | None = None
    ) -> None:
        """Start from `values` (whose first entry must be null) or from null alone.

        `codes` is the saved map of the first values' codes, if any (text values only).
        """
        self.values: pa.Array = values if values is not None else pa.array([None], type_)
        self.map = codes
        self._py: list[Any] = []
        self._codes: dict[Any, int] = {}  # with a map: only the values it does not cover
        self._instants: _LazyInstants | None = None
        self._texts: Texts | None = None
        self._asked = 0  # lookups by value through the map

    def __len__(self) -> int:
        return len(self.values)

    def encode(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Return the codes of `column`'s values, adding the values not seen before."""
        if len(column) < _SMALL and len(column) * 4 < len(self.values):
            return self._encode_few(column)
        # hash each row once (dictionary_encode), then only the distinct values against ours
        flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        encoded = pc.dictionary_encode(flat, null_encoding="mask")
        distinct = encoded.dictionary.cast(self.values.type)
        found = pc.index_in(distinct, value_set=self.values)
        mapping = np.array(pc.fill_null(found, -1).to_numpy(), dtype=np.int32)
        missing = mapping < 0
        if missing.any():
            mapping[missing] = np.arange(missing.sum(), dtype=np.int32) + len(self.values)
            added = distinct.filter(pa.array(missing))
            self.values = pa.concat_arrays([self.values, added])
        indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        mapping = np.append(mapping, np.int32(0))  # index -1 (a null) maps to code 0
        return np.asarray(mapping[indices], dtype=np.int32)

    def _encode_few(self, column: pa.Array | pa.ChunkedArray) -> np.ndarray:
        values = _to_python(
            column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        )
        known = {v: self._find(v) for v in dict.fromkeys(values)}
        new = [v for v, code in known.items() if code is None]
        if new:
            start = len(self.values)
            self.values = pa.concat_arrays([self.values, pa.array(new, self.values.type)])
            known.update(zip(new, range(start, start + len(new)), strict=True))
        return np.fromiter((known[v] for v in values), dtype=np.int32, count=len(values))

    def py(self) -> list[Any]:
        """Return the values as Python objects (normalized `Decimal`, UTC `datetime`)."""
        done = len(self._py)
        if done < len(self.values):
            self._py.extend(_to_python(self.values.slice(done)))
        return self._py

    def lookup(self, *, warm: bool = True) -> Sequence[Any]:
        """Return the values for lookups by code, converting none of them ahead of use.

        Unless `warm`, a large text dictionary is read from its buffers (nothing built).
        """
        if pa.types.is_timestamp(self.values.type):
            if self._instants is None or self._instants.size != len(self.values):
                self._instants = _LazyInstants(self.values)
            return self._instants
        if not warm and len(self.values) >= LARGE and self.values.type == pa.string():
            return self.texts()
        return self.py()

    def texts(self) -> Texts:
        """Return the values of a text dictionary by code, read from the array."""
        if self._texts is None or self._texts.size != len(self.values):
            self._texts = Texts(self.values)
        return self._texts

    def code_of(self, value: object) -> int | None:
        """Return the code of one value, or None if it was never seen."""
        if self.map is not None and self._asked <= WARM:
            self._asked += 1
            if self._asked > WARM:
                self._codes = {}  # from now on a dict of every value
        return self._find(value)

    def _find(self, value: object) -> int | None:
        if value is None:
            return 0
        covered = self.map.covered if self.map is not None and self._asked <= WARM else 0
        done = covered + len(self._codes)
        if done < len(self.values):
            added = self.py()[done:] if covered == 0 else _to_python(self.values.slice(done))
            self._codes.update(zip(added, range(done, done + len(added)), strict=True))
        found = self._codes.get(value)
        if found is None and covered and isinstance(value, str) and self.map is not None:
            return self.map.find(value, self.texts())
        return found

    def mapped(self) -> CodeMap:
        """Return a map of every value's code (this one's, extended), and keep it."""
        found = (self.map or CodeMap.empty()).extended(self.values)
        if self.map is None and self._codes:  # a dict of every value is built already: keep it
            self._asked = WARM + 1
        elif self._asked <= WARM:  # the dict holds the values the map did not cover: none now
            self._codes = {}
        self.map = found
        return found


class _LazyInstants(Sequence[Any]):
    """Timestamp values by code, each converted to a UTC datetime when first asked for."""

    def __init__(self, values: pa.Array) -> None:
        self.micros = np.asarray(values.cast(pa.int64()).fill_null(0).to_numpy(), dtype=np.int64)
        self.valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        self.size = len(values)
        self._done: dict[int, Any] = {}

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, code: Any) -> Any:
        found = self._done.get(code)
        if found is None and self.valid[code]:
            found = self._done[code] = from_micros(int(self.micros[code]))
        return found


def _to_python(values: pa.Array) -> list[Any]:
    kind = values.type
    if pa.types.is_decimal(kind):
        return [None if v is None else normalized_decimal(v) for v in values.to_pylist()]
    if pa.types.is_timestamp(kind):
        return [None if v is None else from_micros(v) for v in values.cast(pa.int64()).to_pylist()]
    found: list[Any] = values.to_pylist()
    return found


__all__ = ["LARGE", "WARM", "Dictionary"]
