"""Baselines of the `pitjoin` figure: DuckDB's ASOF JOIN and Polars' join_asof, computing the
catalog's answer from its exported version table (`Catalog.scd2`, already in memory).

The catalog resolves a symbol at T to the version holding it then, an active holder first,
else the latest. Over a version table that is two as-of joins on (symbol, valid_from <= T):
one over active versions, one over inactive ones; a match counts only while T < valid_until
(a renamed instrument's old versions end), and the active one wins. This equals the
catalog's answer whenever a symbol has at most one active and one inactive holder at any
instant, which holds for the synthetic history (ticker reuse only after a delisting); the
figure checks every row and reports any difference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import duckdb
import polars as pl

if TYPE_CHECKING:
    import pyarrow as pa

#: The answer columns compared between the three, besides the bars' own.
FIELDS: Final = ("tick_size", "lot_size", "min_notional")
ANSWER: Final = (*FIELDS, "instrument_id", "active", "valid_from")


def duckdb_connection(versions: pa.Table, bars: pa.Table) -> duckdb.DuckDBPyConnection:
    """Return a connection with the version table and the bars registered (in memory)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("versions", versions)
    con.register("bars", bars)
    return con


def _pick(name: str) -> str:
    return (
        f"CASE WHEN b.ts < a.valid_until THEN a.{name} "
        f"WHEN b.ts < i.valid_until THEN i.{name} END AS {name}"
    )


def duckdb_sql() -> str:
    """Return the two-ASOF-JOIN query answering every bar, in the bars' row order."""
    picked = ",\n  ".join(_pick(n) for n in (*FIELDS, "instrument_id", "valid_from"))
    return f"""
WITH a AS (SELECT * FROM versions WHERE active), i AS (SELECT * FROM versions WHERE NOT active)
SELECT b.row, b.symbol, b.ts,
  {picked},
  coalesce(b.ts < a.valid_until, false) AS active
FROM bars b
ASOF LEFT JOIN a ON b.symbol = a.symbol AND b.ts >= a.valid_from
ASOF LEFT JOIN i ON b.symbol = i.symbol AND b.ts >= i.valid_from
ORDER BY b.row
"""


def duckdb_join(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Run the query; return an Arrow table."""
    return con.sql(duckdb_sql()).to_arrow_table()


def polars_join(versions: pl.DataFrame, bars: pl.DataFrame) -> pa.Table:
    """Compute the same answer with two `join_asof`s (both sides sorted by time first)."""
    wanted = ["symbol", "valid_from", "valid_until", "instrument_id", *FIELDS]
    by_time = versions.select([*wanted, "active"]).sort("valid_from")
    left = bars.sort("ts")
    for flag, suffix in ((True, "_a"), (False, "_i")):
        side = by_time.filter(pl.col("active") == flag).select(wanted)
        side = side.with_columns(pl.col("valid_from").alias("start")).rename(
            {c: c + suffix for c in wanted if c != "symbol"}
        )
        left = left.join_asof(  # both sides were just sorted by time
            side,
            left_on="ts",
            right_on="start",
            by="symbol",
            strategy="backward",
            check_sortedness=False,
        )
        left = left.drop("start")
    live_a = pl.col("ts") < pl.col("valid_until_a")
    live_i = pl.col("ts") < pl.col("valid_until_i")
    picked = [
        pl.when(live_a).then(pl.col(f"{n}_a")).when(live_i).then(pl.col(f"{n}_i")).alias(n)
        for n in (*FIELDS, "instrument_id", "valid_from")
    ]
    active = live_a.fill_null(False).alias("active")
    return left.select("row", "symbol", "ts", *picked, active).sort("row").to_arrow()
