"""`known_at="row"` on names in any scheme: each row's name resolved with what had been
observed by the row's own instant, as `projections.join.per_row` does for TradingView symbols.

A name's possible holders are the instruments whose versions bear it as everything is known
(each store's `NameDirectory`) and the instruments with late intervals whose versions bore
it under some earlier state of knowledge: each such instrument folded as known at each
distinct `observed_at` of its events (every state of knowledge it went through), named once
and kept with the `Lateness` until the log grows. A row inside a late interval of one of
its name's possible holders is answered by folding each possible holder as known at the
row's instant and naming those folds (vectorized, as the symbol case); every other row
keeps the fast answer, which is then the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.index.holders import holder_groups
from projections.join.inputs import codes_in
from projections.join.known_folds import best_holders, fold_at, fold_every_knowledge
from projections.join.per_row import rows_inside
from projections.join.pit_join import candidates
from projections.names.directory import US, NameDirectory, directory, named_as
from projections.names.lookup import parts
from projections.names.schemes import SCHEMES, exchange_key

if TYPE_CHECKING:
    from projections.index.known_view import View
    from projections.index.live import PitIndex
    from projections.index.version_store import VersionStore
    from projections.join.per_row import Lateness
    from projections.join.pit_join import Match


@dataclass(frozen=True)
class EarlierNames:
    """One scheme's keys that instruments with late intervals bore under some state of
    knowledge: key text, bare name and local instrument code, one entry per pair."""

    texts: pa.Array
    names: pa.Array
    inst: np.ndarray


def strict_name_rows(
    index: PitIndex,
    late: Lateness,
    view: View,
    values: pa.Array,
    at: np.ndarray,
    valid: np.ndarray,
    named: tuple[str, str | None],
) -> tuple[np.ndarray, Match | None]:
    """Return the rows whose answer may differ under the row's own knowledge, and their
    answers (None: no such row). `values` are the rows' names, `valid` the rows joined."""
    scheme, exchange = named
    if isinstance(values, pa.DictionaryArray):
        values = values.dictionary_decode()
    wanted = _wanted(values, scheme, exchange)
    keys = pc.unique(wanted.filter(pa.array(valid)).drop_null())
    codes = codes_in(wanted, keys)
    codes[~valid] = -1
    offsets, holders = _possible_holders(index, late, view, keys, named)
    lo, start, until = late.intervals.by_key(offsets, holders, len(late.ids))
    rows = rows_inside(codes, at, lo, start, until)
    if not len(rows):
        return rows, None
    pair_u, inst = candidates(offsets, holders, codes[rows])
    pair_row = rows[pair_u]
    scratch, version = fold_at(index, late, inst, at[pair_row])
    names = named_as(scratch, _real_ids(scratch, late, inst)).schemes[scheme]
    held = version >= 0
    code = names.codes[version[held]] if scratch.n else np.empty(0, np.int64)
    borne = (names.texts if exchange is not None else names.names).take(
        pa.array(code, mask=code < 0)
    )
    same = pc.fill_null(pc.equal(borne, wanted.take(pa.array(pair_row[held]))), False)
    held[held] = np.asarray(same.to_numpy(zero_copy_only=False), bool)
    return rows, best_holders(scratch, late, len(at), pair_row[held], version[held], inst[held])


def _wanted(values: pa.Array, scheme: str, exchange: str | None) -> pa.Array:
    """Return what each row's name must equal: the key text on `exchange`, else the name."""
    if exchange is None:
        return values
    return pc.binary_join_element_wise(exchange_key(scheme, exchange), values, US)


def _possible_holders(
    index: PitIndex, late: Lateness, view: View, keys: pa.Array, named: tuple[str, str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Return the CSR (by code in `keys`) of the local instruments that may bear each key."""
    scheme, exchange = named
    key_of, inst_of = [], []
    for store, _ in parts(view):  # the skipped ones too: a superset is enough
        names = directory(store).schemes[scheme]
        code = codes_in(keys, names.texts if exchange is not None else names.names)
        key, member = candidates(names.offsets, names.members, code)
        local = codes_in(store.instruments.values.take(pa.array(member, pa.int64())), late.ids)
        key_of.append(key[local >= 0])
        inst_of.append(local[local >= 0])
    earlier = earlier_names(index, late)[scheme]
    key = codes_in(earlier.texts if exchange is not None else earlier.names, keys)
    key_of.append(key[key >= 0])
    inst_of.append(earlier.inst[key >= 0])
    return holder_groups(np.concatenate(key_of), np.concatenate(inst_of), len(keys), np.int64)


def earlier_names(index: PitIndex, late: Lateness) -> dict[str, EarlierNames]:
    """Return, per scheme, the keys instruments with late intervals bore under any state of
    knowledge (derived once per `Lateness`, kept on it)."""
    if isinstance(late.names, dict):
        return late.names
    involved = np.unique(late.intervals.inst)
    found: dict[str, EarlierNames] = {}
    if len(involved):
        scratch, state_inst = fold_every_knowledge(index, late, involved)
        named = named_as(scratch, _real_ids(scratch, late, state_inst))
        found = _pairs(scratch, named, state_inst)
    empty = EarlierNames(pa.array([], pa.string()), pa.array([], pa.string()), np.empty(0))
    late.names = found = {scheme: found.get(scheme, empty) for scheme in SCHEMES}
    return found


def _pairs(
    scratch: VersionStore, named: NameDirectory, state_inst: np.ndarray
) -> dict[str, EarlierNames]:
    """Return per scheme the distinct (key, real instrument) pairs of the scratch versions."""
    local = _local(scratch, state_inst)[scratch.columns["inst"][: scratch.n].astype(np.int64)]
    found = {}
    for scheme, names in named.schemes.items():
        bears = names.codes >= 0
        pairs = np.unique(np.column_stack([names.codes[bears], local[bears]]), axis=0)
        code = pa.array(pairs[:, 0])
        found[scheme] = EarlierNames(names.texts.take(code), names.names.take(code), pairs[:, 1])
    return found


def _local(scratch: VersionStore, pair_inst: np.ndarray) -> np.ndarray:
    """Return the real local instrument code of each scratch instrument code (labels are
    the pairs' indices; code 0, null, reads pair 0)."""
    labels = scratch.instruments.values.cast(pa.int64()).fill_null(0)
    return pair_inst[np.asarray(labels.to_numpy(), np.int64)] if len(pair_inst) else pair_inst


def _real_ids(scratch: VersionStore, late: Lateness, pair_inst: np.ndarray) -> pa.Array:
    """Return the real instrument id of each scratch instrument code."""
    local = _local(scratch, pair_inst)
    if not len(local):
        return pa.nulls(len(scratch.instruments), pa.string())
    return late.ids.take(pa.array(local, pa.int64()))
