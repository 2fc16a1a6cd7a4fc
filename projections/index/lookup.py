"""Find a text's code without Python objects for the whole dictionary: a persisted hash map.

`CodeMap` holds, for the first `covered` codes of a text dictionary, the xxh3-64 of each
value's UTF-8 bytes, sorted, and the codes in that order. A lookup hashes the text, finds
the equal hashes with one binary search and compares the candidates' texts, so a hash
collision costs a comparison, never a wrong code. The arrays are saved with the snapshot
and memory-mapped on load: the first `get` of a fresh process builds nothing.

`Texts` reads one value of a string array by code straight from its buffers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

_hash = xxhash.xxh3_64_intdigest
#: Values hashed per batch of Python strings.
_HASHED_AT_ONCE = 65_536


class Texts(Sequence[Any]):
    """The values of a string array by index, decoded from its buffers on each access."""

    def __init__(self, values: pa.Array) -> None:
        """Read `values` (a `pa.string()` array) in place."""
        if values.type != pa.string():
            raise TypeError(f"not a string array: {values.type}")
        self.size = len(values)
        buffers = values.buffers()
        count = values.offset + self.size + 1
        self.offsets = np.frombuffer(buffers[1], dtype=np.int32, count=count)[values.offset :]
        self.data = memoryview(buffers[2]) if buffers[2] is not None else memoryview(b"")
        valid = values.is_valid()
        self.valid = None if values.null_count == 0 else valid.to_numpy(zero_copy_only=False)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, code: Any) -> Any:
        if self.valid is not None and not self.valid[code]:
            return None
        offsets = self.offsets
        return str(self.data[offsets[code] : offsets[code + 1]], "utf-8")


class CodeMap:
    """Sorted hashes of a dictionary's first `covered` texts, and their codes (null left out)."""

    def __init__(self, hashes: np.ndarray, codes: np.ndarray, covered: int) -> None:
        """Use saved arrays: `hashes` ascending (uint64), `codes` (int32) in the same order."""
        if len(hashes) != len(codes) or hashes.dtype != np.uint64 or codes.dtype != np.int32:
            raise ValueError("the arrays are not those of a code map")
        if len(codes) and (int(codes.max()) >= covered or int(codes.min()) < 0):
            raise ValueError("a code map's code lies outside the codes it covers")
        self.hashes = hashes
        self.codes = codes
        self.covered = covered

    @classmethod
    def empty(cls) -> CodeMap:
        """Return a map that covers nothing."""
        return cls(np.empty(0, np.uint64), np.empty(0, np.int32), 0)

    def extended(self, values: pa.Array) -> CodeMap:
        """Return a map that covers every value of `values` (this one's first `covered`)."""
        start = self.covered
        parts, kept = [], []
        for begin in range(start, len(values), _HASHED_AT_ONCE):  # few Python strings at once
            added = values.slice(begin, _HASHED_AT_ONCE).to_pylist()
            parts.append(
                np.array([0 if v is None else _hash(v.encode()) for v in added], np.uint64)
            )
            kept.append(np.array([v is not None for v in added], dtype=bool))
        fresh = np.concatenate(parts) if parts else np.empty(0, np.uint64)
        keep = np.concatenate(kept) if kept else np.empty(0, bool)
        codes = np.arange(start, start + len(fresh), dtype=np.int32)
        fresh, codes = fresh[keep], codes[keep]
        order = np.argsort(fresh, kind="stable")
        fresh, codes = fresh[order], codes[order]
        at = np.searchsorted(self.hashes, fresh)
        return CodeMap(
            np.insert(self.hashes, at, fresh), np.insert(self.codes, at, codes), len(values)
        )

    def check(self, values: pa.Array, sample: int = 64) -> None:
        """Raise `ValueError` unless this map fits `values`: hashes ascending, each non-null
        covered code exactly once, and a sample of the hashes recomputed."""
        covered, hashes, codes = self.covered, self.hashes, self.codes
        if covered > len(values):
            raise ValueError("the code map covers more values than the dictionary has")
        if len(hashes) > 1 and not bool(np.all(hashes[1:] >= hashes[:-1])):
            raise ValueError("the code map's hashes are not in order")
        if len(codes) != covered - values.slice(0, covered).null_count:
            raise ValueError("the code map does not cover each value once")
        if len(codes) and int(np.bincount(codes, minlength=covered).max()) > 1:
            raise ValueError("the code map holds a code twice")
        texts = Texts(values)
        for at in np.linspace(0, len(codes) - 1, min(sample, len(codes))).astype(int).tolist():
            if _hash(texts[int(codes[at])].encode()) != int(hashes[at]):
                raise ValueError("the code map does not match the dictionary's values")

    def find(self, text: str, texts: Sequence[Any]) -> int | None:
        """Return the code of `text` among the covered values, or None."""
        key = np.uint64(_hash(text.encode()))  # a Python int would make numpy convert the array
        hashes = self.hashes
        at = int(hashes.searchsorted(key))
        while at < len(hashes) and hashes[at] == key:
            code = int(self.codes[at])
            if texts[code] == text:
                return code
            at += 1
        return None


__all__ = ["CodeMap", "Texts"]
