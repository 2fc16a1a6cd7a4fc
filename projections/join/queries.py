"""What a backtest asks of the catalog for whole tables at once: the point-in-time join,
price and quantity rounding to the grid in force, the grid audit and the SCD2 export.

`Catalog` composes one `Backtest` over its index and hands its methods out as its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from projections import limits, rounding
from projections.errors import InvalidTableError
from projections.index.fold_arrays import COLUMN_FIELDS
from projections.join.answers import THREADS, Columns, Threads, gather, join_view
from projections.join.inputs import add_columns, column, instants, read_table, texts
from projections.join.per_row import lateness, strict_match
from projections.join.pit_join import JOIN_FIELDS
from projections.knowledge import Knowledge
from projections.names.join import name_join
from projections.names.per_row import strict_name_rows
from projections.pinning import one_version
from projections.scd2.export import exchanges_table, symbols_table, write_export

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Sequence
    from decimal import Decimal

    from eventstore import EventLog
    from projections.index.live import PitIndex
    from projections.model import Instrument

#: Fields `pit_join` adds when not told which.
DEFAULT_FIELDS: Final = COLUMN_FIELDS
#: The columns every join adds after the requested fields.
ANSWER_COLUMNS: Final = ("instrument_id", "active", "valid_from")


class Backtest:
    """Table-at-a-time PIT queries over one catalog's index.

    `get` is the catalog's own single lookup (rounding one price asks it); `threads` says
    how large joins are cut into threads (`Catalog.open(threads=...)`).
    """

    def __init__(
        self,
        log: EventLog,
        index: PitIndex,
        get: Callable[[str, object], Instrument | None],
        threads: Threads = THREADS,
    ) -> None:
        self.log = log
        self._index = index
        self.get = get
        self.threads = threads

    def pit_join(
        self,
        bars: object,
        *,
        symbol: str = "symbol",
        ts: str = "ts",
        fields: Sequence[str] | None = None,
        known_at: object = None,
        assume_utc: bool = False,
        recorded_by: object = None,
        scheme: str = "tradingview",
        exchange: str | None = None,
    ) -> pa.Table:
        """Join onto each row of `bars` what was true for its symbol at its timestamp.

        `bars` is any Arrow table or stream (pyarrow, pandas, Polars, DuckDB). The answer
        keeps its columns and row order and adds `fields` (default: every instrument field),
        `instrument_id`, `active` and `valid_from`; a row with no holder gets nulls and
        `active = False`. `known_at` is None (everything known), an instant K (only what
        was observed by K) or "row" (only what was observed by each row's own timestamp);
        `recorded_by=R` keeps only what was recorded by R (with "row" too).
        A timestamp column without a time zone is refused unless `assume_utc` is True.
        `scheme` names the scheme of the `symbol` column's names (`projections.names`:
        `ccxt`, `nautilus`, `tardis`, `venue`) and `exchange` their exchange in it.
        """
        table = read_table(bars, "bars")
        chosen = join_fields(fields)
        named = None if scheme == "tradingview" and exchange is None else (scheme, exchange)
        answer = self._answer(table, symbol, ts, chosen, known_at, assume_utc, recorded_by, named)
        return add_columns(table, {name: answer[name] for name in (*chosen, *ANSWER_COLUMNS)})

    @one_version
    def _answer(
        self,
        table: pa.Table,
        symbol: str,
        ts: str,
        fields: Sequence[str],
        known_at: object,
        assume_utc: bool,
        recorded_by: object = None,
        named: tuple[str, str | None] | None = None,
    ) -> Columns:
        symbols = texts(column(table, symbol), symbol)
        at, valid = instants(column(table, ts), ts, assume_utc=assume_utc)
        valid &= np.asarray(symbols.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        strict = isinstance(known_at, str) and known_at == "row"
        known = Knowledge.of(None if strict else known_at, recorded_by)
        self._index.catch_up()
        view = self._index.view(known)
        if named is None:
            answer = join_view(view, symbols, at, valid, fields, self.threads)
        else:  # names in another scheme (projections.names)
            answer = name_join(view, symbols, at, valid, fields, named)
        if strict:
            late = lateness(self._index, known)
            if named is None:
                rows = late.strict_rows(symbols, at, valid)
                exact = strict_match(self._index, late, symbols, at, rows) if len(rows) else None
            else:
                rows, exact = strict_name_rows(self._index, late, view, symbols, at, valid, named)
            if exact is not None:
                answer = _override(answer, gather(exact, fields), rows)
        return answer

    @one_version
    def scd2(
        self, known_at: object = None, recorded_by: object = None
    ) -> tuple[pa.Table, pa.Table]:
        """Return (symbols, exchanges): every version in the SCD2 layout of the export."""
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        view = self._index.view(known)
        symbols = symbols_table(view.main, view.skip)
        if view.extra is not None:
            symbols = pa.concat_tables([symbols, symbols_table(view.extra)])
        return symbols, exchanges_table(self._index.exchanges.events, known)

    def export(
        self,
        directory: str | os.PathLike[str],
        *,
        delta: bool = False,
        known_at: object = None,
        recorded_by: object = None,
    ) -> list[str]:
        """Write `symbols.parquet` and `exchanges.parquet` under `directory` (and, with
        `delta`, the same as Delta tables `delta/symbols` and `delta/exchanges`).

        Return the paths written.
        """
        symbols, exchanges = self.scd2(known_at, recorded_by)
        return write_export(Path(directory), {"symbols": symbols, "exchanges": exchanges}, delta)

    def round_price(
        self, symbol: str, price: object, as_of: object, mode: str = "nearest"
    ) -> Decimal:
        """Return `price` on the tick grid of `symbol` at `as_of` (exact; see `rounding`)."""
        found = self.get(symbol, as_of)
        return rounding.round_price(symbol, found, price, mode)

    def round_qty(self, symbol: str, qty: object, as_of: object, price: object = None) -> Decimal:
        """Return `qty` floored to the lot step of `symbol` at `as_of`, or refuse it.

        A quantity below `min_qty` or above `max_qty`, or whose notional at `price` (when
        given) is below `min_notional` or above `max_notional`, raises `RoundingError`
        saying which.
        """
        found = self.get(symbol, as_of)
        return rounding.round_qty(symbol, found, qty, price)

    def snap(
        self,
        table: object,
        *,
        price_cols: Sequence[str] = (),
        qty_cols: Sequence[str] = (),
        symbol: str = "symbol",
        ts: str = "ts",
        mode: str = "nearest",
        known_at: object = None,
        assume_utc: bool = False,
        recorded_by: object = None,
    ) -> pa.Table:
        """Return `table` with prices on the tick grid and quantities floored to the lot step.

        Each row uses the grid in force at its timestamp; snapped columns become exact
        decimals, null where no tick size (or lot size) applies.
        """
        rows = read_table(table, "table")
        need = ["tick_size"] if price_cols else []
        need += ["lot_size"] if qty_cols else []
        answer = self._answer(rows, symbol, ts, need, known_at, assume_utc, recorded_by)
        for name in price_cols:
            snapped = rounding.snap_column(column(rows, name), answer["tick_size"], mode, name)
            rows = rows.set_column(rows.schema.get_field_index(name), name, snapped)
        for name in qty_cols:
            snapped = rounding.snap_column(column(rows, name), answer["lot_size"], "down", name)
            rows = rows.set_column(rows.schema.get_field_index(name), name, snapped)
        return rows

    def check_grid(
        self,
        table: object,
        *,
        price_cols: Sequence[str] = (),
        qty_cols: Sequence[str] = (),
        price_col: str | None = None,
        symbol: str = "symbol",
        ts: str = "ts",
        known_at: object = None,
        assume_utc: bool = False,
        recorded_by: object = None,
    ) -> pa.Table:
        """Return the rows whose prices are off the tick grid in force at their time, and
        whose quantities are above the largest order then.

        One row per offending (row, column): `row` (its index in `table`), `column`,
        the symbol, the timestamp, `price`, `tick_size`, `instrument_id`, `problem`, `qty`
        and `limit`. For a price column, `problem` is `off_grid`, `no_tick_size` (listed,
        but no tick size known) or `not_listed`. For a quantity column it is
        `above_max_qty`, or `above_max_notional` when its notional at the row's price
        (column `price_col`, which `price` shows) is above `max_notional`; `limit` is the
        maximum it broke. A maximum the venue does not give is no limit.
        """
        rows = read_table(table, "table")
        if not price_cols and not qty_cols:
            raise InvalidTableError(
                "price_cols", "is empty: name at least one price (or quantity) column to check"
            )
        need = ["tick_size", *(limits.LIMIT_FIELDS if qty_cols else ())]
        answer = self._answer(rows, symbol, ts, need, known_at, assume_utc, recorded_by)
        parts = []
        if price_cols:
            grid = rounding.grid_report(rows, price_cols, symbol, ts, answer)
            parts.append(limits.with_limit_columns(grid))
        parts += limits.qty_report(rows, qty_cols, price_col, symbol, ts, answer)
        return limits.sorted_report(parts)


def join_fields(fields: Sequence[str] | None) -> tuple[str, ...]:
    """Return the fields a join adds: `fields` (one name or several), checked, once each,
    or every instrument field when None."""
    if fields is None:
        return DEFAULT_FIELDS
    if isinstance(fields, str):
        fields = [fields]
    unknown = [f for f in fields if f not in JOIN_FIELDS]
    if unknown:
        raise InvalidTableError(
            "fields", f"{', '.join(map(repr, unknown))} unknown; known: {', '.join(JOIN_FIELDS)}"
        )
    return tuple(dict.fromkeys(fields))


def _override(answer: Columns, exact: dict[str, pa.Array], rows: np.ndarray) -> Columns:
    """Return `answer` with the given rows taken from `exact` instead."""
    mask = np.zeros(len(answer["active"]), dtype=bool)
    mask[rows] = True
    chosen = pa.array(mask)
    return {name: pc.if_else(chosen, exact[name], values) for name, values in answer.items()}
