"""`catalog sync`: bring sources into the catalog, live or from recorded snapshots."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from connectors.cli.progress import SyncProgress, add_quiet
from connectors.cli.render import table, to_json
from connectors.errors import UsageError
from connectors.lease.writer import WriterLease
from connectors.replay.driver import Replayed, Stop, replay
from connectors.replay.folders import snapshots
from connectors.sync.syncer import (
    DEFAULT_ABSENCE_RUNS,
    DEFAULT_MAX_DELIST_SHARE,
    MarketReport,
    SourceReport,
    SourceRun,
    Syncer,
    SyncOptions,
)
from connectors.venues.http import MAX_BODY, HttpSettings
from connectors.venues.registry import SOURCES

if TYPE_CHECKING:
    from collections.abc import Sequence

#: Exit status when a source failed (the others were still synced).
EXIT_SOURCE_FAILED: Final = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `catalog sync` to `parser`."""
    parser.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help=f"sources to sync (default: all): {', '.join(SOURCES)}",
    )
    parser.add_argument(
        "--replay", metavar="DIR", help="replay recorded snapshots from DIR (see the README)"
    )
    parser.add_argument(
        "--force", action="store_true", help="accept a snapshot that trips the delisting guard"
    )
    parser.add_argument(
        "--absence-runs",
        type=positive,
        default=DEFAULT_ABSENCE_RUNS,
        metavar="N",
        help="delist what is absent from N complete snapshots in a row (default: %(default)s)",
    )
    parser.add_argument(
        "--max-delist-share",
        type=_share,
        default=DEFAULT_MAX_DELIST_SHARE,
        metavar="F",
        help="refuse a snapshot delisting more than this share of a market (default: %(default)s)",
    )
    parser.add_argument(
        "--base-url",
        action="append",
        default=[],
        metavar="SOURCE=URL",
        help="reach SOURCE at URL instead of its public address (repeatable)",
    )
    parser.add_argument(
        "--market",
        action="append",
        default=[],
        metavar="MARKET",
        help="sync only this market of the sources that have it (repeatable; TradingView: "
        "crypto by default, or america, futures, forex, ...)",
    )
    parser.add_argument("--timeout", type=float, default=30.0, metavar="S", help="per request")
    parser.add_argument(
        "--concurrency", type=positive, default=4, metavar="N", help="requests at once per source"
    )
    parser.add_argument(
        "--max-body-mb",
        type=_megabytes,
        default=MAX_BODY / 2**20,
        metavar="MB",
        help="refuse a response body larger than this (default: %(default)g)",
    )
    add_quiet(parser)


def positive(text: str) -> int:
    """Read a whole number of 1 or more (an argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _megabytes(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _chosen(args: argparse.Namespace) -> list[str]:
    """Return the sources asked for (default: all), each known, and check `--market`."""
    unknown = [name for name in args.sources if name not in SOURCES]
    if unknown:
        raise UsageError(f"unknown source {unknown[0]!r}; known: {', '.join(SOURCES)}")
    chosen: list[str] = args.sources or list(SOURCES)
    known = {m for name in chosen for m in SOURCES[name].markets}
    strange = [m for m in args.market if not any(SOURCES[n].knows(m) for n in chosen)]
    if strange:
        raise UsageError(
            f"--market {strange[0]!r}: no chosen source has it; known: {', '.join(sorted(known))}"
        )
    return chosen


def _runs(args: argparse.Namespace) -> list[SourceRun]:
    chosen = _chosen(args)
    urls: dict[str, str] = {}
    for given in args.base_url:
        name, _, url = given.partition("=")
        if name not in SOURCES or not url:
            known = ", ".join(SOURCES)
            raise UsageError(f"--base-url {given!r}: expected SOURCE=URL, SOURCE one of {known}")
        urls[name] = _http_url(given, url)
    if not args.market:
        return [SourceRun(SOURCES[name], urls.get(name)) for name in chosen]
    runs = []  # the given markets of each chosen source that has one of them
    for name in chosen:
        found = tuple(m for m in dict.fromkeys(args.market) if SOURCES[name].knows(m))
        if found:
            runs.append(SourceRun(SOURCES[name], urls.get(name), found))
    return runs


def _http_url(given: str, url: str) -> str:
    """Return `url` if it is an absolute http(s) URL with a host; else a usage error."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks the port
    except ValueError as exc:
        raise UsageError(f"--base-url {given!r}: not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"--base-url {given!r}: not an http(s) URL with a host, such as http://127.0.0.1:8080"
        )
    return url


def _progress(args: argparse.Namespace) -> SyncProgress:
    """Return where the sync's progress goes: stderr, unless `--quiet`."""
    return SyncProgress(enabled=not args.quiet)


