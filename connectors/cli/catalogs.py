"""The catalog a command reads: a root that holds none is an error, never an empty answer.

A typo in `--root`, or the default `data/lakehouse` when the demo wrote `data/demo-catalog`,
would otherwise answer "not listed" and 0 rows with exit status 0.
"""

from __future__ import annotations

from connectors.errors import NoCatalogError
from eventstore import EventLog
from projections import Catalog


def existing_log(root: str) -> EventLog:
    """Return the log under `root`; raise `NoCatalogError` if it has never been written."""
    log = EventLog.open(root)
    if log.refresh() < 0:
        raise NoCatalogError(log.root)
    return log


def existing_catalog(root: str) -> Catalog:
    """Return the catalog under `root`; raise `NoCatalogError` if there is none."""
    return Catalog(existing_log(root))
