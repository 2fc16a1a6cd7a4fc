"""Compare the log with what anchors its head from outside: signed heads and a witness.

With a public key: from the first signed head on (the earliest stored beside the log or
witnessed), every Delta version must have a head signed by that key (`head-signed`), and
every signed head must name an event of the log, the newest one its last event
(`head-in-log`). With a witness: every witnessed head must be in the log, same position
and hash (`witness-in-log`), and the log must reach the latest of them (`witness-length`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.compute as pc

from eventstore.audit.findings import CheckResult, Findings
from eventstore.log.anchor import HeadStore
from eventstore.log.head import Head, SignedHead, WitnessedHead, recorded_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventstore.log.anchor import VerifyKey
    from eventstore.log.event_log import EventLog

#: The checks a public key adds.
KEY_CHECKS: Final = {
    "head-signed": "from the first signed head on, every commit's head is signed by the key",
    "head-in-log": "every signed head is an event of the log, the newest one its last",
}
#: The checks a witness adds.
WITNESS_CHECKS: Final = {
    "witness-in-log": "every witnessed head is in the log: same position, same hash",
    "witness-length": "the log reaches the latest witnessed head",
}


@dataclass(frozen=True)
class LogTips:
    """What the log says at the positions heads name: its version, end, and those events."""

    version: int
    last: int  # the last position, -1 for an empty log
    events: dict[int, tuple[str, str]]  # position -> (hash, recorded_at as a head spells it)

    def differs(self, head: Head) -> str | None:
        """Return how the log differs from `head` at its position, or None if it agrees."""
        found = self.events.get(head.position)
        if found is None:
            return f"the log has no event at position {head.position}"
        hash_, recorded_at = found
        if hash_ != head.hash:
            return f"the log's hash there is {hash_[:16]}..., not {head.hash[:16]}..."
        if recorded_at != head.recorded_at:
            return f"the log's event there was recorded at {recorded_at}, not {head.recorded_at}"
        return None


def log_tips(log: EventLog, positions: Sequence[int]) -> LogTips:
    """Read the log's version, its last position and the events at `positions`."""
    version = log.refresh()
    last = -1
    for batch in log.read_batches(["position"]):
        if batch.num_rows:
            last = max(last, pc.max(batch["position"]).as_py())
    wanted = pc.field("position").isin(pa.array(sorted(set(positions)), pa.int64()))
    rows = log.read(["position", "hash", "recorded_at"], where=wanted)
    recorded = rows["recorded_at"].cast(pa.int64()).to_pylist()
    events = {
        position: (hash_, recorded_text(micros))
        for position, hash_, micros in zip(
            rows["position"].to_pylist(), rows["hash"].to_pylist(), recorded, strict=True
        )
    }
    return LogTips(version, last, events)


def log_head(log: EventLog) -> Head | None:
    """Return the log's head as stored now (None if it has no event): a few columns read."""
    version = log.refresh()
    positions = log.read(["position"], version=version)["position"] if version >= 0 else []
    if len(positions) == 0:
        return None
    last = pc.max(positions).as_py()
    wanted = pc.field("position") == last
    row = log.read(["hash", "recorded_at"], version=version, where=wanted).slice(0, 1)
    return Head(
        position=last,
        hash=row["hash"][0].as_py(),
        delta_version=version,
        recorded_at=recorded_text(row["recorded_at"].cast(pa.int64())[0].as_py()),
    )


@dataclass
class AnchorReport:
    """The anchor checks run, with how many signed and witnessed heads they compared."""

    checks: list[CheckResult] = field(default_factory=list)
    signed: int = 0  # heads stored beside the log with a valid signature
    witnessed: int = 0  # lines of the witness that are signed heads


