"""`catalog daemon`: keep the catalog current, one scheduled job per source.

APScheduler 3 in asyncio: coalescing, one instance of a job at a time, a misfire grace
time. A source that fails is logged, shown in `catalog status`, and tried again at its next
run; the others are not affected. SIGTERM or SIGINT stop the scheduler; a sync still
fetching is cancelled (it appends nothing), one already committing finishes its single
commit, and the process exits within `stop_timeout` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC
from typing import TYPE_CHECKING, Final

import msgspec
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from connectors.daemon import status as status_store
from connectors.daemon.anchoring import DaemonAnchor
from connectors.daemon.config import cron_trigger, seconds
from connectors.daemon.logs import event
from connectors.daemon.status import DaemonStatus, SourceStatus
from connectors.sync.syncer import SourceRun, Syncer, SyncOptions
from connectors.venues.http import HttpSettings
from connectors.venues.registry import SOURCES
from eventstore.clock import utc_now

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from apscheduler.triggers.base import BaseTrigger

    from connectors.daemon.config import Config, SourceConfig


def trigger(source: SourceConfig, key: str) -> BaseTrigger:
    """Return the APScheduler trigger of a source's schedule (with its jitter)."""
    jitter = int(source.jitter) or None
    if source.cron is not None:
        cron = cron_trigger(source.cron)  # weekdays counted as in crontab
        cron.jitter = jitter  # from_crontab takes no jitter; the trigger applies it
        return cron
    assert source.interval is not None
    return IntervalTrigger(
        seconds=seconds(source.interval, key, "config"), jitter=jitter, timezone=UTC
    )


#: The last error of a source whose sync a stop cancelled while it was fetching.
STOPPED: Final = "stopped while fetching; nothing appended"


def carried(before: DaemonStatus | None, name: str, source: SourceConfig) -> SourceStatus:
    """Return source `name`'s status at start: its counts, totals and last runs go on from
    the daemon before (if it ran it), its schedule is the configured one."""
    found = None if before is None else before.sources.get(name)
    if found is None:
        return SourceStatus(enabled=source.enabled, schedule=describe(source))
    return msgspec.structs.replace(
        found, enabled=source.enabled, schedule=describe(source), running=False, next_run=None
    )


def describe(source: SourceConfig) -> str:
    """Return a source's schedule as shown in `catalog status`."""
    if source.cron is None and source.interval is None:
        return "none"
    base = f"cron {source.cron}" if source.cron else f"every {source.interval}"
    return f"{base} (+{source.jitter:g}s jitter)" if source.jitter else base


class Daemon:
    """Run the configured sources on their schedules until told to stop."""

    def __init__(
        self, config: Config, logger: logging.Logger, clock: Callable[[], datetime] = utc_now
    ) -> None:
        """Sync into `config.root`; log through `logger`; stamp the status with `clock`
        (the scheduler keeps the real time)."""
        self.config = config
        self.logger = logger
        self.clock = clock
        self.syncer = Syncer(config.root)
        self.anchor = DaemonAnchor(config)
        self.anchor.attach(self.syncer.log)
        self.status = DaemonStatus.starting(clock())
        #: The status the daemon before this one left: its totals go on from there.
        self.before = status_store.read(config.root)
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[None]] = set()
        #: Set once a stop is asked for: no run starts after it, and cancelling one is meant.
        self.stopping = False

    async def serve(self, stop: asyncio.Event | None = None) -> None:
        """Schedule every enabled source, run until `stop` (or SIGTERM/SIGINT), then stop."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, stop.set)
        self._schedule()
        self.scheduler.start()
        event(
            self.logger, "daemon started", root=self.config.root, sources=",".join(self._enabled())
        )
        self._save()
        await stop.wait()
        self.stopping = True
        event(self.logger, "daemon stopping", running=len(self._running))
        self.scheduler.pause()  # no new runs; the running ones finish or are cancelled
        await self._drain()
        self.scheduler.shutdown(wait=False)
        self.status.stopped_at = self.clock()
        self._save()
        event(self.logger, "daemon stopped")

    def _enabled(self) -> list[str]:
        return [name for name, source in self.config.sources.items() if source.enabled]

    def _schedule(self) -> None:
        now = utc_now()
        for name, source in self.config.sources.items():
            self.status.sources[name] = carried(self.before, name, source)
            if not source.enabled:
                continue
            self.scheduler.add_job(
                self._job,
                trigger(source, f"sources.{name}.interval"),
                args=[name],
                id=name,
                name=name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, int(self.config.misfire_grace)),
                next_run_time=now,  # first run at start, then on schedule
            )

    async def _job(self, name: str) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self.stopping:  # submitted just before the stop: it does not start
            return
        self._running.add(task)
        state = self.status.sources[name]
        state.running, state.last_run, state.runs = True, self.clock(), state.runs + 1
        self._save()
        event(self.logger, "sync started", source=name)
        try:
            await self._sync(name, state)
        except asyncio.CancelledError:
            if not self.stopping:
                raise
            # The stop cancelled it, as meant: not a failure, and not an error for
            # APScheduler to log (it logs whatever a job raises, this too).
            task.uncancel()
            state.last_error = STOPPED
            event(self.logger, "sync cancelled", source=name, reason="the daemon is stopping")
        finally:
            state.running = False
            self._running.discard(task)
            self._save()

    async def _sync(self, name: str, state: SourceStatus) -> None:
        source = self.config.sources[name]
        options = SyncOptions(source.absence_runs, source.max_delist_share)
        settings = HttpSettings(
            timeout=source.timeout,
            concurrency=source.concurrency,
            max_body=int(source.max_body_mb * 2**20),
        )
        run = SourceRun(SOURCES[name], source.base_url, tuple(source.markets or ()) or None)
        try:
            (report,) = await self.syncer.with_options(options).run([run], settings)
        except Exception as exc:  # a source must never take the daemon down
            state.failures += 1
            state.last_error = f"{type(exc).__name__}: {exc}"
            event(self.logger, "sync crashed", logging.ERROR, source=name, error=state.last_error)
            return
        if report.ok:
            state.last_success, state.last_error = self.clock(), None
            state.last_appended = report.appended
            state.appended_total += report.appended
            state.last_rejected, state.rejections = report.rejected, report.rejections
            if report.appended:
                self.anchor.witness_last(self.logger, name)
            event(
                self.logger,
                "sync done",
                source=name,
                appended=report.appended,
                rejected=report.rejected,
                seconds=round(report.seconds, 3),
            )
        else:
            state.failures += 1
            state.last_error = f"{report.error_kind}: {report.error}"
            event(self.logger, "sync failed", logging.WARNING, source=name, error=state.last_error)

    async def _drain(self) -> None:
        """Wait for running syncs up to `stop_timeout`, then cancel those still fetching."""
        if not self._running:
            return
        _, pending = await asyncio.wait(set(self._running), timeout=self.config.stop_timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=self.config.stop_timeout)

    def _save(self) -> None:
        for name in self.status.sources:
            job = self.scheduler.get_job(name) if self.scheduler.running else None
            self.status.sources[name].next_run = getattr(job, "next_run_time", None)
        status_store.write(self.config.root, self.status)
