"""Turn one complete snapshot into events, by diffing it against the catalog at that time.

The comparison is columnar: the snapshot becomes Arrow columns aligned with the catalog's
rows for the same instruments, each owned field is compared as a whole column, and Python
touches only the rows that changed. Nothing here reads the clock or the network; what the
log already says (the market's latest earlier snapshot, stored announcements) comes from
the `History` given.

Dates: a first listing is dated at the venue's listing field, but never after the
observation (a pre-open row's future listing time) and never at or before the latest
earlier complete snapshot of the market, which lacked it (1 µs after that one instead).
Every event is observed at the snapshot's observation time. A dated contract's expiry is an
announced delisting (`connectors.sync.announce`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from connectors.sync.announce import (
    EXPIRED,
    announced_changes,
    expired_by,
    expiry_delisting,
    expiry_of,
    retraction,
)
from connectors.sync.compare import active_in_scope, differs, field_differences, positions
from connectors.sync.enrich import enrich
from connectors.sync.history import JUST_AFTER, History
from connectors.sync.outcome import Absence, Plan, absence_after
from connectors.sync.ownership import compared, split
from eventstore import (
    ExchangeListed,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from eventstore.gcpause import paused_gc

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping
    from datetime import datetime

    from connectors.venues.snapshot import Snapshot, SourceRecord


class Differ:
    """Plan the events of one snapshot against `current`, the catalog at `observed_at`."""

    def __init__(
        self,
        snapshot: Snapshot,
        current: pa.Table,
        observed_at: datetime,
        exchanges: Collection[str] = (),
        *,
        history: History | None = None,
        known_at: datetime | None = None,
    ) -> None:
        """Hold the snapshot, the catalog's rows (`universe(..., include_inactive=True)`),
        the exchanges the catalog already has at `observed_at` and what the log says of
        the market (`history`). Events are observed at `known_at` (default `observed_at`;
        the syncer gives a venue clock's time no later than its own)."""
        self.snapshot = snapshot
        self.current = current
        self.observed_at = observed_at
        self.known_at = known_at or observed_at
        self.known_exchanges = set(exchanges)
        self.history = history or History()
        self.plan = Plan()

    def run(self, absence: Mapping[str, Absence], absence_runs: int) -> Plan:
        """Return the plan: lifecycle and changes, enrichment, announcements, absences."""
        with paused_gc():  # many small objects, no cycles: collections would only cost time
            return self._run(absence, absence_runs)

    def _run(self, absence: Mapping[str, Absence], absence_runs: int) -> Plan:
        owned, enriching = split(self.snapshot)
        self._own(owned)
        enrich(self.plan, self.snapshot, self.current, enriching, (self.observed_at, self.known_at))
        # A rejected row is still listed by the venue: it is not absent.
        present = {r.instrument_id for r in owned} | {
            r.instrument_id for r in self.snapshot.rejected
        }
        self._absences(present, absence, absence_runs)
        self._exchanges()
        return self.plan

    # -- instruments the source owns ----------------------------------------------------

    def _own(self, records: list[SourceRecord]) -> None:
        ids = pa.array([r.instrument_id for r in records], pa.string())
        known, rows = positions(ids, self.current["instrument_id"])
        existing = np.flatnonzero(known)
        for index in np.flatnonzero(~known).tolist():
            self._new(records[index])
        if len(existing):
            self._existing([records[i] for i in existing.tolist()], rows[existing])

    def _new(self, record: SourceRecord) -> None:
        if record.terminal or expired_by(record, self.observed_at):
            self.plan.ignored += 1  # first seen already gone: there is nothing to list
            return
        self._list(record, self._first_listed_at(record))
        self.plan.listed += 1

    def _first_listed_at(self, record: SourceRecord) -> datetime:
        """Return when a first listing is dated: the venue's listing time, but no later
        than the observation and after the latest earlier snapshot (it lacked it)."""
        at = min(record.listed_at or self.observed_at, self.observed_at)
        if at < self.observed_at:
            last = self.history.last_snapshot()
            if last is not None and at <= last:
                at = min(last + JUST_AFTER, self.observed_at)
        return at

    def _list(self, record: SourceRecord, at: datetime) -> None:
        given = {k: v for k, v in record.fields.items() if v is not None}
        self.plan.events.append(
            InstrumentListed(
                **self._envelope(record, at),
                **given,
                status=record.status,
                venue_status=record.venue_status,
            )
        )
        self._announce(record)
        self._announce_expiry(record)

    def _envelope(self, record: SourceRecord, at: datetime) -> dict[str, Any]:
        return {
            "instrument_id": record.instrument_id,
            "symbol": record.symbol,
            "effective_at": at,
            "source": self.snapshot.source,
            "observed_at": self.known_at,
        }

    def _existing(self, records: list[SourceRecord], rows: np.ndarray) -> None:
        current = self.current.take(pa.array(rows))
        names = compared(self.snapshot, enriching=False)
        values, matrix = field_differences(records, current, names)
        active = np.asarray(current["active"], dtype=bool)
        terminal = np.fromiter((r.terminal for r in records), bool, len(records))
        # A dated contract past its expiry cannot come back: it is not relisted.
        expired = np.fromiter((expired_by(r, self.observed_at) for r in records), bool)
        announced = np.fromiter((bool(r.announced) for r in records), bool, len(records))
        symbols = pa.array([r.symbol for r in records], pa.string())
        renamed = differs(symbols, current["symbol"])
        touched = matrix.any(axis=1) | renamed | announced | terminal
        acting = np.flatnonzero(np.where(active, touched, ~terminal & ~expired))
        self.plan.unchanged += len(records) - len(acting)
        chosen = pa.array(acting)
        held = current["symbol"].take(chosen).to_pylist()
        ends = current["expiry"].take(chosen).to_pylist()
        for index, symbol, end in zip(acting.tolist(), held, ends, strict=True):
            changes = {n: values[n][index] for n, d in zip(names, matrix[index], strict=True) if d}
            self._one(records[index], bool(active[index]), symbol, changes)
            if "expiry" in changes and not records[index].terminal:
                self._withdraw(records[index], symbol, end)
                if active[index]:  # a relisting announced the new expiry already
                    self._announce_expiry(records[index])

    def _one(
        self, record: SourceRecord, active: bool, symbol: str, changes: dict[str, Any]
    ) -> None:
        """Plan the events of one record whose instrument the catalog knows."""
        if not active:
            self._list(record, self.observed_at)
            self.plan.relisted += 1
            return
        if expired_by(record, self.observed_at) and not record.terminal:
            # Listed before expiries were announced: it expired at its expiry.
            end = expiry_of(record) or self.observed_at
            self._delist_absent(record.instrument_id, symbol, end, EXPIRED, EXPIRED)
            self.plan.leaving += 1
            return
        if symbol != record.symbol:
            self._rename(record, symbol)
        if record.terminal:
            self._delist(record, "venue_status" in changes)
            return
        if changes:
            self.plan.events.append(
                InstrumentChanged(**self._envelope(record, self.observed_at), changes=changes)
            )
            self.plan.changed += 1
        elif symbol == record.symbol:
            self.plan.unchanged += 1
        self._announce(record)

    def _rename(self, record: SourceRecord, old: str) -> None:
        envelope = {**self._envelope(record, self.observed_at), "symbol": old}
        self.plan.events.append(InstrumentRenamed(**envelope, new_symbol=record.symbol))
        self.plan.renamed += 1

    def _delist(self, record: SourceRecord, venue_status_changed: bool) -> None:
        at = record.delisted_at  # the venue's own delist time, when it is already past
        envelope = self._envelope(record, at if at and at <= self.observed_at else self.observed_at)
        if venue_status_changed and record.venue_status is not None:
            self.plan.events.append(
                InstrumentChanged(**envelope, changes={"venue_status": record.venue_status})
            )
        reason = f"{self.snapshot.source} reports status {record.venue_status}"
        self.plan.events.append(
            InstrumentDelisted(**envelope, reason=reason, status=record.status or "delisted")
        )
        self.plan.delisted += 1
        self.plan.leaving += 1

    def _announce(self, record: SourceRecord) -> None:
        changes = announced_changes(record, self.observed_at, partial(self._envelope, record))
        self.plan.events.extend(changes)
        self.plan.announced += len(changes)

    def _announce_expiry(self, record: SourceRecord) -> None:
        """Announce the delisting of a dated contract at its (future) expiry."""
        end = expiry_of(record)
        if end is not None and end > self.observed_at:
            self.plan.events.append(expiry_delisting(self._envelope(record, end)))
            self.plan.announced += 1

    def _withdraw(self, record: SourceRecord, held: str, old: datetime | None) -> None:
        """The expiry of a contract moved from `old`: retract the announced delisting at
        `old` if it is still to come and the log has it (a catalog built before
        announcements has none)."""
        if old is not None and old > self.observed_at:
            announced = expiry_delisting({**self._envelope(record, old), "symbol": held})
            envelope = self._envelope(record, self.observed_at)
            withdrawal = retraction(announced, envelope, expiry_of(record))
            if self.history.stored([withdrawal.target]):  # rare: one look-up each
                self.plan.events.append(withdrawal)

    # -- absence from a complete snapshot ----------------------------------------------

    def _absences(self, present: set[str], absence: Mapping[str, Absence], runs: int) -> None:
        """Delist what stayed absent `runs` snapshots in a row, or expired; count the rest."""
        rows = active_in_scope(self.current, self.snapshot.scope)
        self.plan.active = rows.num_rows
        for instrument_id, symbol, end in zip(
            rows["instrument_id"].to_pylist(),
            rows["symbol"].to_pylist(),
            rows["expiry"].to_pylist(),
            strict=True,
        ):
            if instrument_id in present:
                continue
            self.plan.leaving += 1
            if end is not None and end <= self.observed_at:
                # A dated contract gone after its expiry cannot come back: it expired.
                self._delist_absent(instrument_id, symbol, end, EXPIRED, EXPIRED)
                continue
            now = absence_after(absence.get(instrument_id), self.observed_at)
            if now.count < runs:
                self.plan.absence[instrument_id] = now
                self.plan.absent += 1
                continue
            source = self.snapshot.source
            reason = f"absent from {now.count} consecutive complete {source} snapshots"
            self._delist_absent(instrument_id, symbol, now.since, reason, "delisted")

    def _delist_absent(
        self, instrument_id: str, symbol: str, at: datetime, reason: str, status: str
    ) -> None:
        self.plan.events.append(
            InstrumentDelisted(
                instrument_id=instrument_id,
                symbol=symbol,
                effective_at=at,
                source=self.snapshot.source,
                reason=reason,
                status=status,
                observed_at=self.known_at,
            )
        )
        self.plan.delisted += 1

    def _exchanges(self) -> None:
        for name in self.snapshot.exchanges:
            if name in self.known_exchanges:
                continue
            self.plan.events.append(
                ExchangeListed(
                    symbol=name,
                    exchange=name,
                    effective_at=self.observed_at,
                    source=self.snapshot.source,
                    observed_at=self.known_at,
                    is_crypto=self.snapshot.market == "crypto" or None,
                )
            )
