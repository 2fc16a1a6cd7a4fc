"""Read figures of issue 16: the universe uncached and dictionary-encoded, the first pit_join.

`universe` (figures.py) times the plain table; here each instant is asked once (no kept
answer: the warm-up uses an instant of its own), plain and `coded=True`, against DuckDB's
fold measured in the same run. `first-pitjoin` opens the catalog in a fresh process and
times its first `pit_join` against the second one in that process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import baseline_duckdb
import synth
from context import say
from measure import ChildError, Result, bounded, child, duration, median, ratio, times, verdict

if TYPE_CHECKING:
    from datetime import datetime

    from context import Bench

#: Bars of the first-pit_join figure, at scale 1.
FIRST_BARS = 1_000_000


def _instants(count: int, shift_us: int) -> list[datetime]:
    span = synth.END_US - synth.START_US
    return [
        synth.micros_to_datetime(synth.START_US + span * (k + 1) // (count + 1) + shift_us)
        for k in range(count)
    ]


def universe_coded(b: Bench) -> Result:
    """Time universe at instants asked once each: plain, then dictionary-encoded."""
    a = b.args
    result = Result("universe coded", "<= 150 ms; >= 8x DuckDB")
    say("\n[universe-coded] universe(as_of) once per instant: plain and coded=True")
    catalog = b.catalog()
    catalog.universe(synth.micros_to_datetime(synth.START_US))  # warm-up, at no timed instant
    plain, _ = bounded(catalog.universe, _instants(a.instants, 1), a.budget, a.instants)
    coded, _ = bounded(
        lambda t: catalog.universe(t, coded=True), _instants(a.instants, 2), a.budget, a.instants
    )
    con = baseline_duckdb.connect(baseline_duckdb.log_files(b.folder))
    at = _instants(a.instants, 0)
    baseline_duckdb.universe(con, at[0])  # warm-up: file metadata, page cache
    theirs, _ = bounded(lambda t: baseline_duckdb.universe(con, t), at, a.budget, 2)
    for who, runs in (("plain", plain), ("coded", coded)):
        each = ", ".join(map(duration, runs))
        say(f"  project {who}  median {duration(median(runs))} (each {each})")
    say(f"  baseline (b) DuckDB fold over the log files: median {duration(median(theirs))}")
    mid = median(coded)
    speedup = ratio(median(theirs), mid)
    result.measured = f"{duration(mid)} (plain {duration(median(plain))})"
    result.baseline = f"(b) {duration(median(theirs))}"
    result.ratio = times(speedup)
    result.verdict = verdict(
        None if mid is None else mid <= 0.150, None if speedup is None else speedup >= 8
    )
    return result


def first_pitjoin(b: Bench) -> Result:
    """Time the first pit_join of a fresh process against its second one."""
    result = Result("first pit_join", "<= 1 s after open")
    bars = max(1_000, round(FIRST_BARS * b.args.scale))
    say(f"\n[first-pitjoin] a fresh process opens the catalog and joins {bars:,} bars twice")
    b.catalog()  # the index is current and saved
    try:
        found, wall = child("first-pitjoin", b.folder, str(bars), timeout=b.args.timeout)
    except ChildError as exc:
        say(f"  project: {exc}")
        result.measured = "failed"
        return result
    say(
        f"  open {duration(found['open_s'])}, first pit_join {duration(found['first_s'])}, "
        f"second {duration(found['second_s'])} ({found['rows']:,} rows; wall {duration(wall)})"
    )
    result.measured = duration(found["first_s"])
    result.baseline = f"second join {duration(found['second_s'])}"
    result.ratio = times(ratio(found["second_s"], found["first_s"]))
    result.verdict = verdict(found["first_s"] <= 1.0)
    return result
