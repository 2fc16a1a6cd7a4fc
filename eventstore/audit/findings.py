"""What an audit reports: named checks, each with the violations it found.

A report is a list of `CheckResult`s, so a new kind of check (a drift against a source,
say) is one more entry, made by whichever package can compute it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from eventstore.audit.chain import ChainViolation

if TYPE_CHECKING:
    from collections.abc import Callable

#: One broken promise: the check, the position and event id when known, what is wrong.
Violation = ChainViolation
#: Each check keeps this many violations to show; it counts them all.
MAX_KEPT: Final = 1_000


@dataclass(frozen=True)
class CheckResult:
    """One named check: what it verified, and what it found (the first `MAX_KEPT` kept)."""

    name: str
    description: str
    violations: tuple[Violation, ...] = ()
    count: int = 0
    skipped: str | None = None  # why the check could not run, if it could not
    notes: tuple[str, ...] = ()  # what the check saw that is not a violation

    @property
    def ok(self) -> bool:
        """Return whether the check found nothing wrong (a skipped check found nothing)."""
        return self.count == 0

    @property
    def status(self) -> str:
        """Return `ok`, `FAIL` or `skip` (it could not run: never said to be ok)."""
        if self.count:
            return "FAIL"
        return "skip" if self.skipped is not None else "ok"


@dataclass
class Findings:
    """Violations gathered while checking, by check name, in the order checks were declared."""

    descriptions: dict[str, str]
    found: dict[str, list[Violation]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, check: str, position: int | None, event_id: str | None, detail: str) -> None:
        """Record one violation of `check` (kept if fewer than `MAX_KEPT` are)."""
        if check not in self.descriptions:
            raise KeyError(f"undeclared check {check!r}")
        self.counts[check] = self.counts.get(check, 0) + 1
        kept = self.found.setdefault(check, [])
        if len(kept) < MAX_KEPT:
            kept.append(Violation(check, position, event_id, detail))

    def add_each(
        self,
        check: str,
        items: list[int],
        describe: Callable[[int], tuple[int | None, str | None, str]],
    ) -> None:
        """Record one violation per item, describing only those that will be kept."""
        room = max(0, MAX_KEPT - len(self.found.get(check, ())))
        for item in items[:room]:
            self.add(check, *describe(item))
        if len(items) > room:
            self.counts[check] = self.counts.get(check, 0) + len(items) - room

    def results(self) -> list[CheckResult]:
        """Return one result per declared check, clean ones included."""
        return [
            CheckResult(name, text, tuple(self.found.get(name, ())), self.counts.get(name, 0))
            for name, text in self.descriptions.items()
        ]


@dataclass
class AuditReport:
    """The outcome of an audit: how many events were read, and every check's result."""

    events: int = 0
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return whether every check passed."""
        return all(check.ok for check in self.checks)

    @property
    def skipped(self) -> int:
        """Return how many checks could not run."""
        return sum(1 for check in self.checks if check.skipped is not None)

    @property
    def violations(self) -> int:
        """Return how many violations were found in all."""
        return sum(check.count for check in self.checks)


__all__ = ["MAX_KEPT", "AuditReport", "CheckResult", "Findings", "Violation"]
