"""`revisions`: the answers that differ between knowledge K1 and K2, and why.

Only the instruments with news in the window can answer differently. Their two folds (as
known at K1 and as known at K2) are restated from the index (`restated`): from where they
may first differ from the index on, each folds the state the index holds there and the
events that knowledge admits from the index's event table, with no read of the log. The
two folds are compared field by field (`differences`), and each differing row is then
given the kinds of the news that made it (`causes`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from projections.index.fold_arrays import STORE_FIELDS
from projections.revisions.causes import attributed, cause_lists, classified
from projections.revisions.differences import differences
from projections.revisions.news import REVISION_FIELDS, learned
from projections.revisions.report import REVISION_SCHEMA, revision_table
from projections.revisions.restated import Scope, earlier_codes, fold_at
from projections.revisions.window import RevisionsError

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pyarrow as pa

    from projections.index.event_table import EventTable
    from projections.index.fold_arrays import VersionArrays
    from projections.index.version_store import VersionStore
    from projections.revisions.window import Window


def wanted_fields(fields: str | Iterable[str] | None) -> np.ndarray:
    """Return the indices (into `REVISION_FIELDS`) of the fields asked for (None: all)."""
    if fields is None:
        return np.arange(len(REVISION_FIELDS))
    names = [fields] if isinstance(fields, str) else list(fields)
    unknown = [n for n in names if n not in REVISION_FIELDS]
    if unknown:
        raise RevisionsError(
            f"unknown field {unknown[0]!r}; the fields are {', '.join(REVISION_FIELDS)}"
        )
    return np.array(sorted({REVISION_FIELDS.index(n) for n in names}), dtype=np.int64)


def revisions(
    store: VersionStore,
    table: EventTable,
    window: Window,
    fields: str | Iterable[str] | None = None,
    exchange: str | None = None,
) -> pa.Table:
    """Return one row per (instrument, field, effective interval) whose answer as known at
    K1 differs from the answer as known at K2, from the index (`store` and its `table`)."""
    chosen = wanted_fields(fields)
    scope = Scope.of(table, window, len(store.instruments))
    if scope is None:
        return REVISION_SCHEMA.empty_table()
    before = fold_at(store, table, scope, window.since_us)
    after = fold_at(store, table, scope, window.until_us)
    news = learned(table, scope, window)
    diffs = differences(before, after)
    keep = np.isin(diffs.field, chosen)
    if exchange is not None:
        keep &= np.isin(diffs.inst, _on_exchange(store, scope, (before, after), exchange))
    diffs = diffs.take(np.flatnonzero(keep))
    bits = attributed(diffs, news, classified(news, before, window.since_us))
    return revision_table(store, diffs, cause_lists(bits))


def _on_exchange(
    store: VersionStore, scope: Scope, folds: tuple[VersionArrays, ...], exchange: str
) -> np.ndarray:
    """Return the codes of the instruments with a version on `exchange` in either fold
    (the versions both share, before the scope, are the index's)."""
    code = store.dictionaries["exchange"].code_of(exchange)
    if code is None:
        return np.empty(0, dtype=np.int32)
    column = STORE_FIELDS.index("exchange")
    found = [v.inst[v.matrix[:, column] == code] for v in folds]
    insts, codes = earlier_codes(store, scope, "exchange")
    found.append(insts[codes == code])
    return np.unique(np.concatenate(found))


__all__ = ["revisions", "wanted_fields"]
