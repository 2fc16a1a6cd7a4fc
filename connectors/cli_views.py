"""The text views of `catalog` answers: which columns each command shows, and in what order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from connectors.render import cell, pairs, table
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
HISTORY_COLUMNS: Final = ("valid_from", "valid_until", "known_since", "active", "status", "symbol")
CHANGES_COLUMNS: Final = (
    "effective_at",
    "recorded_at",
    "kind",
    "symbol",
    "change",
    "source",
    "retracted",
)
#: Columns of `Catalog.changes` that describe the event rather than what it says.
ENVELOPE: Final = frozenset(
    {
        "position",
        "event_id",
        "kind",
        "schema_version",
        "instrument_id",
        "symbol",
        "effective_at",
        "recorded_at",
        "source",
        "stream_version",
        "prev_hash",
        "hash",
        "fields",
        "retracted",
    }
)
CHANGE_SUMMARY: Final = (
    "position",
    "event_id",
    "kind",
    "instrument_id",
    "symbol",
    "effective_at",
    "recorded_at",
    "source",
    "retracted",
)


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
    """Return an instrument's versions, showing only the fields that change between them."""
    changing = [name for name in FIELDS if len({row[name] for row in rows}) > 1]
    title = f"{key}: {plural(len(rows), 'version')}"
    if not rows:
        return title
    title += f" of instrument {rows[-1]['instrument_id']}"
    return f"{title}\n{table([*HISTORY_COLUMNS, *changing], rows)}"


def changes_rows(rows: list[Row]) -> list[Row]:
    """Return `Catalog.changes` rows as events: the envelope and a `payload` of what they say.

    The payload holds the fields an event sets (an explicit null included) and any other
    value it carries (a delisting's reason, a rename's new symbol, a retraction's target).
    Rows come in the fold's order: by effective time, then position.
    """
    ordered = sorted(rows, key=lambda row: (row["effective_at"], row["position"]))
    return [
        {
            **{name: row[name] for name in CHANGE_SUMMARY},
            "payload": {
                name: value
                for name, value in row.items()
                if name not in ENVELOPE and (value is not None or name in row["fields"])
            },
        }
        for row in ordered
    ]


def change_text(payload: Row) -> str:
    """Return what an event says as `field=value` pairs; an explicit null reads `null`."""
    return " ".join(
        f"{name}={'null' if value is None else cell(value)}" for name, value in payload.items()
    )


def changes_text(events: list[Row], since: str, until: str) -> str:
    """Return one line per event, then a count line."""
    rows = [{**event, "change": change_text(event["payload"])} for event in events]
    count = f"{plural(len(rows), 'event')} effective in [{since}, {until})"
    return f"{table(CHANGES_COLUMNS, rows)}\n{count}" if rows else count
