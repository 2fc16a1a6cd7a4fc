"""Errors of the connectors: every failure of a source or a sync is one of these.

    ConnectorError
    ├── SourceError                  a source could not give a complete, valid snapshot
    │   ├── SourceUnavailableError   timeouts, connection errors, 5xx or 429 after every retry
    │   ├── SourceRejectedError      a 4xx answer, never retried
    │   │   └── SourceBannedError    Binance's 418: the IP is banned, stop at once
    │   ├── MalformedResponseError   not JSON, or JSON of the wrong shape, or a venue error code
    │   └── IncompleteSnapshotError  an interrupted pagination or an empty universe
    ├── DelistingGuardError          a snapshot would delist too many instruments at once
    ├── ReplayError                  a replay folder that cannot be served
    ├── NoCatalogError               a command reads a root that holds no catalog
    ├── UsageError                   the command line itself is wrong (exit status 2)
    ├── EventFileError               a file of events for `catalog append` is refused
    ├── ConfigError                  a daemon configuration that cannot be used
    └── LeaseError                   the writer lease cannot be taken or kept
        └── LeaseHeldError           another live process writes to the catalog

Third-party errors (aiohttp, msgspec) are wrapped here with `raise ... from exc`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from connectors.lease.writer import LeaseRecord


class ConnectorError(Exception):
    """Base of every error raised by `connectors`."""


class SourceError(ConnectorError):
    """A source could not give a complete, valid snapshot; nothing was appended for it."""

    def __init__(self, source: str, url: str, reason: str, status: int | None = None) -> None:
        """Say which source, which URL and which HTTP status (if any) failed, and why."""
        self.source = source
        self.url = url
        self.status = status
        self.reason = reason
        shown = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{source}: {url}{shown}: {reason}")


class SourceUnavailableError(SourceError):
    """The source did not answer usefully after every retry (timeouts, 5xx, 429)."""


class SourceRejectedError(SourceError):
    """The source answered with a 4xx status; retrying would not help."""


class SourceBannedError(SourceRejectedError):
    """Binance answered 418: this IP is banned for a while; every request stops."""


class MalformedResponseError(SourceError):
    """The body is not JSON, or not of the documented shape, or carries a venue error."""


class IncompleteSnapshotError(SourceError):
    """The snapshot is not complete (an interrupted pagination, an empty universe)."""


class DelistingGuardError(ConnectorError):
    """A snapshot would delist more than the allowed share of a venue's active instruments."""

    def __init__(self, source: str, market: str, delisting: int, active: int, limit: float) -> None:
        """Say how many would go, out of how many, and the limit."""
        self.source = source
        self.market = market
        self.delisting = delisting
        self.active = active
        self.limit = limit
        share = delisting / active if active else 1.0
        super().__init__(
            f"{source} ({market}): the snapshot would delist {delisting} of {active} active "
            f"instruments ({share:.1%}, limit {limit:.0%}); nothing was appended. "
            "If the venue really delisted them, run again with --force"
        )


class ReplayError(ConnectorError):
    """A replay folder is missing, empty or laid out wrongly."""

    def __init__(self, path: str, reason: str) -> None:
        """Say which folder and what is wrong with it."""
        self.path = path
        super().__init__(f"replay folder {path}: {reason}")


#: Where `make demo` writes its catalog, named when a root holds none.
DEMO_CATALOG = "data/demo-catalog"


class NoCatalogError(ConnectorError):
    """A read command was given a root that holds no catalog (a typo, the wrong default)."""

    def __init__(self, root: str) -> None:
        """Name the root, and where the demo's catalog is."""
        self.root = root
        super().__init__(
            f"no catalog at {root} (the demo's catalog is {DEMO_CATALOG}: "
            "pass --root or set CATALOG_ROOT)"
        )


class UsageError(ConnectorError):
    """The command line itself is wrong: an unknown option or source, a missing argument."""


class ConfigError(ConnectorError, ValueError):
    """The configuration file cannot be used; nothing was started."""

    def __init__(self, path: str, reason: str) -> None:
        """Say which file and what is wrong, naming the key."""
        self.path = path
        super().__init__(f"config {path}: {reason}")


class EventFileError(ConnectorError):
    """A JSON-lines file of events cannot be appended; nothing was appended."""

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        self.source = source
        self.reason = reason
        self.line = line
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {reason}")


class LeaseError(ConnectorError):
    """The writer lease could not be taken or kept; nothing was written."""


class LeaseHeldError(LeaseError):
    """Another live process holds the writer lease."""

    def __init__(self, path: Path, holder: LeaseRecord | None, detail: str = "") -> None:
        self.path = path
        self.holder = holder
        who = "another writer" if holder is None else holder.describe()
        super().__init__(
            f"the catalog is being written by {who}{detail}; lease {path}. Wait for it to "
            "finish; a lease left by a process that died is recovered automatically"
        )
