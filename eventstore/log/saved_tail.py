"""The writer's tail saved beside the index, so that a fresh writer on a large log starts fast.

A writer's first look at a log reads the ids and stream versions of every event (14.6 s at
10,000,000 events). A local log's writer saves what it learnt under
`<root>/projections/writer-tail.bin` once it knows `SAVE_EVERY` positions more than the saved
copy, and a fresh writer starts from that copy: it is a cache, like the index. It is used
only when it checks out against the log, else the log is read in full as before:

* the file is whole (an xxh3 checksum over its arrays, a known format);
* the log has reached the copy's Delta version, and the event at its last position has the
  copy's hash: the chain makes that hash vouch for every event before it, so the copy's
  ids and stream versions are those of the log's first `next_position` events.

The events after the copy's last position are then read as any writer reads new commits.
Saving never fails an append: a copy that cannot be written is simply not there next time.
"""

from __future__ import annotations

import io
import json
import os
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import xxhash

from eventstore.log.places import local_folder, write_atomically
from eventstore.log.tail import LogTail

if TYPE_CHECKING:
    from collections.abc import Callable

#: Save again once the tail is this many positions past the saved copy.
SAVE_EVERY: Final = 200_000
FORMAT: Final = "pit-catalog writer tail 1"
FILE_NAME: Final = "writer-tail.bin"
_ARRAYS: Final = ("keys", "positions", "versions", "name_offsets", "name_bytes")


def tail_path(root: str) -> str | None:
    """Return where the tail of the log under `root` is saved (None on an object store)."""
    folder = local_folder(root)
    return None if folder is None else os.path.join(folder, "projections", FILE_NAME)


def save_tail(tail: LogTail, path: str) -> bool:
    """Save `tail` at `path` whole (written aside, then renamed); return whether it was."""
    keys, positions = tail.ids()
    names = pa.array(list(tail.streams), pa.string())
    data = names.buffers()[2]
    arrays = {
        "keys": keys,
        "positions": positions,
        "versions": np.fromiter(tail.streams.values(), np.int64, len(tail.streams)),
        "name_offsets": np.frombuffer(names.buffers()[1], np.int32, len(names) + 1).copy(),
        "name_bytes": np.frombuffer(data, np.uint8).copy() if data else np.empty(0, np.uint8),
    }
    body = io.BytesIO()
    np.savez(body, allow_pickle=False, **arrays)
    payload = body.getvalue()
    head = {
        "format": FORMAT,
        "delta_version": tail.delta_version,
        "next_position": tail.next_position,
        "last_hash": tail.last_hash,
        "last_recorded_us": tail.last_recorded_us,
        "checksum": xxhash.xxh3_64_hexdigest(payload),
    }
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomically(path, json.dumps(head).encode() + b"\n" + payload)
    except OSError:
        return False
    return True


def load_tail(path: str) -> LogTail | None:
    """Return the tail saved at `path`, or None if there is none or it is damaged."""
    try:
        with open(path, "rb") as src:
            content = src.read()
        line, _, payload = content.partition(b"\n")
        head: dict[str, Any] = json.loads(line)
        if head.get("format") != FORMAT or head.get("checksum") != xxhash.xxh3_64_hexdigest(
            payload
        ):
            return None
        with np.load(io.BytesIO(payload), allow_pickle=False) as found:
            arrays = {name: found[name] for name in _ARRAYS}
        return _restored(head, arrays)
    except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
        return None


def _restored(head: dict[str, Any], arrays: dict[str, np.ndarray]) -> LogTail | None:
    offsets, versions = arrays["name_offsets"], arrays["versions"]
    keys, positions = arrays["keys"], arrays["positions"]
    if len(offsets) != len(versions) + 1 or len(keys) != len(positions):
        return None
    if keys.dtype != np.uint64 or positions.dtype != np.int64:
        return None
    names = pa.Array.from_buffers(
        pa.string(),
        len(versions),
        [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(arrays["name_bytes"])],
    )
    names.validate(full=True)
    tail = LogTail(
        delta_version=int(head["delta_version"]),
        next_position=int(head["next_position"]),
        last_hash=str(head["last_hash"]),
        last_recorded_us=int(head["last_recorded_us"]),
        streams=dict(zip(names.to_pylist(), versions.tolist(), strict=True)),
    )
    tail.restore_ids(keys, positions)
    return tail


def checked_tail(path: str, version: int, hash_at: Callable[[int], str | None]) -> LogTail | None:
    """Return the tail saved at `path` if it holds against the log, else None.

    `version` is the log's Delta version now; `hash_at(position)` reads one event's hash
    from the log (None when there is no such event).
    """
    tail = load_tail(path)
    if tail is None or tail.delta_version > version or tail.next_position <= 0:
        return None
    if hash_at(tail.next_position - 1) != tail.last_hash:
        return None
    return tail


class TailCache:
    """The saved tail of one writer: read on its first look, saved as it moves on."""

    def __init__(self, root: str, *, save_every: int | None = None) -> None:
        """Keep the tail of the log under `root` (nothing is kept on an object store);
        `save_every` defaults to `SAVE_EVERY` as it is when the writer opens."""
        self.path = tail_path(root)
        self.save_every = SAVE_EVERY if save_every is None else save_every
        self.saved_at = 0  # the next position of the copy on disk, as far as this writer knows

    def first_look(self, version: int, hash_at: Callable[[int], str | None]) -> LogTail | None:
        """Return the saved tail if it holds against the log at `version`, else None."""
        if self.path is None or version < 0:
            return None
        tail = checked_tail(self.path, version, hash_at)
        if tail is not None:
            self.saved_at = tail.next_position
        return tail

    def moved(self, tail: LogTail) -> None:
        """Save `tail` if it is `save_every` positions or more past the saved copy."""
        if self.path is None or tail.next_position - self.saved_at < self.save_every:
            return
        if save_tail(tail, self.path):
            self.saved_at = tail.next_position


__all__ = ["SAVE_EVERY", "TailCache", "checked_tail", "load_tail", "save_tail", "tail_path"]
