"""Fixtures for the projection tests: a log under a temporary root with a settable clock."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from clock import Clock
from s3_server import S3, serve

from eventstore import EventLog
from projections import Catalog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Return the lakehouse root of one test; it holds nothing yet."""
    return tmp_path / "lake"


@pytest.fixture
def clock() -> Clock:
    """Return the clock that stamps `recorded_at` on appends through `log`."""
    return Clock()


@pytest.fixture
def log(root: Path, clock: Clock) -> EventLog:
    """Return the event log under `root`, recording at whatever `clock` says."""
    return EventLog.open(root, clock=clock)


@pytest.fixture
def catalog(root: Path) -> Catalog:
    """Return a catalog over `root`, opened before anything is appended."""
    return Catalog.open(root)


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """Serve S3 with moto on loopback for the whole session."""
    with serve() as bucket:
        yield bucket
