"""The catalog's audit: the log's integrity, the PIT invariants and the anchored head.

`catalog audit` prints it; the benchmarks and scripts call `audit_catalog` directly. A
check that needs something else (a drift against a source, say) is one more `CheckResult`
appended to the report.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from connectors.errors import NoCatalogError
from eventstore import EventLog, StorageError
from eventstore.audit.anchor_checks import AnchorReport, audit_anchor
from eventstore.audit.findings import AuditReport, CheckResult
from eventstore.audit.log_audit import LogAudit
from eventstore.audit.removals import check_removes
from projections import Catalog
from projections.invariants import PIT_CHECKS, check_listing_order, check_versions

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventstore.log.anchor import VerifyKey, Witness

UNANCHORED: Final = (
    "the head is unanchored: nothing outside the log vouches for its last commit "
    "(give --public-key and --witness)"
)


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class AuditAnchor:
    """The key and witness an audit anchors the head with, read before the audit runs."""

    def __init__(self, key: VerifyKey | None = None, witness: Witness | None = None) -> None:
        """Check with `key` and `witness`, which is read now (neither: the head is unanchored)."""
        self.key = key
        self.witness = witness
        self.lines = witness.read() if witness else None

    def checks(self, log: EventLog, readable: bool) -> tuple[list[CheckResult], str]:
        """Return the anchor checks and a line that says how the head is anchored."""
        if self.key is None and self.witness is None:
            return [], UNANCHORED
        if not readable:
            return [], "the anchor was not checked: the log cannot be read"
        try:
            report = audit_anchor(log, self.key, self.lines)
        except StorageError as exc:
            return [], f"the anchor was not checked: {exc}"
        return report.checks, self._note(report)

    def _note(self, report: AnchorReport) -> str:
        parts = []
        if self.key is not None:
            parts.append(f"{_count(report.signed, 'signed head')} checked with key {self.key.id}")
        else:
            parts.append("signatures not checked (no --public-key)")
        if self.witness is not None:
            parts.append(f"{_count(report.witnessed, 'witnessed head')} in {self.witness.uri}")
        else:
            parts.append("no witness (no --witness)")
        if report.signed == 0 and report.witnessed == 0:
            parts.append("no signed head found: the head is unanchored")
        return "anchor: " + "; ".join(parts)


@dataclass
class AuditRun:
    """An audit's report, with where it ran and how long it took."""

    root: str
    report: AuditReport
    seconds: float
    #: How the head is anchored outside the log (or that it is not), for the report.
    anchor: str | None = None


#: The stages of `audit_catalog`, in order, as its `step` hears them.
AUDIT_STEPS: Final = (
    "reading the log",
    "checking the log's rows and the listing order",
    "checking for files removed and re-added",
    "checking each instrument's versions",
    "checking the anchor",
)


def audit_catalog(
    root: str, anchor: AuditAnchor | None = None, step: Callable[[str], None] | None = None
) -> AuditRun:
    """Audit the catalog under `root`: the log, then the history; write nothing to the log.

    `anchor` adds the checks of signed heads and a witness (`eventstore.audit.anchor_checks`);
    `step(name)` hears each of `AUDIT_STEPS` as it starts.

    `listed-first` reads the log in a thread while the log's checks across rows run here:
    both are mostly NumPy and Arrow, so on two cores they overlap. The index checks come
    after, so that their memory does not add to that of the checks across rows.
    """
    started = time.perf_counter()
    log = EventLog.open(root)
    try:
        if log.refresh() < 0:
            raise NoCatalogError(log.root)
    except StorageError:
        pass  # an unreadable log is a finding of the audit, not a usage error
    stage = iter(AUDIT_STEPS)
    heard = step or (lambda name: None)
    audit = LogAudit(log)
    heard(next(stage))
    readable = audit.read()
    if readable:
        with ThreadPoolExecutor(max_workers=1) as worker:
            listing = worker.submit(check_listing_order, EventLog.open(root))
            heard(next(stage))
            report = audit.finish()
            heard(next(stage))
            report.checks.append(check_removes(log.uri, log.storage_options))
            heard(next(stage))
            report.checks.extend([*check_versions(Catalog(log)), listing.result()])
    else:
        heard(next(stage))
        report = audit.finish()
        heard(next(stage))
        report.checks.append(check_removes(log.uri, log.storage_options))
        heard(next(stage))
        reason = "not checked: the log cannot be read"
        report.checks.extend(CheckResult(n, d, skipped=reason) for n, d in PIT_CHECKS.items())
    heard(next(stage))
    checks, note = (anchor or AuditAnchor()).checks(log, readable)
    report.checks.extend(checks)
    return AuditRun(log.root, report, time.perf_counter() - started, note)


__all__ = ["AUDIT_STEPS", "UNANCHORED", "AuditAnchor", "AuditRun", "audit_catalog"]
