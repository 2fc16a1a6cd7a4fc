"""`--format table|json|csv|parquet`: how a query command prints its answer.

`table` (the default) is for people; `json` is `--json`; `csv` writes a header and one line
per row (decimals without padding, instants as RFC 3339 in UTC, text escaped like all
output); `parquet` writes the Arrow table's exact types as one Parquet file to stdout, which
must then not be a terminal (`> universe.parquet`).
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.cli.render import plain_decimal
from connectors.errors import UsageError

if TYPE_CHECKING:
    import argparse

FORMATS: Final = ("table", "json", "csv", "parquet")


def add_format(parser: argparse.ArgumentParser) -> None:
    """Declare `--format`."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="table (default), json (the same as --json), csv, or parquet (binary: redirect "
        "stdout to a file)",
    )


def chosen(args: argparse.Namespace) -> str:
    """Return the format asked for: `--json` is `json`."""
    return "json" if args.json else (getattr(args, "format", None) or "table")


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def write_table(args: argparse.Namespace, table: pa.Table) -> None:
    """Print `table` as CSV, or write it as Parquet to stdout (never to a terminal)."""
    if chosen(args) == "csv":
        text = io.StringIO()
        lines = csv.writer(text, lineterminator="\n")
        lines.writerow(table.column_names)
        for row in table.to_pylist():
            lines.writerow([_cell(value) for value in row.values()])
        sys.stdout.write(text.getvalue())
        return
    out = getattr(sys.stdout, "stream", sys.stdout)  # the stream under the escaping one
    if out.isatty():
        raise UsageError("--format parquet writes binary: redirect stdout to a file")
    sys.stdout.flush()
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer)
    out.buffer.write(buffer.getvalue().to_pybytes())
    out.buffer.flush()


__all__ = ["FORMATS", "add_format", "chosen", "write_table"]
