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
    peak = mine["peak_kb"] * 1024
    result.measured = f"{duration(mine['seconds'])}, {peak / GB:,.2f} GB"
    if theirs:
        result.baseline = f"(b) {duration(theirs['seconds'])} (structure only)"
        result.ratio = times(ratio(theirs["seconds"], mine["seconds"]))
    result.verdict = verdict(mine["seconds"] <= 60, peak <= 4 * GB)
    return result


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
