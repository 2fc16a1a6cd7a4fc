"""Exact rounding of prices to the tick grid and quantities to the lot step.

A grid is the multiples of a step (tick size, lot size), anchored at zero. One value is
rounded with integer arithmetic on the decimal digits (never a float); a column is rounded
the same way in int64 at one common scale, and the few values too large for int64 there go
through the one-value path. `nearest` sends ties up.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import DECIMAL
from eventstore.model.events import DECIMAL_SCALE, normalized_decimal
from projections.errors import InvalidTableError, RoundingError
from projections.join.inputs import column

if TYPE_CHECKING:
    from collections.abc import Sequence

    from projections.model import Instrument

MODES: Final = ("nearest", "down", "up")
#: The catalog keeps 18 digits after the point; a step never has more.


def as_decimal(symbol: str, value: object) -> Decimal:
    """Return `value` (a Decimal, an int or a decimal string) as a Decimal; refuse floats."""
    if isinstance(value, bool | float):
        raise RoundingError(
            symbol, value, f"a {type(value).__name__} is inexact; pass a Decimal or a string"
        )
    try:
        found = Decimal(value) if isinstance(value, int | str) else value
    except InvalidOperation:
        raise RoundingError(symbol, value, "is not a decimal number") from None
    if not isinstance(found, Decimal) or not found.is_finite():
        raise RoundingError(symbol, value, "is not a finite decimal number")
    return found


def _digits(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def on_grid(value: Decimal, step: Decimal, mode: str) -> Decimal:
    """Return the multiple of `step` nearest `value` (`nearest`), below it or above it."""
    scale = max(_digits(value), _digits(step))
    units, size = int(value.scaleb(scale)), int(step.scaleb(scale))
    count, rest = divmod(units, size)
    if (mode == "up" and rest) or (mode == "nearest" and 2 * rest >= size):
        count += 1
    return normalized_decimal(Decimal(count * size).scaleb(-scale))


def _step(symbol: str, found: Instrument | None, value: object, name: str) -> Decimal:
    if found is None:
        raise RoundingError(symbol, value, "no instrument held the symbol at that time")
    step = getattr(found, name)
    if step is None or step <= 0:
        raise RoundingError(symbol, value, f"no {name} is known for it at that time")
    return Decimal(step)


def round_price(symbol: str, found: Instrument | None, price: object, mode: str) -> Decimal:
    """Return `price` on the tick grid of the instrument `found` (the holder of `symbol`)."""
    if mode not in MODES:
        raise RoundingError(symbol, price, f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    value = as_decimal(symbol, price)
    return on_grid(value, _step(symbol, found, price, "tick_size"), mode)


def round_qty(symbol: str, found: Instrument | None, qty: object, price: object) -> Decimal:
    """Return `qty` floored to the lot step; refuse it below min_qty or min_notional, or
    above max_qty or max_notional (where the venue gives them)."""
    value = as_decimal(symbol, qty)
    if value <= 0:
        raise RoundingError(symbol, qty, "a quantity must be positive")
    lot = _step(symbol, found, qty, "lot_size")
    floored = on_grid(value, lot, "down")
    assert found is not None  # _step refused None
    if floored == 0:
        raise RoundingError(symbol, qty, f"it is below the lot size {lot}")
    if found.min_qty is not None and floored < found.min_qty:
        raise RoundingError(
            symbol,
            qty,
            f"{floored} (floored to the lot size {lot}) is below min_qty {found.min_qty}",
        )
    if price is not None and found.min_notional is not None:
        notional = floored * as_decimal(symbol, price)
        if notional < found.min_notional:
            raise RoundingError(
                symbol,
                qty,
                f"the notional {normalized_decimal(notional)} at price {price} is below "
                f"min_notional {found.min_notional}",
            )
    _check_maximums(symbol, found, qty, floored, price)
    return floored


def _check_maximums(
    symbol: str, found: Instrument, qty: object, floored: Decimal, price: object
) -> None:
    """Refuse `floored` (the quantity `qty` on the lot grid) above the instrument's maximums."""
    if found.max_qty is not None and floored > found.max_qty:
        raise RoundingError(symbol, qty, f"{floored} is above max_qty {found.max_qty}")
    if price is not None and found.max_notional is not None:
        notional = normalized_decimal(floored * as_decimal(symbol, price))
        if notional > found.max_notional:
            raise RoundingError(
                symbol,
                qty,
                f"the notional {notional} at price {price} is above max_notional "
                f"{found.max_notional}",
            )


# -- columns -----------------------------------------------------------------------------


