"""The last audit of the served root: run in its own thread, never in a request.

`GET /audit` answers the latest finished audit (`connectors.catalog_audit`, the report
`catalog audit --json` prints) with when it ran and which Delta version of the log it
saw. The first request waits for the first audit; later ones answer the last at once, and
one older than `every` seconds starts a new audit in the background if the log has moved
on since (the answer after that one is the new one).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from connectors.catalog_audit import audit_catalog
from connectors.cli.audit import report_json
from eventstore import EventLog

Summary = dict[str, Any]


class AuditKeeper:
    """Audits of one root, one at a time, the last one kept."""

    def __init__(self, root: str, every: float) -> None:
        """Audit `root` when asked, at most every `every` seconds."""
        self.root = root
        self.every = every
        self._lock = threading.Lock()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="audit")
        self._last: Summary | None = None
        self._checked = 0.0  # monotonic time the last audit was started or found current
        self._running: Future[Summary] | None = None

    def summary(self) -> Future[Summary]:
        """Return the last audit's summary, or the running first one."""
        with self._lock:
            due = time.monotonic() - self._checked >= self.every
            if self._running is None and (self._last is None or due):
                self._checked = time.monotonic()
                self._running = self._thread.submit(self._audit)
            if self._last is not None:
                done: Future[Summary] = Future()
                done.set_result(self._last)
                return done
            assert self._running is not None
            return self._running

    def _audit(self) -> Summary:
        try:
            version = EventLog.open(self.root).refresh()
            last = self._last
            if last is not None and last["log_version"] == version:
                return last
            started = datetime.now(UTC)
            run = audit_catalog(self.root)
            found = {"audited_at": started, "log_version": version, **report_json(run)}
            with self._lock:
                self._last = found
            return found
        finally:
            with self._lock:
                self._running = None

    def close(self) -> None:
        """Let a running audit finish; start no other."""
        self._thread.shutdown(wait=True)


__all__ = ["AuditKeeper", "Summary"]
