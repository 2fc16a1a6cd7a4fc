"""`catalog audit`: prove the log intact and its history consistent, or say what is not.

The audit itself is `connectors.catalog_audit.audit_catalog`: the log's integrity, the PIT
invariants, the anchored head. This module adds the drift against a source when asked, and
prints the report. Exit status: 0 when every check passed, 1 on any violation, 2 on bad usage.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Final

from connectors.catalog_audit import AUDIT_STEPS, AuditRun, audit_catalog
from connectors.cli.anchor import add_audit_options, audit_anchor_from
from connectors.cli.progress import Steps, add_quiet
from connectors.cli.render import cell, to_json
from connectors.cli.sync import positive
from connectors.errors import UsageError
from connectors.sync import drift
from connectors.sync.syncer import DEFAULT_ABSENCE_RUNS, SourceRun
from connectors.venues.http import HttpSettings
from connectors.venues.registry import SOURCES
from eventstore.audit.findings import MAX_KEPT, AuditReport, CheckResult, Violation
from projections import Catalog

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

EXIT_VIOLATION: Final = 1
#: Violations shown per check in the text report (`--json` has every one kept).
SHOWN: Final = 10


def add_audit(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    """Declare the options of `catalog audit`; return its command."""
    parser.add_argument(
        "--against-source",
        metavar="SOURCE",
        choices=list(SOURCES),
        help="also compare the catalog with a fresh snapshot of SOURCE, writing nothing",
    )
    parser.add_argument(
        "--replay", metavar="DIR", help="with --against-source: its latest snapshot in DIR"
    )
    parser.add_argument(
        "--absence-runs",
        type=positive,
        default=DEFAULT_ABSENCE_RUNS,
        metavar="N",
        help="with --against-source: the sync's absence rule; an instrument absent from fewer "
        "snapshots in a row is pending, not drift (default: %(default)s)",
    )
    add_audit_options(parser)
    add_quiet(parser)
    return run_audit


def run_audit(args: argparse.Namespace) -> int:
    """Run `catalog audit`: print the report; return 0 if clean, 1 on any violation."""
    if args.replay and not args.against_source:
        raise UsageError("--replay needs --against-source SOURCE")
    anchor = audit_anchor_from(args)
    total = len(AUDIT_STEPS) + (1 if args.against_source else 0)
    with Steps("audit", total, enabled=not args.quiet) as steps:
        run = audit_catalog(args.root, anchor, steps.step)
        if args.against_source:
            steps.step(f"comparing with {args.against_source}")
            check = drift_check(run.root, args.against_source, args.replay, args.absence_runs)
            run.report.checks.append(check)
    print(to_json(report_json(run)) if args.json else report_text(run))
    return 0 if run.report.ok else EXIT_VIOLATION


def drift_check(
    root: str, source: str, replay: str | None, absence_runs: int = DEFAULT_ABSENCE_RUNS
) -> CheckResult:
    """Return the drift of the catalog against `source` (live, or its replayed snapshot)."""
    settings = HttpSettings()
    if replay:
        found, observed = asyncio.run(drift.replayed(replay, source, settings))
    else:
        found, observed = asyncio.run(drift.fetch(SourceRun(SOURCES[source]), settings)), None
    found_all = drift.against(Catalog.open(root), found, observed, absence_runs)
    differences = [d for d in found_all if not d.pending]
    pending = [d for d in found_all if d.pending]
    name = f"drift:{source}"
    described = (
        f"the catalog agrees with {'the replayed' if replay else 'a fresh'} snapshot of {source}"
    )
    shown = tuple(Violation(name, None, None, _drift(d)) for d in differences[:MAX_KEPT])
    notes = tuple(
        f"pending: {d.symbol} ({d.market}) absent from {d.absent} of the {absence_runs} "
        "complete snapshots in a row that delist it"
        for d in pending[:MAX_KEPT]
    )
    return CheckResult(name, described, shown, len(differences), notes=notes)


def _drift(found: drift.Drift) -> str:
    where = f"{found.symbol} ({found.market})"
    if found.kind != "field":
        return f"{where}: {found.kind}"
    return f"{where} {found.field}: catalog {cell(found.catalog)}, source {cell(found.reported)}"


def report_json(run: AuditRun) -> dict[str, Any]:
    """Return the report as plain data for `--json`."""
    report = run.report
    return {
        "root": run.root,
        "ok": report.ok,
        "events": report.events,
        "violations": report.violations,
        "seconds": round(run.seconds, 3),
        "anchor": run.anchor,
        "checks": [
            {
                "name": check.name,
                "description": check.description,
                "status": check.status,
                "ok": check.status == "ok",
                "count": check.count,
                "skipped": check.skipped,
                "notes": list(check.notes),
                "violations": [
                    {"position": v.position, "event_id": v.event_id, "detail": v.detail}
                    for v in check.violations
                ],
            }
            for check in report.checks
        ],
    }


def report_text(run: AuditRun) -> str:
    """Return the report for people: one line per check, the first violations under each."""
    report = run.report
    width = max(len(check.name) for check in report.checks)
    lines = [f"audit of {run.root}: {report.events:,} events, {len(report.checks)} checks"]
    for check in report.checks:
        shown = check.description if check.skipped is None else check.skipped
        lines.append(f"  {check.status:<4}  {check.name:<{width}}  {shown}")
        lines.extend(f"          {_violation(v)}" for v in check.violations[:SHOWN])
        lines.extend(f"          {note}" for note in check.notes[:SHOWN])
        if len(check.notes) > SHOWN:
            lines.append(f"          ... and {len(check.notes) - SHOWN:,} more notes (see --json)")
        if check.count > SHOWN:
            lines.append(f"          ... and {check.count - SHOWN:,} more (see --json)")
    if run.anchor:
        lines.append(run.anchor)
    lines.append(_verdict(report, run.seconds))
    return "\n".join(lines)


def _violation(violation: Any) -> str:
    where = [] if violation.position is None else [f"position {violation.position:,}"]
    where += [] if violation.event_id is None else [f"event {violation.event_id}"]
    prefix = f"{', '.join(where)}: " if where else ""
    return f"{prefix}{violation.detail}"


def _verdict(report: AuditReport, seconds: float) -> str:
    took = f"in {seconds:,.1f} s"
    if report.ok and report.skipped:
        return f"clean, but incomplete: {report.skipped} checks could not run (see skip) {took}"
    if report.ok:
        return f"clean: every check passed {took}"
    failed = sum(1 for check in report.checks if not check.ok)
    noun = "violation" if report.violations == 1 else "violations"
    return f"FAILED: {report.violations:,} {noun} in {failed} of {len(report.checks)} checks {took}"


__all__ = ["add_audit", "report_json", "report_text", "run_audit"]
