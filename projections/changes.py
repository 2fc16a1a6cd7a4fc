"""What changed in a window, one line per listing, delisting, rename or field change.

Each line carries the value before and after, the effective and recorded times and the
source. The value before comes from the index (the version valid just before the event,
found for every event at once by `Catalog.versions_before`), not from folding again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple, assert_never

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.model.events import (
    EXCHANGE_FIELDS,
    INSTRUMENT_FIELDS,
    InstrumentDelisted,
    InstrumentRenamed,
)
from eventstore.model.instants import to_utc
from eventstore.model.kinds import BY_NAME, KINDS, Kind, Layout, Subject, names_of

if TYPE_CHECKING:
    from projections.catalog import Catalog

Line = dict[str, Any]
#: What the events of the kinds that move one field outside `fields` are filtered by.
_MOVING: Final = {"status": InstrumentDelisted.__name__, "symbol": InstrumentRenamed.__name__}
#: The kinds whose lines need the instrument's version before the event.
_INSTRUMENT_KINDS: Final = names_of(Subject.INSTRUMENT)


def _what(kind: Kind) -> str:
    """Return what an event of `kind` is called on a line."""
    match kind.subject:
        case Subject.EXCHANGE:
            return f"exchange {kind.verb}"
        case Subject.INSTRUMENT | Subject.EVENT:
            return kind.verb
        case _ as unreachable:
            assert_never(unreachable)


#: What each kind of event is called on a line.
WHAT: Final = {kind.name: _what(kind) for kind in KINDS}
_MICROSECOND: Final = timedelta(microseconds=1)
_LINE_COLUMNS: Final = (
    *("position", "event_id", "kind", "instrument_id", "symbol", "effective_at", "recorded_at"),
    *("source", "fields", "retracted", "target", "reason", "new_symbol", "exchange"),
)


@dataclass(frozen=True)
class ChangeFilter:
    """Which lines to keep: one exchange (`EXCHANGE:` symbols), one field."""

    exchange: str | None = None
    field: str | None = None

    def rows(self, table: pa.Table) -> pa.Table:
        """Keep the events of the exchange (its instruments, or the exchange itself) that
        may say something about the field, with only the columns lines are made of."""
        if self.exchange is not None:
            mine = pc.or_(
                pc.starts_with(table["symbol"], f"{self.exchange}:"),
                pc.equal(table["instrument_id"], f"exchange:{self.exchange}"),
            )
            table = table.filter(mine)
        if self.field is not None:
            about = _naming(table["fields"].combine_chunks(), self.field)
            kind = _MOVING.get(self.field)
            if kind is not None:
                about |= np.asarray(pc.equal(table["kind"], kind).to_numpy(False), dtype=bool)
            table = table.filter(pa.array(about))
        return table.select([name for name in table.column_names if name in self.columns()])

    def columns(self) -> set[str]:
        """Return the columns of the log (and of versions) that lines are made of."""
        values = (*INSTRUMENT_FIELDS, *EXCHANGE_FIELDS) if self.field is None else (self.field,)
        return {*_LINE_COLUMNS, "status", "active", *values}


def _naming(fields: pa.Array, name: str) -> np.ndarray:
    """Return whether each row's `fields` list names `name`."""
    found = np.zeros(len(fields), dtype=bool)
    parents = np.asarray(pc.list_parent_indices(fields).to_numpy(), dtype=np.int64)
    named = pc.equal(pc.list_flatten(fields), name).fill_null(False)
    found[parents[np.asarray(named.to_numpy(zero_copy_only=False), dtype=bool)]] = True
    return found


@dataclass
class _Window:
    rows: list[dict[str, Any]]
    before: list[dict[str, Any] | None]
    keep: ChangeFilter
    lines: list[Line] = field(default_factory=list)


class _Known(NamedTuple):
    """The knowledge bounds of the lines, as the caller gave them."""

    known_at: object
    recorded_by: object


