"""Turn an SCD2 catalog of the older layout into events, listing its defects.

Each instrument's versions, by `valid_from`, become: a listing for the first (a relisting
for an active version after an inactive one), a rename where the symbol changes, a
delisting where `active` turns false (or where a version ends with nothing after it), and
a change of the fields that differ; a version that changes nothing still starts at its
`valid_from` (a change restating its status). Overlapping versions, several active
holders of one symbol at once and versions that cannot be read are reported as defects:
an overlapping version still takes effect at its `valid_from`, it is never merged away.

The events are left unobserved (the log observes them when it records the import) unless
`observed_from="updated_at"` says that column is trustworthy: each version's events are
then observed at its `updated_at` (a null one: at the import).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from msgspec.structs import replace

from eventstore import (
    EventStoreError,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from eventstore.model.events import DELISTED
from projections.errors import InvalidTableError
from projections.join.inputs import column
from projections.model import FIELDS
from projections.scd2.file_rows import Row, read_versions

if TYPE_CHECKING:
    from datetime import datetime

    import pyarrow as pa

    from eventstore import Event

SOURCE: Final = "scd2-import"
#: The columns an import may take each version's observation time from.
OBSERVED_FROM: Final = ("updated_at",)
_STATE: Final = ("status", *FIELDS)


@dataclass(frozen=True)
class Defect:
    """Something wrong in the file: its kind, the rows (0-based) and what was done."""

    kind: str
    rows: tuple[int, ...]
    detail: str


@dataclass
class ImportPlan:
    """The events an SCD2 file stands for, and what is wrong with it."""

    events: list[Event] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def require(table: pa.Table, *names: str) -> None:
    """Refuse a table that lacks one of the columns `names`."""
    for name in names:
        column(table, name)


def observing(table: pa.Table, observed_from: str | None) -> None:
    """Refuse an `observed_from` that names no column an import may trust, or one absent."""
    if observed_from is None:
        return
    if observed_from not in OBSERVED_FROM:
        raise InvalidTableError(
            "observed_from", f"{observed_from!r} is not one of {', '.join(OBSERVED_FROM)}"
        )
    require(table, observed_from)


def observed(plan: ImportPlan, since: int, row: Row, observed_from: str | None) -> None:
    """Date the plan's events from `since` on observed at the row's `observed_from` value."""
    when = None if observed_from is None else row.get(observed_from)
    if when is not None:
        plan.events[since:] = [replace(e, observed_at=when) for e in plan.events[since:]]


def plan_symbols(
    table: pa.Table, *, naive_as_utc: bool = False, observed_from: str | None = None
) -> ImportPlan:
    """Return the instrument events of a `symbols.parquet` table, and its defects; each
    version's events observed at its `observed_from` column when one is named."""
    observing(table, observed_from)
    known = (
        "instrument_id",
        "symbol",
        "active",
        "valid_from",
        "valid_until",
        "updated_at",
        *_STATE,
    )
    require(table, "symbol", "valid_from")
    plan = ImportPlan(ignored_columns=[c for c in table.column_names if c not in known])
    unused = () if observed_from == "updated_at" else ("updated_at",)
    rows = read_versions(table, naive_as_utc, known, unused)
    streams: dict[str, list[int]] = {}
    for number, row in enumerate(rows):
        row["active"] = row.get("active") is not False  # a missing flag reads as active
        identity = row.get("instrument_id") or row["symbol"]
        if row["valid_from"] is None or not row["symbol"]:
            plan.defects.append(Defect("unreadable", (number,), "no symbol or valid_from: skipped"))
            continue
        streams.setdefault(str(identity), []).append(number)
    # a field the file has no column for is null in every version: never compared
    state = ("status", *(name for name in FIELDS if name in table.column_names))
    for identity, numbers in streams.items():
        numbers.sort(key=lambda n: rows[n]["valid_from"])
        _Stream(identity, plan, observed_from, fields=state).convert(rows, numbers)
    _duplicate_holders(rows, streams, plan)
    return plan


def _until(row: Row) -> datetime | None:
    return None if row.get("open", True) else row["valid_until"]


