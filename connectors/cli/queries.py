"""`catalog get`, `universe`, `history` and `changes`: point-in-time questions from a shell."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Final

import msgspec
import pyarrow as pa

from connectors.cli.catalogs import existing_catalog
from connectors.cli.formats import add_format, chosen, write_table
from connectors.cli.names import history_note
from connectors.cli.render import instant, to_json
from connectors.cli.spelling import DATE_HELP
from connectors.cli.views import change_lines_text, history_text, instrument_text, universe_text
from connectors.errors import UsageError
from connectors.serve.recent import CHANGE_SCHEMA
from eventstore import to_utc
from projections.changes import ChangeFilter, change_lines

Command = Callable[[argparse.Namespace], int]
#: The exit status of a `get` that found nothing.
EXIT_NOT_FOUND: Final = 1
EXAMPLE_INSTANT: Final = "2024-01-01T00:00:00Z"
TIME_HELP: Final = f"an ISO-8601 instant with an offset or Z, e.g. {EXAMPLE_INSTANT}; {DATE_HELP}"
NOW_HELP: Final = f"{TIME_HELP} (default: now)"


def _add_known_at(parser: argparse.ArgumentParser) -> None:
    add_format(parser)
    parser.add_argument(
        "--known-at",
        metavar="K",
        help=f"use only what was observable from its source by K ({TIME_HELP})",
    )
    parser.add_argument(
        "--recorded-by",
        metavar="R",
        help="use only what the catalog had recorded by R: what it answered then",
    )


def _knowledge(args: argparse.Namespace) -> str:
    """Return how the knowledge bounds are shown after an answer ("" when none is given)."""
    shown = []
    if args.known_at is not None:
        shown.append(f"as known at {_shown(args.known_at)}")
    if args.recorded_by is not None:
        shown.append(f"as recorded by {_shown(args.recorded_by)}")
    return "".join(f", {part}" for part in shown)


def _add_key(parser: argparse.ArgumentParser, symbol_help: str) -> None:
    parser.add_argument("symbol", metavar="SYMBOL", nargs="?", help=symbol_help)
    parser.add_argument("--id", metavar="INSTRUMENT_ID", help="an instrument id instead of SYMBOL")


def _key(args: argparse.Namespace) -> str:
    """Return SYMBOL or --id, whichever was given (exactly one must be)."""
    if (args.symbol is None) == (args.id is None):
        raise UsageError(
            f"give either SYMBOL or --id INSTRUMENT_ID (see catalog {args.command} --help)"
        )
    return str(args.symbol if args.id is None else args.id)


def add_get(parser: argparse.ArgumentParser) -> Command:
    _add_key(parser, "EXCHANGE:TICKER")
    parser.add_argument("--as-of", metavar="T", help=NOW_HELP)
    _add_known_at(parser)
    return _get


def add_universe(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("--as-of", metavar="T", help=NOW_HELP)
    _add_known_at(parser)
    parser.add_argument(
        "--include-inactive", action="store_true", help="also list delisted instruments"
    )
    parser.add_argument(
        "--tradable", action="store_true", help="only instruments whose status is trading at T"
    )
    parser.add_argument("--settle", metavar="CCY", help="only contracts settled in CCY")
    for name, shown, what in _UNIVERSE_FILTERS:
        parser.add_argument(f"--{name}", metavar=shown, help=f"only instruments {what}")
    parser.add_argument(
        "--inverse",
        choices=("yes", "no"),
        help="only inverse contracts (yes) or only linear ones (no); spot pairs are neither",
    )
    return _universe


#: `universe --NAME VALUE`: only instruments whose field NAME equals VALUE at T.
_UNIVERSE_FILTERS: Final = (
    ("exchange", "X", "of exchange X (BINANCE, OKX, ...)"),
    ("type", "TYPE", "of type TYPE (spot, swap, futures, option)"),
    ("base", "CCY", "whose base is CCY"),
    ("quote", "CCY", "quoted in CCY"),
)


def add_history(parser: argparse.ArgumentParser) -> Command:
    _add_key(parser, "EXCHANGE:TICKER or an instrument id")
    parser.add_argument(
        "--as-of", metavar="T", help="resolve SYMBOL at T (default: its latest holder)"
    )
    _add_known_at(parser)
    return _history


def add_changes(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument(
        "--since", metavar="A", required=True, help=f"from A, included ({TIME_HELP})"
    )
    parser.add_argument("--until", metavar="B", required=True, help="until B, excluded")
    parser.add_argument("--exchange", metavar="X", help="only instruments of exchange X")
    parser.add_argument("--field", metavar="F", help="only changes of field F")
    parser.add_argument("--symbol", metavar="S", help="only changes of symbol or instrument id S")
    _add_known_at(parser)
    return _changes


# -- commands ----------------------------------------------------------------------------


def _get(args: argparse.Namespace) -> int:
    args.json = chosen(args) == "json"
    key, catalog = _key(args), existing_catalog(args.root)
    lookup = catalog.get if args.id is None else catalog.instrument
    found = lookup(key, args.as_of, args.known_at, args.recorded_by)
    if found is not None and chosen(args) in ("csv", "parquet"):
        write_table(args, pa.Table.from_pylist([msgspec.structs.asdict(found)]))
        return 0
    if found is not None:
        print(to_json(found) if args.json else instrument_text(found))
        return 0
    if args.json:
        print("null")
    else:
        print(f"{key} is not listed at {_shown(args.as_of)}{_knowledge(args)}")
    return EXIT_NOT_FOUND


def _universe(args: argparse.Namespace) -> int:
    catalog = existing_catalog(args.root)
    found = catalog.universe(
        args.as_of,
        args.known_at,
        include_inactive=args.include_inactive,
        tradable=args.tradable,
        recorded_by=args.recorded_by,
        settle=args.settle,
        inverse=None if args.inverse is None else args.inverse == "yes",
        **{name: getattr(args, name) for name, _, _ in _UNIVERSE_FILTERS},
    )
    found = found.sort_by([("symbol", "ascending"), ("instrument_id", "ascending")])
    if chosen(args) in ("csv", "parquet"):
        write_table(args, found)
        return 0
    rows = found.to_pylist()
    if chosen(args) == "json":
        print(to_json(rows))
        return 0
    shown_at = _shown(args.as_of)
    print(universe_text(rows, shown_at, args.include_inactive) + _knowledge(args))
    return 0


def _history(args: argparse.Namespace) -> int:
    key, catalog = _key(args), existing_catalog(args.root)
    bounds = {"known_at": args.known_at, "recorded_by": args.recorded_by}
    found = catalog.history(key, as_of=args.as_of, **bounds)
    if chosen(args) in ("csv", "parquet"):
        write_table(args, found)
        return 0
    rows = found.to_pylist()
    print(to_json(rows) if chosen(args) == "json" else history_text(key, rows))
    if chosen(args) == "table" and args.id is None and rows:  # other holders of the symbol
        note = history_note(catalog, key, rows[-1]["instrument_id"], **bounds)
        if note:
            print(note)
    return 0


def _changes(args: argparse.Namespace) -> int:
    keep = ChangeFilter(args.exchange, args.field)
    catalog = existing_catalog(args.root)
    lines = change_lines(
        catalog, args.since, args.until, args.known_at, keep, recorded_by=args.recorded_by
    )
    if args.symbol is not None:
        lines = [line for line in lines if args.symbol in (line["symbol"], line["instrument_id"])]
    if chosen(args) in ("csv", "parquet"):
        flat = [{**line, "old": _said(line["old"]), "new": _said(line["new"])} for line in lines]
        write_table(args, pa.Table.from_pylist(flat, CHANGE_SCHEMA))
        return 0
    if chosen(args) == "json":
        print(to_json(lines))
    else:
        events = len({line["position"] for line in lines})
        print(change_lines_text(lines, _shown(args.since), _shown(args.until), events))
    return 0


def _said(value: object) -> str | None:
    """Return a change's old or new value as a cell: JSON for a listing's fields."""
    if value is None:
        return None
    text = to_json(value)
    return text[1:-1] if text.startswith('"') else text


def _shown(value: str) -> str:
    """Return a time argument as shown in messages (it has been accepted by the library)."""
    return instant(to_utc(value, "time"))


QUERY_COMMANDS: Final[Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], Command]]]] = (
    ("get", "show the instrument that held SYMBOL at T", add_get),
    ("universe", "list the instruments that exist at T", add_universe),
    ("history", "show every version of an instrument", add_history),
    ("changes", "list what changed in [A, B): old and new values", add_changes),
)
