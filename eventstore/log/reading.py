"""Reading the log in pieces: the columns asked of a data file, and pieces gathered.

A Delta table read file by file or batch by batch gives pieces of any size; a consumer
that pays per call (an encoding, a chunk of the audit) gathers them into tables of about
a given number of rows (`gathered`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator


def gathered(pieces: Iterable[pa.Table | pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Yield `pieces` gathered into tables of about `rows` rows, the last one smaller.

    A table is yielded as soon as it holds `rows` rows or more; no piece is split or copied.
    """
    pending: list[pa.Table] = []
    count = 0
    for piece in pieces:
        pending.append(piece if isinstance(piece, pa.Table) else pa.Table.from_batches([piece]))
        count += piece.num_rows
        if count >= rows:
            yield pa.concat_tables(pending)
            pending, count = [], 0
    if pending:
        yield pa.concat_tables(pending)


__all__ = ["gathered"]
