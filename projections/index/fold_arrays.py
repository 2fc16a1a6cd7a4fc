"""Fold many instruments' events into versions at once, with array operations only.

This is the pure fold of `projections.fold`, vectorized: events sorted by (instrument,
effective_at, position); every field taken from the last event that set it within its
instrument; one version per distinct effective time. Values arrive as dictionary codes
(0 is null), and each field keeps only the events that set it, so the fold's memory grows
with what the events say rather than with events x fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final, assert_never

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.model import FIELDS


class Code(IntEnum):
    """The fold's code of an event row (int8 in `EventArrays.kind`)."""

    LISTED = 0
    #: Any instrument kind that sets what its `fields` list names.
    CHANGED = 1
    DELISTED = 2
    RENAMED = 3
    #: An internal kind: a whole version restated, to fold new events on top of it.
    SNAPSHOT = 4
    #: An internal kind: where a retracted event stood; it sets nothing but is recorded later.
    WITHDRAWN = 5


LISTED: Final = Code.LISTED
CHANGED: Final = Code.CHANGED
DELISTED: Final = Code.DELISTED
RENAMED: Final = Code.RENAMED
SNAPSHOT: Final = Code.SNAPSHOT
WITHDRAWN: Final = Code.WITHDRAWN


@dataclass(frozen=True)
class Role:
    """What a row of a code does beyond the fields its `fields` list names."""

    #: The instrument exists from this row on (events before its first such row are ignored).
    opens: bool = False
    #: The row says whether the instrument is active (listed: yes; delisted: no).
    sets_active: bool = False
    sets_symbol: bool = False
    sets_status: bool = False


def role(code: Code) -> Role:
    """Return the role of rows of `code`: one exhaustive match, so no code is forgotten."""
    match code:
        case Code.LISTED:
            return Role(opens=True, sets_active=True, sets_symbol=True, sets_status=True)
        case Code.SNAPSHOT:
            return Role(opens=True, sets_active=True, sets_symbol=True, sets_status=True)
        case Code.DELISTED:
            return Role(sets_active=True, sets_status=True)
        case Code.RENAMED:
            return Role(sets_symbol=True)
        case Code.CHANGED | Code.WITHDRAWN:
            return Role()
        case _ as unreachable:
            assert_never(unreachable)


def has_role(kind: np.ndarray, name: str) -> np.ndarray:
    """Return, per row of `kind` (codes), whether its code's role has `name` set."""
    found: np.ndarray = _ROLES[name][kind]
    return found


_ROLES: Final = {
    name: np.array([getattr(role(code), name) for code in Code], dtype=bool)
    for name in ("opens", "sets_active", "sets_symbol", "sets_status")
}
#: The stored fields read from the log's column of the same name (the symbol comes from
#: `symbol` or `new_symbol`).
COLUMN_FIELDS: Final = ("status", *FIELDS)
#: The fields a version stores as dictionary codes, in this order.
STORE_FIELDS: Final = ("symbol", *COLUMN_FIELDS)
#: `valid_until` of a version that is still current.
OPEN_END: Final = np.iinfo(np.int64).max


@dataclass
class Setters:
    """The events that set one field: their indices and the codes of the values they set."""

    index: np.ndarray  # int64 event index
    code: np.ndarray  # int32 value code

    @staticmethod
    def empty() -> Setters:
        """Return setters of nothing."""
        return Setters(np.empty(0, np.int64), np.empty(0, np.int32))


@dataclass
class EventArrays:
    """Instrument events as arrays: one entry per event, any order."""

    inst: np.ndarray  # int32 instrument code
    eff: np.ndarray  # int64 effective_at, microseconds
    pos: np.ndarray  # int64 position (snapshots: -1, before every real event)
    obs: np.ndarray  # int64 observed_at, microseconds
    rec: np.ndarray  # int64 recorded_at, microseconds
    kind: np.ndarray  # int8, a `Code`
    active: np.ndarray  # bool: True for a listing, False for a delisting, a snapshot's own
    setters: dict[str, Setters]  # field -> the events that set it

    def __len__(self) -> int:
        return len(self.inst)

    def take(self, index: np.ndarray) -> EventArrays:
        """Return the events at `index` (distinct indices), in that order."""
        moved = np.full(len(self), -1, dtype=np.int64)
        moved[index] = np.arange(len(index), dtype=np.int64)
        setters = {}
        for name, found in self.setters.items():
            where = moved[found.index]
            kept = where >= 0
            setters[name] = Setters(where[kept], found.code[kept])
        return EventArrays(
            self.inst[index],
            self.eff[index],
            self.pos[index],
            self.obs[index],
            self.rec[index],
            self.kind[index],
            self.active[index],
            setters,
        )

    def release(self) -> None:
        """Drop every array: the events are no longer needed."""
        nothing = np.empty(0, dtype=np.int64)
        self.inst = self.eff = self.pos = self.obs = self.rec = self.kind = self.active = nothing
        self.setters = {name: Setters.empty() for name in STORE_FIELDS}

    @staticmethod
    def concat(parts: list[EventArrays]) -> EventArrays:
        """Return the events of all `parts`, one after the other."""
        offsets = np.cumsum([0, *(len(p) for p in parts)])
        setters = {
            name: Setters(
                np.concatenate(
                    [p.setters[name].index + o for p, o in zip(parts, offsets, strict=False)]
                ),
                np.concatenate([p.setters[name].code for p in parts]),
            )
            for name in STORE_FIELDS
        }
        return EventArrays(
            np.concatenate([p.inst for p in parts]),
            np.concatenate([p.eff for p in parts]),
            np.concatenate([p.pos for p in parts]),
            np.concatenate([p.obs for p in parts]),
            np.concatenate([p.rec for p in parts]),
            np.concatenate([p.kind for p in parts]),
            np.concatenate([p.active for p in parts]),
            setters,
        )


