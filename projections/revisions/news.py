"""What the catalog learned between K1 and K2: the events that make the two answers differ.

An event is news when K2 admits it and K1 does not. Two sorts change an answer: news that
K2 folds (not withdrawn by a retraction K2 admits), and news retractions whose target K1
folded (admitted and not yet withdrawn at K1). A retraction stands where its target stood
(its effective time) and touches what its target touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import TIMESTAMP
from eventstore.model.events import (
    EventRetracted,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from projections.index.fold_arrays import STORE_FIELDS

if TYPE_CHECKING:
    from projections.index.dictionary import Dictionary
    from projections.revisions.window import Window

#: The fields a revision is about, in the order rows come in: `active` (null: the
#: instrument did not exist), then every stored field of a version.
REVISION_FIELDS: Final = ("active", *STORE_FIELDS)
#: The event kinds news is made of, by code.
LISTED, CHANGED, DELISTED, RENAMED, RETRACTED = range(5)
NEWS_KINDS: Final = pa.array(
    [
        k.__name__
        for k in (
            InstrumentListed,
            InstrumentChanged,
            InstrumentDelisted,
            InstrumentRenamed,
            EventRetracted,
        )
    ]
)
_FIELD_NAMES: Final = pa.array(REVISION_FIELDS)
#: What an event of each kind touches besides the fields its `fields` list names.
_ALWAYS: Final = {
    LISTED: REVISION_FIELDS,  # it opens (or reopens) the instrument: every answer
    DELISTED: ("active", "status"),
    RENAMED: ("symbol",),
}


@dataclass
class News:
    """The news of a window: one entry per event that changes an answer."""

    inst: np.ndarray  # int32 instrument code
    eff: np.ndarray  # int64 where it stands in the fold (a retraction: its target's time)
    kind: np.ndarray  # int8, LISTED..RETRACTED
    touches: np.ndarray  # bool (news, len(REVISION_FIELDS)): the answers it may move

    def __len__(self) -> int:
        return len(self.inst)


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.cast(TIMESTAMP).cast(pa.int64()).to_numpy(), dtype=np.int64)


def _touched(rows: pa.Table, kind: np.ndarray) -> np.ndarray:
    """Return, per row, the revision fields it may move."""
    found = np.zeros((rows.num_rows, len(REVISION_FIELDS)), dtype=bool)
    fields = rows["fields"].combine_chunks()
    flat = pc.index_in(pc.list_flatten(fields), value_set=_FIELD_NAMES)
    parents = np.asarray(pc.list_parent_indices(fields).to_numpy(), dtype=np.int64)
    columns = np.asarray(flat.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    known = columns >= 0
    found[parents[known], columns[known]] = True
    for code, names in _ALWAYS.items():
        found[np.ix_(kind == code, [REVISION_FIELDS.index(n) for n in names])] = True
    return found


def learned(rows: pa.Table, window: Window, instruments: Dictionary) -> News:
    """Return the news in `rows` (whole streams, any order) between the window's bounds."""
    names = pc.index_in(rows["kind"], value_set=NEWS_KINDS)
    kind = np.asarray(names.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int8)
    basis = _micros(rows[window.column])
    before = basis <= window.since_us
    after = np.ones(len(basis), bool) if window.until_us is None else basis <= window.until_us
    retraction = kind == RETRACTED
    ids = rows["event_id"].combine_chunks()
    targets = rows["target"].combine_chunks()

    def withdrawn(admitted: np.ndarray) -> np.ndarray:
        taken = targets.filter(pa.array(retraction & admitted))
        return np.asarray(pc.is_in(ids, value_set=taken).to_numpy(zero_copy_only=False), bool)

    folded = (kind >= 0) & ~retraction
    news = folded & after & ~before & ~withdrawn(after)
    at = pc.index_in(targets, value_set=ids)
    target = np.asarray(at.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    was_folded = folded & before & ~withdrawn(before)
    undone = retraction & after & ~before & (target >= 0)
    undone[undone] = was_folded[target[undone]]
    touches = _touched(rows, kind)
    eff = _micros(rows["effective_at"])
    picked, withdrawn_rows = np.flatnonzero(news), target[undone]
    codes = instruments.encode(rows["instrument_id"])
    return News(
        inst=np.concatenate([codes[picked], codes[withdrawn_rows]]).astype(np.int32),
        eff=np.concatenate([eff[picked], eff[withdrawn_rows]]),
        kind=np.concatenate([kind[picked], np.full(len(withdrawn_rows), RETRACTED, np.int8)]),
        touches=np.concatenate([touches[picked], touches[withdrawn_rows]]),
    )


__all__ = [
    "CHANGED",
    "DELISTED",
    "LISTED",
    "NEWS_KINDS",
    "RENAMED",
    "RETRACTED",
    "REVISION_FIELDS",
    "News",
]
