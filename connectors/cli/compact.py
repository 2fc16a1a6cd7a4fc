"""`catalog compact`: merge small files, checkpoint the log, optionally vacuum."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import TYPE_CHECKING

from connectors.cli.render import to_json
from connectors.cli.views import plural
from connectors.errors import UsageError
from connectors.lease.writer import WriterLease
from eventstore import EventLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventstore import CompactionReport


def add_compact(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="also delete data files unreferenced for longer than the retention",
    )
    parser.add_argument(
        "--retention-hours",
        type=_hours,
        metavar="H",
        help="the vacuum's retention (default: the table's, 168 h); readers of versions "
        "older than H hours lose their files",
    )
    return _compact


def _hours(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of hours") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _compact(args: argparse.Namespace) -> int:
    log = EventLog.open(args.root)
    if args.retention_hours is not None and not args.vacuum:
        raise UsageError("--retention-hours applies to --vacuum only")
    with WriterLease(args.root, purpose="catalog compact", create_root=False):
        report = log.compact(vacuum=args.vacuum, retention_hours=args.retention_hours)
    if args.json:
        print(to_json(asdict(report)))
    elif report.version < 0:
        print(f"nothing to compact: no log under {log.root}")
    else:
        print(
            f"compacted {log.uri}: {plural(report.files_before, 'file')} -> "
            f"{plural(report.files_after, 'file')}, log version {report.version}"
        )
        if report.vacuumed:
            print(_vacuum_text(report))
    return 0


def _vacuum_text(report: CompactionReport) -> str:
    text = (
        f"vacuum: deleted {plural(report.deleted, 'file')} unreferenced for more than "
        f"{report.retention_hours} h"
    )
    if report.kept:
        text += (
            f"; kept {plural(report.kept, 'younger unreferenced file')} (readers of older "
            "versions may still need them; --retention-hours 0 deletes them)"
        )
    return text
