"""Save and load a `VersionStore` as a folder of NumPy arrays, swapped in atomically.

    <directory>/CURRENT                 the name of the live snapshot
    <directory>/snapshot-<id>/          header.json (its own xxh3 and every other file's), one
                                        .npy per array (memory-mapped on load, copy-on-write),
                                        the store's and the event table's (`ev_`, `es_`,
                                        `rt_`), Arrow IPC files for the dictionaries and
                                        exchange events

Loading maps the arrays instead of reading them, so opening a large catalog costs what
the first queries touch. Arrays are saved with spare rows so that the first appends after
a load do not copy the whole store. The folder is a cache: anything wrong with it means
"rebuild from the log", never a wrong answer: every file's checksum is checked before the
snapshot is used, so zeroed, scribbled, swapped or truncated files are never served.
The names of every version in every scheme are saved with it (`projections.names.saved`).
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import xxhash

from eventstore.log.places import write_atomically
from projections.errors import IndexStateError
from projections.index.dictionary import Dictionary
from projections.index.event_table import EventTable
from projections.index.fold_arrays import STORE_FIELDS
from projections.index.lookup import CodeMap
from projections.index.version_store import VersionStore
from projections.names.saved import load_names, save_names

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = 13  # 13: the event table (every instrument event, coded; retractions);
# 12: the names of every version in every scheme (`projections.names.saved`);
# 11: code maps of the symbols and instrument ids; 10: root;
# 9: strike option_type underlying; 8: settle ... funding_interval;
# 7: observed_at (recorded_since, max_observed_us); 6: checksums of every file
POINTER = "CURRENT"
HEADER = "header.json"
#: A staging folder older than this was left by a save that died; younger ones may be live.
STALE_STAGING_S = 60.0


@dataclass(frozen=True)
class Header:
    """What a saved index reflects: the log position after its last event, and that hash."""

    position: int
    last_hash: str
    log_version: int
    max_recorded_us: int
    max_observed_us: int


def _write_arrow(path: Path, values: pa.Array | pa.Table) -> None:
    table = values if isinstance(values, pa.Table) else pa.table({"values": values})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _read_arrow(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _spare(rows: int) -> int:
    return 1_024 + rows // 10


def save(
    store: VersionStore, header: Header, exchanges: pa.Table, directory: Path, events: EventTable
) -> None:
    """Write `store` (and its `events`) as a new snapshot under `directory` and make it the
    current one."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"snapshot-{uuid.uuid4().hex}"
    staging = directory / f".{name}"
    staging.mkdir()
    try:
        _write_snapshot(store, header, exchanges, staging, events)
        staging.rename(directory / name)
        write_atomically(directory / POINTER, name.encode())
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _remove_old(directory, keep=name)


def _write_snapshot(
    store: VersionStore, header: Header, exchanges: pa.Table, into: Path, events: EventTable
) -> None:
    """Write the snapshot's files into `into`, the header (with every checksum) last."""
    if store.recent_holders:  # holders added since the last index: the saved CSR must hold them
        store.index_holders()
    n = store.n
    arrays: dict[str, np.ndarray] = {f"col_{k}": v[:n] for k, v in store.columns.items()}
    arrays["matrix"] = store.matrix[:n]
    for key, value in arrays.items():
        _save_padded(into / f"{key}.npy", value, n + _spare(n))
    for key, value in events.arrays().items():
        _save_padded(into / f"{key}.npy", value, len(value) + _spare(len(value)))
    for key in ("first", "count", "holder_offsets", "holder_insts"):
        np.save(into / f"{key}.npy", getattr(store, key))
    _write_arrow(into / "instruments.arrow", store.instruments.values)
    for field, dictionary in store.dictionaries.items():
        _write_arrow(into / f"dict_{field}.arrow", dictionary.values)
    _write_arrow(into / "exchanges.arrow", exchanges)
    maps = {}
    for key, dictionary in _mapped(store).items():
        found = dictionary.mapped()
        np.save(into / f"map_{key}_hashes.npy", found.hashes)
        np.save(into / f"map_{key}_codes.npy", found.codes)
        maps[key] = found.covered
    named = save_names(store, into)
    sums = {path.name: _checksum(path) for path in sorted(into.iterdir())}
    meta = {"format": FORMAT, "n": n, **asdict(header), "maps": maps, "names": named}
    meta["checksums"] = sums
    meta["events"] = events.counts()
    meta["self"] = _header_sum(meta)
    (into / HEADER).write_text(json.dumps(meta))


def _mapped(store: VersionStore) -> dict[str, Dictionary]:
    """Return the dictionaries whose code maps are saved: those searched by value."""
    return {"instruments": store.instruments, "symbol": store.dictionaries["symbol"]}


def _header_sum(meta: dict[str, Any]) -> str:
    """Return the xxh3 of the header's fields other than its own checksum."""
    rest = {k: v for k, v in meta.items() if k != "self"}
    return xxhash.xxh3_64_hexdigest(json.dumps(rest, sort_keys=True).encode())


def _checksum(path: Path) -> str:
    """Return the xxh3-64 of a file's bytes (mapped, not read into memory)."""
    with path.open("rb") as source:
        if os.fstat(source.fileno()).st_size == 0:
            return xxhash.xxh3_64_hexdigest(b"")
        with mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return xxhash.xxh3_64_hexdigest(mapped)


