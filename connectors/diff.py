"""Turn one complete snapshot into events, by diffing it against the catalog at that time.

The comparison is columnar: the snapshot becomes Arrow columns aligned with the catalog's
rows for the same instruments, each owned field is compared as a whole column, and Python
touches only the rows that changed. Nothing here reads the clock, the network or the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.compare import column, columns_of, differs, positions, values_of
from connectors.ownership import SET_ONCE, STATUS_FIELDS, TRADINGVIEW_ONLY, enriches_only
from connectors.plan import Absence, Plan
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

    from connectors.record import Snapshot, SourceRecord


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
        owned = [
            r for r in self.snapshot.records if not enriches_only(self.snapshot.source, r.symbol)
        ]
        enriching = [
            r for r in self.snapshot.records if enriches_only(self.snapshot.source, r.symbol)
        ]
        self._own(owned)
        self._enrich(enriching)
        self._absences({r.instrument_id for r in owned}, absence, absence_runs)
        self._exchanges()
        return self.plan

    # -- instruments the source owns ----------------------------------------------------

    def _compared(self) -> tuple[str, ...]:
        reported = tuple(f for f in self.snapshot.reported if f not in SET_ONCE)
        if self.snapshot.source == "tradingview":
            return reported
        return (*reported, *STATUS_FIELDS)

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
            "source": self.snapshot.source,
        }

    def _existing(self, records: list[SourceRecord], rows: np.ndarray) -> None:
        current = self.current.take(pa.array(rows))
        names = self._compared()
        matrix = np.zeros((len(records), len(names)), bool)
        values = columns_of(records, names)
        keys = [r.symbol for r in records]
        for index, name in enumerate(names):
            matrix[:, index] = differs(column(name, values[name], keys), current[name])
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
            self._one(records[index], bool(active[index]), symbol, names, matrix[index])

    def _one(
        self,
        record: SourceRecord,
        active: bool,
        symbol: str,
        names: tuple[str, ...],
        row: np.ndarray,
    ) -> None:
        """Plan the events of one record whose instrument the catalog knows."""
        if not active:
            self._list(record, self.observed_at)
            self.plan.relisted += 1
            return
        if symbol != record.symbol:
            self._rename(record, symbol)
        if record.terminal:
            venue_status = "venue_status" in names and bool(row[names.index("venue_status")])
            self._delist(record, venue_status)
            return
        changes = {n: self._value(record, n) for n, d in zip(names, row.tolist(), strict=True) if d}
        if changes:
            self.plan.events.append(
                InstrumentChanged(**self._envelope(record, self.observed_at), changes=changes)
            )
            self.plan.changed += 1
        elif symbol == record.symbol:
            self.plan.unchanged += 1
        self._announce(record)

    @staticmethod
    def _value(record: SourceRecord, name: str) -> Any:
        return getattr(record, name) if name in STATUS_FIELDS else record.fields.get(name)

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
        names = tuple(n for n in self.snapshot.reported if n in TRADINGVIEW_ONLY)
        ids, held = holders["instrument_id"].to_pylist(), holders["symbol"].to_pylist()
        keys = [r.symbol for r in chosen]
        unequal = [differs(column(n, values_of(chosen, n), keys), holders[n]) for n in names]
        for index, record in enumerate(chosen):
            changes = {
                n: record.fields.get(n) for n, d in zip(names, unequal, strict=True) if d[index]
            }
            if not changes:
                self.plan.unchanged += 1
                continue
            envelope = {
                "instrument_id": ids[index],
                "symbol": held[index],
                "effective_at": self.observed_at,
                "source": self.snapshot.source,
            }
            self.plan.events.append(InstrumentChanged(**envelope, changes=changes))
            self.plan.changed += 1

    # -- absence from a complete snapshot ----------------------------------------------

    def _absences(self, present: set[str], absence: Mapping[str, Absence], runs: int) -> None:
        """Delist what stayed absent `runs` snapshots in a row, or expired; count the rest."""
        current = self.current
        scope = pc.starts_with(current["instrument_id"], self.snapshot.scope)
        rows = current.filter(pc.and_(current["active"], scope))
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
            before = absence.get(instrument_id)
            at = self.observed_at
            now = Absence(1, at, at) if before is None else before.after(at)
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
                    is_crypto=self.snapshot.market == "crypto" or None,
                )
            )
