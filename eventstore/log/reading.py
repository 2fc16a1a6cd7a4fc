"""Reading the log's data files: the columns asked of them, and pieces gathered.

A file written before a column was added reads it as nulls (`ColumnsRead`, `read_fragment`),
but for `observed_at` (schema version 2): a row written before it reads its `recorded_at`.
A Delta table read file by file or batch by batch gives pieces of any size; a consumer
that pays per call (an encoding, a chunk of the audit) gathers them into tables of about
a given number of rows (`gathered`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset

from eventstore.encoding.schema import SCHEMA

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

_OBSERVED = "observed_at"
_RECORDED = "recorded_at"


def column_names(columns: Sequence[str] | None) -> list[str]:
    """Return the columns asked (`None`: every column of the schema)."""
    return list(columns) if columns is not None else SCHEMA.names


class ColumnsRead:
    """The columns asked of a dataset: those its table has, and those added after it
    was written (read as nulls)."""

    def __init__(self, dataset: pa.dataset.Dataset, columns: Sequence[str] | None) -> None:
        self.dataset = dataset
        self.names = column_names(columns)
        has = set(dataset.schema.names)
        self.present = [n for n in self.names if n in has]
        self.absent = [n for n in self.names if n not in has]
        self.observed = _OBSERVED in self.names
        if self.observed and _RECORDED not in self.present:
            self.present.append(_RECORDED)  # what a row without observed_at reads

    def upcast(self, rows: pa.Table) -> pa.Table:
        """Return `rows` with the absent columns added as nulls, in the order asked, and
        `observed_at` read as `recorded_at` where a row has none."""
        if not self.absent and not self.observed:
            return rows
        for name in self.absent:
            column = SCHEMA.field(name)
            rows = rows.append_column(column, pa.nulls(rows.num_rows, column.type))
        if self.observed:
            observed = rows[_OBSERVED]
            if observed.null_count:
                filled = pc.coalesce(observed, rows[_RECORDED])
                rows = rows.set_column(rows.column_names.index(_OBSERVED), _OBSERVED, filled)
        return rows.select(self.names)


def read_fragment(
    fragment: pa.dataset.Fragment,
    columns: list[str],
    where: pc.Expression | None,
    schema: pa.Schema,
) -> pa.Table:
    """Read one data file with the table's schema: a column added later reads as nulls."""
    return fragment.to_table(schema=schema, columns=columns, filter=where)


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


__all__ = ["ColumnsRead", "column_names", "gathered", "read_fragment"]
