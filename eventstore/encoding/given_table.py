"""Events given as an Arrow table: checked, brought to the log's columns, canonically encoded.

A caller's table holds the log's own columns (`eventstore.encoding.schema`) without those
the log assigns (`event_id recorded_at position stream_version prev_hash hash`;
`schema_version` may be given, and must then be this package's). Required: `kind
instrument_id symbol effective_at source fields`; a payload column or `observed_at` left
out reads as null. Every row must be an event `Event`'s constructor would accept: the
audit's row-shape checks find the suspects, and the first one is decoded to say why it is
refused. The canonical payloads are built with the audit's Arrow string kernels
(`eventstore.encoding.canonical_text`), byte for byte what `codec.payload_bytes` encodes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.canonical_text import kind_codes, payloads
from eventstore.encoding.codec import decode_row
from eventstore.encoding.given_columns import GIVEN, given_columns
from eventstore.encoding.hashing import id_columns
from eventstore.encoding.json_text import whole
from eventstore.encoding.row_shape import named_columns, shape_problems, suspects
from eventstore.encoding.schema import (
    LOG_ASSIGNED,
    PAYLOAD_COLUMNS,
)
from eventstore.encoding.table import Envelope, PlannedEvents, to_table
from eventstore.errors import CorruptEventError, InvalidEventError
from eventstore.model.kinds import KIND_NAMES, KINDS, Kind, Layout

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eventstore.model.events import Event

_PAYLOAD_NAMES: Final = pa.array(PAYLOAD_COLUMNS, pa.string())
#: Stand-ins for the envelope, so that a refused row decodes far enough to say why.
_STAND_IN: Final = {
    "position": None,
    "event_id": "",
    "recorded_at": None,
    "stream_version": 0,
    "prev_hash": "",
    "hash": "",
}


#: Rows encoded at a time (one thread builds a chunk's text while another hashes).
CHUNK_ROWS: Final = 100_000


def chunk_rows(size: int) -> int:
    """Return the rows encoded at a time in a table of `size` rows: `CHUNK_ROWS`, or an
    eighth of a smaller table (at least 12,500 rows), so that the threads overlap."""
    return max(1, min(CHUNK_ROWS, max(12_500, -(-size // 8))))


@dataclass(frozen=True)
class GivenEvents:
    """A checked table of new events in the log's columns, with their canonical form."""

    rows: pa.Table  # the `GIVEN` columns, `fields` in canonical order
    kinds: np.ndarray  # kind codes (indices into `KINDS`)
    payloads: pa.Array  # binary canonical payloads
    ids: pa.Array  # the event ids, as text
    keys: np.ndarray  # their 64-bit index keys (`eventstore.log.tail.id_key`)


def given_events(table: pa.Table) -> GivenEvents:
    """Return `table` checked and encoded, or raise a one-line `InvalidEventError`."""
    if not isinstance(table, pa.Table):
        raise InvalidEventError(f"expected a pyarrow Table, got a {type(table).__name__}")
    rows = given_columns(table)
    kinds = kind_codes(whole(rows["kind"]))
    if (kinds < 0).any():
        row = int(np.flatnonzero(kinds < 0)[0])
        name = rows["kind"][row].as_py()
        known = ", ".join(KIND_NAMES)
        raise InvalidEventError(f"row {row}: unknown kind {name!r}; known: {known}", field="kind")
    named = named_columns(rows)
    return _encoded(rows, kinds, named)


def _checked_fields(rows: pa.Table, kinds: np.ndarray, named: np.ndarray) -> pa.ChunkedArray:
    """Refuse the table if a row is no event; return its `fields` in canonical order."""
    _refuse_suspects(rows, kinds, named)
    if _in_canonical_order(rows["fields"], kinds):
        return rows["fields"]
    return pa.chunked_array([_canonical_fields(kinds, named)])


def _encoded(rows: pa.Table, kinds: np.ndarray, named: np.ndarray) -> GivenEvents:
    """Return `rows` checked, with their canonical payloads, ids and keys.

    Two threads check the rows and build the payloads a chunk at a time with Arrow
    kernels and NumPy (which let go of the interpreter) while this one hashes each chunk
    as it is ready: on two cores, the column work takes whatever this thread leaves. A
    refused row raises its own error, even when a payload could not be built.
    """
    size = rows.num_rows
    step = chunk_rows(size)
    parts: list[tuple[pa.Array, np.ndarray, pa.Array]] = []
    failed: Exception | None = None
    with ThreadPoolExecutor(max_workers=2) as pool:
        fields = pool.submit(_checked_fields, rows, kinds, named)
        chunks = [
            pool.submit(
                _payloads,
                rows.slice(lo, step),
                kinds[lo : lo + step],
                named[lo : lo + step],
            )
            for lo in range(0, size, step)
        ]
        for chunk in chunks:
            try:
                payload = chunk.result()
            except Exception as exc:  # the checks say why, if they can
                failed = failed or exc
                continue
            if failed is None:
                keys, ids = id_columns(payload)
                parts.append((payload, keys, ids))
        rows = rows.set_column(GIVEN.index("fields"), "fields", fields.result())
    if failed is not None:
        raise failed
    if not parts:
        empty = pa.array([], pa.large_binary())
        return GivenEvents(rows, kinds, empty, pa.array([], pa.string()), np.empty(0, np.uint64))
    return GivenEvents(
        rows,
        kinds,
        pa.concat_arrays([p for p, _, _ in parts]),
        pa.concat_arrays([i for _, _, i in parts]),
        np.concatenate([k for _, k, _ in parts]),
    )