def run(args: argparse.Namespace) -> int:
    """Sync, print the summary, and return 0, or 1 if any source failed."""
    options = SyncOptions(args.absence_runs, args.max_delist_share, args.force)
    settings = HttpSettings(
        timeout=args.timeout,
        concurrency=args.concurrency,
        max_body=int(args.max_body_mb * 2**20),
    )
    # Bad arguments and replay folders fail before the lease: nothing is written then.
    runs: list[SourceRun] | None = None
    if args.replay:
        _chosen(args)
        snapshots(args.replay)
    else:
        runs = _runs(args)
    with WriterLease(args.root, purpose="catalog sync"):
        reports, stopped = asyncio.run(_sync(args, runs, options, settings))
    return _print(args, reports, stopped)


async def _sync(
    args: argparse.Namespace,
    runs: list[SourceRun] | None,
    options: SyncOptions,
    settings: HttpSettings,
) -> tuple[list[tuple[str, SourceReport]], Stop | None]:
    with _progress(args) as progress:
        if runs is None:
            done = await replay(
                args.root,
                args.replay,
                options,
                settings=settings,
                progress=progress,
                sources=args.sources,
                markets=args.market,
                on_snapshot=progress.snapshot,
            )
            if done.stopped is None:
                progress.done()
            return replayed(done), done.stopped
        syncer = Syncer(args.root, options, progress=progress)
        return [("live", report) for report in await syncer.run(runs, settings)], None


def replayed(done: Replayed) -> list[tuple[str, SourceReport]]:
    """Return the reports of a replay, each with its snapshot's name."""
    return [(snapshot.path.name, report) for snapshot, items in done.done for report in items]


def _print(
    args: argparse.Namespace, reports: list[tuple[str, SourceReport]], stopped: Stop | None
) -> int:
    if args.json:
        print(to_json([_json(name, report) for name, report in reports]))
    else:
        print(summary(reports))
    if stopped is not None:
        print(f"catalog: {stopped}", file=sys.stderr)
    return EXIT_SOURCE_FAILED if any(not report.ok for _, report in reports) else 0


def _json(snapshot: str, report: SourceReport) -> dict[str, object]:
    return {
        "snapshot": snapshot,
        "source": report.source,
        "ok": report.ok,
        "appended": report.appended,
        "error": report.error,
        "error_kind": report.error_kind,
        "requests": report.requests,
        "fetch_seconds": round(report.seconds, 3),
        "markets": [vars(market) for market in report.markets],
    }


def summary(reports: Sequence[tuple[str, SourceReport]]) -> str:
    """Return the per-source summary table, then each failure on its own line.

    `listed` counts relistings too, `changed` renames and announced changes; `--json`
    gives every counter apart.
    """
    rows: list[dict[str, object]] = []
    for snapshot, report in reports:
        base: dict[str, object] = {"snapshot": snapshot, "source": report.source}
        if not report.ok:
            rows.append({**base, "result": f"FAILED ({report.error_kind})"})
            continue
        for market in report.markets:
            rows.append({**base, **_counts(market)})
        rows[-1].update({"appended": report.appended, "result": "ok"})
    columns = ["snapshot", "source", "market", "observed at", *_SHOWN, "appended", "result"]
    if all(name == "live" for name, _ in reports):
        columns.remove("snapshot")
    failures = [f"{report.source}: {report.error}" for _, report in reports if not report.ok]
    text = table(columns, rows) + _rejections(reports)
    return text + ("\n\nfailures:\n" + "\n".join(failures) if failures else "")


def _rejections(reports: Sequence[tuple[str, SourceReport]]) -> str:
    """Return the rows a value rule refused, the first few of each market by name."""
    lines = []
    for _, report in reports:
        for market in report.markets:
            more = market.rejected - len(market.rejections)
            lines += [f"{report.source} {market.market}: {shown}" for shown in market.rejections]
            if more > 0:
                lines.append(f"{report.source} {market.market}: ... and {more} more")
    return "\n\nrejected rows (not stored):\n" + "\n".join(lines) if lines else ""


_SHOWN: Final = ("seen", "listed", "changed", "delisted", "unchanged", "absent", "rejected")


def _counts(market: MarketReport) -> dict[str, object]:
    return {
        "market": market.market,
        "observed at": market.observed_at.replace(microsecond=0),
        "seen": market.instruments,
        "listed": market.listed + market.relisted,
        "changed": market.changed + market.renamed + market.announced,
        "delisted": market.delisted,
        "unchanged": market.unchanged,
        "absent": market.absent,
        "rejected": market.rejected,
    }
