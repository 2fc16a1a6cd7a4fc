"""`NameDirectory`: every version's name in every scheme, as codes, and who held each name.

Built once per generation of a `VersionStore` and kept on it (`store.names`), never in a
module global. The rules run once per distinct (instrument, name fields, renamed) tuple,
not per version, and their answers are kept across generations, so a catch-up names only
what is new. Per scheme:

- `codes[row]`: the code of the version's (exchange, name) key, -1 where the scheme has no
  name for it; a key is `exchange_key(exchange) + US + name`;
- `offsets`, `members`: the CSR of the instruments that ever held each key
  (`projections.index.holders`), as the join's symbol holders are;
- `by_name`: each bare name's keys (a name alone resolves where it is one key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa

from projections.index.fold_arrays import STORE_FIELDS
from projections.index.holders import holder_groups
from projections.names.parts import NAME_FIELDS, OPTION_FIELDS, parts_of
from projections.names.schemes import SCHEMES, Name, exchange_key

if TYPE_CHECKING:
    from projections.index.version_store import VersionStore

#: Separates a key's exchange from its name (neither holds it).
US: Final = "\x1f"
#: The stored fields the rules read: the name fields, and the option fields if stored.
_READ: Final = tuple(f for f in (*NAME_FIELDS, *OPTION_FIELDS) if f in STORE_FIELDS)
_COLUMNS: Final = [STORE_FIELDS.index(f) for f in _READ]


@dataclass
class SchemeNames:
    """One scheme's keys, each version's key code and each key's holders."""

    keys: list[Name] = field(default_factory=list)
    code_of: dict[str, int] = field(default_factory=dict)  # key text -> code
    codes: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int64))
    members: np.ndarray = field(default_factory=lambda: np.empty(0, np.int32))
    by_name: dict[str, list[int]] = field(default_factory=dict)
    _texts: pa.Array | None = None

    def add(self, name: Name, scheme: str) -> int:
        """Return the code of `name`'s key, adding it if new."""
        text = key_text(scheme, name.exchange, name.name)
        code = self.code_of.get(text)
        if code is None:
            code = self.code_of[text] = len(self.keys)
            self.keys.append(name)
            self.by_name.setdefault(name.name, []).append(code)
            self._texts = None
        return code

    def texts(self) -> pa.Array:
        """Return the key texts by code, as an Arrow array (for vectorized lookups)."""
        if self._texts is None or len(self._texts) != len(self.keys):
            self._texts = pa.array(list(self.code_of), pa.string())
        return self._texts

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
    schemes: dict[str, SchemeNames]
    #: The rules' answers by (instrument, name field codes..., renamed): kept across builds.
    named: dict[tuple[int, ...], tuple[int, ...]]

    def name(self, scheme: str, row: int) -> Name | None:
        """Return the name of the version at `row` in `scheme`, if it has one."""
        names = self.schemes[scheme]
        code = int(names.codes[row])
        return None if code < 0 else names.keys[code]


def directory(store: VersionStore) -> NameDirectory:
    """Return the names of `store`'s versions (built when the store changed, else kept)."""
    cached: Any = store.names
    if isinstance(cached, NameDirectory) and cached.generation == store.generation:
        return cached
    built = _build(store, cached if isinstance(cached, NameDirectory) else None)
    store.names = built
    return built


def _build(store: VersionStore, before: NameDirectory | None) -> NameDirectory:
    n = store.n
    schemes = before.schemes if before is not None else {s: SchemeNames() for s in SCHEMES}
    named = before.named if before is not None else {}
    inst = store.columns["inst"][:n].astype(np.int64)
    symbol = store.matrix[:n, 0]
    first_symbol = store.matrix[store.first[inst], 0] if n else symbol
    renamed = (symbol != first_symbol).astype(np.int64)
    keys = np.column_stack([inst, store.matrix[:n, _COLUMNS].astype(np.int64), renamed])
    distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
    combos = [tuple(row) for row in distinct.tolist()]
    missing = [c for c in combos if c not in named]
    if missing:
        ids = store.instruments.py()
        values = [store.dictionaries[f].lookup() for f in _READ]
        for combo in missing:
            fields: dict[str, object] = {
                f: v[c] for f, v, c in zip(_READ, values, combo[1:-1], strict=True)
            }
            parts = parts_of(ids[combo[0]], fields, renamed=bool(combo[-1]))
            codes = []
            for scheme, rule in SCHEMES.items():
                found = rule(parts)
                codes.append(-1 if found is None else schemes[scheme].add(found, scheme))
            named[combo] = tuple(codes)
    table = np.array([named[c] for c in combos], dtype=np.int64).reshape(len(combos), len(SCHEMES))
    alive = store.columns["alive"][:n]
    for k, names in enumerate(schemes.values()):
        names.codes = table[:, k][inverse.reshape(-1)] if n else np.empty(0, np.int64)
        held = alive & (names.codes >= 0)
        names.offsets, names.members = holder_groups(names.codes[held], inst[held], len(names.keys))
    return NameDirectory(store.generation, schemes, named)
