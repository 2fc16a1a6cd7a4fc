"""Benchmarks of the catalog against named baselines, measured in the same run.

    .venv/bin/python bench/run.py --scale 0.01            # 10,000 instruments, 100,000 events
    .venv/bin/python bench/run.py --scale 0.01 --only get --only universe

Full size (--scale 1) is 1,000,000 instruments and 10,000,000 events over 2020-2025.
Baselines: (a) one SCD2 Parquet file that pandas reads, updates row by row, rewrites in full
on every update and scans for every lookup (bench/baseline_scd2.py); (b) DuckDB folding the
raw Parquet files of the log (bench/baseline_duckdb.py); (c) for pitjoin, DuckDB's ASOF JOIN
and Polars' join_asof over the exported version table (bench/baseline_asof.py). Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import TYPE_CHECKING

import synth
from context import prepare, say
from figure_pitjoin import pitjoin
from figures import append, get, universe
from figures_audit import audit
from figures_proc import open_first, rebuild
from figures_reads import first_pitjoin, universe_coded
from figures_write import import_scd2, python_append, table, writer_start
from measure import Result, at_scale, print_summary

if TYPE_CHECKING:
    from collections.abc import Callable

    from context import Bench

#: In the order they run: `append` changes the log, so it comes last.
FIGURES: dict[str, tuple[Callable[[Bench], Result], str]] = {
    "python": (python_append, ">= 100,000 ev/s"),
    "table": (table, ">= 250,000 ev/s; >= 0.6x floor"),
    "start": (writer_start, "< 1 s (fresh process)"),
    "import": (import_scd2, ">= 150,000 rows/s"),
    "get": (get, "<= 20 us; >= 200x (a)@100k"),
    "universe": (universe, "<= 150 ms; >= 8x DuckDB"),
    "universe-coded": (universe_coded, "<= 150 ms; >= 8x DuckDB"),
    "rebuild": (rebuild, "<= 15 s; peak <= 4 GB"),
    "open": (open_first, "<= 1.5 s (fresh process)"),
    "pitjoin": (pitjoin, "<= 0.5x DuckDB; identical"),
    "first-pitjoin": (first_pitjoin, "<= 1 s after open"),
    "audit": (audit, "<= 60 s; peak <= 4 GB"),
    "append": (append, "<= 300 ms"),
}
HERE = os.path.dirname(os.path.abspath(__file__))


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--scale", type=float, default=1.0, help="fraction of full size (default 1)")
    p.add_argument("--seed", type=int, default=7, help="seed of the synthetic history")
    p.add_argument("--root", default=os.path.join(HERE, "out"), help="work folder (bench/out)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only this figure (repeat or comma-separate): {', '.join(FIGURES)}",
    )
    p.add_argument(
        "--skip", action="append", default=[], metavar="NAME", help="do not run this figure"
    )
    p.add_argument(
        "--budget", type=float, default=30.0, help="seconds per timed loop, per side (30)"
    )
    p.add_argument("--max-lookups", type=int, default=10_000, help="gets per side (10,000)")
    p.add_argument("--instants", type=int, default=5, help="universe instants (5)")
    p.add_argument(
        "--ref-instruments",
        type=int,
        default=100_000,
        help="size of baseline (a) for the get target (100,000; 0: skip)",
    )
    p.add_argument("--repeat", type=int, default=3, help="fresh processes per open figure (3)")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds per subprocess")
    p.add_argument("--fresh", action="store_true", help="write the log again even if it exists")
    args = p.parse_args(argv)
    chosen = {n.strip() for group in args.only for n in group.split(",") if n.strip()}
    skipped = {n.strip() for group in args.skip for n in group.split(",") if n.strip()}
    unknown = (chosen | skipped) - set(FIGURES)
    if unknown:
        p.error(f"unknown figure {', '.join(sorted(unknown))}; known: {', '.join(FIGURES)}")
    args.figures = [n for n in FIGURES if (not chosen or n in chosen) and n not in skipped]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    n, e = synth.sizes(args.scale)
    say(
        f"bench: scale {args.scale:g} = {n:,} instruments, {e:,} events; seed {args.seed}; "
        f"figures: {', '.join(args.figures)}"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    say(f"machine: {os.cpu_count()} CPUs, load average {load} (other work skews the figures)")
    bench = prepare(args, set(args.figures))
    results: list[Result] = []
    for name in args.figures:
        figure, target = FIGURES[name]
        try:
            results.append(figure(bench))
        except Exception as exc:  # a broken figure must not hide the others
            traceback.print_exc()
            results.append(Result(name, target, f"error: {type(exc).__name__}", verdict="n/a"))
    note = f"(scale {args.scale:g}: {n:,} instruments, {e:,} events{at_scale(results, args.scale)})"
    print_summary(results, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
