"""Where two folds of the same instruments answer differently, field by field.

Each instrument's effective time is cut at every version start of either fold; on each
piece, each field's answer (a value code, or for `active`: none, false, true) is compared.
Adjacent pieces of one instrument and field that differ with the same pair of answers make
one row: a maximal effective interval with one `before` and one `after`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from projections.index.fold_arrays import OPEN_END, VersionArrays
from projections.join.pit_join import last_at_or_before
from projections.revisions.news import REVISION_FIELDS


@dataclass
class Differences:
    """Rows of (instrument, field, [start, end)) whose answers differ, with both answers."""

    inst: np.ndarray  # int32 instrument code
    field: np.ndarray  # int64 index into REVISION_FIELDS
    start: np.ndarray  # int64 microseconds
    end: np.ndarray  # int64 microseconds, OPEN_END: no end
    before: np.ndarray  # int32 value code at K1 (`active`: 0 none, 1 false, 2 true)
    after: np.ndarray  # int32 value code at K2
    symbol: np.ndarray  # int32 symbol code at the start: K2's answer, else K1's

    def __len__(self) -> int:
        return len(self.inst)

    def take(self, index: np.ndarray) -> Differences:
        """Return the rows at `index`, in that order."""
        return Differences(*(getattr(self, name)[index] for name in self.__dataclass_fields__))


def _rows_at(versions: VersionArrays, inst: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Return the row of each (instrument, instant)'s version in `versions` (-1: none)."""
    low = np.searchsorted(versions.inst, inst, "left")
    high = np.searchsorted(versions.inst, inst, "right")
    return last_at_or_before(versions.valid_from, low, high, at)


def _answers(versions: VersionArrays, rows: np.ndarray, field: int) -> np.ndarray:
    """Return the code of one field's answer at `rows` (-1: no version, answer 0)."""
    if not len(versions):
        return np.zeros(len(rows), dtype=np.int32)
    safe = np.maximum(rows, 0)
    if REVISION_FIELDS[field] == "active":
        found = versions.active[safe].astype(np.int32) + 1
    else:
        found = versions.matrix[safe, field - 1]
    return np.where(rows >= 0, found, 0).astype(np.int32)


def _symbols(versions: VersionArrays, rows: np.ndarray) -> np.ndarray:
    """Return the symbol code of the versions at `rows` (0 where there is none)."""
    if not len(versions):
        return np.zeros(len(rows), dtype=np.int32)
    return np.where(rows >= 0, versions.matrix[np.maximum(rows, 0), 0], 0)


def differences(before: VersionArrays, after: VersionArrays) -> Differences:
    """Return where `before` and `after` answer differently (both sorted by instrument, then
    valid_from, with one code space)."""
    inst = np.concatenate([before.inst, after.inst])
    cuts = np.concatenate([before.valid_from, after.valid_from])
    order = np.lexsort((cuts, inst))
    inst, cuts = inst[order], cuts[order]
    distinct = np.ones(len(inst), dtype=bool)
    distinct[1:] = (inst[1:] != inst[:-1]) | (cuts[1:] != cuts[:-1])
    inst, cuts = inst[distinct], cuts[distinct]
    ends = np.full(len(cuts), OPEN_END, dtype=np.int64)
    same = inst[1:] == inst[:-1]
    ends[:-1][same] = cuts[1:][same]
    rows1, rows2 = _rows_at(before, inst, cuts), _rows_at(after, inst, cuts)
    symbols = np.where(rows2 >= 0, _symbols(after, rows2), _symbols(before, rows1))
    found: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for field in range(len(REVISION_FIELDS)):
        a, b = _answers(before, rows1, field), _answers(after, rows2, field)
        differ = a != b
        if not differ.any():
            continue
        # a piece continues the row before it: same instrument and the same two answers
        carries = np.zeros(len(a), dtype=bool)
        carries[1:] = same & differ[:-1] & (a[1:] == a[:-1]) & (b[1:] == b[:-1])
        pieces = np.flatnonzero(differ)
        opens = ~carries[pieces]
        first = pieces[opens]
        last = pieces[np.r_[opens[1:], True]]
        found.append((field, first, last, a, b))
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return Differences(
            empty.astype(np.int32), empty, empty, empty, *(empty.astype(np.int32),) * 3
        )
    return Differences(
        inst=np.concatenate([inst[first] for _, first, _, _, _ in found]),
        field=np.concatenate([np.full(len(first), f, np.int64) for f, first, _, _, _ in found]),
        start=np.concatenate([cuts[first] for _, first, _, _, _ in found]),
        end=np.concatenate([ends[last] for _, _, last, _, _ in found]),
        before=np.concatenate([a[first] for _, first, _, a, _ in found]),
        after=np.concatenate([b[first] for _, first, _, _, b in found]),
        symbol=np.concatenate([symbols[first] for _, first, _, _, _ in found]).astype(np.int32),
    )


__all__ = ["Differences", "differences"]
