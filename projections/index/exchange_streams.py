"""`ExchangeStreams`: the exchange streams' events, kept aside from the instrument index.

Exchanges are few and their events rare, so the index keeps them as whole log rows (their
retractions too) and decodes them again only when rows are added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.codec import from_table
from eventstore.encoding.schema import SCHEMA
from eventstore.model.events import exchange_stream
from eventstore.model.kinds import RETRACTION
from projections.index.encoding import EXCHANGE_KINDS

if TYPE_CHECKING:
    from eventstore import EventLog
    from eventstore.model.events import Event


class ExchangeStreams:
    """The exchange streams' rows of a log, and their events decoded."""

    def __init__(self, rows: pa.Table | None = None) -> None:
        """Hold `rows` (whole log rows of exchange streams; none by default)."""
        self.rows = SCHEMA.empty_table() if rows is None else rows
        self._decoded: tuple[pa.Table | None, list[Event]] = (None, [])

    @property
    def events(self) -> list[Event]:
        """Return the exchange events: `rows` decoded (again only when they change)."""
        rows = self.rows
        if self._decoded[0] is not rows:  # a table is immutable: a new one means new rows
            self._decoded = (rows, from_table(rows))
        return self._decoded[1]

    def take(self, rows: pa.Table, log: EventLog) -> None:
        """Keep the events of exchange streams among `rows`, retractions of them included,
        read whole from `log`."""
        retraction = pc.and_(
            pc.equal(rows["kind"], RETRACTION),
            pc.starts_with(rows["instrument_id"], exchange_stream("")),
        )
        exchanges = rows.filter(
            pc.or_(pc.is_in(rows["kind"], value_set=EXCHANGE_KINDS), retraction)
        )
        if exchanges.num_rows:
            positions = exchanges["position"]
            since, until = pc.min(positions).as_py(), pc.max(positions).as_py() + 1
            wanted = pc.field("position").isin(positions)
            full = log.read(since=since, until=until, where=wanted)
            self.rows = pa.concat_tables([self.rows, full], promote_options="permissive")
