"""Timing helpers, fresh-subprocess measurements and the summary table. Figures, never asserts."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.py")
clock = time.perf_counter


@dataclass
class Result:
    """One row of the summary: what was measured against what, and the verdict."""

    figure: str
    target: str
    measured: str = "-"
    baseline: str = "-"
    ratio: str = "-"
    verdict: str = "n/a"
    #: The target holds at any size (a rate, a ratio to a baseline of the same run): it
    #: gets a verdict below scale 1 too.
    scale_free: bool = False


def at_scale(results: list[Result], scale: float) -> str:
    """Drop the verdicts that only mean something at scale 1; return the summary's note."""
    if scale >= 1:
        return ""
    for result in results:
        if not result.scale_free and result.verdict in ("PASS", "MISS"):
            result.verdict = "- (scale 1)"
    return "; the targets are for scale 1: only rates and ratios measured in this run get a verdict"


def verdict(*checks: bool | None) -> str:
    """PASS when every check holds, MISS when one fails, n/a when one could not be made."""
    if any(c is None for c in checks):
        return "n/a"
    return "PASS" if all(checks) else "MISS"


def duration(seconds: float | None) -> str:
    """Return `seconds` in the unit that reads best."""
    if seconds is None or not np.isfinite(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:,.1f} ms"
    return f"{seconds:,.2f} s"


def ratio(baseline: float | None, project: float | None) -> float | None:
    """Return how many times `baseline` is `project` (None when either is missing)."""
    if not baseline or not project:
        return None
    return baseline / project


def times(ratio_: float | None) -> str:
    return "-" if ratio_ is None else f"{ratio_:,.1f}x"


def median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def p99(values: list[float]) -> float | None:
    return float(np.percentile(values, 99)) if values else None


def bounded(
    call: Callable[[Any], object], items: Iterable[Any], budget_s: float, limit: int
) -> tuple[list[float], list[object]]:
    """Time `call(item)` for each item, stopping after `limit` calls or `budget_s` seconds.

    Returns the duration of every call and what it returned. At least one call is made.
    """
    durations: list[float] = []
    answers: list[object] = []
    stop = clock() + budget_s
    for item in items:
        t0 = clock()
        answer = call(item)
        t1 = clock()
        durations.append(t1 - t0)
        answers.append(answer)
        if len(durations) >= limit or t1 > stop:
            break
    return durations, answers


class ChildError(RuntimeError):
    """A measuring subprocess failed or ran out of time."""


def child(task: str, *args: str, timeout: float) -> tuple[dict[str, Any], float]:
    """Run `bench/child.py task args` in a fresh interpreter.

    Returns the JSON the child prints on its first stdout line, and the wall time from
    spawning the process to that line (interpreter start and imports included).
    """
    t0 = clock()
    proc = subprocess.Popen(
        [sys.executable, CHILD, task, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    wall = clock() - t0
    if not line:
        proc.kill()
    try:
        _, err = proc.communicate(timeout=max(1.0, timeout - wall))
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    if not line:
        why = "timed out" if not ready else f"exited {proc.returncode}"
        raise ChildError(f"{task} {why}: {err.strip()[-800:]}")
    return json.loads(line), wall


def peak_gb(kilobytes: float) -> str:
    return f"{kilobytes * 1024 / 1e9:,.2f} GB"


def print_summary(results: list[Result], note: str) -> None:
    """Print the table of every figure against its target."""
    head = ("figure", "target", "measured", "baseline", "ratio", "verdict")
    rows = [head] + [
        (r.figure, r.target, r.measured, r.baseline, r.ratio, r.verdict) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    rule = "-+-".join("-" * w for w in widths)
    print()
    print("SUMMARY " + note)
    for k, row in enumerate(rows):
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            print(rule)
