"""`catalog resolve` and `catalog holders`: names across schemes and time, from a shell.

`resolve NAME [--scheme S] [--exchange E] [--as-of T]` prints the instrument that held the
name at T (default: now) and its name in every other scheme; `holders SYMBOL` every
instrument that ever held a TradingView symbol, with the intervals. `history_note` is what
`catalog history SYMBOL` adds when the symbol had earlier (or later) holders.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from connectors.cli.catalogs import existing_catalog
from connectors.cli.render import instant, table, to_json
from eventstore import to_utc
from projections import SCHEMES

if TYPE_CHECKING:
    from projections import Catalog

Command = Callable[[argparse.Namespace], int]
#: The exit status of a `resolve` whose name nobody held at T.
EXIT_NOT_FOUND: Final = 1
TIME_HELP: Final = "an ISO-8601 instant with an offset or Z, e.g. 2024-01-01T00:00:00Z"


def _add_known_at(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--known-at", metavar="K", help="use only what was observable by K")
    parser.add_argument("--recorded-by", metavar="R", help="use only what was recorded by R")


def add_resolve(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("name", metavar="NAME", help="a name in the scheme (e.g. BTC/USDT:USDT)")
    parser.add_argument(
        "--scheme", default="tradingview", choices=tuple(SCHEMES), help="default: tradingview"
    )
    parser.add_argument(
        "--exchange", metavar="E", help="the exchange, as the scheme spells it (ccxt: binance)"
    )
    parser.add_argument("--as-of", metavar="T", help=f"resolve at T (default: now; {TIME_HELP})")
    _add_known_at(parser)
    return _resolve


def add_holders(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("symbol", metavar="SYMBOL", help="EXCHANGE:TICKER")
    _add_known_at(parser)
    return _holders


def _resolve(args: argparse.Namespace) -> int:
    catalog = existing_catalog(args.root)
    at = to_utc(args.as_of, "as_of") if args.as_of is not None else datetime.now(UTC)
    bounds = {"known_at": args.known_at, "recorded_by": args.recorded_by}
    found = catalog.resolve(args.name, at, args.scheme, args.exchange, **bounds)
    names = None if found is None else catalog.names(found, at, **bounds)
    if args.json:
        shown = {s: {"exchange": n.exchange, "name": n.name} for s, n in (names or {}).items()}
        print(to_json({"instrument_id": found, "as_of": at, "names": shown}))
        return 0 if found is not None else EXIT_NOT_FOUND
    asked = f"{args.name} ({args.scheme}{', ' + args.exchange if args.exchange else ''})"
    if found is None or names is None:
        print(f"{asked} was held by no instrument at {instant(at)}")
        return EXIT_NOT_FOUND
    rows = [{"scheme": s, "exchange": n.exchange, "name": n.name} for s, n in names.items()]
    print(f"{asked} at {instant(at)}: instrument {found}")
    print(table(("scheme", "exchange", "name"), rows))
    return 0


def _holders(args: argparse.Namespace) -> int:
    found = existing_catalog(args.root).holders(
        args.symbol, known_at=args.known_at, recorded_by=args.recorded_by
    )
    rows = found.to_pylist()
    if args.json:
        print(to_json(rows))
        return 0
    count = len({row["instrument_id"] for row in rows})
    print(f"{args.symbol}: held by {count} instrument{'s' if count != 1 else ''}")
    shown = [{**row, "held_until": row["held_until"] or "now"} for row in rows]
    print(table(("held_from", "held_until", "instrument_id", "active"), shown))
    return 0


def history_note(catalog: Catalog, symbol: str, shown_id: str | None, **bounds: object) -> str:
    """Return the line `history SYMBOL` adds when other instruments held SYMBOL too ("")."""
    try:
        rows = catalog.holders(symbol, **bounds).to_pylist()
    except LookupError:  # an instrument id, or a symbol nobody held
        return ""
    others = sorted({row["instrument_id"] for row in rows} - {shown_id})
    if not others:
        return ""
    return (
        f"{symbol} was also held by {', '.join(others)} (these are the versions of "
        f"{shown_id}); see every holder with: catalog holders {symbol}"
    )


NAME_COMMANDS: Final[Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], Command]]]] = (
    ("resolve", "show the instrument a name meant at T, and its every other name", add_resolve),
    ("holders", "list every instrument that ever held SYMBOL, with the intervals", add_holders),
)
