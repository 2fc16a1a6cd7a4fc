"""The audit figure: `catalog audit` of the whole log in a fresh process, against DuckDB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from context import say
from measure import ChildError, Result, child, duration, peak_gb, ratio, times, verdict

if TYPE_CHECKING:
    from context import Bench

GB = 1e9


def audit(b: Bench) -> Result:
    """Time `catalog audit` (every check) and DuckDB's structural checks, fresh processes."""
    result = Result("audit", "<= 60 s; peak <= 4 GB")
    say("\n[audit] catalog audit of the whole log (integrity + PIT invariants), fresh process")
    try:
        mine, wall = child("audit-project", b.folder, timeout=b.args.timeout)
    except ChildError as exc:
        say(f"  project: {exc}")
        result.measured = "failed"
        return result
    index = "loaded from its snapshot" if mine["index_saved_before"] else "rebuilt (none saved)"
    say(
        f"  project: {mine['events']:,} events in {duration(mine['seconds'])} "
        f"(process wall {duration(wall)}), peak RSS {peak_gb(mine['peak_kb'])}; "
        f"index {index}; failed checks: {mine['failed'] or 'none'}"
    )
    theirs = _duckdb(b)
    by_row = _row_by_row(b, mine["events"])
    peak = mine["peak_kb"] * 1024
    result.measured = f"{duration(mine['seconds'])}, {peak / GB:,.2f} GB"
    named = []
    if by_row is not None:
        named.append(f"(c) ~{duration(by_row)} (row by row)")
        result.ratio = times(ratio(by_row, mine["seconds"]))
    if theirs:
        named.append(f"(b) {duration(theirs['seconds'])} (structure only)")
    result.baseline = "; ".join(named) or "-"
    result.verdict = verdict(mine["seconds"] <= 60, peak <= 4 * GB)
    return result


#: Rows `verify_chain` checks for baseline (c); its time is scaled to the whole log.
SAMPLE_ROWS = 200_000


def _row_by_row(b: Bench, events: int) -> float | None:
    """Return the time `verify_chain` would take on the whole log, from a sample."""
    try:
        theirs, _ = child("audit-rows", b.folder, str(SAMPLE_ROWS), timeout=b.args.timeout)
    except ChildError as exc:
        say(f"  baseline (c): {exc}")
        return None
    whole = float(theirs["seconds"]) * events / max(1, int(theirs["rows"]))
    say(
        f"  baseline (c) verify_chain row by row (what the audit is held to): "
        f"{theirs['rows']:,} rows in {duration(theirs['seconds'])}, so ~{duration(whole)} "
        f"for {events:,} (content hashes, no PIT checks)"
    )
    return whole


def _duckdb(b: Bench) -> dict[str, Any] | None:
    try:
        theirs, _ = child("audit-duckdb", b.folder, timeout=b.args.timeout)
    except ChildError as exc:
        say(f"  baseline (b): {exc}")
        return None
    say(
        f"  baseline (b) DuckDB, positions/ids/links/recorded_at/stream versions only (no "
        f"content hashes): {duration(theirs['seconds'])}, peak RSS {peak_gb(theirs['peak_kb'])}; "
        f"violations {theirs['found']}"
    )
    return theirs
