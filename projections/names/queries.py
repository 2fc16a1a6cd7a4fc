"""What the catalog answers about names: `NameQueries`, which `Catalog` composes.

`resolve` (a name in a scheme at T -> the instrument id), `names` (an instrument's name in
every scheme at T), `symbols` (its TradingView symbols over time), `holders` (every
instrument that ever held a symbol, with the intervals) and `instrument` (a version by id).
Each honours `known_at` and `recorded_by` exactly as `Catalog.get` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from eventstore.model.instants import to_micros, to_utc
from projections.knowledge import Knowledge
from projections.names import lookup
from projections.pinning import one_version

if TYPE_CHECKING:
    import pyarrow as pa

    from eventstore import EventLog
    from projections.index.known_view import View
    from projections.index.live import PitIndex
    from projections.model import Instrument
    from projections.names.schemes import Name

#: `names` and `instrument` answer at this instant unless told: the latest version.
LATEST: Final = datetime(9999, 12, 31, tzinfo=UTC)


class NameQueries:
    """Names across schemes and time, over one catalog's index."""

    def __init__(self, log: EventLog, index: PitIndex) -> None:
        self.log = log
        self._index = index

    def _known_view(self, known_at: object, recorded_by: object) -> View:
        known = Knowledge.of(known_at, recorded_by)
        self._index.catch_up()
        return self._index.view(known)

    @one_version
    def resolve(
        self,
        name: str,
        as_of: object,
        scheme: str = "tradingview",
        exchange: str | None = None,
        *,
        known_at: object = None,
        recorded_by: object = None,
    ) -> str | None:
        """Return the id of the instrument that held `name` in `scheme` at `as_of`.

        `exchange` (as the scheme spells it: `binance` for ccxt, `binance-futures` for
        Tardis, `binance-usdm` for venue ids) is needed where names repeat across exchanges.
        None if the name was known but nobody held it then. An unknown name raises
        `UnknownNameError` suggesting the closest known ones; two active holders at once
        raise `AmbiguousNameError` naming both.
        """
        at = to_micros(to_utc(as_of, "as_of"))
        scheme = lookup.checked_scheme(scheme)
        view = self._known_view(known_at, recorded_by)
        return lookup.resolve(view, name, at, scheme, exchange)

    @one_version
    def names(
        self,
        instrument_id: str,
        as_of: object = None,
        *,
        known_at: object = None,
        recorded_by: object = None,
    ) -> dict[str, Name] | None:
        """Return the instrument's (exchange, name) in every scheme that names it at `as_of`
        (default: its latest version); None if it did not exist then."""
        at = to_micros(LATEST if as_of is None else to_utc(as_of, "as_of"))
        view = self._known_view(known_at, recorded_by)
        return lookup.names_at(view, instrument_id, at)

    @one_version
    def instrument(
        self,
        instrument_id: str,
        as_of: object,
        known_at: object = None,
        recorded_by: object = None,
    ) -> Instrument | None:
        """Return the instrument with this id as it was at `as_of` (None: not listed yet)."""
        at = to_micros(to_utc(as_of, "as_of"))
        view = self._known_view(known_at, recorded_by)
        return lookup.instrument_at(view, instrument_id, at)

    @one_version
    def symbols(
        self, instrument_id: str, *, known_at: object = None, recorded_by: object = None
    ) -> pa.Table:
        """Return the instrument's TradingView symbols over time (`symbol valid_from
        valid_until`, one row per run of versions under one symbol)."""
        return lookup.symbols(self._known_view(known_at, recorded_by), instrument_id)

    @one_version
    def holders(
        self, symbol: str, *, known_at: object = None, recorded_by: object = None
    ) -> pa.Table:
        """Return every instrument that ever held `symbol`: `instrument_id held_from
        held_until active`, one row per interval, oldest first (`held_until` null: still)."""
        return lookup.holders(self._known_view(known_at, recorded_by), symbol)
