"""Save and load a `VersionStore` as one file, replaced atomically.

The file is a NumPy `.npz` (uncompressed) holding the version columns, the per-instrument
directory, the per-symbol holders, each dictionary as Arrow IPC bytes, and a JSON header
naming the log position and hash it reflects. It is a cache: anything wrong with it means
"rebuild from the log", never a wrong answer.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from projections.builder import STORE_FIELDS
from projections.encode import Dictionary
from projections.errors import IndexStateError
from projections.store import VersionStore

FORMAT = 2
FILENAME = "versions.npz"


@dataclass(frozen=True)
class Header:
    """What a saved index reflects: the log position after its last event, and that hash."""

    position: int
    last_hash: str
    log_version: int
    max_recorded_us: int


def _ipc(values: pa.Array) -> np.ndarray:
    sink = pa.BufferOutputStream()
    batch = pa.record_batch([values], names=["values"])
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return np.frombuffer(sink.getvalue(), dtype=np.uint8)


def _from_ipc(raw: np.ndarray) -> pa.Array:
    with pa.ipc.open_stream(pa.py_buffer(raw.tobytes())) as reader:
        return reader.read_all()["values"].combine_chunks()


def save(store: VersionStore, header: Header, directory: Path) -> None:
    """Write `store` under `directory`, replacing any earlier file atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    n = store.n
    arrays: dict[str, Any] = {
        "header": np.frombuffer(
            json.dumps({"format": FORMAT, "dead": store.dead, **header.__dict__}).encode(),
            dtype=np.uint8,
        ),
        "first": store.first,
        "count": store.count,
        "holder_offsets": store.holder_offsets,
        "holder_insts": store.holder_insts,
        "instruments": _ipc(store.instruments.values),
    }
    arrays.update({f"col_{k}": v[:n] for k, v in store.columns.items()})
    arrays["matrix"] = store.matrix[:n]
    arrays.update({f"dict_{k}": _ipc(d.values) for k, d in store.dictionaries.items()})
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".versions-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as sink:
            np.savez(sink, **arrays)
        os.replace(temporary, directory / FILENAME)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(directory: Path) -> tuple[VersionStore, Header]:
    """Return the saved store and its header, or raise `IndexStateError`."""
    path = directory / FILENAME
    if not path.exists():
        raise IndexStateError(str(path), "no saved index")
    try:
        with np.load(path) as saved:
            return _restore(saved)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, pa.ArrowException) as exc:
        raise IndexStateError(str(path), f"unreadable ({exc})") from exc


def _restore(saved: Any) -> tuple[VersionStore, Header]:
    meta = json.loads(saved["header"].tobytes())
    if meta.get("format") != FORMAT:
        raise ValueError(f"format {meta.get('format')} is not {FORMAT}")
    store = VersionStore()
    store.instruments = Dictionary(pa.string(), _from_ipc(saved["instruments"]))
    for name in STORE_FIELDS:
        store.dictionaries[name] = Dictionary(pa.null(), _from_ipc(saved[f"dict_{name}"]))
    store.set_matrix(saved["matrix"])
    store.columns = {k: saved[f"col_{k}"] for k in store.columns}
    store.n = len(store.columns["inst"])
    if store.matrix.shape != (store.n, len(STORE_FIELDS)):
        raise ValueError("columns of unequal length")
    store.first, store.count = saved["first"], saved["count"]
    store.holder_offsets, store.holder_insts = saved["holder_offsets"], saved["holder_insts"]
    store.dead = int(meta["dead"])
    header = Header(
        int(meta["position"]),
        str(meta["last_hash"]),
        int(meta["log_version"]),
        int(meta["max_recorded_us"]),
    )
    return store, header
