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

from projections.index import fold_arrays
from projections.index.event_table import NAMED_ACTIVE, NAMED_SYMBOL
from projections.index.fold_arrays import STORE_FIELDS

if TYPE_CHECKING:
    from projections.index.event_table import EventTable
    from projections.revisions.restated import Scope
    from projections.revisions.window import Window

#: The fields a revision is about, in the order rows come in: `active` (null: the
#: instrument did not exist), then every stored field of a version.
REVISION_FIELDS: Final = ("active", *STORE_FIELDS)
#: The event kinds news is made of, by code: an instrument event's is its fold code.
LISTED, CHANGED, DELISTED, RENAMED, RETRACTED = range(5)
assert (LISTED, CHANGED, DELISTED, RENAMED) == (
    fold_arrays.LISTED,
    fold_arrays.CHANGED,
    fold_arrays.DELISTED,
    fold_arrays.RENAMED,
)
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


def _touched(table: EventTable, rows: np.ndarray) -> np.ndarray:
    """Return, per event at `rows` (increasing), the revision fields it may move: those its
    `fields` list names (each stored field it sets, and the names no setter records), and
    what its kind always touches."""
    found = np.zeros((len(rows), len(REVISION_FIELDS)), dtype=bool)
    for column, name in enumerate(STORE_FIELDS, start=1):
        found[:, column] = table.sets(name, rows)
    named = table.events["named"][rows]
    found[:, REVISION_FIELDS.index("active")] |= (named & NAMED_ACTIVE) != 0
    found[:, REVISION_FIELDS.index("symbol")] |= (named & NAMED_SYMBOL) != 0
    kind = table.events["kind"][rows]
    for code, names in _ALWAYS.items():
        found[np.ix_(kind == code, [REVISION_FIELDS.index(n) for n in names])] = True
    return found


def learned(table: EventTable, scope: Scope, window: Window) -> News:
    """Return the news among the scope's events between the window's bounds (every news
    event stands in the scope: it is observed after K1, or retracts an event from there)."""
    events_before, retractions_before = scope.admitted(window.since_us)
    events_after, retractions_after = scope.admitted(window.until_us)
    news = events_after & ~events_before & ~scope.withdrawn(retractions_after)
    was_folded = events_before & ~scope.withdrawn(retractions_before)
    undone = retractions_after & ~retractions_before & was_folded[scope.targets]
    picked = np.concatenate([np.flatnonzero(news), scope.targets[undone]])
    rows = scope.rows[picked]
    order = np.argsort(rows, kind="stable")  # `_touched` reads rows in increasing order
    touches = np.empty((len(rows), len(REVISION_FIELDS)), dtype=bool)
    touches[order] = _touched(table, rows[order])
    kind = table.events["kind"][rows].copy()
    kind[int(news.sum()) :] = RETRACTED
    return News(
        inst=table.events["inst"][rows],
        eff=table.events["eff"][rows],
        kind=kind,
        touches=touches,
    )


__all__ = [
    "CHANGED",
    "DELISTED",
    "LISTED",
    "RENAMED",
    "RETRACTED",
    "REVISION_FIELDS",
    "News",
]