@dataclass
class VersionArrays:
    """Versions as arrays, sorted by (instrument, valid_from)."""

    inst: np.ndarray  # int32
    valid_from: np.ndarray  # int64 microseconds
    valid_until: np.ndarray  # int64 microseconds, OPEN_END when current
    known_since: np.ndarray  # int64 microseconds: the latest observed_at so far
    recorded_since: np.ndarray  # int64 microseconds: the latest recorded_at so far
    active: np.ndarray  # bool
    matrix: np.ndarray  # int32 (versions, len(STORE_FIELDS)): value codes

    def __len__(self) -> int:
        return len(self.inst)


def _last_true(flags: np.ndarray) -> np.ndarray:
    """Return, for each index, the last index at or before it where `flags` holds (-1: none)."""
    marks = np.where(flags, np.arange(len(flags), dtype=np.int64), -1)
    return np.maximum.accumulate(marks) if len(marks) else marks


def _group_starts(inst: np.ndarray) -> np.ndarray:
    """Return, for each sorted event, the index where its instrument's events begin."""
    starts = np.ones(len(inst), dtype=bool)
    starts[1:] = inst[1:] != inst[:-1]
    return _last_true(starts)


def running_max_by_group(values: np.ndarray, inst: np.ndarray) -> np.ndarray:
    """Return the running maximum of `values` restarting with each group (sorted `inst`)."""
    # times take few distinct values (one per commit, per snapshot): rank them by hashing
    distinct = np.sort(np.asarray(pc.unique(pa.array(values)).to_numpy(), dtype=np.int64))
    rank = np.asarray(pc.index_in(pa.array(values), value_set=pa.array(distinct)).to_numpy())
    group = np.cumsum(np.r_[True, inst[1:] != inst[:-1]]).astype(np.int64)
    keyed = group * len(distinct) + rank.astype(np.int64)
    found: np.ndarray = distinct[np.maximum.accumulate(keyed) - group * len(distinct)]
    return found


def fold_versions(
    events: EventArrays, *, consume: bool = False, keep: np.ndarray | None = None
) -> VersionArrays:
    """Return the versions of every instrument in `events` (all of each one's events).

    With `consume`, the arrays of `events` are released as soon as they are copied. With
    `keep` (a mask), only the events where it holds are folded: the others are not copied.
    """
    order = np.lexsort((events.pos, events.eff, events.inst))
    if keep is not None:
        order = order[keep[order]]
    kind = events.kind[order]
    inst = events.inst[order]
    # An instrument exists from its first listing: earlier events change nothing.
    opens = has_role(kind, "opens")
    exists = _last_true(opens) >= _group_starts(inst)
    kept = order[exists]
    del order, kind, inst, opens
    ev = events.take(kept)
    if consume:
        events.release()
    if len(ev) == 0:
        return _empty()
    starts = _group_starts(ev.inst)
    last = np.ones(len(ev), dtype=bool)
    last[:-1] = (ev.inst[1:] != ev.inst[:-1]) | (ev.eff[1:] != ev.eff[:-1])
    rows = np.flatnonzero(last)
    matrix = np.zeros((len(rows), len(STORE_FIELDS)), dtype=np.int32)
    row_starts = starts[rows]
    setter = np.empty(len(ev), dtype=np.int64)
    codes = np.zeros(len(ev), dtype=np.int32)
    for column, name in enumerate(STORE_FIELDS):
        # forward-fill the last event that set the field: O(events), no sorting
        found = ev.setters[name]
        setter.fill(-1)
        setter[found.index] = found.index
        np.maximum.accumulate(setter, out=setter)
        codes[found.index] = found.code
        last_set = setter[rows]
        known = last_set >= row_starts
        matrix[:, column] = np.where(known, codes[np.maximum(last_set, 0)], 0)
    del setter, codes
    opened = _last_true(has_role(ev.kind, "sets_active"))
    valid_from = ev.eff[rows]
    versions_inst = ev.inst[rows]
    valid_until = np.full(len(rows), OPEN_END, dtype=np.int64)
    same = versions_inst[1:] == versions_inst[:-1]
    valid_until[:-1][same] = valid_from[1:][same]
    return VersionArrays(
        inst=versions_inst,
        valid_from=valid_from,
        valid_until=valid_until,
        known_since=running_max_by_group(ev.obs, ev.inst)[rows],
        recorded_since=running_max_by_group(ev.rec, ev.inst)[rows],
        active=ev.active[opened[rows]],
        matrix=matrix,
    )


def _empty() -> VersionArrays:
    none = np.empty(0, dtype=np.int64)
    return VersionArrays(
        inst=np.empty(0, dtype=np.int32),
        valid_from=none,
        valid_until=none,
        known_since=none,
        recorded_since=none,
        active=np.empty(0, dtype=bool),
        matrix=np.zeros((0, len(STORE_FIELDS)), dtype=np.int32),
    )