@dataclass
class _Stream:
    """One instrument's versions becoming events."""

    instrument_id: str
    plan: ImportPlan
    observed_from: str | None = None
    state: Row | None = None
    #: The state fields to compare (`status` and the fields the file has columns for).
    fields: tuple[str, ...] = _STATE

    def convert(self, rows: list[Row], numbers: list[int]) -> None:
        """Append the events of the versions at `numbers` (sorted by valid_from)."""
        previous: int | None = None
        for number in numbers:
            row = rows[number]
            if previous is not None:
                self._check_overlap(rows, previous, number)
            size, state = len(self.plan.events), dict(self.state or {}) or None
            try:
                self._version(row, rows[previous] if previous is not None else None)
            except EventStoreError as exc:  # nothing of this version is kept
                del self.plan.events[size:]
                self.state = state
                self.plan.defects.append(Defect("unreadable", (number,), f"{exc}: skipped"))
                continue
            observed(self.plan, size, row, self.observed_from)
            previous = number
        if previous is not None and self.state and self.state["active"]:
            end = _until(rows[previous])
            if end is not None:  # the last version ends with nothing after it
                size = len(self.plan.events)
                self._delist(end, "its last SCD2 version ends here", None)
                observed(self.plan, size, rows[previous], self.observed_from)

    def _check_overlap(self, rows: list[Row], before: int, after: int) -> None:
        end = _until(rows[before])
        if end is None or end > rows[after]["valid_from"]:
            self.plan.defects.append(
                Defect(
                    "overlap",
                    (before, after),
                    f"versions of {self.instrument_id} overlap; the later one takes effect at "
                    f"its valid_from {rows[after]['valid_from'].isoformat()}",
                )
            )

    def _version(self, row: Row, before: Row | None) -> None:
        at, state, size = row["valid_from"], self.state, len(self.plan.events)
        if state is not None and state["active"] and before is not None:
            end = _until(before)
            if end is not None and end < at:  # a gap: nobody held it in between
                self._delist(end, "no SCD2 version covers this time", None)
        state = self.state
        if state is None or (row["active"] and not state["active"]):
            self._list(row)
        else:
            if row["symbol"] != state["symbol"]:
                self._rename(row)
            if state["active"] and not row["active"]:
                self._delist(at, "inactive in the SCD2 file", row.get("status"))
        self._restate(row, started=any(e.effective_at == at for e in self.plan.events[size:]))

    def _list(self, row: Row) -> None:
        given = {f: row.get(f) for f in self.fields}
        self.plan.events.append(
            InstrumentListed(
                instrument_id=self.instrument_id,
                symbol=row["symbol"],
                effective_at=row["valid_from"],
                source=SOURCE,
                **given,
            )
        )
        before = self.state or {}
        kept = {f: v if v is not None else before.get(f) for f, v in given.items()}
        status = given.get("status")
        self.state = {**kept, "symbol": row["symbol"], "active": True, "status": status}
        if not row["active"]:
            self._delist(row["valid_from"], "inactive in the SCD2 file", row.get("status"))

    def _rename(self, row: Row) -> None:
        assert self.state is not None
        self.plan.events.append(
            InstrumentRenamed(
                instrument_id=self.instrument_id,
                symbol=self.state["symbol"],
                effective_at=row["valid_from"],
                source=SOURCE,
                new_symbol=row["symbol"],
            )
        )
        self.state["symbol"] = row["symbol"]

    def _delist(self, at: datetime, reason: str, status: str | None) -> None:
        assert self.state is not None
        event = InstrumentDelisted(
            instrument_id=self.instrument_id,
            symbol=self.state["symbol"],
            effective_at=at,
            source=SOURCE,
            reason=reason,
            status=status or DELISTED,
        )
        self.plan.events.append(event)
        self.state.update(active=False, status=event.status)

    def _restate(self, row: Row, *, started: bool) -> None:
        """Change what still differs; restate the status if nothing started a version."""
        assert self.state is not None
        state, get = self.state, row.get
        changes = {f: get(f) for f in self.fields if state.get(f) != get(f)}
        if not changes and started:
            return
        self.plan.events.append(
            InstrumentChanged(
                instrument_id=self.instrument_id,
                symbol=self.state["symbol"],
                effective_at=row["valid_from"],
                source=SOURCE,
                changes=changes or {"status": self.state["status"]},
            )
        )
        self.state.update(changes)


def _duplicate_holders(rows: list[Row], streams: dict[str, list[int]], plan: ImportPlan) -> None:
    """Report symbols held by active rows of two instruments at the same time."""
    owner = {n: identity for identity, numbers in streams.items() for n in numbers}
    active = sorted(
        (n for n in owner if rows[n]["active"]),
        key=lambda n: (rows[n]["symbol"], rows[n]["valid_from"]),
    )
    reach: tuple[str, datetime | None, int] | None = None  # symbol, the furthest end, its row
    for n in active:
        row, end = rows[n], _until(rows[n])
        if reach is None or reach[0] != row["symbol"]:
            reach = (row["symbol"], end, n)
            continue
        overlaps = reach[1] is None or reach[1] > row["valid_from"]
        if overlaps and owner[reach[2]] != owner[n]:
            plan.defects.append(
                Defect(
                    "duplicate_active",
                    (reach[2], n),
                    f"{row['symbol']} has two active holders at "
                    f"{row['valid_from'].isoformat()}; both were imported",
                )
            )
        if reach[1] is not None and (end is None or end > reach[1]):
            reach = (row["symbol"], end, n)
