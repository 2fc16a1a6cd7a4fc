"""A first listing never predates a complete snapshot that lacked it, nor follows its own.

The real Binance USD-M recordings of 2021-09-06 13:13:38 and 2022-05-04 (copied into
`tests/fixtures/binance/`): FTTBUSD is not in the first, and its `onboardDate` in the second
says 2021-09-06 07:00, six hours before the first was observed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from test_sync_expiry import BACKFILL, EARLY, LATE, body, stream, sync

from connectors.sync.syncer import SyncOptions
from projections import Catalog

if TYPE_CHECKING:
    from pathlib import Path

FIRST = datetime(2021, 9, 6, 13, 13, 38, 759000, tzinfo=UTC)
ONBOARD = datetime(2021, 9, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize("absence_runs", [1, 2])
def test_a_listing_dated_before_a_snapshot_that_lacked_it_is_dated_just_after_it(
    tmp_path: Path, absence_runs: int
) -> None:
    """FTTBUSD is listed 1 µs after the 2021-09-06 snapshot, not at its onboardDate: it does
    not exist then. Replayed again, nothing is appended (at its onboardDate the first
    snapshot would count it absent, and with one absence delist and relist it)."""
    options = SyncOptions(max_delist_share=BACKFILL.max_delist_share, absence_runs=absence_runs)
    root = tmp_path / "lake"
    first = sync(root, body(EARLY), body(LATE), options=options)
    assert all(r.ok for r in first), [r.error for r in first]
    assert stream(root, "binance:usdm:FTTBUSD") == [
        ("InstrumentListed", FIRST + timedelta(microseconds=1))
    ]
    catalog = Catalog.open(root)
    assert catalog.get("BINANCE:FTTBUSD.P", FIRST) is None
    listed = catalog.get("BINANCE:FTTBUSD.P", FIRST + timedelta(microseconds=1))
    assert listed is not None
    assert listed.active
    assert listed.listed_at == ONBOARD  # the venue's own field stays what it said
    # A listing time after the earlier snapshot stands: DYDXUSDT's onboardDate.
    assert stream(root, "binance:usdm:DYDXUSDT")[0] == (
        "InstrumentListed",
        datetime(2021, 9, 9, 7, tzinfo=UTC),
    )
    again = sync(root, body(EARLY), body(LATE), options=options)
    assert [r.appended for r in again] == [0, 0]


def test_a_future_listing_time_is_dated_at_the_observation(tmp_path: Path) -> None:
    """Derived: YFIIUSDT's onboardDate set three days after the snapshot (as on a pre-open
    row). The listing is dated at the observation, the field keeps the venue's value."""
    later = FIRST + timedelta(days=3)
    root = tmp_path / "lake"
    sync(root, body(EARLY, YFIIUSDT={"onboardDate": int(later.timestamp() * 1000)}))
    assert stream(root, "binance:usdm:YFIIUSDT") == [("InstrumentListed", FIRST)]
    listed = Catalog.open(root).get("BINANCE:YFIIUSDT.P", FIRST)
    assert listed is not None
    assert listed.listed_at == later
