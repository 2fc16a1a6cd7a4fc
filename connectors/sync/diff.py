"""Turn one complete snapshot into events, by diffing it against the catalog at that time.

The comparison is columnar: the snapshot becomes Arrow columns aligned with the catalog's
rows for the same instruments, each owned field is compared as a whole column, and Python
touches only the rows that changed. Nothing here reads the clock, the network or the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from connectors.sync.compare import active_in_scope, differs, field_differences, positions
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
    ) -> None:
        """Hold the snapshot, the catalog's rows (`universe(..., include_inactive=True)`)
        and the exchanges the catalog already has at `observed_at`."""
        self.snapshot = snapshot
        self.current = current
        self.observed_at = observed_at
        self.known_exchanges = set(exchanges)
        self.plan = Plan()

    def run(self, absence: Mapping[str, Absence], absence_runs: int) -> Plan:
        """Return the plan: lifecycle and changes, enrichment, announcements, absences."""
        with paused_gc():  # many small objects, no cycles: collections would only cost time
            return self._run(absence, absence_runs)

    def _run(self, absence: Mapping[str, Absence], absence_runs: int) -> Plan:
        owned, enriching = split(self.snapshot)
        self._own(owned)
        self._enrich(enriching)
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
        if record.terminal:
            self.plan.ignored += 1  # first seen already gone: there is nothing to list
            return
        at = record.listed_at or self.observed_at
        self._list(record, at)
        self.plan.listed += 1

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

    def _envelope(self, record: SourceRecord, at: datetime) -> dict[str, Any]:
        return {
            "instrument_id": record.instrument_id,
            "symbol": record.symbol,
            "effective_at": at,
            "observed_at": self.observed_at,
            "source": self.snapshot.source,
        }

    def _existing(self, records: list[SourceRecord], rows: np.ndarray) -> None:
        current = self.current.take(pa.array(rows))
        names = compared(self.snapshot, enriching=False)
        values, matrix = field_differences(records, current, names)
        active = np.asarray(current["active"], dtype=bool)
        terminal = np.fromiter((r.terminal for r in records), bool, len(records))
        announced = np.fromiter((bool(r.announced) for r in records), bool, len(records))
        symbols = pa.array([r.symbol for r in records], pa.string())
        renamed = differs(symbols, current["symbol"])
        touched = matrix.any(axis=1) | renamed | announced | terminal
        acting = np.flatnonzero(np.where(active, touched, ~terminal))
        self.plan.unchanged += len(records) - len(acting)
        held = current["symbol"].take(pa.array(acting)).to_pylist()
        for index, symbol in zip(acting.tolist(), held, strict=True):
            changes = {n: values[n][index] for n, d in zip(names, matrix[index], strict=True) if d}
            self._one(records[index], bool(active[index]), symbol, changes)

    def _one(
        self, record: SourceRecord, active: bool, symbol: str, changes: dict[str, Any]
    ) -> None:
        """Plan the events of one record whose instrument the catalog knows."""
        if not active:
            self._list(record, self.observed_at)
            self.plan.relisted += 1
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
        envelope = self._envelope(record, self.observed_at)
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
        later: dict[datetime, dict[str, Any]] = {}
        for announcement in record.announced:
            if announcement.effective_at > self.observed_at:
                later.setdefault(announcement.effective_at, {})[announcement.field] = (
                    announcement.value
                )
        for at, changes in sorted(later.items()):
            self.plan.events.append(
                InstrumentChanged(**self._envelope(record, at), changes=changes)
            )
            self.plan.announced += 1

    # -- instruments of covered venues: TradingView adds its own fields ----------------

    def _enrich(self, records: list[SourceRecord]) -> None:
        if not records:
            return
        active = self.current.filter(self.current["active"])
        symbols = pa.array([r.symbol for r in records], pa.string())
        known, rows = positions(symbols, active["symbol"])
        matched = np.flatnonzero(known)
        self.plan.ignored += len(records) - len(matched)  # the exchange connector lists them
        if not len(matched):
            return
        holders = active.take(pa.array(rows[matched]))
        chosen = [records[i] for i in matched.tolist()]
        names = compared(self.snapshot, enriching=True)
        values, matrix = field_differences(chosen, holders, names)
        ids, held = holders["instrument_id"].to_pylist(), holders["symbol"].to_pylist()
        for index in range(len(chosen)):
            changes = {n: values[n][index] for n, d in zip(names, matrix[index], strict=True) if d}
            if not changes:
                self.plan.unchanged += 1
                continue
            envelope = {
                "instrument_id": ids[index],
                "symbol": held[index],
                "effective_at": self.observed_at,
                "observed_at": self.observed_at,
                "source": self.snapshot.source,
            }
            self.plan.events.append(InstrumentChanged(**envelope, changes=changes))
            self.plan.changed += 1

    # -- absence from a complete snapshot ----------------------------------------------

    def _absences(self, present: set[str], absence: Mapping[str, Absence], runs: int) -> None:
        """Delist what stayed absent `runs` snapshots in a row, or expired; count the rest."""
        rows = active_in_scope(self.current, self.snapshot.scope)
        self.plan.active = rows.num_rows
        for instrument_id, symbol, expiry in zip(
            rows["instrument_id"].to_pylist(),
            rows["symbol"].to_pylist(),
            rows["expiry"].to_pylist(),
            strict=True,
        ):
            if instrument_id in present:
                continue
            self.plan.leaving += 1
            if expiry is not None and expiry <= self.observed_at:
                # A dated contract gone after its expiry cannot come back: it expired.
                self._delist_absent(instrument_id, symbol, expiry, "expired", "expired")
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
                observed_at=self.observed_at,
                source=self.snapshot.source,
                reason=reason,
                status=status,
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
                    observed_at=self.observed_at,
                    source=self.snapshot.source,
                    is_crypto=self.snapshot.market == "crypto" or None,
                )
            )
