"""The text views of `catalog` answers: which columns each command shows, and in what order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from connectors.cli.render import cell, pairs, table
from eventstore import INSTRUMENT_FIELDS

if TYPE_CHECKING:
    from projections import Instrument

Row = dict[str, Any]

#: Instrument fields proper, `status` excluded (it is shown with the lifecycle columns).
FIELDS: Final = tuple(name for name in INSTRUMENT_FIELDS if name != "status")
GET_FIELDS: Final = (
    "symbol",
    "instrument_id",
    "active",
    "status",
    "valid_from",
    "known_since",
    "recorded_since",
    *FIELDS,
)
UNIVERSE_COLUMNS: Final = (
    "symbol",
    "instrument_id",
    "type",
    "base",
    "quote",
    "tick_size",
    "lot_size",
    "min_notional",
    "status",
    "valid_from",
)
HISTORY_COLUMNS: Final = (
    "valid_from",
    "valid_until",
    "known_since",
    "recorded_since",
    "active",
    "status",
    "symbol",
)
#: The change comes last: it is the one long column, and a table's last column is not padded.
CHANGE_LINE_COLUMNS: Final = ("effective_at", "recorded_at", "what", "symbol", "source", "change")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def instrument_text(instrument: Instrument) -> str:
    """Return one instrument as a field/value table."""
    return pairs([(name, getattr(instrument, name)) for name in GET_FIELDS])


def universe_text(rows: list[Row], as_of: str, include_inactive: bool) -> str:
    """Return the universe at `as_of` as a table and a count line."""
    columns = list(UNIVERSE_COLUMNS)
    if include_inactive:
        columns.insert(columns.index("status"), "active")
    which = "existing" if include_inactive else "active"
    count = f"{plural(len(rows), 'instrument')} {which} at {as_of}"
    return f"{table(columns, rows)}\n{count}" if rows else count


def history_text(key: str, rows: list[Row]) -> str:
    """Return an instrument's versions as a table, with what never changes said once above.

    Columns: the interval, when it was known, the lifecycle, then only the fields that
    differ between versions; a `*` marks a value that changed from the version before,
    and a legend under the table says so.
    """
    title = f"{key}: {plural(len(rows), 'version')}"
    if not rows:
        return title
    title += f" of instrument {rows[-1]['instrument_id']}"
    changing = [name for name in FIELDS if len({_key(row[name]) for row in rows}) > 1]
    fixed = [(name, rows[-1][name]) for name in FIELDS if name not in changing]
    marked = (*_MARKED, *changing)
    shown = [
        {
            **row,
            "valid_until": row["valid_until"] or "now",
            **{name: _marked(rows, at, name) for name in marked},
        }
        for at, row in enumerate(rows)
    ]
    same = ", ".join(f"{name}={cell(value)}" for name, value in fixed if value is not None)
    lines = [title] + ([f"unchanged: {same}"] if same else [])
    lines.append(table([*HISTORY_COLUMNS, *changing], shown))
    starred = any(_changed(rows, at, name) for at in range(1, len(rows)) for name in marked)
    return "\n".join([*lines, STAR_LEGEND] if starred else lines)


#: The line under a history table whose values are starred.
STAR_LEGEND: Final = "* the value changed from the version before"
#: The lifecycle columns starred like the changing fields.
_MARKED: Final = ("symbol", "status")


def _changed(rows: list[Row], at: int, name: str) -> bool:
    return bool(at) and _key(rows[at][name]) != _key(rows[at - 1][name])


def _key(value: object) -> object:
    return cell(value)  # compare as shown: 0.10 and 0.1 are one value


def _marked(rows: list[Row], at: int, name: str) -> str:
    """Return a version's value of `name`, starred when it differs from the version before."""
    text = cell(rows[at][name])
    return f"{text} *" if _changed(rows, at, name) else text


def change_lines_text(lines: list[Row], since: str, until: str, events: int) -> str:
    """Return one line per change (`old -> new`), then a count line."""
    shown = [{**line, "change": _change_text(line)} for line in lines]
    count = (
        f"{plural(len(lines), 'change')} from {plural(events, 'event')} effective in "
        f"[{since}, {until})"
    )
    return f"{table(CHANGE_LINE_COLUMNS, shown)}\n{count}" if lines else count


def _change_text(line: Row) -> str:
    """Return `field: old -> new` (a listing: what it sets), with any note after it."""
    new = line["new"]
    if isinstance(new, dict):  # a listing: what it says
        text = " ".join(f"{name}={cell(value)}" for name, value in new.items())
        text += f" (was {line['old']})" if line["old"] else ""
    elif line["field"] is None:
        text = ""
    else:
        text = f"{line['field']}: {_shown(line['old'])} -> {_shown(new)}"
    note = f"({line['note']})" if line["note"] else ""
    flag = "[retracted]" if line["retracted"] else ""
    return " ".join(part for part in (flag, text, note) if part)


def _shown(value: object) -> str:
    return "null" if value is None else cell(value)
