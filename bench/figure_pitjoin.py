"""The `pitjoin` figure: `Catalog.pit_join` of 10,000,000 bars against DuckDB's ASOF JOIN and
Polars' join_asof over the catalog's exported version table, in the same process and run.

Bars are (row, symbol, ts): symbols drawn from every symbol of the history plus 1% unknown
ones, instants uniform over 2020-2025, sorted by time as bar files are. Every contender
gets the same Arrow table already in memory (the baselines also get the version table, as
`export` writes it, already in memory). Each is timed `--repeat` times (at most 3); the
best time is reported with the peak memory it added (`VmHWM` reset through
`/proc/self/clear_refs` before each run). The answers are checked identical, row by row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import baseline_asof
import numpy as np
import polars as pl
import pyarrow as pa
import synth
from context import say
from measure import Result, clock, duration, ratio, times, verdict

from projections.join.answers import THREADS

if TYPE_CHECKING:
    from collections.abc import Callable

    from context import Bench

BARS = 10_000_000
GB = 1e9


def _status(name: str) -> int:
    """Return a `/proc/self/status` figure in bytes (0 where it cannot be read)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def measured(call: Callable[[], pa.Table], repeat: int) -> tuple[pa.Table, list[float], float]:
    """Return (answer, seconds of each run, peak bytes added over the resident set at the start)."""
    runs, peak, answer = [], 0.0, None
    for _ in range(repeat):
        answer = None  # let the previous answer go before measuring again
        _reset_peak()
        base = _status("VmRSS")
        t0 = clock()
        answer = call()
        runs.append(clock() - t0)
        peak = max(peak, _status("VmHWM") - base)
    assert answer is not None
    return answer, runs, peak


def bars(symbols: list[str], size: int, seed: int) -> pa.Table:
    """Return `size` bars over the symbols (1% unknown), sorted by time."""
    rng = np.random.default_rng(seed)
    names = pa.array([*symbols, *(f"NOWHERE:{k}" for k in range(len(symbols) // 100))])
    at = np.sort(rng.integers(synth.START_US, synth.END_US, size))
    return pa.table(
        {
            "row": pa.array(np.arange(size, dtype=np.int64)),
            "symbol": names.take(pa.array(rng.integers(0, len(names), size))),
            "ts": pa.array(at, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
        }
    )


def differences(mine: pa.Table, theirs: pa.Table) -> dict[str, int]:
    """Return, per answer column, how many rows differ (nulls equal nulls)."""
    found = {}
    for name in ("row", *baseline_asof.ANSWER):
        a = mine[name].combine_chunks()
        b = theirs[name].combine_chunks().cast(a.type)
        same = pa.compute.equal(a, b).fill_null(False)
        both_null = pa.compute.and_(a.is_null(), b.is_null())
        found[name] = len(a) - int(pa.compute.sum(pa.compute.or_(same, both_null)).as_py() or 0)
    return found


def pitjoin(b: Bench) -> Result:
    """Time the three joins and check that they answer alike."""
    result = Result("pitjoin", "<= 0.5x DuckDB; identical")
    size = max(1_000, round(BARS * b.args.scale))
    repeat = max(1, min(3, b.args.repeat))
    say(f"\n[pitjoin] pit_join of {size:,} bars, best of {repeat}, vs DuckDB and Polars")
    catalog = b.catalog()
    t0 = clock()
    versions = catalog.scd2()[0]
    say(f"  version table exported in memory: {versions.num_rows:,} rows in {clock() - t0:,.1f} s")
    table = bars(b.history.symbols, size, b.args.seed)
    fields = list(baseline_asof.FIELDS)
    mine, runs, mine_peak = measured(lambda: catalog.pit_join(table, fields=fields), repeat)
    mine_s = _report(f"catalog pit_join ({THREADS.most} threads)", runs, mine_peak, size)
    con = baseline_asof.duckdb_connection(versions, table)
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0]
    duck, runs, duck_peak = measured(lambda: baseline_asof.duckdb_join(con), repeat)
    duck_s = _report(
        f"DuckDB {_version('duckdb')}, 2 ASOF JOINs ({threads[0] if threads else '?'} threads)",
        runs,
        duck_peak,
        size,
    )
    left, right = pl.from_arrow(versions), pl.from_arrow(table)
    assert isinstance(left, pl.DataFrame)
    assert isinstance(right, pl.DataFrame)
    polars, runs, polars_peak = measured(lambda: baseline_asof.polars_join(left, right), repeat)
    polars_s = _report(
        f"Polars {pl.__version__}, 2 join_asof ({pl.thread_pool_size()} threads)",
        runs,
        polars_peak,
        size,
    )
    same = _compare(mine, {"DuckDB": duck, "Polars": polars})
    r = ratio(duck_s, mine_s)
    result.measured = f"{duration(mine_s)}, peak +{mine_peak / GB:,.2f} GB"
    result.baseline = f"DuckDB {duration(duck_s)}; Polars {duration(polars_s)}"
    result.ratio = f"{times(r)} vs DuckDB, {times(ratio(polars_s, mine_s))} vs Polars"
    result.verdict = verdict(mine_s <= duck_s / 2, same)
    return result


def _version(module: str) -> str:
    found: Any = __import__(module)
    return str(getattr(found, "__version__", "?"))


def _report(who: str, runs: list[float], peak: float, size: int) -> float:
    """Print the best run, every run and the peak; return the best."""
    best = min(runs)
    each = ", ".join(duration(r) for r in runs)
    say(
        f"  {who:<44} best {duration(best):>9} ({size / best / 1e6:,.1f} M rows/s; "
        f"runs {each}), peak +{peak / GB:,.2f} GB"
    )
    return best


def _compare(mine: pa.Table, others: dict[str, pa.Table]) -> bool:
    same = True
    for who, theirs in others.items():
        diff = differences(mine, theirs)
        bad = {k: v for k, v in diff.items() if v}
        same &= not bad
        say(f"  answers vs {who}: " + ("identical" if not bad else f"DIFFER {bad}"))
    return same
