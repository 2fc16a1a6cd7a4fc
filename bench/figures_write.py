"""Figures of the write path: `append_table` against the storage floor, in the same run.

The history is appended through `EventLog.append_table` in tables of `TABLE_ROWS` rows
(built from its columns by `columnar.log_table`, not counted) to a fresh log; the rows each
call wrote are then written again with `write_deltalake` alone (the storage floor: Parquet
encoding and the Delta commit, nothing else), batch after batch in the same run, so that
the machine's load weighs on both alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import columnar
from context import Bench, say
from deltalake import write_deltalake
from measure import ChildError, Result, child, clock, duration, median, ratio, times, verdict

from eventstore import EventLog
from eventstore.encoding.schema import LOG_ASSIGNED

#: Rows per `append_table` call (one Delta commit each).
TABLE_ROWS = 1_000_000
TARGET_RATE = 250_000
TARGET_FLOOR = 0.6


def table(b: Bench) -> Result:
    """Append the whole history with `append_table`; write the same rows as the floor."""
    result = Result("append_table", f">= {TARGET_RATE:,} ev/s; >= {TARGET_FLOOR}x floor")
    result.scale_free = True
    h = b.history
    say(f"\n[table] EventLog.append_table of {h.n_events:,} events, {TABLE_ROWS:,} per commit")
    root = os.path.join(b.folder, "table-log")
    floor_uri = os.path.join(b.folder, "table-floor")
    for path in (root, floor_uri):
        shutil.rmtree(path, ignore_errors=True)
    log = EventLog.open(root)
    ident = columnar.texts(h)
    mine = floor = build = cpu = 0.0
    for lo in range(0, h.n_events, TABLE_ROWS):
        hi = min(lo + TABLE_ROWS, h.n_events)
        t0 = clock()
        given = columnar.log_table(h, lo, hi, ident).drop_columns([*LOG_ASSIGNED, "schema_version"])
        t1, c1 = clock(), time.process_time()
        done = log.append_table(given)
        t2, c2 = clock(), time.process_time()
        write_deltalake(floor_uri, done.rows, mode="append")
        t3 = clock()
        build, mine, floor, cpu = build + t1 - t0, mine + t2 - t1, floor + t3 - t2, cpu + c2 - c1
        say(
            f"  {hi:>11,}/{h.n_events:,}: append_table {duration(t2 - t1)} "
            f"({(hi - lo) / (t2 - t1):,.0f} ev/s), floor {duration(t3 - t2)}"
        )
    rate, floor_rate = h.n_events / mine, h.n_events / floor
    share = floor / mine
    say(f"  building the tables took another {duration(build)} (not counted)")
    say(
        f"  project append_table: {rate:,.0f} events/s (CPU {duration(cpu)} in this process, "
        f"its threads included)"
    )
    say(f"  storage floor, write_deltalake of the same rows: {floor_rate:,.0f} events/s")
    say(f"  append_table / floor: {share:,.2f}x")
    _same_ids(b, log)
    result.measured = f"{rate:,.0f} ev/s ({share:.2f}x floor)"
    result.baseline = f"floor {floor_rate:,.0f} ev/s"
    result.ratio = times(ratio(floor, mine))
    result.verdict = verdict(rate >= TARGET_RATE, share >= TARGET_FLOOR)
    for path in (root, floor_uri):
        shutil.rmtree(path, ignore_errors=True)
    return result


def _same_ids(b: Bench, log: EventLog) -> None:
    """Say whether the table path gave each event the id the Python path gave it."""
    theirs = EventLog.open(b.folder).read(["position", "event_id"])["event_id"]
    mine = log.read(["position", "event_id"])["event_id"]
    if len(theirs) != len(mine):
        say(f"  ids: {len(mine):,} events here, {len(theirs):,} in the project's log")
        return
    same = theirs.equals(mine)
    say(
        "  every event id equals the one append of Python events gave (the project's log)"
        if same
        else "  event ids DIFFER from those of the project's log (append of Python events)"
    )


def python_append(b: Bench) -> Result:
    """The figure of `EventLog.append` of Python events, from writing the project's log."""
    result = Result("append (Python)", ">= 100,000 ev/s")
    result.scale_free = True
    log = b.manifest["log"]
    rate = log["events"] / log["append_s"] if log["append_s"] else None
    say(f"\n[python] EventLog.append of Python events (log written {log['written_at']})")
    say(
        f"  project EventLog.append: {log['events']:,} events in {log['append_s']:,.2f} s = "
        f"{rate or 0:,.0f} events/s (slowest batch {log['slowest_batch_s']:,.2f} s)"
    )
    say(f"  building the Python events took another {log['build_s']:,.2f} s (not counted)")
    result.measured = f"{rate or 0:,.0f} ev/s"
    col = b.manifest.get("columnar")
    if col and rate:
        floor = col["events"] / col["write_s"]
        result.baseline = f"floor {floor:,.0f} ev/s"
        result.ratio = times(ratio(rate, floor))
    result.verdict = verdict(None if rate is None else rate >= 100_000)
    return result


