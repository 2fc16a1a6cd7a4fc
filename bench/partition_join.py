"""`PartitionJoin` under Dask (threads, 2 workers) against one `Catalog.pit_join`, same run.

    .venv/bin/python bench/partition_join.py                 # 10,000,000 bars
    .venv/bin/python bench/partition_join.py --bars 1000000 --partitions 8

The catalog is the seeded synthetic history of `run.py` at `--scale` (default 0.01: 10,000
instruments, 100,000 events; kept under `--root` for later runs) with its index saved, so
every process loads it instead of rebuilding. The bars are those of the `pitjoin` figure
(symbols of the whole history plus 1% unknown ones, instants over 2020-2025, sorted by
time), written once to a Parquet file of `--partitions` row groups. Each side runs in a
fresh process and is timed from reading that file to the joined answer's summary (active
rows, rows with a tick size), the catalog's opening included:

- one process: `pyarrow.parquet.read_table`, then `pit_join` (its own threads, one per CPU);
- Dask: `dd.read_parquet` (one partition per row group), `map_partitions(join.pandas)` on
  the threaded scheduler with 2 workers (each join on one thread), either reduced to the
  two sums partition by partition, or with every joined row collected into one pandas
  frame first (what the one process holds at its end).

Printed: each time, the overhead of Dask over one process, and each process's peak
resident set (`VmHWM`, the imports included). The summaries must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["tick_size", "lot_size", "min_notional"]


def _peak_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def one_process(root: str, bars: str) -> dict[str, Any]:
    """Join the whole file in this process."""
    import pyarrow.compute as pc

    from projections import Catalog

    t0 = time.perf_counter()
    out = Catalog.open(root).pit_join(pq.read_table(bars), fields=FIELDS)
    active = int(pc.sum(out["active"]).as_py() or 0)
    ticks = len(out) - out["tick_size"].null_count
    return {"seconds": time.perf_counter() - t0, "active": active, "ticks": ticks}


def on_dask(root: str, bars: str, *, collect: bool = False) -> dict[str, Any]:
    """Join the file partition by partition on Dask's threads, two workers; reduce each
    partition to the summary, or (`collect`) bring every joined row back first."""
    import dask.dataframe as dd
    from dask.base import compute

    from projections import PartitionJoin

    t0 = time.perf_counter()
    frame = dd.read_parquet(bars, split_row_groups=True)
    join = PartitionJoin(root, fields=FIELDS)
    joined = frame.map_partitions(join.pandas, meta=join.pandas_meta(frame._meta))
    if collect:
        rows = joined.compute(scheduler="threads", num_workers=2)
        active, ticks = rows["active"].sum(), rows["tick_size"].count()
    else:
        sums = joined["active"].sum(), joined["tick_size"].count()
        active, ticks = compute(*sums, scheduler="threads", num_workers=2)  # type: ignore[no-untyped-call]
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "active": int(active), "ticks": int(ticks)}


def collected(root: str, bars: str) -> dict[str, Any]:
    """`on_dask`, every joined row brought back to the client as one pandas frame."""
    return on_dask(root, bars, collect=True)


LEGS = {"one": one_process, "dask": on_dask, "dask-collect": collected}
NAMES = {
    "one": "one process, pit_join",
    "dask": "Dask, sums per partition",
    "dask-collect": "Dask, rows collected",
}


def prepare(args: argparse.Namespace) -> tuple[str, str]:
    """Return (catalog root, bars file), writing what is missing."""
    sys.path.insert(0, HERE)
    import figure_pitjoin
    import synth_log

    from projections import Catalog

    root, h = synth_log.cached_log(args.root, args.scale, args.seed, "partition-join")
    Catalog.open(root).refresh()  # the index saved: every process loads it
    bars = os.path.join(root, f"bars-{args.bars}-{args.partitions}.parquet")
    if not os.path.exists(bars):
        table = figure_pitjoin.bars(h.symbols, args.bars, args.seed)
        pq.write_table(table, bars, row_group_size=-(-args.bars // args.partitions))
    return root, bars


def child(leg: str, root: str, bars: str, timeout: float) -> dict[str, Any]:
    """Run one side in a fresh interpreter and return what it printed."""
    command = [sys.executable, __file__, "--leg", leg, "--catalog", root, "--bars-file", bars]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def main(argv: list[str] | None = None) -> None:
    """Parse the options; run one side (`--leg`) or the whole benchmark."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--bars", type=int, default=10_000_000, help="bars joined (10,000,000)")
    p.add_argument("--partitions", type=int, default=10, help="Dask partitions (10)")
    p.add_argument("--scale", type=float, default=0.01, help="catalog size, as run.py (0.01)")
    p.add_argument("--seed", type=int, default=7, help="seed of history and bars (7)")
    p.add_argument("--root", default=os.path.join(HERE, "out"), help="work folder (bench/out)")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per side (1800)")
    p.add_argument("--leg", choices=list(LEGS), help=argparse.SUPPRESS)
    p.add_argument("--catalog", help=argparse.SUPPRESS)
    p.add_argument("--bars-file", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.leg:
        found = LEGS[args.leg](args.catalog, args.bars_file)
        print(json.dumps({**found, "peak_kb": _peak_kb()}), flush=True)
        return
    root, bars = prepare(args)
    print(f"{args.bars:,} bars, {args.partitions} partitions, catalog {root}", flush=True)
    legs = {leg: child(leg, root, bars, args.timeout) for leg in LEGS}
    for leg, found in legs.items():
        rate = args.bars / found["seconds"]
        print(
            f"  {NAMES[leg]:<26} {found['seconds']:8.2f} s  {rate:12,.0f} bars/s  "
            f"peak RSS {found['peak_kb'] / 1e6:6.2f} GB"
        )
    one = legs["one"]
    for leg in ("dask", "dask-collect"):
        overhead = legs[leg]["seconds"] / one["seconds"] - 1
        print(f"  overhead of {NAMES[leg]} over one process: {overhead:+.0%}")
    same = len({(found["active"], found["ticks"]) for found in legs.values()}) == 1
    said = f"active rows {one['active']:,}, with a tick size {one['ticks']:,}"
    print(f"  summaries agree: {same} ({said})")


if __name__ == "__main__":
    main()
