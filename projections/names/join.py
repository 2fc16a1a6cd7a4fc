"""The point-in-time join on names in any scheme, vectorized as the symbol join is.

Each row's name (with the join's exchange) becomes a key code of each store's
`NameDirectory` by one Arrow lookup; the key's holders (a CSR) give the candidate
instruments; one binary search over each candidate's versions (all rows stepping together)
finds its version at the row's time; a candidate counts if that version bears the key; the
best counts (`pick_best`: active first, then the latest `valid_from`, then the greatest id).
No Python runs per row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.errors import InvalidTableError
from projections.join.answers import combine
from projections.join.pit_join import Match, candidates, last_at_or_before, pick_best, scores
from projections.names.directory import US, SchemeNames, directory
from projections.names.lookup import checked_scheme, parts
from projections.names.schemes import QUALIFIED, exchange_key

if TYPE_CHECKING:
    from collections.abc import Sequence

    from projections.index.known_view import View
    from projections.index.version_store import VersionStore
    from projections.join.answers import Columns


def name_join(
    view: View,
    names: pa.Array,
    at: np.ndarray,
    valid: np.ndarray,
    fields: Sequence[str],
    named: tuple[str, str | None],
) -> Columns:
    """Return the answer columns of every row, its name read in scheme `named[0]` on
    exchange `named[1]` (`known_at="row"` then corrects some rows: `names.per_row`)."""
    scheme, exchange = checked_scheme(named[0]), named[1]
    if exchange is None and scheme not in QUALIFIED:
        raise InvalidTableError(
            "exchange", f"is needed to join on {scheme} names (they do not say their exchange)"
        )
    if isinstance(names, pa.DictionaryArray):  # keys are joined to the names' texts
        names = names.dictionary_decode()
    skip_all = [(store, np.fromiter(skip, np.int64, len(skip))) for store, skip in parts(view)]
    found = [
        _match(store, directory(store).schemes[scheme], names, at, valid, scheme, exchange, skip)
        for store, skip in skip_all
    ]
    return dict(combine(found, fields))


def _codes(names: SchemeNames, values: pa.Array, scheme: str, exchange: str | None) -> np.ndarray:
    """Return each row's key code in `names` (-1: no such key)."""
    if exchange is not None:
        keys = pc.binary_join_element_wise(exchange_key(scheme, exchange), values, US)
        found = pc.index_in(keys, value_set=names.texts)
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    # a bare name is a key where only one exchange has it (a qualified scheme's always are)
    found = pc.index_in(values, value_set=names.names)
    index = np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    return index


def _match(
    store: VersionStore,
    names: SchemeNames,
    values: pa.Array,
    at: np.ndarray,
    valid: np.ndarray,
    scheme: str,
    exchange: str | None,
    skip: np.ndarray,
) -> Match:
    codes = _codes(names, values, scheme, exchange)
    codes[~valid] = -1
    pair_row, inst = candidates(names.offsets, names.members, codes)
    if len(skip):
        kept = ~np.isin(inst, skip)
        pair_row, inst = pair_row[kept], inst[kept]
    inst = inst.astype(np.int64)
    first = store.first[inst]
    version = last_at_or_before(
        store.columns["valid_from"], first, first + store.count[inst], at[pair_row]
    )
    held = version >= 0
    held[held] = names.codes[version[held]] == codes[pair_row[held]]
    pair_row, version = pair_row[held], version[held]

    def ids_of(pairs: np.ndarray) -> pa.Array:
        return store.instruments.values.take(pa.array(store.columns["inst"][version[pairs]]))

    return pick_best(store, len(at), pair_row, version, scores(store, version), ids_of)