def decimals(values: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    """Return a numeric column as exact decimals; a float is read as its shortest repr."""
    flat = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    kind = flat.type
    if pa.types.is_floating(kind):
        flat = flat.cast(pa.string())
    elif not (pa.types.is_decimal(kind) or pa.types.is_integer(kind)):
        raise InvalidTableError(f"column {name!r}", f"is {kind}, not a number")
    try:
        return flat.cast(DECIMAL)
    except pa.ArrowInvalid as exc:
        raise InvalidTableError(f"column {name!r}", f"has a value out of range ({exc})") from exc


def _int64_at(values: pa.Array, scale: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (floor of value * 10**scale, inexact, fits int64) of a decimal column."""
    truncated = values.cast(pa.decimal128(38, scale), safe=False)
    inexact = pc.not_equal(truncated.cast(DECIMAL), values).fill_null(False)
    words = _words(truncated)
    low, high = words[:, 0], words[:, 1]
    fits = high == (low >> 63)
    loose = np.asarray(inexact.to_numpy(zero_copy_only=False), dtype=bool)
    negative = np.asarray(pc.less(values, pa.scalar(0, values.type)).fill_null(False), bool)
    floor = low - (loose & negative)  # truncation went up for negatives
    return floor, loose, fits


def _words(values: pa.Array) -> np.ndarray:
    raw = np.frombuffer(values.buffers()[1], dtype=np.int64).reshape(-1, 2)
    return raw[values.offset : values.offset + len(values)]


def _from_int64(units: np.ndarray, valid: np.ndarray, scale: int) -> pa.Array:
    words = np.empty((len(units), 2), dtype=np.int64)
    words[:, 0], words[:, 1] = units, units >> 63
    mask = pa.array(valid).buffers()[1] if not valid.all() else None  # 1 = valid
    kind = pa.decimal128(38, scale)
    return pa.Array.from_buffers(kind, len(units), [mask, pa.py_buffer(words.tobytes())])


def _grid_scale(steps: pa.Array) -> int:
    """Return one more digit than the finest step needs (so half a step is whole)."""
    distinct = [s for s in pc.unique(steps).to_pylist() if s is not None]
    return min(
        DECIMAL_SCALE, 1 + max((_digits(normalized_decimal(s)) for s in distinct), default=0)
    )


def snap_column(values: pa.ChunkedArray, steps: pa.Array, mode: str, name: str) -> pa.Array:
    """Return each value on the grid of its row's step (null where no step applies)."""
    if mode not in MODES:
        raise InvalidTableError("mode", f"{mode!r} is unknown; use one of {', '.join(MODES)}")
    exact = decimals(values, name)
    steps = steps.cast(DECIMAL)
    scale = _grid_scale(steps)
    units, loose, fits = _int64_at(exact, scale)
    size, _, size_fits = _int64_at(steps, scale)
    usable = np.asarray(pc.and_(exact.is_valid(), steps.is_valid()).to_numpy(False), bool)
    usable &= size > 0
    fast = usable & fits & size_fits
    safe_size = np.where(fast, size, 1)
    count, rest = np.divmod(units, safe_size)
    up = (rest > 0) | loose if mode == "up" else 2 * rest >= safe_size
    if mode != "down":
        count += up
    snapped = _from_int64(count * safe_size, fast, scale).cast(DECIMAL)
    slow = np.flatnonzero(usable & ~fast)
    if len(slow):
        snapped = _patch(snapped, slow, exact, steps, mode)
    return snapped


def _patch(
    snapped: pa.Array, rows: np.ndarray, values: pa.Array, steps: pa.Array, mode: str
) -> pa.Array:
    """Round the values too large for int64 one by one, exactly."""
    index = pa.array(rows)
    fixed = [
        on_grid(v, s, mode)
        for v, s in zip(values.take(index).to_pylist(), steps.take(index).to_pylist(), strict=True)
    ]
    where = np.full(len(snapped), -1, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    patch = pa.array(fixed, DECIMAL).take(pa.array(where, mask=where < 0))
    return pc.if_else(pa.array(where >= 0), patch, snapped)


def off_grid(values: pa.Array, steps: pa.Array) -> np.ndarray:
    """Return, per row, whether the value lies off its step's grid (False without a step)."""
    snapped = snap_column(pa.chunked_array([values]), steps, "down", "price")
    differs = pc.not_equal(snapped, values).fill_null(False)
    return np.asarray(differs.to_numpy(zero_copy_only=False), dtype=bool)


def grid_report(
    table: pa.Table, price_cols: Sequence[str], symbol: str, ts: str, answer: dict[str, Any]
) -> pa.Table:
    """Return one row per (row, price column) that is off grid, unlisted or without a tick."""
    parts = [_problems(table, name, symbol, ts, answer) for name in price_cols]
    return pa.concat_tables(parts).sort_by([("row", "ascending"), ("column", "ascending")])


def _problems(table: pa.Table, name: str, symbol: str, ts: str, answer: dict[str, Any]) -> pa.Table:
    ticks = answer["tick_size"]
    prices = decimals(column(table, name), name)
    listed = _flags(answer["instrument_id"].is_valid())
    has_tick = _flags(ticks.is_valid())
    problem = np.where(~listed, "not_listed", np.where(~has_tick, "no_tick_size", ""))
    problem = np.where(listed & has_tick & off_grid(prices, ticks), "off_grid", problem)
    problem = np.where(_flags(prices.is_valid()), problem, "")
    rows = np.flatnonzero(problem != "")
    index = pa.array(rows, pa.int64())
    return pa.table(
        {
            "row": index,
            "column": pa.array([name] * len(rows), pa.string()),
            "symbol": table[symbol].take(index),
            "ts": table[ts].take(index),
            "price": prices.take(index),
            "tick_size": ticks.take(index),
            "instrument_id": answer["instrument_id"].take(index),
            "problem": pa.array(problem[rows].tolist(), pa.string()),
        }
    )


def _flags(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)
