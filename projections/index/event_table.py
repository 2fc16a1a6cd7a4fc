"""`EventTable`: every instrument event the index folded, withdrawn ones too, as codes.

The version store holds the fold as known now. A fold as known at another instant (the
two of a revisions query) needs the events themselves: which fields each one sets, to
which value (as the store's dictionaries code it), where it stands (effective time,
position) and when it was observed and recorded, and which retractions withdraw which of
them. The table keeps exactly that, in the order the index took the events in, so such a
fold reads no log: `select` gives the events at some rows as `EventArrays`, ready to fold.

Events are appended, never changed: a retraction adds a row to `retractions` naming its
target's row (`target`). Columns grow like the store's (spare rows, then 1.5x), so the
appends after a snapshot load do not copy the table; setters are kept per field, each
field's rows in increasing event row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import TIMESTAMP
from projections.index.encoding import INSTRUMENT_KINDS, encode_events
from projections.index.fold_arrays import LISTED, STORE_FIELDS, EventArrays, Setters

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from projections.index.version_store import VersionStore

#: Bits of `named`: the event's `fields` list names `active`, or `symbol` (names no setter
#: records: a symbol is set by its kind, and `active` is no stored field).
NAMED_ACTIVE: Final = 1
NAMED_SYMBOL: Final = 2
_EVENTS: Final = {
    "inst": np.int32,
    "eff": np.int64,
    "pos": np.int64,
    "obs": np.int64,
    "rec": np.int64,
    "kind": np.int8,  # a fold `Code`
    "named": np.int8,
}
_SETTERS: Final = {"index": np.int64, "code": np.int32}
_RETRACTIONS: Final = {
    "inst": np.int32,
    "pos": np.int64,
    "obs": np.int64,
    "rec": np.int64,
    "target": np.int64,  # the row of the withdrawn event
}


class Columns:
    """Columns of one length `n` that grow by appends, with spare rows."""

    def __init__(self, dtypes: Mapping[str, Any], arrays: dict[str, np.ndarray] | None = None):
        """Start empty, or over `arrays` (each at least `n` rows; `n` set by the caller)."""
        self.dtypes = dict(dtypes)
        self.arrays = arrays or {k: np.empty(0, d) for k, d in self.dtypes.items()}
        self.n = 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name][: self.n]

    def append(self, values: Mapping[str, np.ndarray]) -> None:
        """Append rows (one array per column, all of one length)."""
        size = len(next(iter(values.values())))
        need = self.n + size
        capacity = len(next(iter(self.arrays.values())))
        if need > capacity:
            grown = max(need, int(capacity * 1.5) + 1024)
            for name, column in self.arrays.items():
                bigger = np.zeros(grown, dtype=column.dtype)
                bigger[: self.n] = column[: self.n]
                self.arrays[name] = bigger
        for name, column in self.arrays.items():
            column[self.n : need] = values[name]
        self.n = need


@dataclass(frozen=True)
class Added:
    """Instrument events just added to an event table: coded, their rows, their ids."""

    events: EventArrays
    rows: np.ndarray
    ids: pa.Array

    def withdrawn_by(self, targets: pa.Array) -> np.ndarray:
        """Return, per event, whether it is among the retracted `targets`."""
        found = pc.is_in(self.ids, value_set=targets)
        return np.asarray(found.to_numpy(zero_copy_only=False), bool)


class EventTable:
    """Instrument events as coded columns, their setters per field, and the retractions."""

    def __init__(self) -> None:
        """Start empty."""
        self.events = Columns(_EVENTS)
        self.setters = {name: Columns(_SETTERS) for name in STORE_FIELDS}
        self.retractions = Columns(_RETRACTIONS)

    def __len__(self) -> int:
        return self.events.n

    # -- writing -------------------------------------------------------------------------

    def add(self, events: EventArrays, named: np.ndarray) -> np.ndarray:
        """Append `events` (with their `named` bits); return the rows they were given."""
        start = self.events.n
        self.events.append(
            {
                "inst": events.inst,
                "eff": events.eff,
                "pos": events.pos,
                "obs": events.obs,
                "rec": events.rec,
                "kind": events.kind,
                "named": named,
            }
        )
        for name, found in events.setters.items():
            self.setters[name].append({"index": found.index + start, "code": found.code})
        return np.arange(start, self.events.n, dtype=np.int64)

    def add_rows(self, rows: pa.Table, store: VersionStore) -> Added:
        """Add the instrument events among the log `rows`, coded by `store`."""
        mine = rows.filter(pc.is_in(rows["kind"], value_set=INSTRUMENT_KINDS))
        events = encode_events(mine, store.instruments, store.dictionaries)
        added = self.add(events, named_bits(mine["fields"]))
        return Added(events, added, mine["event_id"].combine_chunks())

    def add_retractions(self, rows: pa.Table, targets: np.ndarray) -> None:
        """Append the retractions `rows` (instrument codes in `inst`, and `position`,
        `observed_at`, `recorded_at`), withdrawing the events at rows `targets`."""
        self.retractions.append(
            {
                "inst": self.events["inst"][targets],
                "pos": np.asarray(rows["position"].to_numpy(), dtype=np.int64),
                "obs": _micros(rows["observed_at"]),
                "rec": _micros(rows["recorded_at"]),
                "target": targets,
            }
        )

    def add_retractions_found(self, retractions: pa.Table, stored: pa.Table) -> None:
        """Append the retractions of instrument events among `retractions` (instrument
        codes in `inst`), their targets found in `stored` (rows with `event_id` and
        `position`); an exchange event's retraction, or one whose target is not in
        `stored`, adds nothing."""
        at = pc.index_in(retractions["target"], value_set=stored["event_id"].combine_chunks())
        found = retractions.filter(pc.is_valid(at))
        positions = stored["position"].take(at.filter(pc.is_valid(at)))
        targets = self.rows_at(np.asarray(positions.to_numpy(), dtype=np.int64))
        kept = np.flatnonzero(targets >= 0)
        self.add_retractions(found.take(pa.array(kept)), targets[kept])

    def rows_at(self, positions: np.ndarray) -> np.ndarray:
        """Return the row of the event at each log position (-1: no instrument event)."""
        distinct, inverse = np.unique(positions, return_inverse=True)  # two may retract one
        found = pc.index_in(pa.array(self.events["pos"]), value_set=pa.array(distinct))
        at = np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        rows = np.full(len(distinct), -1, dtype=np.int64)
        hits = np.flatnonzero(at >= 0)
        rows[at[hits]] = hits
        return rows[inverse.reshape(-1)]

    # -- reading -------------------------------------------------------------------------

    def select(self, rows: np.ndarray) -> EventArrays:
        """Return the events at `rows` (increasing) as `EventArrays`, in that order."""
        c = self.events
        kind = c["kind"][rows]
        return EventArrays(
            inst=c["inst"][rows],
            eff=c["eff"][rows],
            pos=c["pos"][rows],
            obs=c["obs"][rows],
            rec=c["rec"][rows],
            kind=kind,
            active=kind == LISTED,
            setters={name: self._setters(name, rows) for name in STORE_FIELDS},
        )

    def view(self, extra: EventArrays | None = None) -> EventArrays:
        """Return every event as `EventArrays` over the table's own columns (no copy), then
        the events of `extra`, which set nothing (withdrawal markers), written into spare
        rows past the end (the table's length stays: they are not its events)."""
        size = len(extra) if extra is not None else 0
        c = self.events
        if size:
            c.append({name: np.zeros(size, dtype=d) for name, d in _EVENTS.items()})
            c.n -= size  # room made: the rows past the end are spare again
            end = c.n + size
            for name in ("inst", "eff", "pos", "obs", "rec", "kind"):
                c.arrays[name][c.n : end] = getattr(extra, name)
        rows = slice(0, c.n + size)
        kind = c.arrays["kind"][rows]
        return EventArrays(
            inst=c.arrays["inst"][rows],
            eff=c.arrays["eff"][rows],
            pos=c.arrays["pos"][rows],
            obs=c.arrays["obs"][rows],
            rec=c.arrays["rec"][rows],
            kind=kind,
            active=kind == LISTED,
            setters={name: Setters(s["index"], s["code"]) for name, s in self.setters.items()},
        )

    def _setters(self, name: str, rows: np.ndarray) -> Setters:
        setters = self.setters[name]
        index = setters["index"]
        if not len(index) or not len(rows):
            return Setters.empty()
        at = np.minimum(np.searchsorted(index, rows), len(index) - 1)
        hit = index[at] == rows
        return Setters(np.flatnonzero(hit), setters["code"][at[hit]])

    def sets(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Return, per row of `rows` (increasing), whether its event sets field `name`."""
        index = self.setters[name]["index"]
        if not len(index) or not len(rows):
            return np.zeros(len(rows), dtype=bool)
        at = np.minimum(np.searchsorted(index, rows), len(index) - 1)
        found: np.ndarray = index[at] == rows
        return found

    # -- saving --------------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        """Return every column by file key, each cut to its length."""
        found = {f"ev_{k}": self.events[k] for k in _EVENTS}
        found |= {f"rt_{k}": self.retractions[k] for k in _RETRACTIONS}
        for field, setters in self.setters.items():
            found |= {f"es_{field}_{k}": setters[k] for k in _SETTERS}
        return found

    def counts(self) -> dict[str, int]:
        """Return the length of each group of columns (what `restored` needs)."""
        found = {"events": self.events.n, "retractions": self.retractions.n}
        return found | {f"setters_{f}": s.n for f, s in self.setters.items()}

    @classmethod
    def restored(cls, array: Callable[[str], np.ndarray], counts: Mapping[str, int]) -> EventTable:
        """Return the table over saved arrays (`array(key)` loads the file of `key`)."""
        table = cls()

        def columns(dtypes: Mapping[str, Any], prefix: str, n: int) -> Columns:
            found = Columns(dtypes, {k: array(f"{prefix}{k}") for k in dtypes})
            if any(len(v) < n or v.dtype != dtypes[k] for k, v in found.arrays.items()):
                raise ValueError(f"the saved {prefix} columns are not those of an event table")
            found.n = n
            return found

        table.events = columns(_EVENTS, "ev_", int(counts["events"]))
        table.retractions = columns(_RETRACTIONS, "rt_", int(counts["retractions"]))
        table.setters = {
            f: columns(_SETTERS, f"es_{f}_", int(counts[f"setters_{f}"])) for f in STORE_FIELDS
        }
        return table


def named_bits(fields: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return, per row's `fields` list, its `NAMED_ACTIVE` and `NAMED_SYMBOL` bits."""
    if isinstance(fields, pa.ChunkedArray):
        fields = fields.combine_chunks()
    found = np.zeros(len(fields), dtype=np.int8)
    if not len(fields):
        return found
    flat = pc.list_flatten(fields)
    parents = np.asarray(pc.list_parent_indices(fields).to_numpy(), dtype=np.int64)
    for bit, name in ((NAMED_ACTIVE, "active"), (NAMED_SYMBOL, "symbol")):
        named = np.asarray(pc.equal(flat, name).fill_null(False).to_numpy(False), dtype=bool)
        found[parents[named]] |= bit
    return found


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.cast(TIMESTAMP).cast(pa.int64()).to_numpy(), dtype=np.int64)


__all__ = ["NAMED_ACTIVE", "NAMED_SYMBOL", "Columns", "EventTable", "named_bits"]