def change_lines(
    catalog: Catalog,
    since: object,
    until: object,
    known_at: object = None,
    keep: ChangeFilter | None = None,
    recorded_by: object = None,
) -> list[Line]:
    """Return the lines of the events effective in [`since`, `until`), in fold order, as
    known at `known_at` and recorded by `recorded_by`."""
    keep = keep or ChangeFilter()
    known = _Known(known_at, recorded_by)
    table = keep.rows(catalog.changes(since, until, known_at, recorded_by))
    table = table.sort_by([("effective_at", "ascending"), ("position", "ascending")])
    instruments = pc.is_in(table["kind"], value_set=pa.array(_INSTRUMENT_KINDS))
    just_before = pc.subtract(table["effective_at"], pa.scalar(_MICROSECOND))
    before = catalog.versions_before(
        pc.if_else(instruments, table["instrument_id"], None).combine_chunks(),
        just_before.combine_chunks(),
        known_at,
        recorded_by,
    )
    before = before.select([name for name in before.column_names if name in keep.columns()])
    found = [row if row["instrument_id"] is not None else None for row in before.to_pylist()]
    window = _Window(table.to_pylist(), found, keep)
    for index, row in enumerate(window.rows):
        _lines_of(catalog, window, row, window.before[index], known)
    return window.lines


def _line(row: dict[str, Any], **values: Any) -> Line:
    return {
        "effective_at": row["effective_at"],
        "recorded_at": row["recorded_at"],
        "what": WHAT.get(row["kind"], row["kind"]),
        "instrument_id": row["instrument_id"],
        "symbol": row["symbol"],
        "field": None,
        "old": None,
        "new": None,
        "note": None,
        "source": row["source"],
        "event_id": row["event_id"],
        "position": row["position"],
        "retracted": row["retracted"],
        **values,
    }


def _lines_of(
    catalog: Catalog,
    window: _Window,
    row: dict[str, Any],
    before: dict[str, Any] | None,
    known: _Known,
) -> None:
    kind = BY_NAME.get(row["kind"])
    if kind is None:
        return
    match kind.subject:
        case Subject.INSTRUMENT:
            _instrument_lines(kind, window, row, before)
        case Subject.EXCHANGE:
            _exchange_lines(catalog, window, row, known)
        case Subject.EVENT:
            if window.keep.field is None:
                note = f"withdraws {row['target']}: {row['reason']}"
                window.lines.append(_line(row, note=note))
        case _ as unreachable:
            assert_never(unreachable)


def _instrument_lines(
    kind: Kind, window: _Window, row: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """Add the lines of an instrument event: one per field it sets, or its listing."""
    wanted, add = window.keep.field, window.lines.append
    match kind.layout:
        case Layout.CHANGES:
            for name in row["fields"]:
                if wanted in (None, name):
                    add(_line(row, field=name, old=_value(before, name), new=row[name]))
        case Layout.ATTRIBUTES if kind.opens_stream:
            given = {name: row.get(name) for name in row["fields"] if row.get(name) is not None}
            if wanted is None:
                add(_line(row, old=_state(before), new=given))
            elif wanted in given:
                add(_line(row, field=wanted, old=_value(before, wanted), new=given[wanted]))
        case Layout.ATTRIBUTES:
            _moved_line(kind, window, row, before)
        case _ as unreachable:
            assert_never(unreachable)


def _moved_line(
    kind: Kind, window: _Window, row: dict[str, Any], before: dict[str, Any] | None
) -> None:
    """Add the line of an event that moves the status or the symbol outside `fields`."""
    wanted, add = window.keep.field, window.lines.append
    if kind.cls is InstrumentDelisted and wanted in (None, "status"):
        old = _value(before, "status")
        add(_line(row, field="status", old=old, new=row["status"], note=row["reason"]))
    elif kind.cls is InstrumentRenamed and wanted in (None, "symbol"):
        add(_line(row, field="symbol", old=row["symbol"], new=row["new_symbol"]))


def _exchange_lines(catalog: Catalog, window: _Window, row: dict[str, Any], known: _Known) -> None:
    """Add a line per field an exchange event sets; the old value is the exchange's before."""
    just_before = to_utc(row["effective_at"], "at") - _MICROSECOND
    previous = catalog.exchanges(just_before, known.known_at, known.recorded_by)
    old = previous.get(row["exchange"])
    for name in EXCHANGE_FIELDS:
        if name in row["fields"] and window.keep.field in (None, name):
            was = None if old is None else getattr(old, name)
            window.lines.append(_line(row, field=name, old=was, new=row[name]))


def _value(before: dict[str, Any] | None, name: str) -> Any:
    return None if before is None else before.get(name)


def _state(before: dict[str, Any] | None) -> str | None:
    """Return what an instrument was before a listing: nothing, or its last state."""
    if before is None:
        return None
    return "active" if before["active"] else (before["status"] or "inactive")


__all__ = ["WHAT", "ChangeFilter", "Line", "change_lines"]