def audit_anchor(
    log: EventLog, key: VerifyKey | None, witness: list[WitnessedHead | str] | None
) -> AnchorReport:
    """Run the anchor checks that `key` and `witness` allow (none without either)."""
    stored = HeadStore(log.root, log.storage_options).all() if key is not None else {}
    lines = witness or []
    heads = [h for h in stored.values() if isinstance(h, SignedHead)]
    tips = log_tips(log, [h.position for h in [*heads, *_parsed(lines)]])
    report = AnchorReport(witnessed=len(_parsed(lines)))
    if key is not None:
        findings = Findings(dict(KEY_CHECKS))
        problems = {v: h if isinstance(h, str) else key.problem(h) for v, h in stored.items()}
        valid = {v: h for v, h in stored.items() if isinstance(h, SignedHead) and not problems[v]}
        _check_signed(problems, valid, _parsed(lines), key, tips, findings)
        _check_heads_in_log(valid, tips, findings)
        report.checks += findings.results()
        report.signed = len(valid)
    if witness is not None:
        findings = Findings(dict(WITNESS_CHECKS))
        _check_witness(lines, key, tips, findings)
        report.checks += findings.results()
    return report


def _parsed(lines: list[WitnessedHead | str]) -> list[WitnessedHead]:
    return [line for line in lines if isinstance(line, WitnessedHead)]


def _check_signed(
    problems: dict[int, str | None],
    valid: dict[int, SignedHead],
    witnessed: list[WitnessedHead],
    key: VerifyKey,
    tips: LogTips,
    findings: Findings,
) -> None:
    for version, problem in sorted(problems.items()):
        if problem:
            findings.add("head-signed", None, None, f"the head of version {version}: {problem}")
    signed = [*valid, *(h.delta_version for h in witnessed if not key.problem(h))]
    if not signed:
        return
    first = min(signed)
    missing = [v for v in range(first, tips.version + 1) if v not in problems]
    findings.add_each("head-signed", missing, lambda v: (None, None, _unsigned(v, first)))


def _unsigned(version: int, first: int) -> str:
    return f"commit {version} has no signed head (heads are signed from version {first} on)"


def _check_heads_in_log(valid: dict[int, SignedHead], tips: LogTips, findings: Findings) -> None:
    for _, head in sorted(valid.items()):
        if head.delta_version > tips.version:
            detail = f"the log is at version {tips.version}, its end at position {tips.last}"
        else:
            detail = tips.differs(head) or ""
        if detail:
            findings.add("head-in-log", head.position, None, f"{_named(head)}: {detail}")
    newest = valid.get(tips.version)
    if newest is not None and newest.position != tips.last:
        detail = f"the log's last event is at position {tips.last}, not {newest.position}"
        findings.add("head-in-log", tips.last, None, f"{_named(newest)}: {detail}")


def _named(head: Head) -> str:
    return f"signed head of version {head.delta_version} (position {head.position})"


def _check_witness(
    lines: list[WitnessedHead | str], key: VerifyKey | None, tips: LogTips, findings: Findings
) -> None:
    for line in lines:
        if isinstance(line, str):
            findings.add("witness-in-log", None, None, line)
            continue
        problem = key.problem(line) if key is not None else None
        if problem is None and line.position <= tips.last:
            problem = tips.differs(line)
        if problem:
            findings.add("witness-in-log", line.position, None, f"{_witnessed(line)}: {problem}")
    heads = _parsed(lines)
    if not heads:
        return
    latest = max(heads, key=lambda h: h.position)
    if latest.position > tips.last:
        events = f"{tips.last + 1:,} events"
        detail = f"the log has {events}; {_witnessed(latest)} is beyond its end"
        findings.add("witness-length", latest.position, None, detail)


def _witnessed(head: WitnessedHead) -> str:
    when = f", witnessed at {head.witnessed_at}" if head.witnessed_at else ""
    return f"witnessed head of version {head.delta_version} (position {head.position}{when})"


__all__ = [
    "KEY_CHECKS",
    "WITNESS_CHECKS",
    "AnchorReport",
    "LogTips",
    "audit_anchor",
    "log_head",
    "log_tips",
]