def _save_padded(path: Path, value: np.ndarray, rows: int) -> None:
    """Save `value` as an .npy of `rows` rows, the spare ones zero, without copying it."""
    header = {
        "descr": np.lib.format.dtype_to_descr(value.dtype),
        "fortran_order": False,
        "shape": (rows, *value.shape[1:]),
    }
    with path.open("wb") as sink:
        np.lib.format.write_array_header_1_0(sink, header)
        np.ascontiguousarray(value).tofile(sink)
        spare = (rows - len(value)) * value.dtype.itemsize * int(np.prod(value.shape[1:]))
        sink.truncate(sink.tell() + spare)  # zeros, without writing them


def _remove_old(directory: Path, keep: str) -> None:
    """Remove every snapshot but `keep` and the current one, and staging left by dead saves."""
    try:
        current = _pointer(directory)
    except (OSError, ValueError):
        current = keep
    for path in directory.glob("snapshot-*"):
        if path.name not in (keep, current):
            shutil.rmtree(path, ignore_errors=True)
    remove_stale_staging(directory)


def remove_stale_staging(directory: Path) -> None:
    """Remove the staging folders and pointers of saves that died (older than a live one)."""
    now = time.time()
    if not directory.is_dir():
        return
    for path in directory.glob(".snapshot-*"):
        try:
            if now - path.stat().st_mtime < STALE_STAGING_S:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # another process removed it first


def _pointer(directory: Path) -> str:
    """Return the snapshot name that CURRENT holds, or raise ValueError (or OSError)."""
    name = (directory / POINTER).read_bytes().decode("ascii").strip()
    if not name.startswith("snapshot-") or not name[9:].isalnum():
        raise ValueError(f"{POINTER} does not name a snapshot")
    return name


def current_name(directory: Path) -> str:
    """Return the name of the current snapshot under `directory` (as a publisher needs it)."""
    return _pointer(directory)


def load(directory: Path) -> tuple[VersionStore, Header, pa.Table, EventTable]:
    """Return the saved store, its header, the exchange events and the event table, or raise
    `IndexStateError`.

    `IndexStateError.missing` is True when there is no snapshot at all (nothing to warn of).
    """
    if not (directory / POINTER).exists():
        raise IndexStateError(str(directory), "no saved index", missing=True)
    where = str(directory / POINTER)
    try:
        name = _pointer(directory)
        where = str(directory / name)
        return _restore(directory / name)
    except Exception as exc:  # any damage at all means "rebuild", never a crash on every open
        raise IndexStateError(where, f"unreadable ({type(exc).__name__}: {exc})") from exc


def _restore(snapshot: Path) -> tuple[VersionStore, Header, pa.Table, EventTable]:
    meta = json.loads((snapshot / HEADER).read_bytes())
    if meta.get("self") != _header_sum(meta):
        raise ValueError(f"{HEADER} does not match its checksum")
    if meta.get("format") != FORMAT:
        raise ValueError(f"format {meta.get('format')} is not {FORMAT}")
    sums: dict[str, str] = meta["checksums"]
    present = {path.name for path in snapshot.iterdir()} - {HEADER}
    if present != set(sums):
        raise ValueError(f"files {sorted(present ^ set(sums))} do not match the header")
    for file, expected in sums.items():
        if _checksum(snapshot / file) != expected:
            raise ValueError(f"{file} does not match its checksum")
    n = int(meta["n"])

    def array(key: str) -> Any:
        # a plain ndarray over the mapping: np.memmap's Python-level indexing is slow
        return np.load(snapshot / f"{key}.npy", mmap_mode="c").view(np.ndarray)

    maps: dict[str, int] = meta["maps"]

    def dictionary(key: str, file: str) -> Dictionary:
        column = _read_arrow(snapshot / file)[0]  # one chunk, as written: no copy
        values = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        if key not in maps:
            return Dictionary(values.type, values)
        codes = CodeMap(array(f"map_{key}_hashes"), array(f"map_{key}_codes"), int(maps[key]))
        codes.check(values)
        return Dictionary(values.type, values, codes)

    dictionaries = {field: dictionary(field, f"dict_{field}.arrow") for field in STORE_FIELDS}
    names = [f.name.removeprefix("col_").removesuffix(".npy") for f in snapshot.glob("col_*.npy")]
    store = VersionStore.from_arrays(
        instruments=dictionary("instruments", "instruments.arrow"),
        dictionaries=dictionaries,
        matrix=array("matrix"),
        columns={name: array(f"col_{name}") for name in names},
        n=n,
        directory=(array("first"), array("count")),
        holders=(array("holder_offsets"), array("holder_insts")),
    )
    load_names(store, snapshot, int(meta["names"]))
    header = Header(
        int(meta["position"]),
        str(meta["last_hash"]),
        int(meta["log_version"]),
        int(meta["max_recorded_us"]),
        int(meta["max_observed_us"]),
    )
    events = EventTable.restored(array, meta["events"])
    return store, header, _read_arrow(snapshot / "exchanges.arrow"), events
