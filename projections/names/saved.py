"""The `NameDirectory` saved with the index snapshot, so a fresh process does not name every
version again before its first `resolve` or by-scheme `pit_join`.

Per scheme, in the snapshot folder (checksummed with every other file by `snapshots`):

    names_<scheme>_codes.npy     each version's key code (-1: no name), int32
    names_<scheme>_offsets.npy   the CSR of each key's holders: offsets, int64
    names_<scheme>_members.npy   ... and the instrument codes, int32
    names_<scheme>_keys.arrow    the keys by code: exchange, name, text (and the scheme)

The arrays are memory-mapped on load. What is loaded is checked against the store it
comes with (every version named, codes within the keys, the CSR well formed); anything
wrong raises `ValueError`, which the snapshot's loader turns into a rebuild.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from projections.names.directory import NameDirectory, SchemeNames, directory
from projections.names.schemes import SCHEMES

if TYPE_CHECKING:
    from pathlib import Path

    from projections.index.version_store import VersionStore

_KEYS = ("exchanges", "names", "texts")


def save_names(store: VersionStore, into: Path) -> int:
    """Write the names of every version of `store` (named now if they are not yet) into the
    snapshot folder `into`; return how many versions they cover."""
    named = directory(store)
    for scheme, names in named.schemes.items():
        np.save(into / f"names_{scheme}_codes.npy", names.codes[: named.n].astype(np.int32))
        np.save(into / f"names_{scheme}_offsets.npy", names.offsets.astype(np.int64))
        np.save(into / f"names_{scheme}_members.npy", names.members.astype(np.int32))
        keys = pa.table({k: getattr(names, k) for k in _KEYS}, metadata={"scheme": scheme})
        path = str(into / f"names_{scheme}_keys.arrow")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, keys.schema) as writer:
            writer.write_table(keys)
    return named.n


def load_names(store: VersionStore, snapshot: Path, n: int) -> None:
    """Attach the names saved in `snapshot` to the store just loaded from it, which they
    must cover (`n` versions); raise `ValueError` if they are not what was saved for it."""
    if n != store.n:
        raise ValueError(f"the names cover {n} versions, the store has {store.n}")
    schemes = {scheme: _scheme(store, snapshot, scheme) for scheme in SCHEMES}
    store.names = NameDirectory(store.generation, store.compactions, n, schemes)


def _scheme(store: VersionStore, snapshot: Path, scheme: str) -> SchemeNames:
    def array(part: str) -> Any:
        return np.load(snapshot / f"names_{scheme}_{part}.npy", mmap_mode="c").view(np.ndarray)

    with pa.memory_map(str(snapshot / f"names_{scheme}_keys.arrow")) as source:
        keys = pa.ipc.open_file(source).read_all()
    said = (keys.schema.metadata or {}).get(b"scheme", b"").decode()
    if keys.column_names != list(_KEYS) or said != scheme:
        raise ValueError(f"the {scheme} names' keys are not its ({said or 'unsaid'})")
    found = SchemeNames(*(keys[k].combine_chunks() for k in _KEYS))
    found.codes = array("codes")  # extended into a new array as the store grows
    found.offsets, found.members = array("offsets"), array("members")
    size, members = len(found.texts), len(found.members)
    codes = found.codes
    if len(codes) != store.n or (len(codes) and (codes.max() >= size or codes.min() < -1)):
        raise ValueError(f"the {scheme} names do not fit the store")
    if len(found.offsets) != size + 1 or found.offsets[0] != 0 or found.offsets[-1] != members:
        raise ValueError(f"the {scheme} names' holders do not fit their keys")
    if members and (found.members.min() < 0 or found.members.max() >= len(store.first)):
        raise ValueError(f"the {scheme} names' holders are not instruments of the store")
    return found
