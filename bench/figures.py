"""Figures measured in this process: get, universe, append."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import baseline_duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import synth
from baseline_scd2 import SCD2File
from context import say
from measure import Result, bounded, clock, duration, median, p99, ratio, times, verdict

from eventstore import EventLog, InstrumentChanged
from projections.model import Instrument

if TYPE_CHECKING:
    from context import Bench

Query = tuple[str, Any, pd.Timestamp]  # symbol, as_of for the project, as_of for pandas


def _micros(column: pd.Series) -> np.ndarray:
    return np.asarray(column.array.asi8, dtype=np.int64)  # the SCD2 columns are in us


def _queries(df: pd.DataFrame, count: int, seed: int) -> list[Query]:
    """Return random (symbol, as_of): 90% inside a version of that symbol, 10% anywhere."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(df), count)
    start = _micros(df["valid_from"])[rows]
    end = np.minimum(_micros(df["valid_until"])[rows], synth.END_US)
    at = start + (rng.random(count) * (end - start)).astype(np.int64)
    anywhere = synth.START_US + (rng.random(count) * (synth.END_US - synth.START_US)).astype(int)
    at = np.where(rng.random(count) < 0.9, at, anywhere)
    symbols = df["symbol"].to_numpy()[rows]
    return [
        (s, synth.micros_to_datetime(t), pd.Timestamp(t, unit="us", tz="UTC"))
        for s, t in zip(symbols.tolist(), at.tolist(), strict=True)
    ]


def _latency(who: str, durations: list[float]) -> None:
    say(
        f"  {who:<58} median {duration(median(durations)):>10}  "
        f"p99 {duration(p99(durations)):>10}  (n={len(durations):,})"
    )


def get(b: Bench) -> Result:
    a = b.args
    result = Result("get median", "<= 20 us; >= 200x (a)@100k")
    say(f"\n[get] get(symbol, as_of): up to {a.max_lookups:,} random lookups, {a.budget:g} s each")
    queries = _queries(b.scd2().load(), a.max_lookups, a.seed)
    catalog = b.catalog()
    catalog.get(queries[0][0], queries[0][1])
    mine, found = bounded(lambda q: catalog.get(q[0], q[1]), queries, a.budget, a.max_lookups)
    n = b.history.n_instruments
    _latency(f"project Catalog.get, {n:,} instruments", mine)
    same, rows = bounded(lambda q: b.scd2().lookup(q[0], q[2]), queries, a.budget, len(mine))
    rows_same = len(b.scd2().load())
    _latency(f"baseline (a) same history, {n:,} instruments ({rows_same:,} rows)", same)
    agree = sum(
        _holder(x) == (y["instrument_id"] if y is not None else None)  # type: ignore[index]
        for x, y in zip(found, rows, strict=False)
    )
    say(f"  holders agree (project vs baseline (a), same history): {agree:,}/{len(rows):,}")
    ref_median = None
    if b.ref_path:
        ref = SCD2File(b.ref_path)
        frame = ref.load()
        ref_q = _queries(frame, a.max_lookups, a.seed + 2)
        theirs, _ = bounded(lambda q: ref.lookup(q[0], q[2]), ref_q, a.budget, a.max_lookups)
        label = f"baseline (a) @ {a.ref_instruments:,} instruments ({len(frame):,} rows)"
        _latency(label, theirs)
        ref_median = median(theirs)
    say("  baseline (a) keeps its frame in memory: a lookup is the boolean-mask scan only")
    speedup = ratio(ref_median, median(mine))
    say(f"  ratio (a)@{a.ref_instruments:,} median / project median: {times(speedup)}")
    mid = median(mine)
    result.measured = f"{duration(mid)} (p99 {duration(p99(mine))})"
    result.baseline = f"(a)@{a.ref_instruments:,} {duration(ref_median)}"
    result.ratio = times(speedup)
    result.verdict = verdict(
        None if mid is None else mid <= 20e-6, None if speedup is None else speedup >= 200
    )
    return result


