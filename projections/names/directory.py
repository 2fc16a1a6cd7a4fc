"""`NameDirectory`: every version's name in every scheme, as codes, and who held each name.

Built per generation of a `VersionStore` and kept on it (`store.names`), never in a module
global. The rules run over columns (`columnar`): once per distinct (instrument, name
fields, renamed) among the rows added since the last build, so a catch-up names only its
new versions (a compaction, which renumbers the rows, names them all again). Per scheme:

- `codes[row]`: the code of the version's key (`exchange_key(exchange) + US + name`), -1
  where the scheme has no name for it; the keys' exchanges, names and texts by code, as
  Arrow arrays;
- `offsets`, `members`: the CSR of the instruments that ever held each key
  (`projections.index.holders`), as the join's symbol holders are;
- `code_of` and `by_name`: single lookups, a scan of the keys for the first `WARM` of them
  (a fresh process answers at once), then through dicts built once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections.index.dictionary import WARM
from projections.index.fold_arrays import STORE_FIELDS
from projections.names.columnar import names_table
from projections.names.parts import NAME_FIELDS, OPTION_FIELDS
from projections.names.schemes import SCHEMES, Name, exchange_key

if TYPE_CHECKING:
    from projections.index.version_store import VersionStore

#: Separates a key's exchange from its name (neither holds it).
US: Final = "\x1f"
#: The stored fields the rules read: the name fields, and the option fields if stored.
_READ: Final = tuple(f for f in (*NAME_FIELDS, *OPTION_FIELDS) if f in STORE_FIELDS)
_COLUMNS: Final = [STORE_FIELDS.index(f) for f in _READ]
#: Up to this many new name inputs, keys are matched through the dict of single lookups.
_FEW: Final = 20_000


def _empty() -> pa.Array:
    return pa.array([], pa.string())


@dataclass
class SchemeNames:
    """One scheme's keys, each version's key code and each key's holders."""

    exchanges: pa.Array = field(default_factory=_empty)
    names: pa.Array = field(default_factory=_empty)
    texts: pa.Array = field(default_factory=_empty)
    codes: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    members: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    _code_of: dict[str, int] | None = None
    _by_name: dict[str, list[int]] | None = None
    _asked: int = 0  # single lookups answered by a scan, before the dicts pay

    def add(self, exchanges: pa.Array, names: pa.Array) -> np.ndarray:
        """Return the key code of each (exchange, name) (-1 where null), adding new keys."""
        texts = pc.binary_join_element_wise(pc.utf8_lower(exchanges), names, US)
        if len(texts) <= _FEW and len(self.texts):  # a catch-up: a few new rows
            return self._add_few(texts, exchanges, names)
        found = pc.index_in(texts, value_set=self.texts)
        new = pc.unique(texts.filter(pc.and_(pc.is_valid(texts), pc.is_null(found))))
        if len(new):
            first = pc.index_in(new, value_set=texts)
            self.exchanges = pa.concat_arrays([self.exchanges, exchanges.take(first)])
            self.names = pa.concat_arrays([self.names, names.take(first)])
            self.texts = pa.concat_arrays([self.texts, new])
            self._code_of, self._by_name = None, None
            found = pc.index_in(texts, value_set=self.texts)
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)

    def _add_few(self, texts: pa.Array, exchanges: pa.Array, names: pa.Array) -> np.ndarray:
        known = self._codes()  # the dict of single lookups, built once, then kept
        codes = np.full(len(texts), -1, np.int64)
        added: list[int] = []
        for index, text in enumerate(texts.to_pylist()):
            if text is None:
                continue
            code = known.get(text)
            if code is None:
                code = known[text] = len(self.texts) + len(added)
                added.append(index)
            codes[index] = code
        if added:
            taken = pa.array(added, pa.int64())
            self.exchanges = pa.concat_arrays([self.exchanges, exchanges.take(taken)])
            self.names = pa.concat_arrays([self.names, names.take(taken)])
            self.texts = pa.concat_arrays([self.texts, texts.take(taken)])
            self._by_name = None
        return codes

    def key(self, code: int) -> Name:
        """Return the key with this code."""
        return Name(self.exchanges[code].as_py(), self.names[code].as_py())

    def every_key(self) -> list[Name]:
        """Return every key, by code."""
        pairs = zip(self.exchanges.to_pylist(), self.names.to_pylist(), strict=True)
        return [Name(e, n) for e, n in pairs]

    def code_of(self, scheme: str, exchange: str, name: str) -> int | None:
        """Return the code of the key (`exchange` as `scheme` matches it, `name`), if any."""
        text = key_text(scheme, exchange, name)
        if self._code_of is None and self._asked < WARM:  # a fresh process: a scan, no dict
            self._asked += 1
            found = pc.index(self.texts, text).as_py()
            return None if found < 0 else int(found)
        return self._codes().get(text)

    def _codes(self) -> dict[str, int]:
        if self._code_of is None:
            self._code_of = {text: code for code, text in enumerate(self.texts.to_pylist())}
        return self._code_of

    def by_name(self, name: str) -> list[int]:
        """Return the codes of the keys with this name, on any exchange."""
        if self._by_name is None and self._asked < WARM:  # as `code_of`: a scan
            self._asked += 1
            same = pc.fill_null(pc.equal(self.names, name), False)
            return np.flatnonzero(same.to_numpy(zero_copy_only=False)).tolist()
        if self._by_name is None:
            self._by_name = {}
            for code, text in enumerate(self.names.to_pylist()):
                self._by_name.setdefault(text, []).append(code)
        return self._by_name.get(name, [])

    def holders_of(self, code: int) -> np.ndarray:
        """Return the instrument codes that ever held key `code`."""
        if code < 0 or code + 1 >= len(self.offsets):
            return np.empty(0, np.int32)
        return self.members[self.offsets[code] : self.offsets[code + 1]]


