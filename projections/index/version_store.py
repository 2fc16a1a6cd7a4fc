"""`VersionStore`: every instrument's versions as columns, with the lookups the catalog needs.

Rows are appended in blocks; replacing an instrument's versions appends a new block and
marks the old rows dead, so an update costs what it touches, not the whole catalog. Each
instrument's live rows are contiguous and sorted by `valid_from`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from eventstore.encoding.schema import TIMESTAMP
from projections.index import holding
from projections.index.dictionary import Dictionary
from projections.index.encoding import field_types
from projections.index.fold_arrays import OPEN_END, STORE_FIELDS, VersionArrays
from projections.index.holders import holder_groups
from projections.join.pit_join import last_at_or_before
from projections.model import VERSION_SCHEMA, Instrument

if TYPE_CHECKING:
    from collections.abc import Iterable

#: The columns a store adopts from `VersionArrays`, and its own `alive` flag.
_FROM_VERSIONS = ("inst", "valid_from", "valid_until", "known_since", "recorded_since", "active")
_SCALARS = (*_FROM_VERSIONS, "alive")
_DTYPES: dict[str, Any] = {
    "inst": np.int32,
    "valid_from": np.int64,
    "valid_until": np.int64,
    "known_since": np.int64,
    "recorded_since": np.int64,
    "active": bool,
    "alive": bool,
}


class VersionStore:
    """Columns of versions plus per-instrument ranges and per-symbol holders."""

    def __init__(self) -> None:
        """Start empty."""
        self.instruments = Dictionary(pa.string())
        self.dictionaries = {name: Dictionary(kind) for name, kind in field_types().items()}
        self.n = 0
        self.columns: dict[str, np.ndarray] = {k: np.empty(0, _DTYPES[k]) for k in _SCALARS}
        self.generation = 0  # bumped whenever rows or dictionaries may have changed
        self.set_matrix(np.zeros((0, len(STORE_FIELDS)), dtype=np.int32))
        self.first = np.zeros(1, dtype=np.int64)  # by instrument code
        self.count = np.zeros(1, dtype=np.int64)
        self.holder_offsets = np.zeros(1, dtype=np.int64)  # by symbol code: CSR of holders
        self.holder_insts = np.empty(0, dtype=np.int32)
        self.recent_holders: dict[int, set[int]] = {}
        self.dead = 0
        self.reader = holding.Reader(self)
        #: What the PIT join derived from the holders, and the generation it was derived at.
        self.join_holders: tuple[int, object] | None = None
        #: What `projections.names` derived from the versions (a `NameDirectory`).
        self.names: object | None = None
        self.compactions = 0  # how many times the rows were renumbered

    @classmethod
    def from_arrays(
        cls,
        *,
        instruments: Dictionary,
        dictionaries: dict[str, Dictionary],
        matrix: np.ndarray,
        columns: dict[str, np.ndarray],
        n: int,
        directory: tuple[np.ndarray, np.ndarray],
        holders: tuple[np.ndarray, np.ndarray],
    ) -> VersionStore:
        """Return a store over saved arrays: `n` versions, their codes and columns.

        `directory` is (first, count) by instrument code and `holders` the per-symbol CSR.
        Rows no longer alive are counted from the `alive` column. Arrays shorter than `n`
        raise `ValueError`.
        """
        if matrix.shape[1] != len(STORE_FIELDS) or set(columns) != set(_SCALARS):
            raise ValueError("the arrays are not those of a version store")
        if any(len(v) < n for v in (matrix, *columns.values())):
            raise ValueError("arrays shorter than the header says")
        store = cls()
        store.instruments = instruments
        store.dictionaries.update(dictionaries)
        store.set_matrix(matrix)
        store.columns = dict(columns)
        store.n = n
        store.dead = n - int(np.count_nonzero(columns["alive"][:n]))
        store.first, store.count = directory
        store.holder_offsets, store.holder_insts = holders
        return store

    # -- writing -------------------------------------------------------------------------

    def replace(self, touched: Iterable[int], versions: VersionArrays) -> None:
        """Make `versions` the whole history of the `touched` instruments (and of theirs)."""
        touched_codes = np.unique(np.r_[np.fromiter(touched, np.int64), versions.inst])
        self.ensure_directory()
        for code in touched_codes:
            first, count = self.first[code], self.count[code]
            self.columns["alive"][first : first + count] = False
            self.dead += int(count)
            self.count[code] = 0
        start = self.n
        self._append(versions)
        codes, first_index, counts = np.unique(versions.inst, return_index=True, return_counts=True)
        self.first[codes] = start + first_index
        self.count[codes] = counts
        for symbol, inst in zip(
            versions.matrix[:, 0].tolist(), versions.inst.tolist(), strict=True
        ):
            self.recent_holders.setdefault(symbol, set()).add(inst)
        if self.dead > max(1_000_000, self.n // 4):
            self.compact()

    def load_all(self, versions: VersionArrays) -> None:
        """Fill an empty store with `versions` (adopting its arrays) and index the holders."""
        self.ensure_directory()
        if self.n == 0:  # adopt, not copy: a rebuild's arrays are large
            self.columns = {name: getattr(versions, name) for name in _FROM_VERSIONS}
            self.columns["alive"] = np.ones(len(versions), dtype=bool)
            self.set_matrix(versions.matrix)
            self.n = len(versions)
        else:
            self._append(versions)
        codes, first_index, counts = np.unique(versions.inst, return_index=True, return_counts=True)
        self.first[codes] = first_index
        self.count[codes] = counts
        self.index_holders()

    def _append(self, versions: VersionArrays) -> None:
        size = len(versions)
        need = self.n + size
        if need > len(self.columns["inst"]):
            capacity = max(need, int(len(self.columns["inst"]) * 1.5) + 1024)
            for name, column in self.columns.items():
                self.columns[name] = _resized(column, capacity)
            self.set_matrix(_resized(self.matrix, capacity))
        end = self.n + size
        for name in _FROM_VERSIONS:
            self.columns[name][self.n : end] = getattr(versions, name)
        self.columns["alive"][self.n : end] = True
        self.matrix[self.n : end] = versions.matrix
        self.n = end
        self.generation += 1

    def set_matrix(self, matrix: np.ndarray) -> None:
        """Use `matrix` as the codes of the versions, one column per stored field."""
        self.matrix = matrix  # one row per version: its codes, in the order of STORE_FIELDS
        self.codes = _views(matrix)
        self.generation += 1

    def ensure_directory(self) -> None:
        """Make room in the per-instrument directory for every known instrument."""
        size = len(self.instruments)
        if size > len(self.first):
            self.first = _resized(self.first, size)
            self.count = _resized(self.count, size)

    def compact(self) -> None:
        """Drop dead rows and rebuild the per-symbol holders."""
        keep = np.flatnonzero(self.columns["alive"][: self.n])
        self.compactions += 1
        self.columns = {k: v[keep] for k, v in self.columns.items()}
        self.set_matrix(self.matrix[keep])
        self.n = len(keep)
        self.dead = 0
        self.count[:] = 0
        codes, first_index, counts = np.unique(
            self.columns["inst"], return_index=True, return_counts=True
        )
        self.first[codes] = first_index
        self.count[codes] = counts
        self.index_holders()

    def index_holders(self) -> None:
        """Rebuild, for each symbol code, the instruments that ever held it."""
        alive = self.columns["alive"][: self.n]
        self.holder_offsets, self.holder_insts = holder_groups(
            self.codes["symbol"][: self.n][alive],
            self.columns["inst"][: self.n][alive],
            len(self.dictionaries["symbol"]),
        )
        self.recent_holders = {}  # folded in: the holders derived from both stay the same

    # -- reading -------------------------------------------------------------------------

    def holders(self, symbol_code: int) -> list[int]:
        """Return the instruments that may have held a symbol (a superset)."""
        found: list[int] = []
        if symbol_code + 1 < len(self.holder_offsets):
            lo, hi = self.holder_offsets[symbol_code : symbol_code + 2].tolist()
            found = self.holder_insts[lo:hi].tolist()
        recent = self.recent_holders.get(symbol_code)
        if recent:
            found = list(set(found) | recent)
        return found

    def row_at(self, inst: int, at: int) -> int | None:
        """Return the row of instrument `inst`'s version at `at` (microseconds), if any."""
        return holding.row_at(self, inst, at)

    def holder_row(
        self, symbol_code: int, at: int, skip: frozenset[int] = frozenset()
    ) -> int | None:
        """Return the row of the holder of a symbol at `at`: active first, then latest."""
        return holding.holder_row(self, symbol_code, at, skip)

    def instrument(self, row: int) -> Instrument:
        """Return the version at `row` as an `Instrument`."""
        return self.reader.instrument(row)

    def rows_at(
        self, at: int, *, include_inactive: bool = False, skip: np.ndarray | None = None
    ) -> np.ndarray:
        """Return the rows of every version valid at `at`, active ones only unless asked."""
        n = self.n
        c = self.columns
        mask = c["alive"][:n] & (c["valid_from"][:n] <= at) & (c["valid_until"][:n] > at)
        if not include_inactive:
            mask &= c["active"][:n]
        if skip is not None and len(skip):
            mask &= ~np.isin(c["inst"][:n], skip)
        return np.flatnonzero(mask)

    def rows_before(self, insts: np.ndarray, at: np.ndarray) -> np.ndarray:
        """Return, per (instrument code, instant), the row of its version valid just before.

        -1 where it has none: the last row with `valid_from < at`, i.e. `<= at - 1` in
        whole microseconds, found by the PIT join's vectorized search.
        """
        inside = insts < len(self.first)
        code = np.where(inside, insts, 0)
        low = np.where(inside, self.first[code], 0).astype(np.int64)
        high = low + np.where(inside, self.count[code], 0).astype(np.int64)
        return last_at_or_before(self.columns["valid_from"], low, high, at - 1)

    def instrument_rows(self, inst: int) -> np.ndarray:
        """Return the rows of one instrument's versions, oldest first."""
        if inst >= len(self.first):
            return np.empty(0, dtype=np.int64)
        first = int(self.first[inst])
        return np.arange(first, first + int(self.count[inst]), dtype=np.int64)

    def envelope(self, rows: np.ndarray) -> dict[str, pa.Array]:
        """Return the columns of the versions at `rows` other than the stored fields."""
        c = self.columns
        until = c["valid_until"][rows]
        return {
            "instrument_id": self.instruments.values.take(pa.array(c["inst"][rows])),
            "active": pa.array(c["active"][rows]),
            "valid_from": _timestamps(c["valid_from"][rows]),
            "valid_until": _timestamps(until, mask=until == OPEN_END),
            "known_since": _timestamps(c["known_since"][rows]),
            "recorded_since": _timestamps(c["recorded_since"][rows]),
        }

    def field_codes(self, rows: np.ndarray) -> dict[str, np.ndarray | None]:
        """Return each stored field's codes at `rows`, one contiguous array per field (None:
        never set in this catalog, so null in every row)."""
        dictionaries = self.dictionaries
        used = [i for i, name in enumerate(STORE_FIELDS) if len(dictionaries[name].values) > 1]
        codes = self.matrix[rows].T[used]  # whole rows gathered once (cache-friendly)
        found: dict[str, np.ndarray | None] = dict.fromkeys(STORE_FIELDS)
        for column, field in enumerate(used):
            found[STORE_FIELDS[field]] = codes[column]
        return found

    def table(self, rows: np.ndarray) -> pa.Table:
        """Return the versions at `rows` as a table of `VERSION_SCHEMA`."""
        arrays = self.envelope(rows)
        for name, codes in self.field_codes(rows).items():
            values = self.dictionaries[name].values
            arrays[name] = pa.nulls(len(rows), values.type) if codes is None else values.take(codes)
        return pa.Table.from_arrays([arrays[f.name] for f in VERSION_SCHEMA], schema=VERSION_SCHEMA)


def _timestamps(micros: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    return pa.array(micros, pa.int64(), mask=mask).cast(TIMESTAMP)


def _resized(column: np.ndarray, size: int) -> np.ndarray:
    grown = np.zeros((size, *column.shape[1:]), dtype=column.dtype)
    grown[: min(len(column), size)] = column[:size]
    return grown


def _views(matrix: np.ndarray) -> dict[str, np.ndarray]:
    return {name: matrix[:, i] for i, name in enumerate(STORE_FIELDS)}