def _instants(count: int) -> list[Any]:
    span = synth.END_US - synth.START_US
    return [
        synth.micros_to_datetime(synth.START_US + span * (k + 1) // (count + 1))
        for k in range(count)
    ]


def _same_content(mine: pa.Table, theirs: pa.Table) -> str:
    mine = mine.drop_columns(["valid_until"]).sort_by("instrument_id")
    theirs = theirs.select(mine.column_names).cast(mine.schema).sort_by("instrument_id")
    if mine.num_rows != theirs.num_rows:
        return "different row counts"
    differ = [c for c in mine.column_names if not mine[c].equals(theirs[c])]
    return "identical" if not differ else "columns differ: " + ", ".join(differ)


def universe(b: Bench) -> Result:
    a = b.args
    result = Result("universe", "<= 150 ms; >= 8x DuckDB")
    instants = _instants(a.instants)
    say(f"\n[universe] universe(as_of) at {len(instants)} instants, vs DuckDB over the log")
    catalog = b.catalog()
    # warm-up, not timed, at an instant of its own: the catalog keeps its answers
    catalog.universe(synth.micros_to_datetime(synth.START_US))
    mine, tables = bounded(catalog.universe, instants, a.budget, len(instants))
    files = baseline_duckdb.log_files(b.folder)
    con = baseline_duckdb.connect(files)
    baseline_duckdb.universe(con, instants[0])  # warm-up: file metadata, page cache
    theirs, answers = bounded(
        lambda t: baseline_duckdb.universe(con, t), instants, a.budget, len(mine)
    )
    df = b.scd2().load()
    for k, (t, mt, dt) in enumerate(zip(instants, tables, answers, strict=False)):
        assert isinstance(mt, pa.Table)
        assert isinstance(dt, pa.Table)
        at = pd.Timestamp(t)
        live = int(((df["valid_from"] <= at) & (df["valid_until"] > at) & df["active"]).sum())
        same = "same" if mt.num_rows == dt.num_rows == live else "DIFFERENT"
        say(
            f"  {t:%Y-%m-%d %H:%M}  project {duration(mine[k]):>10} {mt.num_rows:>9,} rows | "
            f"DuckDB {duration(theirs[k]):>10} {dt.num_rows:>9,} rows | "
            f"generator's SCD2 {live:,} rows: {same}"
        )
    if tables and answers:
        same = _same_content(tables[0], answers[0])
        say(f"  content at the first instant, project vs DuckDB: {same}")
    say(f"  DuckDB read {len(files):,} Parquet files of the log (the Delta table's current ones)")
    speedup = ratio(median(theirs), median(mine))
    _latency("project Catalog.universe", mine)
    _latency("baseline (b) DuckDB fold over read_parquet(log files)", theirs)
    result.measured = duration(median(mine))
    result.baseline = f"(b) {duration(median(theirs))}"
    result.ratio = times(speedup)
    mid = median(mine)
    result.verdict = verdict(
        None if mid is None else mid <= 0.150, None if speedup is None else speedup >= 8
    )
    return result


def append(b: Bench) -> Result:
    result = Result("append 1000 + get", "<= 300 ms")
    say("\n[append] append 1,000 events to the log, then a get that sees them")
    targets = b.open_rows(1000, seed=int(clock() * 1e6))
    catalog = b.catalog()
    writer = EventLog.open(b.folder)
    t0 = clock()
    len(writer)  # a long-lived writer (the daemon) knows the log's tail already
    say(f"  (a new writer's first look read the log's tail in {duration(clock() - t0)})")
    start = datetime.now(UTC)
    value = Decimal(int(clock() * 1e6) % 10**9)  # a value no earlier run wrote
    pairs = list(zip(targets["instrument_id"], targets["symbol"], strict=True))
    pairs = (pairs * (1000 // len(pairs) + 1))[:1000]  # a small catalog: some get two changes
    events = [
        InstrumentChanged(
            instrument_id=iid,
            symbol=sym,
            effective_at=start + timedelta(microseconds=k),
            source="bench",
            changes={"min_notional": value},
        )
        for k, (iid, sym) in enumerate(pairs)
    ]
    last = events[-1]
    t0 = clock()
    writer.append(events)
    t1 = clock()
    seen = catalog.get(last.symbol, last.effective_at + timedelta(seconds=1))
    t2 = clock()
    ok = seen is not None and seen.min_notional == value
    say(
        f"  project: append {duration(t1 - t0)} + get {duration(t2 - t1)} = {duration(t2 - t0)}"
        f" ({len(events):,} events; the get {'sees' if ok else 'DOES NOT see'} the new value)"
    )
    updates = b.scd2_updates(1000)
    per = float(np.mean(updates))
    t3 = clock()
    b.scd2().lookup_cold(last.symbol, pd.Timestamp(last.effective_at))
    cold = clock() - t3
    estimate = per * 1000 + cold
    how = "measured" if len(updates) >= 1000 else f"{len(updates)} measured, x1000 extrapolated"
    say(
        f"  baseline (a): {len(updates):,} updates (read, change, rewrite the whole file), "
        f"{duration(per)} each; 1,000 + a fresh read and scan = {duration(estimate)} ({how})"
    )
    result.measured = duration(t2 - t0) + ("" if ok else " (not seen!)")
    result.baseline = f"(a) {duration(estimate)}"
    result.ratio = times(ratio(estimate, t2 - t0))
    result.verdict = verdict(ok and t2 - t0 <= 0.300)
    return result


def _holder(found: object) -> str | None:
    return found.instrument_id if isinstance(found, Instrument) else None
