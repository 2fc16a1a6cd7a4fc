"""Who held a symbol at an instant, and that version as an `Instrument`: one `get`.

This is the hot path of a single lookup, in plain Python over the store's arrays: a few
scalar reads (`ndarray.item`), a short scan of one instrument's rows, and one `Instrument`
built from the codes of one row. Fields whose dictionary holds only null (never set in
this catalog) are left at their default instead of being looked up.
"""

from __future__ import annotations

from datetime import timedelta
from operator import getitem, itemgetter
from typing import TYPE_CHECKING, Any, Final

import msgspec

from eventstore.model.instants import EPOCH
from projections.index.dictionary import WARM
from projections.index.fold_arrays import STORE_FIELDS
from projections.model import Instrument

#: The fields an `Instrument` must be given (the others default to null).
_REQUIRED: Final = frozenset(f.name for f in msgspec.structs.fields(Instrument) if f.required)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from projections.index.version_store import VersionStore


def row_at(store: VersionStore, inst: int, at: int) -> int | None:
    """Return the row of instrument `inst`'s version at `at` (microseconds), if any."""
    if inst >= len(store.first):
        return None
    first, count = store.first.item(inst), store.count.item(inst)
    if count == 0:
        return None
    starts = store.columns["valid_from"]
    if count <= 16:  # most instruments have few versions: a short scan beats a search call
        found = None
        for row, start in enumerate(starts[first : first + count].tolist(), first):
            if start > at:
                break
            found = row
        return found
    index = int(starts[first : first + count].searchsorted(at, "right"))
    return None if index == 0 else first + index - 1


def holder_row(
    store: VersionStore, symbol_code: int, at: int, skip: frozenset[int] = frozenset()
) -> int | None:
    """Return the row of the holder of a symbol at `at`: active first, then latest."""
    candidates = store.holders(symbol_code)
    symbols = store.codes["symbol"]
    if len(candidates) == 1 and not skip:  # the common case: one holder, ever
        row = row_at(store, candidates[0], at)
        if row is None or symbols.item(row) != symbol_code:
            return None
        return row
    best: tuple[bool, int, str] | None = None
    best_row = None
    ids = store.instruments.lookup()
    active, starts = store.columns["active"], store.columns["valid_from"]
    for inst in candidates:
        row = None if inst in skip else row_at(store, inst, at)
        if row is None or symbols.item(row) != symbol_code:
            continue
        key = (bool(active.item(row)), starts.item(row), str(ids[inst]))
        if best is None or key > best:
            best, best_row = key, row
    return best_row


class Reader:
    """Builds `Instrument`s from a store's rows, with the value lists of its dictionaries.

    The lists are taken again when the store's generation changes. A fresh process reads
    large text dictionaries value by value; after `WARM` lookups it converts them whole,
    which makes each later lookup faster.
    """

    def __init__(self, store: VersionStore) -> None:
        """Read from `store`."""
        self.store = store
        self.generation = -1
        self.served = 0
        self.names: tuple[str, ...] = ()
        self.lists: list[Sequence[Any]] = []
        self.ids: Sequence[Any] = []
        self.pick: Callable[[list[int]], Any] = itemgetter(0)

    def _take_lists(self) -> None:
        store = self.store
        warm = self.served >= WARM  # a long-lived reader: Python values are faster
        dictionaries = store.dictionaries
        used = [i for i, f in enumerate(STORE_FIELDS) if f in _REQUIRED or len(dictionaries[f]) > 1]
        self.names = tuple(STORE_FIELDS[i] for i in used)
        self.lists = [dictionaries[STORE_FIELDS[i]].lookup(warm=warm) for i in used]
        self.pick = itemgetter(*used)  # a tuple whenever two or more
        self.ids = store.instruments.lookup(warm=warm)
        self.generation = store.generation

    def instrument(self, row: int) -> Instrument:
        """Return the version at `row` as an `Instrument`."""
        store = self.store
        self.served += 1
        if self.generation != store.generation or self.served == WARM:
            self._take_lists()
        picked = self.pick(store.matrix[row].tolist())
        codes = picked if isinstance(picked, tuple) else (picked,)
        values: dict[str, Any] = dict(zip(self.names, map(getitem, self.lists, codes), strict=True))
        c = store.columns
        return Instrument(
            instrument_id=self.ids[c["inst"].item(row)],
            active=bool(c["active"].item(row)),
            valid_from=EPOCH + timedelta(0, 0, c["valid_from"].item(row)),  # = from_micros
            known_since=EPOCH + timedelta(0, 0, c["known_since"].item(row)),
            recorded_since=EPOCH + timedelta(0, 0, c["recorded_since"].item(row)),
            **values,
        )


__all__ = ["Reader", "holder_row", "row_at"]
