"""The fast path: write a synthetic history straight into columns, without Python events.

* `log_table`: rows of the log's own Arrow schema (`eventstore.encoding.codec.SCHEMA`), so
  DuckDB runs the same SQL on them as on the project's log. The envelope the log would
  assign is filled with stand-ins: `event_id` is a counter, `prev_hash`/`hash` are empty (no chain),
  `recorded_at` is the time of writing, `stream_version` is 0.
* `scd2_frame`: the vectorized fold of the history into SCD2 rows (one per version, with
  `valid_from` and `valid_until`), the table baseline (a) keeps in one Parquet file.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from synth import (
    BATCH,
    CHANGED,
    DELISTED,
    EXCHANGES,
    KINDS,
    LISTED,
    NOT_SET,
    QUOTES,
    REASONS,
    RENAMED,
    SOURCE,
    VALUES,
    History,
    fold_order,
)

from eventstore.encoding.schema import DECIMAL, SCHEMA, TIMESTAMP
from projections.model import FIELDS

if TYPE_CHECKING:
    from collections.abc import Callable

#: Identity fields an `InstrumentListed` of the generator sets, and their values.
IDENTITY = ("exchange", "base", "quote", "type", "description", "timezone", "session")
#: The far end of an open SCD2 row, as the pandas pattern stores it.
OPEN_UNTIL = pd.Timestamp("9999-12-31", tz="UTC")
OPEN_US = int(OPEN_UNTIL.asm8.view("i8"))  # microseconds: the unit of that Timestamp is "us"


def identity(h: History) -> dict[str, np.ndarray]:
    """Return the identity fields of every instrument, as arrays of text."""
    exch = np.array(EXCHANGES, object)[h.exch]
    quote = np.array(QUOTES, object)[h.quote]
    base = np.array(h.bases, object)
    swap = h.swap
    description = base + " / " + quote + np.where(swap, " Perpetual", "")
    n = h.n_instruments
    return {
        "exchange": exch,
        "base": base,
        "quote": quote,
        "type": np.where(swap, "swap", "spot").astype(object),
        "description": description,
        "timezone": np.full(n, "Etc/UTC", object),
        "session": np.full(n, "24x7", object),
    }


def _coded(field: str, codes: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    values = pa.array(VALUES[field], pa.string())
    indices = pa.array(codes.astype(np.int32), mask=codes < 0)
    text = pa.DictionaryArray.from_arrays(indices, values).dictionary_decode()
    return text if arrow_type == pa.string() else text.cast(arrow_type)


def texts(h: History) -> dict[str, Any]:
    """Return what `log_table` needs of the instruments, made once per history."""
    return {
        **identity(h),
        "ids": pa.array(h.ids, pa.string()),
        "symbols": pa.array(h.symbols, pa.string()),
    }


def log_table(h: History, lo: int, hi: int, ident: dict[str, Any]) -> pa.Table:
    """Return rows `lo` <= row < `hi` of the history in the log's Arrow schema."""
    n = hi - lo
    inst, kind = h.inst[lo:hi], h.kind[lo:hi]
    listed, first = kind == LISTED, h.first[lo:hi]
    ids, symbols = ident["ids"], ident["symbols"]
    eff = pa.array(h.eff[lo:hi], pa.int64()).cast(TIMESTAMP)
    now = pa.scalar(datetime.now(UTC), TIMESTAMP)
    cols: dict[str, pa.Array] = {
        "position": pa.array(np.arange(lo, hi), pa.int64()),
        "event_id": pa.array(np.char.mod("%036d", np.arange(lo, hi)).astype(object), pa.string()),
        "kind": pa.array(np.array(KINDS, object)[kind], pa.string()),
        "schema_version": pa.array(np.ones(n, np.int32)),
        "instrument_id": ids.take(pa.array(inst)),
        "symbol": symbols.take(pa.array(h.sym[lo:hi])),
        "effective_at": eff,
        "recorded_at": pa.array(np.full(n, now.value), pa.int64()).cast(TIMESTAMP),
        "source": pa.array(np.full(n, SOURCE, object), pa.string()),
        "stream_version": pa.array(np.zeros(n, np.int64)),
        "prev_hash": pa.array(np.full(n, "", object), pa.string()),
        "hash": pa.array(np.full(n, "", object), pa.string()),
    }
    setmask: dict[str, np.ndarray] = {}
    for name in IDENTITY:
        setmask[name] = listed
        cols[name] = pa.array(np.where(listed, ident[name][inst], None), pa.string())
    for name, codes in h.codes.items():
        part = codes[lo:hi]
        arrow_type = DECIMAL if name != "status" else pa.string()
        cols[name] = _coded(name, part, arrow_type)
        setmask[name] = (part != NOT_SET) & (kind != DELISTED)
    setmask["listed_at"] = listed & first
    cols["listed_at"] = pc.if_else(pa.array(listed & first), eff, pa.scalar(None, TIMESTAMP))
    reasons = np.array(REASONS, object)[inst % 3]
    cols["reason"] = pa.array(np.where(kind == DELISTED, reasons, None), pa.string())
    new_sym = h.new_sym[lo:hi]
    cols["new_symbol"] = symbols.take(pa.array(new_sym, mask=new_sym < 0))
    names = [f for f in (*FIELDS, "status") if f in setmask]
    mask = np.column_stack([setmask[f] for f in names])
    rows, which = np.nonzero(mask)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int32)
    flat = pa.array(np.array(names, object)[which], pa.string())
    cols["fields"] = pa.ListArray.from_arrays(pa.array(offsets), flat)
    arrays = [cols.get(f.name, pa.nulls(n, f.type)) for f in SCHEMA]
    return pa.Table.from_arrays(
        [a.cast(f.type) for a, f in zip(arrays, SCHEMA, strict=True)], schema=SCHEMA
    )


