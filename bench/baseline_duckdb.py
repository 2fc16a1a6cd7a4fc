"""Baseline (b): DuckDB over the raw Parquet files of the event log.

The files are the log's current ones as the Delta log lists them (`DeltaTable.file_uris`),
read with `read_parquet`: a plain glob over `events/*.parquet` would also read files a
compaction replaced. The SQL folds events the way the PIT contract does: per instrument and
field, the value of the last event (by `effective_at`, then `position`) with
`effective_at <= T` that sets the field (`fields` lists them, so an explicit null counts).
Not handled, because the generator writes none: retractions, `known_at`, exchange events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
from deltalake import DeltaTable

from projections.model import FIELDS

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa

KINDS = "('InstrumentListed', 'InstrumentChanged', 'InstrumentDelisted', 'InstrumentRenamed')"
SYMBOL = (
    "CASE WHEN kind = 'InstrumentRenamed' THEN new_symbol "
    "WHEN kind = 'InstrumentListed' THEN symbol END"
)
ACTIVE = (
    "CASE WHEN kind = 'InstrumentListed' THEN true WHEN kind = 'InstrumentDelisted' THEN false END"
)
STATUS_SET = "kind IN ('InstrumentListed', 'InstrumentDelisted') OR list_contains(fields, 'status')"
ORDER = "(effective_at, position)"


def log_files(root: str) -> list[str]:
    """Return the Parquet files of the log under `root` (its `events` Delta table)."""
    uris = DeltaTable(f"{root.rstrip('/')}/events").file_uris()
    return [u.removeprefix("file://") for u in uris]


def connect(files: list[str], *, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Return a connection with a view `log` over `files` (read again on every query)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    source = f"read_parquet([{listed}], union_by_name = true)"
    con.execute(f"CREATE VIEW log AS SELECT * FROM {source}")
    have = {row[0] for row in con.execute("DESCRIBE log").fetchall()}
    missing = [f for f in FIELDS if f not in have]  # columns added after these files
    nulls = [f"NULL::VARCHAR AS {f}" for f in missing]
    if "observed_at" not in have:  # a log written before it: observed when recorded
        nulls.append("NULL::TIMESTAMPTZ AS observed_at")
    if nulls:
        con.execute(f"CREATE OR REPLACE VIEW log AS SELECT *, {', '.join(nulls)} FROM {source}")
    return con


def universe_sql() -> str:
    """Return the SQL of `universe(T)`: one row per instrument active at T (parameter $1)."""
    fields = ",\n  ".join(
        f"arg_max_null({f}, {ORDER}) FILTER (WHERE list_contains(fields, '{f}')) AS {f}"
        for f in FIELDS
    )
    return f"""
SELECT * EXCLUDE (listed) FROM (
  SELECT instrument_id,
  arg_max({SYMBOL}, {ORDER}) FILTER (WHERE kind IN ('InstrumentListed', 'InstrumentRenamed'))
    AS symbol,
  arg_max({ACTIVE}, {ORDER}) FILTER (WHERE kind IN ('InstrumentListed', 'InstrumentDelisted'))
    AS active,
  arg_max_null(status, {ORDER}) FILTER (WHERE {STATUS_SET}) AS status,
  max(effective_at) AS valid_from,
  max(coalesce(observed_at, recorded_at)) AS known_since,
  max(recorded_at) AS recorded_since,
  bool_or(kind = 'InstrumentListed') AS listed,
  {fields}
  FROM log
  WHERE effective_at <= $1 AND kind IN {KINDS}
  GROUP BY instrument_id
)
WHERE listed AND active
ORDER BY instrument_id
"""


def universe(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pa.Table:
    """Return the instruments active at `as_of`, folded from the raw log, as Arrow."""
    return con.sql(universe_sql(), params=[as_of]).to_arrow_table()


def scd2_sql() -> str:
    """Return the SQL that folds the whole log into SCD2 rows (DuckDB's `rebuild`)."""

    def last(expr: str, when: str) -> str:
        wrapped = f"CASE WHEN {when} THEN struct_pack(v := {expr}) END"  # keeps explicit nulls
        return f"(last_value({wrapped} IGNORE NULLS) OVER w).v"

    fields = ",\n    ".join(
        f"{last(f, f'list_contains(fields, {chr(39)}{f}{chr(39)})')} AS {f}" for f in FIELDS
    )
    return f"""
CREATE OR REPLACE TABLE scd2 AS
WITH folded AS (
  SELECT instrument_id, effective_at AS valid_from, position,
    last_value({SYMBOL} IGNORE NULLS) OVER w AS symbol,
    last_value({ACTIVE} IGNORE NULLS) OVER w AS active,
    {last("status", STATUS_SET)} AS status,
    max(coalesce(observed_at, recorded_at)) OVER w AS known_since,
    max(recorded_at) OVER w AS recorded_since,
    {fields}
  FROM log
  WHERE kind IN {KINDS}
  WINDOW w AS (PARTITION BY instrument_id ORDER BY effective_at, position
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
  QUALIFY row_number() OVER (PARTITION BY instrument_id, effective_at ORDER BY position DESC) = 1
)
SELECT * EXCLUDE (position),
  lead(valid_from) OVER (PARTITION BY instrument_id ORDER BY valid_from) AS valid_until
FROM folded
"""


def rebuild(con: duckdb.DuckDBPyConnection) -> int:
    """Materialize the SCD2 table from the log in DuckDB; return its number of rows."""
    con.execute(scd2_sql())
    row = con.execute("SELECT count(*) FROM scd2").fetchone()
    return int(row[0]) if row else 0


#: The log's structural promises, checked by DuckDB: each query counts the rows that break one.
#: DuckDB cannot rebuild the canonical payloads, so content hashes and ids are not recomputed.
AUDIT_SQL: dict[str, str] = {
    "position": "SELECT count(*) - count(DISTINCT position) + (max(position) + 1 - count(*)) "
    "FROM log",
    "unique-id": "SELECT count(*) - count(DISTINCT event_id) FROM log",
    "chain": "SELECT count(*) FROM (SELECT prev_hash, lag(hash, 1, repeat('0', 64)) "
    "OVER (ORDER BY position) AS previous FROM log) WHERE prev_hash <> previous",
    "recorded-at": "SELECT count(*) FROM (SELECT recorded_at < lag(recorded_at) "
    "OVER (ORDER BY position) AS back FROM log) WHERE back",
    "stream-version": "SELECT count(*) FROM (SELECT stream_version, row_number() OVER "
    "(PARTITION BY instrument_id ORDER BY position) AS expected FROM log) "
    "WHERE stream_version <> expected",
}


def audit(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run the structural checks of the audit in DuckDB; return the violations of each."""
    found: dict[str, int] = {}
    for name, sql in AUDIT_SQL.items():
        row = con.execute(sql).fetchone()
        found[name] = int(row[0]) if row and row[0] is not None else 0
    return found
