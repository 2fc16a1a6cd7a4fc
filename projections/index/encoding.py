"""Turn log rows into `EventArrays`: dictionary-coded values, integer times, kind codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.schema import TIMESTAMP
from eventstore.model.events import (
    Event,
    InstrumentChanged,
    InstrumentDelisted,
    InstrumentListed,
    InstrumentRenamed,
)
from eventstore.model.kinds import KINDS, Subject, names_of
from projections.index.fold_arrays import (
    CHANGED,
    COLUMN_FIELDS,
    DELISTED,
    LISTED,
    RENAMED,
    STORE_FIELDS,
    WITHDRAWN,
    EventArrays,
    Setters,
    has_role,
)
from projections.model import VERSION_SCHEMA

if TYPE_CHECKING:
    from projections.index.dictionary import Dictionary
    from projections.index.version_store import VersionStore
    from projections.knowledge import Knowledge

#: Log columns the index reads.
BUILD_COLUMNS: Final = (
    "position",
    "event_id",
    "kind",
    "instrument_id",
    "symbol",
    "new_symbol",
    "effective_at",
    "observed_at",
    "recorded_at",
    "fields",
    "target",
    *COLUMN_FIELDS,
)
#: The kinds an instrument's versions are folded from.
INSTRUMENT_KINDS: Final = pa.array(names_of(Subject.INSTRUMENT))
#: The kinds of an exchange's stream.
EXCHANGE_KINDS: Final = pa.array(names_of(Subject.EXCHANGE))
#: The kinds that withdraw another event.
RETRACTION_KINDS: Final = pa.array(names_of(Subject.EVENT))
#: The fold's code of every instrument kind: a kind missing here fails at import.
_CODES: Final[dict[type[Event], int]] = {
    InstrumentListed: LISTED,
    InstrumentChanged: CHANGED,
    InstrumentDelisted: DELISTED,
    InstrumentRenamed: RENAMED,
}
#: The fold's code of each of `INSTRUMENT_KINDS`, in its order.
_KIND_CODES: Final = tuple(_CODES[kind.cls] for kind in KINDS if kind.subject is Subject.INSTRUMENT)
_FIELD_NAMES: Final = pa.array(STORE_FIELDS)


def field_types() -> dict[str, pa.DataType]:
    """Return the Arrow type of each stored field."""
    return {f: VERSION_SCHEMA.field(f).type for f in STORE_FIELDS}


def visible_rows(rows: pa.Table, known: Knowledge, targets: pa.Array | None = None) -> pa.Table:
    """Return the instrument events `known` admits, less retractions and their targets.

    `targets` are the retracted event ids when `rows` is not the whole history.
    """
    rows = known.admitted(rows)
    if targets is None:
        retractions = rows.filter(pc.is_in(rows["kind"], value_set=RETRACTION_KINDS))
        targets = retractions["target"].combine_chunks()
    keep = pc.is_in(rows["kind"], value_set=INSTRUMENT_KINDS)
    if len(targets):
        withdrawn = pc.is_in(rows["event_id"], value_set=targets)
        keep = pc.and_(keep, pc.invert(withdrawn))
    return rows.filter(keep)


def _setting_rows(fields: pa.ChunkedArray | pa.Array) -> dict[str, np.ndarray]:
    """Return, per stored field, the rows whose `fields` list names it."""
    if isinstance(fields, pa.ChunkedArray):
        fields = fields.combine_chunks()
    flat = pc.list_flatten(fields)
    parents = np.asarray(pc.list_parent_indices(fields).to_numpy(), dtype=np.int64)
    names = np.asarray(pc.index_in(flat, value_set=_FIELD_NAMES).to_numpy(False), dtype=np.float64)
    found: dict[str, np.ndarray] = {}
    for number, name in enumerate(STORE_FIELDS):
        found[name] = parents[names == number]
    return found


def encode_events(
    rows: pa.Table, instruments: Dictionary, dictionaries: dict[str, Dictionary]
) -> EventArrays:
    """Return visible instrument event rows as `EventArrays` coded with the dictionaries."""
    kinds = pc.index_in(rows["kind"], value_set=INSTRUMENT_KINDS)
    kind = np.asarray(kinds.to_numpy(False), np.int8)
    kind = np.asarray(_KIND_CODES, dtype=np.int8)[kind]
    setting = _setting_rows(rows["fields"])
    setting["symbol"] = np.flatnonzero(has_role(kind, "sets_symbol"))
    status_rows = np.union1d(setting["status"], np.flatnonzero(has_role(kind, "sets_status")))
    setting["status"] = status_rows
    renamed = pa.array(kind == RENAMED)
    symbols = pc.if_else(renamed, rows["new_symbol"], rows["symbol"])
    setters = {"symbol": _coded(dictionaries["symbol"], symbols, setting["symbol"])}
    for name in COLUMN_FIELDS:
        setters[name] = _coded(dictionaries[name], rows[name], setting[name])
    return EventArrays(
        inst=instruments.encode(rows["instrument_id"]),
        eff=_micros(rows["effective_at"]),
        pos=_int64(rows["position"]),
        obs=_micros(rows["observed_at"]),
        rec=_micros(rows["recorded_at"]),
        kind=kind,
        active=kind == LISTED,
        setters=setters,
    )


def withdrawals(
    rows: pa.Table,
    known: Knowledge,
    instruments: Dictionary,
    targets: pa.Table | None = None,
) -> EventArrays | None:
    """Return a marker for each retraction in `rows` that `known` admits, or None.

    A marker sets nothing; it stands where the retracted event stood in the fold, observed
    and recorded when the retraction was, so the answers from there on are known only
    since then. `targets` holds the retracted events' rows when `rows` does not.
    """
    retractions = known.admitted(rows.filter(pc.is_in(rows["kind"], value_set=RETRACTION_KINDS)))
    if retractions.num_rows == 0:
        return None
    # a retraction of an event not yet known withdraws nothing: no marker
    source = known.admitted(rows) if targets is None else targets
    at = pc.index_in(retractions["target"], value_set=source["event_id"].combine_chunks())
    retractions, at = retractions.filter(pc.is_valid(at)), at.filter(pc.is_valid(at))
    size = retractions.num_rows
    return EventArrays(
        inst=instruments.encode(retractions["instrument_id"]),
        eff=_micros(source["effective_at"].take(at)),
        pos=_int64(source["position"].take(at)),
        obs=_micros(retractions["observed_at"]),
        rec=_micros(retractions["recorded_at"]),
        kind=np.full(size, WITHDRAWN, dtype=np.int8),
        active=np.zeros(size, dtype=bool),
        setters={name: Setters.empty() for name in STORE_FIELDS},
    )


def _coded(dictionary: Dictionary, column: pa.ChunkedArray, rows: np.ndarray) -> Setters:
    if not len(rows):
        return Setters.empty()
    return Setters(rows, dictionary.encode(column.take(pa.array(rows))))


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    return _int64(column.cast(TIMESTAMP).cast(pa.int64()))


def _int64(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(column.to_numpy(), dtype=np.int64)


def stream_events(rows: pa.Table, known: Knowledge, store: VersionStore) -> EventArrays:
    """Return what the fold takes from `rows` (whole streams) as `known` sees them."""
    visible = visible_rows(rows, known)
    events = encode_events(visible, store.instruments, store.dictionaries)
    markers = withdrawals(rows, known, store.instruments)
    return events if markers is None else EventArrays.concat([events, markers])
