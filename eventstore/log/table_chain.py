"""The hash chain of a planned table append, a chunk at a time, as the rows to write.

The chain is sequential: each link hashes the previous one. A thread joins the next
chunks' link texts with Arrow kernels while this one hashes a chunk, and each chunk's rows
go to the Parquet writer as soon as they are chained, so the writer (which lets go of the
interpreter) encodes one chunk while the next is hashed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

from eventstore.encoding.given_table import chunk_rows
from eventstore.encoding.hashing import chain_column, link_texts
from eventstore.encoding.schema import SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterator

_LINKS = ("prev_hash", "hash")


@dataclass(frozen=True)
class Linked:
    """What the links of the new rows hash (`hashing.link_texts`), column by column."""

    ids: pa.Array
    first: int
    recorded_text: str
    versions: pa.Array
    payloads: pa.Array
    observed: pa.Array

    def texts(self, lo: int, size: int) -> pa.Array:
        """Return the link texts of rows `lo` <= row < `lo + size`."""
        return link_texts(
            self.ids.slice(lo, size),
            self.first + lo,
            self.recorded_text,
            self.versions.slice(lo, size),
            self.payloads.slice(lo, size),
            self.observed.slice(lo, size),
        )


@dataclass
class ChainedRows:
    """The new rows of a table append, every column of the log's schema but the links,
    chained when `batches` runs."""

    columns: dict[str, pa.Array]  # by name: every column of the schema but the links
    linked: Linked
    prev_hash: str  # the link before the first new row
    last_hash: str = ""  # the last new row's link, once chained
    _chained: list[pa.RecordBatch] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Return how many rows there are."""
        return len(self.linked.ids)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Yield the rows with their links, a chunk at a time, in position order."""
        self._chained, self.last_hash = [], ""
        prev, size = self.prev_hash, self.size
        step = chunk_rows(size)
        with ThreadPoolExecutor(max_workers=1) as pool:
            starts = range(0, size, step)
            texts = [pool.submit(self.linked.texts, lo, min(step, size - lo)) for lo in starts]
            for lo, chunk in zip(starts, texts, strict=True):
                hashes = chain_column(prev, chunk.result())
                links = {
                    "prev_hash": pa.concat_arrays([pa.array([prev], pa.string()), hashes[:-1]]),
                    "hash": hashes,
                }
                prev = hashes[-1].as_py()
                count = len(hashes)
                arrays = [
                    links[f.name] if f.name in links else self.columns[f.name].slice(lo, count)
                    for f in SCHEMA
                ]
                batch = pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)
                self._chained.append(batch)
                yield batch
        self.last_hash = prev

    def table(self) -> pa.Table:
        """Return every row with its links (chaining them first, if `batches` has not)."""
        if not self.last_hash:  # not chained yet, or not to the end
            for _ in self.batches():
                pass
        return pa.Table.from_batches(self._chained, schema=SCHEMA)


__all__ = ["ChainedRows", "Linked"]
