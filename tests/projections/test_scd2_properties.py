"""Round trip of the SCD2 interchange: importing an export reproduces the same answers.

Any history of the property generators is exported (`Catalog.scd2`), planned back into
events (`plan_symbols`, `plan_exchanges`) and appended to a fresh log; the new catalog must
answer `get`, `universe`, `history` and `exchanges` as the original does, except for
`known_since` and `recorded_since` (the import is observed and recorded when it runs).
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

from builders import day
from clock import Clock
from hypothesis import given, settings
from profiles import examples
from test_properties import AS_OF, HISTORIES, SYMBOLS, Recorder

from eventstore import EventLog
from projections import Catalog
from projections.scd2.exchanges import plan_exchanges
from projections.scd2.symbols import plan_symbols

if TYPE_CHECKING:
    from datetime import timedelta

    import pyarrow as pa
    from test_properties import Operation

    from projections import Instrument

#: What an import does not keep: when the answer was observed and recorded.
_WHEN = ("known_since", "recorded_since")


def comparable(found: Instrument | None) -> Any:
    """Return an answer without `known_since` and `recorded_since`, which an import cannot
    keep."""
    if found is None:
        return None
    return {name: getattr(found, name) for name in found.__struct_fields__ if name not in _WHEN}


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """Return the rows of a version table without `known_since`, in a stable order."""
    kept = table.drop_columns(list(_WHEN)).to_pylist()
    return sorted(kept, key=lambda r: (r["instrument_id"], r["valid_from"]))


def reimported(catalog: Catalog, root: str) -> Catalog:
    """Return a catalog over a fresh log holding the import of `catalog`'s export."""
    symbols, exchanges = catalog.scd2()
    plan = plan_symbols(symbols)
    exchange_plan = plan_exchanges(exchanges)
    # the generators let two instruments hold one symbol at once: reported, imported as is
    assert {d.kind for d in plan.defects} <= {"duplicate_active"}
    assert exchange_plan.defects == []
    log = EventLog.open(root, clock=Clock(day(100)))
    if plan.events or exchange_plan.events:
        log.append([*exchange_plan.events, *plan.events])
    return Catalog.open(root)


@settings(max_examples=examples(40), deadline=None)
@given(history=HISTORIES)
def test_importing_an_export_reproduces_every_answer(
    history: list[tuple[timedelta, list[Operation]]],
) -> None:
    """get, universe, history and exchanges of the import equal the original's at every instant."""
    with tempfile.TemporaryDirectory() as root, tempfile.TemporaryDirectory() as copy:
        clock = Clock(day(0, 1))
        recorder = Recorder(EventLog.open(root, clock=clock), clock)
        for gap, operations in history:
            recorder.append(gap, operations)
        original = Catalog.open(root)
        imported = reimported(original, copy)
        for at in AS_OF:
            for symbol in SYMBOLS:
                want = comparable(original.get(symbol, at))
                assert comparable(imported.get(symbol, at)) == want, (symbol, at)
            assert rows(imported.universe(at, include_inactive=True)) == rows(
                original.universe(at, include_inactive=True)
            )
            want_exchanges = {k: comparable_exchange(v) for k, v in original.exchanges(at).items()}
            got_exchanges = {k: comparable_exchange(v) for k, v in imported.exchanges(at).items()}
            assert got_exchanges == want_exchanges
        streams = {e.instrument_id for e in recorder.recorded} - {"exchange:X", "exchange:Y"}
        for instrument_id in streams:
            if original.history(instrument_id).num_rows:
                assert rows(imported.history(instrument_id)) == rows(
                    original.history(instrument_id)
                )


def comparable_exchange(found: Any) -> Any:
    """Return an exchange without `known_since`."""
    return {name: getattr(found, name) for name in found.__struct_fields__ if name not in _WHEN}
