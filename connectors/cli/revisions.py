"""`catalog revisions`: which answers changed between two knowledge instants, and why.

One line per (instrument, field, effective interval) whose answer as known at K1 differs
from the answer as known at K2 (default: everything known), readable by eye:

    inst-1  BINANCE:COIN1USDT  tick_size  [2024-01-03 00:00:00Z, now)  0.1 -> 0.01  (correction)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, Final

from connectors.cli.catalogs import existing_catalog
from connectors.cli.queries import TIME_HELP
from connectors.cli.render import instant, to_json
from connectors.cli.views import plural
from eventstore import to_utc
from projections.revisions import REVISION_FIELDS

Command = Callable[[argparse.Namespace], int]
#: What a null answer looks like on a line (`none` for `active`: the instrument did not exist).
_NULL: Final = "null"


def add_revisions(parser: argparse.ArgumentParser) -> Command:
    """Add the options of `catalog revisions`; return the command."""
    parser.add_argument(
        "--known-since", metavar="K1", required=True, help=f"the knowledge before ({TIME_HELP})"
    )
    parser.add_argument(
        "--known-until", metavar="K2", help="the knowledge after (default: everything known)"
    )
    parser.add_argument(
        "--field",
        metavar="F",
        action="append",
        help=f"only field F (repeatable): {', '.join(REVISION_FIELDS)}",
    )
    parser.add_argument("--exchange", metavar="X", help="only instruments of exchange X")
    parser.add_argument(
        "--recorded",
        action="store_true",
        help="read K1 and K2 as what the catalog had recorded (recorded_at), not as what "
        "was observable from the sources (observed_at)",
    )
    return _revisions


def _revisions(args: argparse.Namespace) -> int:
    catalog = existing_catalog(args.root)
    rows = catalog.revisions(
        args.known_since,
        args.known_until,
        basis="recorded" if args.recorded else "observed",
        fields=args.field,
        exchange=args.exchange,
    ).to_pylist()
    print(to_json(rows) if args.json else revisions_text(rows, args))
    return 0


def _answer(row: dict[str, Any], side: str) -> str:
    value = row[side]
    if value is None:
        return "none" if row["field"] == "active" else _NULL
    return str(value)


def revision_line(row: dict[str, Any]) -> str:
    """Return one row as a line: who, which field, when, before -> after, (why)."""
    until = "now" if row["effective_until"] is None else instant(row["effective_until"])
    when = f"[{instant(row['effective_from'])}, {until})"
    change = f"{_answer(row, 'before')} -> {_answer(row, 'after')}"
    return (
        "  ".join([row["instrument_id"], row["symbol"] or "-", row["field"], when, change])
        + f"  ({', '.join(row['cause'])})"
    )


def revisions_text(rows: Sequence[dict[str, Any]], args: argparse.Namespace) -> str:
    """Return one line per row, then a count line naming the window."""
    basis = "recorded" if args.recorded else "known"
    since = instant(to_utc(args.known_since, "known_since"))
    until = (
        "everything known"
        if args.known_until is None
        else f"{basis} at {instant(to_utc(args.known_until, 'known_until'))}"
    )
    instruments = len({row["instrument_id"] for row in rows})
    count = (
        f"{plural(len(rows), 'revised answer')} of {plural(instruments, 'instrument')}: "
        f"{basis} at {since} -> {until}"
    )
    return "\n".join([*(revision_line(row) for row in rows), count])


REVISIONS_COMMANDS: Final[
    Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], Command]]]
] = (
    (
        "revisions",
        "list the answers that changed between knowledge K1 and K2, and why",
        add_revisions,
    ),
)
