"""`catalog daemon` and `catalog status`."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import TYPE_CHECKING

import msgspec

from connectors.cli.render import instant, table, to_json
from connectors.daemon import config as config_file
from connectors.daemon import logs
from connectors.daemon import status as status_store
from connectors.daemon.runner import Daemon
from connectors.lease.writer import WriterLease
from eventstore.clock import utc_now

if TYPE_CHECKING:
    import argparse
    import logging
    from collections.abc import Callable
    from datetime import datetime

    from connectors.daemon.config import Config
    from connectors.daemon.status import DaemonStatus


def add_daemon_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `catalog daemon`."""
    parser.add_argument(
        "--config",
        required=True,
        metavar="FILE",
        help="the TOML configuration (see catalog.example.toml)",
    )
    parser.add_argument(
        "--log-format", choices=("text", "json"), help="override the config's log_format"
    )


def run_daemon(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM or SIGINT; return 0 after a clean stop."""
    config = config_file.load(args.config)
    logger = logs.configure(args.log_format or config.log_format)
    asyncio.run(serve(config, logger))
    return 0


async def serve(
    config: Config,
    logger: logging.Logger,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Take the catalog's writer lease, then run the daemon until `stop` (or SIGTERM or
    SIGINT), stamping its status with `clock`."""
    with WriterLease(config.root, purpose="catalog daemon"):  # one writer per catalog
        await Daemon(config, logger, clock).serve(stop)


def add_status_arguments(parser: argparse.ArgumentParser) -> None:
    """`catalog status` takes only the global options."""


def run_status(args: argparse.Namespace) -> int:
    """Print what the daemon of the catalog did and will do, per source: a sync running
    now (since when), the counts and totals of every run (a restarted daemon goes on
    counting), the next run; a daemon that is not running has no run now and none next."""
    found = status_store.read(args.root)
    if found is None:
        print("null" if args.json else f"no daemon has run on {args.root}")
        return 0
    state = _liveness(found)
    if not state.startswith("running"):  # what the file says of runs now and next is over
        for source in found.sources.values():
            source.running, source.next_run = False, None
    if args.json:
        print(to_json({"state": state, **msgspec.structs.asdict(found)}))
        return 0
    started = instant(found.started_at) if found.started_at else "-"
    print(f"daemon pid {found.pid} on {found.host}, started {started}: {state}")
    rows = [{"source": name, **_row(source)} for name, source in found.sources.items()]
    columns = ["source", "schedule", "running", "runs", "failures", "last run",
               "last success", "appended", "total", "rejected", "next run",
               "last error"]  # fmt: skip
    print(table(columns, rows))
    for name, source in found.sources.items():
        for shown in source.rejections:
            print(f"{name} rejected: {shown}")
    return 0


def _row(source: status_store.SourceStatus) -> dict[str, object]:
    return {
        "schedule": source.schedule if source.enabled else "disabled",
        "running": f"since {instant(source.last_run)}"
        if source.running and source.last_run
        else None,
        "runs": source.runs,
        "failures": source.failures,
        "last run": source.last_run,
        "last success": source.last_success,
        "appended": source.last_appended,
        "total": source.appended_total,
        "rejected": source.last_rejected,
        "next run": source.next_run,
        "last error": (source.last_error or "")[:80] or None,
    }


def _liveness(found: DaemonStatus) -> str:
    if found.stopped_at is not None:
        return f"stopped at {instant(found.stopped_at)}"
    if found.host != socket.gethostname():
        return "running on another host (not checked)"
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return "not running (the process is gone without a clean stop)"
    except PermissionError:
        pass
    return "running"