def writer_start(b: Bench) -> Result:
    """A fresh process's first look at the log as a writer: from the saved tail, and not."""
    result = Result("writer start", "< 1 s (fresh process)")
    say("\n[start] a fresh writer's first look at the log (`len(log)`: its tail)")
    try:
        first, _ = child("writer-start", b.folder, "saved", timeout=b.args.timeout)
        if not first["from_saved"]:
            say(f"  no saved tail yet: read the log in full ({duration(first['seconds'])}), saved")
        runs = [child("writer-start", b.folder, "saved", timeout=b.args.timeout)]
        runs += [
            child("writer-start", b.folder, "saved", timeout=b.args.timeout)
            for _ in range(b.args.repeat - 1)
        ]
        full, _ = child("writer-start", b.folder, "full", timeout=b.args.timeout)
    except ChildError as exc:
        say(f"  {exc}")
        result.measured = "failed"
        return result
    seconds = [answer["seconds"] for answer, _ in runs]
    walls = [wall for _, wall in runs]
    used = all(answer["from_saved"] for answer, _ in runs)
    mine = median(seconds)
    say(
        f"  project, from the saved tail: {duration(mine)} after imports, process wall "
        f"{duration(median(walls))} ({len(runs)} runs; {runs[0][0]['events']:,} events; "
        f"{'the saved tail was used' if used else 'the saved tail was NOT used'})"
    )
    say(f"  reading the whole log instead (as before): {duration(full['seconds'])}")
    result.measured = f"{duration(mine)} (wall {duration(median(walls))})"
    if not used:  # a log shorter than SAVE_EVERY events is read whole: no tail is saved
        result.measured += " (no saved tail)"
    result.baseline = f"full read {duration(full['seconds'])}"
    result.ratio = times(ratio(full["seconds"], mine))
    result.verdict = verdict(used and mine is not None and mine < 1.0)
    return result


def import_scd2(b: Bench) -> Result:
    """`catalog import-scd2` of the history's SCD2 file (baseline (a)'s) into a fresh root."""
    result = Result("import-scd2", ">= 150,000 rows/s")
    result.scale_free = True
    rows = b.manifest["scd2"]["rows"]
    root = os.path.join(b.folder, "import-root")
    shutil.rmtree(root, ignore_errors=True)
    say(f"\n[import] catalog import-scd2 of the SCD2 file ({rows:,} versions), fresh process")
    command = [sys.executable, "-m", "connectors.cli.main", "--root", root, "import-scd2"]
    t0 = clock()
    done = subprocess.run(
        [*command, b.scd2_path], capture_output=True, text=True, timeout=b.args.timeout
    )
    seconds = clock() - t0
    shutil.rmtree(root, ignore_errors=True)
    if done.returncode:
        say(f"  failed: {done.stderr.strip()[-500:]}")
        result.measured = "failed"
        return result
    appending = done.stderr.strip().splitlines()[-1:] or ["-"]
    say(f"  {done.stdout.strip().splitlines()[-1]}; the append's last progress: {appending[0]}")
    rate = rows / seconds
    say(f"  project: {rows:,} versions in {duration(seconds)} = {rate:,.0f} rows/s (process wall)")
    result.measured = f"{rate:,.0f} rows/s"
    col = b.manifest.get("columnar")
    if col:
        floor = col["events"] / col["write_s"]
        result.baseline = f"floor {floor:,.0f} ev/s"
        result.ratio = times(ratio(rate, floor))
    result.verdict = verdict(rate >= 150_000)
    return result
