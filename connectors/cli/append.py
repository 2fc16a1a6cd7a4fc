"""`catalog append`: decode events from JSON lines, validate every line, append them at once.

A file is all or nothing: the first bad line stops the command before anything is written,
and the good lines are appended in one `EventLog.append` call, which is one atomic commit.
Beyond decoding, every line meets the value rules and the checks against the log of
`connectors.cli.append_rules`: what the audit would flag is refused, naming the line.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import msgspec

from connectors.cli.append_rules import LogRuleError, check_against_log, check_values
from connectors.cli.render import to_json
from connectors.errors import EventFileError
from connectors.lease.writer import WriterLease
from eventstore import AnyEvent, Event, EventLog, InvalidEventError, UnknownStreamError
from eventstore.clock import utc_now

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from datetime import datetime

#: The envelope fields the log assigns; a line that sets one is refused rather than ignored.
LOG_ASSIGNED: Final = frozenset(
    {"event_id", "recorded_at", "position", "stream_version", "prev_hash", "hash"}
)
#: The tag that names an event's class on each line.
KIND_FIELD: Final = "kind"

#: The help text of `catalog append`: the JSON-lines format, with example lines.
FORMAT_HELP: Final = (
    'FILE holds one event per line: a JSON object whose "kind" names the event\n'
    "(InstrumentListed, InstrumentChanged, InstrumentDelisted, InstrumentRenamed,\n"
    "EventRetracted, ExchangeListed, ExchangeChanged) and whose other keys are that\n"
    "event's fields. Every event has instrument_id, symbol, effective_at (ISO-8601 with an\n"
    "offset or Z) and source; the log assigns event_id, recorded_at, position,\n"
    "stream_version and the hashes, so a line must not set them. observed_at (ISO-8601,\n"
    "optional) says when the fact became knowable from its source, no later than now;\n"
    "without it the event is observed when it is appended. Decimals may be strings\n"
    '("0.01") or JSON numbers: both are read exactly. Blank lines are skipped.\n'
    "\n"
    "Refused, as the audit would flag them: a size (tick_size minmov pricescale lot_size\n"
    "min_qty min_notional contract_size max_qty max_notional min_price max_price\n"
    "max_leverage funding_interval strike) that is not a positive decimal of ASCII\n"
    'digits (null means none; 0, -1, "1_000" and "1e-8" are refused); a status other than\n'
    "pre_trading trading halted cancel_only settling delisted expired (a delisting's:\n"
    "delisted or expired); an option_type other than call or put; an expiry before the\n"
    "listing; a symbol that is not\n"
    "EXCHANGE:TICKER in printable characters (at most 100); a change, delisting or rename\n"
    "whose symbol is not the one its instrument holds then, or effective before its listing.\n"
    "\n"
    "example lines:\n"
    '  {"kind": "InstrumentListed", "instrument_id": "btcusdt", "symbol": "BINANCE:BTCUSDT", '
    '"effective_at": "2024-01-01T00:00:00Z", "source": "manual", "base": "BTC", '
    '"quote": "USDT", "type": "spot", "tick_size": "0.01"}\n'
    '  {"kind": "InstrumentChanged", "instrument_id": "btcusdt", "symbol": "BINANCE:BTCUSDT", '
    '"effective_at": "2024-06-01T00:00:00Z", "source": "manual", '
    '"changes": {"tick_size": "0.1", "min_notional": null}}\n'
    "\n"
    "Every line is checked first: on any bad line nothing is appended and the error names\n"
    "the line. An event already in the log (same deterministic id) is not appended again.\n"
)

# Untyped numbers (inside `changes`) become exact decimals, never floats.
_events = msgspec.json.Decoder(AnyEvent, float_hook=Decimal)
_keys = msgspec.json.Decoder(dict[str, Any], float_hook=Decimal)


@dataclass(frozen=True)
class NumberedEvent:
    """One decoded event and the line of the file it came from (1-based)."""

    line: int
    event: Event


@dataclass(frozen=True)
class AppendSummary:
    """What an append did: events newly appended, events the log already had, repeats."""

    appended: int
    already_present: int
    repeated: int


def decode_lines(text: bytes, source: str) -> list[NumberedEvent]:
    """Return the event on each non-blank line of `text`, or raise at the first bad line."""
    decoded: list[NumberedEvent] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            decoded.append(NumberedEvent(number, decode_line(raw, source, number)))
    return decoded


def decode_line(raw: bytes, source: str, line: int) -> Event:
    """Return the event encoded by one line; refuse unknown and log-assigned fields."""
    try:
        event: AnyEvent = _events.decode(raw)
    except msgspec.DecodeError as exc:
        raise EventFileError(source, f"{exc}; nothing was appended", line) from None
    except RecursionError:
        raise EventFileError(source, "nested too deeply; nothing was appended", line) from None
    values = _keys.decode(raw)
    given = set(values) - {KIND_FIELD}
    assigned = sorted(given & LOG_ASSIGNED)
    if assigned:
        reason = f"{', '.join(assigned)} is assigned by the log; leave it out"
        raise EventFileError(source, f"{reason}; nothing was appended", line)
    unknown = sorted(given - set(type(event).__struct_fields__))
    if unknown:
        reason = f"unknown field {', '.join(map(repr, unknown))} for {event.kind}"
        raise EventFileError(source, f"{reason}; nothing was appended", line)
    try:
        check_values(event, values)
    except InvalidEventError as exc:
        raise EventFileError(source, f"{exc}; nothing was appended", line) from None
    return event


def append_events(log: EventLog, events: list[NumberedEvent], source: str) -> AppendSummary:
    """Check `events` against the log, append them in one atomic commit, count what was new."""
    _check_observed(events, source, utc_now())
    try:
        check_against_log(log, [(numbered.line, numbered.event) for numbered in events])
    except LogRuleError as exc:
        raise EventFileError(source, f"{exc}; nothing was appended", exc.line) from None
    try:
        recorded = log.append(numbered.event for numbered in events)
    except InvalidEventError as exc:  # observed after the log's clock, if it runs behind ours
        if exc.field != "observed_at":
            raise
        raise EventFileError(source, str(exc)) from exc
    except UnknownStreamError as exc:
        line = _line_referring_to(events, exc.what, exc.key)
        if line is None:
            raise
        raise EventFileError(source, str(exc), line) from exc
    new = {event.event_id for event in recorded.new}
    present = sum(1 for event in recorded if event.event_id not in new)
    return AppendSummary(len(new), present, len(recorded) - len(new) - present)


def _check_observed(events: list[NumberedEvent], source: str, now: datetime) -> None:
    """Refuse the first line observed after `now`: a fact is not known before it is seen."""
    for numbered in events:
        observed = numbered.event.observed_at
        if observed is not None and observed > now:
            reason = f"observed_at {observed.isoformat()} is after now ({now.isoformat()})"
            raise EventFileError(source, f"{reason}; nothing was appended", numbered.line)


def _line_referring_to(events: list[NumberedEvent], what: str, key: str) -> int | None:
    attribute = "target" if what == "retraction target" else "instrument_id"
    for numbered in events:
        if getattr(numbered.event, attribute, None) == key:
            return numbered.line
    return None


# -- the command --------------------------------------------------------------------------


def add_append(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    parser.add_argument("file", metavar="FILE", help="a JSON-lines file of events, or - for stdin")
    return _append


def _append(args: argparse.Namespace) -> int:
    source = "<stdin>" if args.file == "-" else args.file
    events = decode_lines(_read_events_file(args.file), source)
    with WriterLease(args.root, purpose="catalog append"):
        summary = append_events(EventLog.open(args.root), events, source)
    if args.json:
        print(to_json(summary))
        return 0
    repeated = f", {summary.repeated} repeated in the file" if summary.repeated else ""
    print(f"appended {summary.appended}, already present {summary.already_present}{repeated}")
    return 0


def _read_events_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise EventFileError(path, f"cannot read the file: {exc.strerror or exc}") from exc
