"""Stored versions restated: as SNAPSHOT events to fold new events onto, or as arrays.

Folding new events onto an instrument's latest version restates that version as an event
that sets every field (`as_snapshots`), folds, and puts the result back beside the versions
before it (`versions_at`, `concat_versions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from projections.index.fold_arrays import (
    SNAPSHOT,
    STORE_FIELDS,
    EventArrays,
    Setters,
    VersionArrays,
)

if TYPE_CHECKING:
    from projections.index.version_store import VersionStore


def as_snapshots(store: VersionStore, rows: np.ndarray) -> EventArrays:
    """Restate the versions at `rows` as SNAPSHOT events that set every field."""
    size = len(rows)
    c = store.columns
    return EventArrays(
        inst=c["inst"][rows],
        eff=c["valid_from"][rows],
        pos=np.full(size, -1, dtype=np.int64),
        obs=c["known_since"][rows],
        rec=c["recorded_since"][rows],
        kind=np.full(size, SNAPSHOT, dtype=np.int8),
        active=c["active"][rows],
        setters={
            f: Setters(np.arange(size, dtype=np.int64), store.codes[f][rows]) for f in STORE_FIELDS
        },
    )


def versions_at(store: VersionStore, rows: np.ndarray) -> VersionArrays:
    """Return the stored versions at `rows` as version arrays."""
    c = store.columns
    return VersionArrays(
        inst=c["inst"][rows],
        valid_from=c["valid_from"][rows],
        valid_until=c["valid_until"][rows],
        known_since=c["known_since"][rows],
        recorded_since=c["recorded_since"][rows],
        active=c["active"][rows],
        matrix=store.matrix[rows],
    )


def concat_versions(a: VersionArrays, b: VersionArrays) -> VersionArrays:
    """Return the versions of `a` and `b` together, ordered by instrument, then valid_from."""
    inst = np.concatenate([a.inst, b.inst])
    valid_from = np.concatenate([a.valid_from, b.valid_from])
    order = np.lexsort((valid_from, inst))
    return VersionArrays(
        inst=inst[order],
        valid_from=valid_from[order],
        valid_until=np.concatenate([a.valid_until, b.valid_until])[order],
        known_since=np.concatenate([a.known_since, b.known_since])[order],
        recorded_since=np.concatenate([a.recorded_since, b.recorded_since])[order],
        active=np.concatenate([a.active, b.active])[order],
        matrix=np.concatenate([a.matrix, b.matrix])[order],
    )