def _payloads(rows: pa.Table, kinds: np.ndarray, named: np.ndarray) -> pa.Array:
    return payloads(rows, kinds, named).cast(pa.large_binary())


def events_table(events: Sequence[Event]) -> pa.Table:
    """Return events not yet recorded as a table `append_table` takes, in input order."""
    kinds = [type(event) for event in events]
    code = {kind: at for at, kind in enumerate(dict.fromkeys(kinds))}
    codes = np.fromiter(map(code.__getitem__, kinds), np.int64, len(kinds))
    grouped = np.argsort(codes, kind="stable")  # the order of to_table's rows: kind by kind
    back = np.empty(len(kinds), np.int64)
    back[grouped] = np.arange(len(kinds))
    table = to_table(PlannedEvents(list(events), Envelope.blank(len(events))))
    table = table.drop_columns([name for name in LOG_ASSIGNED if name in table.column_names])
    return table if len(code) < 2 else table.take(pa.array(back))


def _refuse_suspects(rows: pa.Table, kinds: np.ndarray, named: np.ndarray) -> None:
    """Raise for the first row an event's constructor would refuse, saying why."""
    flagged = suspects(rows, kinds).tolist()
    for row in flagged:
        _decode(rows, row)  # raises with the constructor's own words
    _refuse_unknown_names(whole(rows["fields"]))
    problems = shape_problems(rows, kinds, named)
    if problems:
        row = min(problems)
        raise InvalidEventError(f"row {row}: {problems[row]}", field="fields")
    if flagged:  # a suspect that decodes: the check was stricter than the constructor
        raise InvalidEventError(f"row {flagged[0]}: blank text where a value is required")


def _refuse_unknown_names(fields: pa.Array) -> None:
    """Raise if a `fields` list names something that is no payload column (`symbol`, say)."""
    names = pc.list_flatten(fields)
    known = pc.is_in(names, value_set=pa.array(PAYLOAD_COLUMNS)).to_numpy(zero_copy_only=False)
    if not known.all():
        at = int(np.flatnonzero(~known)[0])
        row = int(pc.list_parent_indices(fields)[at].as_py())
        raise InvalidEventError(
            f"row {row}: its fields list names {names[at].as_py()!r}, which no event sets "
            "(identity moves through its own events)",
            field="fields",
        )


def _decode(rows: pa.Table, row: int) -> None:
    values: dict[str, Any] = rows.slice(row, 1).to_pylist()[0]
    values.update(_STAND_IN)
    values["recorded_at"] = values["effective_at"]
    try:
        decode_row(values)
    except CorruptEventError as exc:
        reason = exc.reason.removeprefix("invalid event: ")
        raise InvalidEventError(f"row {row}: {reason}") from None


def _canonical_order(kind: Kind) -> list[str]:
    """Return the names a `fields` list of `kind` may hold, in the order `to_table` writes."""
    return sorted(kind.optional) if kind.layout is Layout.CHANGES else list(kind.optional)


#: Per kind code and payload column, the column's place in the kind's canonical order of
#: `fields` (-1: a name the kind's lists never hold).
_RANKS: Final = np.full((len(KINDS), len(PAYLOAD_COLUMNS)), -1, np.int64)
for _code, _kind in enumerate(KINDS):
    for _rank, _name in enumerate(_canonical_order(_kind)):
        _RANKS[_code, PAYLOAD_COLUMNS.index(_name)] = _rank


def _in_canonical_order(fields: pa.ChunkedArray, kinds: np.ndarray) -> bool:
    """Return whether every `fields` list is already as `to_table` writes it (the usual
    table, made from events or by a writer that knows the order)."""
    lists = whole(fields)
    names = pc.index_in(pc.list_flatten(lists), value_set=_PAYLOAD_NAMES)
    if names.null_count:
        return False
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    ranks = _RANKS[kinds[parents], np.asarray(names.to_numpy(), dtype=np.int64)]
    same_row = parents[1:] == parents[:-1]
    return bool((ranks >= 0).all() and not (same_row & (ranks[1:] <= ranks[:-1])).any())


def _canonical_fields(kinds: np.ndarray, named: np.ndarray) -> pa.Array:
    """Return each row's `fields` list as `to_table` writes it: a change's names sorted, a
    listing's in the order of its kind's fields (each name once).

    `named` says only names of the row kind's optional fields (the shape checks refused
    any other)."""
    size = len(kinds)
    counts = named.sum(axis=1)
    offsets = np.zeros(size + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    flat = np.empty(int(offsets[-1]), np.int32)  # payload column numbers
    for code, kind in enumerate(KINDS):
        mine = np.flatnonzero(kinds == code)
        if not len(mine) or not counts[mine].any():
            continue
        wanted = _canonical_order(kind)
        columns = np.asarray([PAYLOAD_COLUMNS.index(n) for n in wanted], np.int64)
        at_row, at_col = np.nonzero(named[mine][:, columns])  # row by row, in `wanted` order
        mine_counts = counts[mine]
        rank = np.arange(len(at_row)) - np.repeat(np.cumsum(mine_counts) - mine_counts, mine_counts)
        flat[offsets[mine][at_row] + rank] = columns[at_col]
    names = _PAYLOAD_NAMES.take(pa.array(flat))
    return pa.ListArray.from_arrays(pa.array(offsets), names)


__all__ = ["GivenEvents", "chunk_rows", "events_table", "given_events"]
