"""`catalog export` and `catalog import-scd2`: the SCD2 interchange from a shell.

`export DIR` writes `symbols.parquet` and `exchanges.parquet` (one row per version with
`valid_from valid_until updated_at active`, UTC), and with `--delta` the same as Delta
tables under `DIR/delta/`. `import-scd2` turns such files, or an older catalog of that
layout, into events; the file's defects are listed, never silently merged.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.cli.catalogs import existing_catalog
from connectors.cli.progress import Progress, Steps, add_quiet
from connectors.cli.render import to_json
from connectors.cli.views import plural
from connectors.lease.writer import WriterLease
from eventstore import EventLog
from eventstore.clock import utc_now
from projections.errors import InvalidTableError
from projections.scd2.exchanges import plan_exchanges
from projections.scd2.export import write_export
from projections.scd2.symbols import OBSERVED_FROM, ImportPlan, plan_symbols

if TYPE_CHECKING:
    from datetime import datetime

    from eventstore import Event

Command = Callable[[argparse.Namespace], int]
#: Events per append: one commit each; ids are deterministic, so a rerun appends the rest.
BATCH: Final = 100_000

IMPORT_HELP: Final = """\
Each instrument's versions (by instrument_id, else by symbol), in order of valid_from,
become a listing, renames, delistings (active turning false, or a last version that ends)
and changes of the fields that differ, each effective at the version's valid_from.
Decimal fields may be floats (read as their shortest decimal form; NaN is null).
valid_until null or 9999-12-31 means current. Timestamps without a time zone are refused
unless --naive-as-utc. Overlapping versions of one instrument and several active rows of
one symbol at once are imported as they are and listed as defects. The events are
recorded when the import runs, and observed then too unless --observed-from updated_at
says the file's updated_at column is trustworthy: each version's events are then observed
at its updated_at (a null one: at the import), and a file with an updated_at after now is
refused (nothing is appended).
"""


def _add_export(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("directory", metavar="DIR", help="the folder to write into")
    parser.add_argument(
        "--delta", action="store_true", help="also write DIR/delta/symbols and DIR/delta/exchanges"
    )
    parser.add_argument("--known-at", metavar="K", help="export what was observed by K")
    parser.add_argument("--recorded-by", metavar="R", help="export what was recorded by R")
    add_quiet(parser)
    return _export


def _add_import(parser: argparse.ArgumentParser) -> Command:
    parser.add_argument("symbols", metavar="SYMBOLS", help="an SCD2 symbols.parquet file")
    parser.add_argument("--exchanges", metavar="FILE", help="an SCD2 exchanges.parquet file")
    parser.add_argument(
        "--naive-as-utc", action="store_true", help="read timestamps without a time zone as UTC"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list the defects and count the events only"
    )
    parser.add_argument(
        "--observed-from",
        choices=OBSERVED_FROM,
        help="observe each version's events at this column (default: when imported)",
    )
    add_quiet(parser)
    return _import


#: Registered by `connectors.cli.main` after its own commands: (name, summary, add).
SCD2_COMMANDS: Final[Sequence[tuple[str, str, Callable[[argparse.ArgumentParser], Command]]]] = (
    ("export", "write the SCD2 files symbols.parquet and exchanges.parquet", _add_export),
    ("import-scd2", "append the events an SCD2 catalog file stands for", _add_import),
)


def _export(args: argparse.Namespace) -> int:
    catalog = existing_catalog(args.root)
    folder, written = Path(args.directory), []
    with Steps("export", 3, enabled=not args.quiet) as steps:  # what `Catalog.export` does
        steps.step("reading the log and building the versions")
        symbols, exchanges = catalog.scd2(args.known_at, args.recorded_by)
        for name, versions in (("symbols", symbols), ("exchanges", exchanges)):
            steps.step(f"writing {name} ({plural(versions.num_rows, 'version')})")
            written += write_export(folder, {name: versions}, args.delta)
    counts = {path: _rows(path) for path in written if path.endswith(".parquet")}
    if args.json:
        print(to_json({"written": written, "rows": counts}))
        return 0
    for path, rows in counts.items():
        print(f"wrote {plural(rows, 'version')} to {path}")
    for path in written:
        if not path.endswith(".parquet"):
            print(f"wrote the Delta table {path}")
    return 0


def _rows(path: str) -> int:
    return int(pq.ParquetFile(path).metadata.num_rows)


def _read(path: str) -> pa.Table:
    try:
        return pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InvalidTableError(f"file {path!r}", f"cannot be read as Parquet: {exc}") from exc


def _import(args: argparse.Namespace) -> int:
    read = {"naive_as_utc": args.naive_as_utc, "observed_from": args.observed_from}
    plans = [plan_symbols(_read(args.symbols), **read)]
    if args.exchanges:
        plans.insert(0, plan_exchanges(_read(args.exchanges), **read))
    events = [event for plan in plans for event in plan.events]
    _observed_by_now(events, args.observed_from, utc_now())
    appended = 0
    if not args.dry_run:
        with WriterLease(args.root, purpose="catalog import-scd2"):
            appended = _append(EventLog.open(args.root), events, not args.quiet)
    defects = [defect for plan in plans for defect in plan.defects]
    ignored = sorted({name for plan in plans for name in plan.ignored_columns})
    if args.json:
        summary = {"events": len(events), "appended": appended, "dry_run": args.dry_run}
        print(to_json({**summary, "ignored_columns": ignored, "defects": _listed(plans)}))
        return 0
    for defect in defects:
        rows = ", ".join(str(r) for r in defect.rows)
        print(f"defect: {defect.kind} (rows {rows}): {defect.detail}")
    if ignored:
        print(f"ignored columns: {', '.join(ignored)}")
    done = "would append" if args.dry_run else f"appended {appended} of"
    print(f"{done} {plural(len(events), 'event')}; {plural(len(defects), 'defect')}")
    return 0


def _observed_by_now(events: list[Event], column: str | None, now: datetime) -> None:
    """Refuse a file whose versions say they were observed after `now`: nothing is appended."""
    late = [e for e in events if e.observed_at is not None and e.observed_at > now]
    if late:
        first = min(late, key=lambda e: e.observed_at or now)
        raise InvalidTableError(
            f"column {column!r}",
            f"dates {plural(len(late), 'event')} after now ({now.isoformat()}), the first "
            f"{first.observed_at.isoformat() if first.observed_at else ''} for "
            f"{first.instrument_id}; nothing was appended",
        )


def _append(log: EventLog, events: list[Event], shown: bool) -> int:
    appended = 0
    with Progress(len(events), "events", enabled=shown) as progress:
        for begin in range(0, len(events), BATCH):
            batch = events[begin : begin + BATCH]
            appended += log.append(batch).appended
            progress.advance(len(batch))
    return appended


def _listed(plans: list[ImportPlan]) -> list[dict[str, object]]:
    return [
        {"kind": d.kind, "rows": list(d.rows), "detail": d.detail}
        for plan in plans
        for d in plan.defects
    ]
