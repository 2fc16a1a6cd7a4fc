"""Fold many instruments' events into versions at once, with array operations only.

This is the pure fold of `projections.fold`, vectorized: events sorted by (instrument,
effective_at, position); every field forward-filled from the last event that set it within
its instrument; one version per distinct effective time. Values arrive as dictionary codes
(0 is null), so the fold never touches a Python object per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from projections.model import FIELDS

LISTED: Final = 0
CHANGED: Final = 1
DELISTED: Final = 2
RENAMED: Final = 3
#: An internal kind: a whole version restated, to fold new events on top of it.
SNAPSHOT: Final = 4
#: The fields a version stores as dictionary codes, in this order.
STORE_FIELDS: Final = ("symbol", "status", *FIELDS)
#: `valid_until` of a version that is still current.
OPEN_END: Final = np.iinfo(np.int64).max


@dataclass
class EventArrays:
    """Instrument events as arrays: one entry per event, any order."""

    inst: np.ndarray  # int32 instrument code
    eff: np.ndarray  # int64 effective_at, microseconds
    pos: np.ndarray  # int64 position (snapshots: -1, before every real event)
    rec: np.ndarray  # int64 recorded_at, microseconds
    kind: np.ndarray  # int8, one of LISTED..SNAPSHOT
    active: np.ndarray  # bool, the value a SNAPSHOT restates
    sets: dict[str, np.ndarray]  # field -> bool, the event sets that field
    codes: dict[str, np.ndarray]  # field -> int32 value code where it sets it

    def __len__(self) -> int:
        return len(self.inst)

    def take(self, index: np.ndarray) -> EventArrays:
        """Return the events at `index`, in that order."""
        return EventArrays(
            self.inst[index],
            self.eff[index],
            self.pos[index],
            self.rec[index],
            self.kind[index],
            self.active[index],
            {f: v[index] for f, v in self.sets.items()},
            {f: v[index] for f, v in self.codes.items()},
        )

    @staticmethod
    def concat(parts: list[EventArrays]) -> EventArrays:
        """Return the events of all `parts`, one after the other."""
        return EventArrays(
            np.concatenate([p.inst for p in parts]),
            np.concatenate([p.eff for p in parts]),
            np.concatenate([p.pos for p in parts]),
            np.concatenate([p.rec for p in parts]),
            np.concatenate([p.kind for p in parts]),
            np.concatenate([p.active for p in parts]),
            {f: np.concatenate([p.sets[f] for p in parts]) for f in STORE_FIELDS},
            {f: np.concatenate([p.codes[f] for p in parts]) for f in STORE_FIELDS},
        )


@dataclass
class VersionArrays:
    """Versions as arrays, sorted by (instrument, valid_from)."""

    inst: np.ndarray  # int32
    valid_from: np.ndarray  # int64 microseconds
    valid_until: np.ndarray  # int64 microseconds, OPEN_END when current
    known_since: np.ndarray  # int64 microseconds
    active: np.ndarray  # bool
    codes: dict[str, np.ndarray]  # field -> int32 value code

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


def _running_max_by_group(values: np.ndarray, inst: np.ndarray) -> np.ndarray:
    """Return the running maximum of `values` restarting at each instrument (sorted input)."""
    distinct, rank = np.unique(values, return_inverse=True)
    group = np.cumsum(np.r_[True, inst[1:] != inst[:-1]]).astype(np.int64)
    keyed = group * len(distinct) + rank.astype(np.int64)
    return distinct[np.maximum.accumulate(keyed) - group * len(distinct)]


def fold_versions(events: EventArrays) -> VersionArrays:
    """Return the versions of every instrument in `events` (all of each one's events)."""
    if len(events) == 0:
        return _empty()
    ev = events.take(np.lexsort((events.pos, events.eff, events.inst)))
    # An instrument exists from its first listing: earlier events change nothing.
    opens = (ev.kind == LISTED) | (ev.kind == SNAPSHOT)
    ev = ev.take(np.flatnonzero(_last_true(opens) >= _group_starts(ev.inst)))
    if len(ev) == 0:
        return _empty()
    starts = _group_starts(ev.inst)
    last = np.ones(len(ev), dtype=bool)
    last[:-1] = (ev.inst[1:] != ev.inst[:-1]) | (ev.eff[1:] != ev.eff[:-1])
    rows = np.flatnonzero(last)
    codes = {}
    for field in STORE_FIELDS:
        setter = _last_true(ev.sets[field])[rows]
        known = setter >= starts[rows]
        codes[field] = np.where(known, ev.codes[field][np.maximum(setter, 0)], 0).astype(np.int32)
    setter = _last_true(_sets_active(ev))[rows]
    inst = ev.inst[rows]
    valid_from = ev.eff[rows]
    valid_until = np.full(len(rows), OPEN_END, dtype=np.int64)
    same = inst[1:] == inst[:-1]
    valid_until[:-1][same] = valid_from[1:][same]
    return VersionArrays(
        inst=inst,
        valid_from=valid_from,
        valid_until=valid_until,
        known_since=_running_max_by_group(ev.rec, ev.inst)[rows],
        active=ev.active[setter],
        codes=codes,
    )


def _sets_active(ev: EventArrays) -> np.ndarray:
    opens: np.ndarray = (ev.kind == LISTED) | (ev.kind == SNAPSHOT) | (ev.kind == DELISTED)
    return opens


def _empty() -> VersionArrays:
    none = np.empty(0, dtype=np.int64)
    return VersionArrays(
        inst=np.empty(0, dtype=np.int32),
        valid_from=none,
        valid_until=none,
        known_since=none,
        active=np.empty(0, dtype=bool),
        codes={f: np.empty(0, dtype=np.int32) for f in STORE_FIELDS},
    )
