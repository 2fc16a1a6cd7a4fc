"""Order maximums: a quantity above `max_qty`, or a notional above `max_notional`, is refused.

The venue's largest order, where it says one (null: no known limit). `round_qty` refuses
such an order with the reason, as it refuses one below the minimums; `check_grid` reports
each row of a quantity column that breaks one (`above_max_qty`, `above_max_notional`).
Notionals are exact: quantity x price in `Decimal`, never a float.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import pyarrow as pa

from eventstore.encoding.schema import DECIMAL
from projections.join.inputs import column
from projections.rounding import decimals

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

#: The fields a quantity check reads from the version in force at each row.
LIMIT_FIELDS: Final = ("max_qty", "max_notional")


def qty_report(
    table: pa.Table,
    qty_cols: Sequence[str],
    price_col: str | None,
    symbol: str,
    ts: str,
    answer: dict[str, Any],
) -> list[pa.Table]:
    """Return, per quantity column, its rows above `max_qty` or (at `price_col`) above
    `max_notional`, in the columns of the grid report (`price` is the row's price)."""
    prices = decimals(column(table, price_col), price_col) if price_col else None
    return [
        _column_problems(
            table, name, decimals(column(table, name), name), prices, symbol, ts, answer
        )
        for name in qty_cols
    ]


def _column_problems(
    table: pa.Table,
    name: str,
    qtys: pa.Array,
    prices: pa.Array | None,
    symbol: str,
    ts: str,
    answer: dict[str, Any],
) -> pa.Table:
    quantities = qtys.to_pylist()
    max_qty = answer["max_qty"].to_pylist()
    max_notional = answer["max_notional"].to_pylist()
    given = prices.to_pylist() if prices is not None else [None] * len(quantities)
    found: list[tuple[int, str, Decimal]] = []
    for row, qty in enumerate(quantities):
        if qty is None:
            continue
        if max_qty[row] is not None and qty > max_qty[row]:
            found.append((row, "above_max_qty", max_qty[row]))
        elif (
            given[row] is not None
            and max_notional[row] is not None
            and qty * given[row] > max_notional[row]
        ):
            found.append((row, "above_max_notional", max_notional[row]))
    index = pa.array([row for row, _, _ in found], pa.int64())
    return pa.table(
        {
            "row": index,
            "column": pa.array([name] * len(found), pa.string()),
            "symbol": table[symbol].take(index),
            "ts": table[ts].take(index),
            "price": (prices if prices is not None else pa.nulls(len(quantities), DECIMAL)).take(
                index
            ),
            "tick_size": answer["tick_size"].take(index),
            "instrument_id": answer["instrument_id"].take(index),
            "problem": pa.array([problem for _, problem, _ in found], pa.string()),
            "qty": qtys.take(index),
            "limit": pa.array([limit for _, _, limit in found], DECIMAL),
        }
    )


def with_limit_columns(report: pa.Table) -> pa.Table:
    """Return a price-grid report with the quantity columns (`qty`, `limit`), null."""
    size = report.num_rows
    return report.append_column("qty", pa.nulls(size, DECIMAL)).append_column(
        "limit", pa.nulls(size, DECIMAL)
    )


def sorted_report(parts: list[pa.Table]) -> pa.Table:
    """Return the parts of a report as one table, by row and column."""
    joined = pa.concat_tables(parts)
    return joined.sort_by([("row", "ascending"), ("column", "ascending")])


__all__ = ["LIMIT_FIELDS", "qty_report", "sorted_report", "with_limit_columns"]