def _ffill(values: np.ndarray, setting: np.ndarray) -> np.ndarray:
    """Return, per row, `values` at the last row at or before it where `setting` holds."""
    rows = np.arange(len(values))
    return values[np.maximum.accumulate(np.where(setting, rows, 0))]


def scd2_frame(h: History) -> pd.DataFrame:
    """Fold the history into SCD2 rows: one per (instrument, effective_at), oldest first."""
    order = fold_order(h.inst, h.eff)
    inst, kind, eff = h.inst[order], h.kind[order], h.eff[order]
    starts = np.concatenate([[True], inst[1:] != inst[:-1]])  # an instrument's first listing
    ident = identity(h)
    sym_set = np.where(kind == RENAMED, h.new_sym[order], np.where(starts, h.sym[order], -1))
    sym = _ffill(sym_set, sym_set >= 0)
    frame: dict[str, object] = {
        "instrument_id": np.array(h.ids, object)[inst],
        "symbol": np.array(h.symbols, object)[sym],
    }
    for name in ("exchange", "base", "quote", "type"):
        frame[name] = ident[name][inst]
    for name, codes in h.codes.items():
        c = codes[order]
        code = _ffill(c, (c != NOT_SET) | starts)
        table = np.array(VALUES[name], object if name == "status" else np.float64)
        missing = None if name == "status" else np.nan
        frame[name] = np.where(code >= 0, table[np.maximum(code, 0)], missing)
    active = _ffill(kind == LISTED, (kind == LISTED) | (kind == DELISTED))
    frame["active"] = active
    until = np.concatenate([eff[1:], [OPEN_US]])
    until = np.where(np.concatenate([~starts[1:], [False]]), until, OPEN_US)
    df = pd.DataFrame(frame)
    df["valid_from"] = _utc(eff)
    df["valid_until"] = _utc(until)
    df["updated_at"] = pd.Timestamp.now(tz="UTC")
    return df


def _utc(micros: np.ndarray) -> pd.Series:
    return pd.Series(micros.astype("datetime64[us]")).dt.tz_localize("UTC")


def write_scd2(h: History, path: str) -> pd.DataFrame:
    """Write the SCD2 file of baseline (a) and return its frame."""
    df = scd2_frame(h)
    df.to_parquet(path, index=False)
    return df


def write_log(
    h: History, folder: str, *, batch: int = BATCH, say: Callable[[str], None] = print
) -> dict[str, float]:
    """Write the history as a Delta table of the log's schema under `folder`/events.

    Returns the time spent inside `write_deltalake`: the storage floor of an append.
    """
    from deltalake import write_deltalake

    ident = texts(h)
    uri = os.path.join(folder, "events")
    build = write = 0.0
    for lo in range(0, h.n_events, batch):
        hi = min(lo + batch, h.n_events)
        t0 = time.perf_counter()
        table = log_table(h, lo, hi, ident)
        t1 = time.perf_counter()
        write_deltalake(uri, table, mode="append")
        t2 = time.perf_counter()
        build, write = build + t1 - t0, write + t2 - t1
        if (lo // batch) % 10 == 9 or hi == h.n_events:
            say(f"  columnar log: {hi:>11,}/{h.n_events:,} rows")
    return {"events": h.n_events, "build_s": build, "write_s": write}


__all__ = ["CHANGED", "OPEN_UNTIL", "identity", "log_table", "scd2_frame", "write_log"]
