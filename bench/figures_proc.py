"""Figures measured in fresh subprocesses: rebuilding the index, opening a catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from context import say
from measure import (
    ChildError,
    Result,
    child,
    duration,
    median,
    peak_gb,
    ratio,
    times,
    verdict,
)

if TYPE_CHECKING:
    from context import Bench

GB = 1e9


def rebuild(b: Bench) -> Result:
    result = Result("rebuild index", "<= 15 s; peak <= 4 GB")
    say("\n[rebuild] rebuild the index from the whole log, in a fresh process")
    timeout = b.args.timeout
    try:
        mine, _ = child("rebuild-project", b.folder, timeout=timeout)
    except ChildError as exc:
        say(f"  project: {exc}")
        result.measured = "failed"
        return result
    b.did_rebuild = True
    say(
        f"  project {mine['method']}: {duration(mine['seconds'])}, peak RSS "
        f"{peak_gb(mine['peak_kb'])} ({peak_gb(mine['base_kb'])} of it after the imports)"
    )
    say(
        f"  (peak RSS is the child's VmHWM; its ru_maxrss, {peak_gb(mine['maxrss_kb'])}, keeps "
        "this process's peak across fork+exec on Linux)"
    )
    theirs: dict[str, Any] | None = None
    try:
        theirs, _ = child("rebuild-duckdb", b.folder, timeout=timeout)
        say(
            f"  baseline (b) DuckDB folds the log into SCD2 ({theirs['rows']:,} rows): "
            f"{duration(theirs['seconds'])}, peak RSS {peak_gb(theirs['peak_kb'])}"
        )
    except ChildError as exc:
        say(f"  baseline (b): {exc}")
    peak = mine["peak_kb"] * 1024
    result.measured = f"{duration(mine['seconds'])}, {peak / GB:,.2f} GB"
    if theirs:
        result.baseline = (
            f"(b) {duration(theirs['seconds'])}, {theirs['peak_kb'] * 1024 / GB:.2f} GB"
        )
        result.ratio = times(ratio(theirs["seconds"], mine["seconds"]))
    result.verdict = verdict(mine["seconds"] <= 15, peak <= 4 * GB)
    return result


def _runs(
    task: str, args: list[str], repeat: int, timeout: float
) -> list[tuple[dict[str, Any], float]]:
    runs = []
    for _ in range(repeat):
        runs.append(child(task, *args, timeout=timeout))
    return runs


def _show(who: str, runs: list[tuple[dict[str, Any], float]]) -> float | None:
    walls = [wall for _, wall in runs]
    for answer, wall in runs:
        say(
            f"  {who:<22} wall {duration(wall):>9} = start+imports "
            f"{duration(answer['import_s']):>9}"
            f" + open {duration(answer['open_s']):>9} + first get {duration(answer['get_s']):>9}"
            f" -> {answer['found']}"
        )
    return median(walls)


def open_first(b: Bench) -> Result:
    a = b.args
    result = Result("open + first get", "<= 1.5 s (fresh process)")
    say("\n[open] a fresh process opens a catalog whose index is current and answers one get")
    if not b.did_rebuild:
        say("  (making the index current first: a rebuild in a fresh process)")
        try:
            child("rebuild-project", b.folder, timeout=a.timeout)
        except ChildError as exc:
            say(f"  could not make the index current: {exc}")
    row = b.open_rows(1, seed=a.seed + 3).iloc[0]
    query = [row["symbol"], "2024-12-31T00:00:00+00:00"]
    try:
        mine = _show("project", _runs("open-project", [b.folder, *query], a.repeat, a.timeout))
    except ChildError as exc:
        say(f"  project: {exc}")
        result.measured = "failed"
        return result
    theirs = None
    try:
        runs = _runs("open-scd2", [b.scd2_path, *query], a.repeat, a.timeout)
        theirs = _show("baseline (a) same data", runs)
    except ChildError as exc:
        say(f"  baseline (a): {exc}")
    say("  wall = from spawning the interpreter to the answer on its stdout; medians below")
    result.measured = duration(mine)
    result.baseline = f"(a) {duration(theirs)}"
    result.ratio = times(ratio(theirs, mine))
    result.verdict = verdict(None if mine is None else mine <= 1.5)
    return result
