"""The revisions figure: `Catalog.revisions(K1)` against an SCD2 export diffed by DuckDB.

    .venv/bin/python bench/figure_revisions.py --scale 0.1

The log (`revisions_log.py`) is the synthetic history with its last 1% appended apart
(retractions of earlier events among it); K1 is the recording of the first 99%, K2
everything. Both sides run in one process on one catalog, opened and caught up first:

- project: `Catalog.revisions(K1)`, the rows of every (instrument, field, interval) whose
  answer differs, with causes;
- baseline: `Catalog.scd2(known_at=K1)` and `Catalog.scd2()` (the export, recomputed at
  both knowledge instants; the catalog's cache of past views is emptied before each run),
  then DuckDB's `EXCEPT ALL` both ways over every column but `updated_at`, fetched as Arrow.

Each side runs `--repeat` times; the best time is printed, with the peak memory a run
added (`VmHWM` over the resident set before it). Target (scale 1): <= 2 s.
`--no-baseline` skips the baseline (at scale 1 its two exports need beyond 20 GB).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

import duckdb
import revisions_log
import synth
from figure_pitjoin import GB, _status, measured

from projections import Catalog

if TYPE_CHECKING:
    from collections.abc import Callable

    import pyarrow as pa

HERE = os.path.dirname(os.path.abspath(__file__))


def _baseline(catalog: Catalog, k1: str) -> pa.Table:
    catalog._index._views.clear()  # recompute the past view every run, as a fresh export does
    before, _ = catalog.scd2(known_at=k1)
    after, _ = catalog.scd2()
    columns = ", ".join(f'"{c}"' for c in before.column_names if c != "updated_at")
    con = duckdb.connect()
    con.register("k1", before)
    con.register("k2", after)
    query = (
        f"(SELECT 'k1' AS side, {columns} FROM k1 EXCEPT ALL SELECT 'k1', {columns} FROM k2) "
        f"UNION ALL (SELECT 'k2', {columns} FROM k2 EXCEPT ALL SELECT 'k2', {columns} FROM k1)"
    )
    found: pa.Table = con.sql(query).to_arrow_table()
    con.close()
    return found


def _best(call: Callable[[], pa.Table], repeat: int) -> tuple[float, pa.Table, float]:
    """Return the best time of `repeat` runs, the answer and the peak memory a run added
    (and print every run's time)."""
    answer, runs, peak = measured(call, repeat)
    print(f"    runs: {', '.join(f'{r:.3f}' for r in runs)} s", flush=True)
    return min(runs), answer, peak


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="fraction of full size (default 1)")
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic history")
    p.add_argument("--root", default=os.path.join(HERE, "out"), help="work folder (bench/out)")
    p.add_argument("--repeat", type=int, default=3, help="runs per side, best printed (3)")
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the baseline (two SCD2 exports: at scale 1 beyond 20 GB)",
    )
    args = p.parse_args(argv)
    n, e = synth.sizes(args.scale)
    print(f"revisions: scale {args.scale:g} = {n:,} instruments, {e:,} events", flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load}", flush=True)
    root, k1 = revisions_log.cached(args.root, args.scale, args.seed, print)
    t0 = time.perf_counter()
    catalog = Catalog.open(root)
    catalog.refresh()
    print(f"  catalog opened and caught up in {time.perf_counter() - t0:,.2f} s; K1 = {k1}")
    opened = _status("VmHWM") / GB
    print(f"  peak RSS so far (the index built or loaded): {opened:.2f} GB")
    mine, rows, peak = _best(lambda: catalog.revisions(k1), args.repeat)
    instruments = len(set(rows["instrument_id"].to_pylist()))
    print(
        f"  project : {mine:8.3f} s  {rows.num_rows:,} revised answers of {instruments:,} ids"
        f"  (+{peak / GB:.2f} GB peak)"
    )
    if args.no_baseline:
        print("  baseline: skipped (--no-baseline)   target at scale 1: <= 2 s")
        return 0
    theirs, diff, peak = _best(lambda: _baseline(catalog, k1), args.repeat)
    print(
        f"  baseline: {theirs:8.3f} s  {diff.num_rows:,} version rows differ (scd2 x2 + DuckDB)"
        f"  (+{peak / GB:.2f} GB peak)"
    )
    print(f"  ratio   : {theirs / mine:8.1f}x   target at scale 1: <= 2 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