def key_text(scheme: str, exchange: str, name: str) -> str:
    """Return the text of a key: the exchange as matched in `scheme`, and the name."""
    return f"{exchange_key(scheme, exchange)}{US}{name}"


@dataclass
class NameDirectory:
    """Every scheme's names of one store's versions, at one generation of it."""

    generation: int
    compactions: int
    n: int  # the rows named
    schemes: dict[str, SchemeNames]

    def name(self, scheme: str, row: int) -> Name | None:
        """Return the name of the version at `row` in `scheme`, if it has one."""
        names = self.schemes[scheme]
        code = int(names.codes[row])
        return None if code < 0 else names.key(code)


def _held_by(keys: np.ndarray, insts: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the CSR (offsets, members) of the distinct (key, instrument) pairs, as
    `holder_groups` does, by one sort (NumPy 2's hashing `unique` is far slower on these)."""
    pairs = np.sort(keys.astype(np.int64) << 32 | insts.astype(np.int64))
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    offsets = np.searchsorted(pairs >> 32, np.arange(size + 1)).astype(np.int64)
    return offsets, (pairs & 0xFFFFFFFF).astype(np.int32)


def directory(store: VersionStore) -> NameDirectory:
    """Return the names of `store`'s versions (built when the store changed, else kept)."""
    cached: Any = store.names
    if isinstance(cached, NameDirectory) and cached.generation == store.generation:
        return cached
    before = cached if isinstance(cached, NameDirectory) else None
    if before is not None and (before.compactions != store.compactions or before.n > store.n):
        before = None  # the rows were renumbered: name them all again
    built = _build(store, before)
    store.names = built
    return built


def named_as(store: VersionStore, ids: pa.Array) -> NameDirectory:
    """Return the names of `store`'s versions, its instrument codes standing for `ids`
    (a scratch store of folds labelled by pair: each label's real id), kept nowhere."""
    return _build(store, None, ids)


def _build(
    store: VersionStore, before: NameDirectory | None, ids: pa.Array | None = None
) -> NameDirectory:
    n, start = store.n, 0 if before is None else before.n
    schemes = before.schemes if before is not None else {s: SchemeNames() for s in SCHEMES}
    inst = store.columns["inst"][start:n].astype(np.int64)
    symbol = store.matrix[start:n, 0]
    renamed = (symbol != store.matrix[store.first[inst], 0]).astype(np.int64)
    keys = np.column_stack([inst, store.matrix[start:n, _COLUMNS].astype(np.int64), renamed])
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    ids = store.instruments.values if ids is None else ids
    inputs = {"instrument_id": ids.take(pa.array(distinct[:, 0]))}
    for k, name in enumerate(_READ, start=1):
        inputs[name] = store.dictionaries[name].values.take(pa.array(distinct[:, k]))
    inputs["renamed"] = pa.array(distinct[:, -1].astype(bool))
    columns = names_table(pa.table(inputs)) if len(distinct) else {}
    alive = store.columns["alive"][:n]
    every = store.columns["inst"][:n].astype(np.int64)
    for scheme, names in schemes.items():
        new = np.empty(0, np.int64)
        if len(distinct):
            new = names.add(*columns[scheme])[inverse]
        names.codes = np.concatenate([names.codes[:start], new])
        held = alive & (names.codes >= 0)
        names.offsets, names.members = _held_by(names.codes[held], every[held], len(names.texts))
    return NameDirectory(store.generation, store.compactions, n, schemes)
