"""Canonical payloads and chain-link texts of stored rows, built column by column.

The audit recomputes every event's id and hash; decoding ten million rows into Structs to
encode them again would take minutes. This module writes the same bytes as
`codec.payload_bytes(decode_row(row))` with Arrow string kernels instead: one JSON fragment
per key (`"key":value`, null when the key is omitted), joined in sorted key order.
Values Arrow cannot spell like msgspec (strings that need escapes, decimals in exponent
form) are encoded by msgspec one by one. A row whose text is wrong here only costs a slower
second look (the audit decodes it before reporting anything), never a false report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, assert_never

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from eventstore.encoding.json_text import (
    FEW_VALUES,
    TEXT,
    coded,
    join,
    json_values,
    rfc3339_column,
    scalar,
    whole,
)
from eventstore.encoding.schema import PAYLOAD_COLUMNS
from eventstore.model.kinds import BY_NAME, KIND_NAMES, Kind, Layout

_ENVELOPE: Final = ("effective_at", "instrument_id", "kind", "source", "symbol")
#: Known kinds, in code order; a row's kind code is its index here (-1: unknown).
KINDS: Final = KIND_NAMES
_COLUMN: Final = {name: at for at, name in enumerate(PAYLOAD_COLUMNS)}
#: The first key, in sorted order, that every payload holds.
_FIRST: Final = "effective_at"
_LONG: Final = pa.large_string()
#: Join options under which an absent fragment (a null) adds nothing.
_NULL_IS_EMPTY: Final = {"null_handling": "replace", "null_replacement": ""}


def kind_codes(kinds: pa.Array) -> np.ndarray:
    """Return each row's kind code (an index into `KINDS`, -1 for an unknown kind)."""
    found = pc.index_in(kinds, value_set=pa.array(KINDS, TEXT))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int8)


def _fragment(key: str, column: pa.Array, present: np.ndarray, sep: tuple[str, str]) -> pa.Array:
    """Return `"key":value` between the separators `sep` where `present` holds, else null
    (a null value reads `null`)."""
    before, after = sep
    head = f'{before}"{key}":'
    if key in FEW_VALUES:
        return coded(head, column, present, after)
    fragment = json_values(key, column, head, after)
    valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if (present & ~valid).any():  # an explicit null in a change
        fragment = pc.if_else(pa.array(valid), fragment, scalar(f"{head}null{after}"))
    if np.array_equal(present, valid):
        return fragment
    return pc.if_else(pa.array(present), fragment, None)


def mentioned(fields: pa.Array | pa.ChunkedArray, names: tuple[str, ...]) -> np.ndarray:
    """Return a (rows, names) matrix: whether each row's `fields` list names each name."""
    if isinstance(fields, pa.ChunkedArray):
        fields = whole(fields)
    found = np.zeros((len(fields), len(names) + 1), dtype=bool)
    codes = pc.index_in(pc.list_flatten(fields), value_set=pa.array(names, TEXT))
    column = np.asarray(codes.fill_null(len(names)).to_numpy(), dtype=np.int64)
    found[np.asarray(pc.list_parent_indices(fields).to_numpy(), dtype=np.int64), column] = True
    return found[:, :-1]


@dataclass
class _Rows:
    """Rows of one kind (where `mine` holds), and what each row's `fields` list names."""

    table: pa.Table
    kind: str
    mine: np.ndarray
    named: np.ndarray  # (rows, payload columns)

    def column(self, name: str) -> pa.Array:
        return whole(self.table[name])

    def valid(self, name: str) -> np.ndarray:
        return np.asarray(self.table[name].is_valid().to_numpy(zero_copy_only=False), dtype=bool)

    def present(self, key: str) -> np.ndarray:
        """Return where the canonical encoding of a row holds top-level `key`."""
        kind = BY_NAME[self.kind]
        found = self.mine.copy()
        if key in kind.optional:
            found &= self.named[:, _COLUMN[key]]
        if _has_column(kind, key):
            found &= self.valid(key)
        if key in kind.defaults:  # a default is omitted
            default = pc.equal(self.column(key), kind.defaults[key]).fill_null(False)
            found &= ~np.asarray(default.to_numpy(zero_copy_only=False), dtype=bool)
        return found


def _has_column(kind: Kind, key: str) -> bool:
    """Return whether top-level `key` of a `kind` payload is one column (not a mapping)."""
    match kind.layout:
        case Layout.ATTRIBUTES:
            return True
        case Layout.CHANGES:
            return key not in kind.attributes
        case _ as unreachable:
            assert_never(unreachable)


def _join_present(fragments: list[pa.Array]) -> pa.Array:
    """Join the fragments present in each row with commas ("" when none is).

    Arrow's "skip" drops a row whose values are all null from its answer instead of
    giving "", so such rows get an empty fragment of their own.
    """
    none = np.ones(len(fragments[0]), dtype=bool)
    for fragment in fragments:
        none &= np.asarray(fragment.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if none.any():
        guard = pc.if_else(pa.array(none), scalar(""), pa.scalar(None, TEXT))
        fragments = [*fragments, guard]
    return pc.binary_join_element_wise(*fragments, scalar(","), null_handling="skip")


def _mapping(rows: _Rows, key: str, sep: tuple[str, str]) -> pa.Array:
    """Return the `"key":{...}` fragment of change rows (their nulls are explicit)."""
    changed = rows.present(key)
    inner = []
    for name in sorted(BY_NAME[rows.kind].stored):
        flags = changed & rows.named[:, _COLUMN[name]]
        if flags.any():
            inner.append(_fragment(name, rows.column(name), flags, ("", "")))
    before, after = sep
    parts = [scalar(f'{before}"{key}":{{'), scalar(f"}}{after}")]
    if inner:
        parts.insert(1, _join_present(inner))
    joined = pc.binary_join_element_wise(*parts, scalar(""), **_NULL_IS_EMPTY)
    return joined if changed.all() else pc.if_else(pa.array(changed), joined, None)


def _of_kind(rows: _Rows) -> pa.Array:
    """Return the payload of each row of `rows.kind` (undefined on the other rows).

    One join of every key's fragment, each carrying its comma: a key before the first one
    every payload holds (`effective_at`) ends with one, a key after it starts with one, so
    that an absent key (a null, joined as nothing) leaves no stray comma.
    """
    kind = BY_NAME[rows.kind]
    keys = sorted((*_ENVELOPE, *kind.attributes))
    first = keys.index(_FIRST)
    fragments: list[pa.Array | pa.Scalar] = []
    for at, key in enumerate(keys):
        sep = ("," if at > first else "", "," if at < first else "")
        if key == "kind":  # the rows' own kind: the same text on every row
            fragments.append(scalar(f'{sep[0]}"kind":"{kind.name}"{sep[1]}'))
        elif not _has_column(kind, key):
            fragments.append(_mapping(rows, key, sep))
        elif (present := rows.present(key)).any():
            fragments.append(_fragment(key, rows.column(key), present, sep))
    return pc.binary_join_element_wise(
        scalar("{"), *fragments, scalar("}"), scalar(""), **_NULL_IS_EMPTY
    )


def payloads(table: pa.Table, kinds: np.ndarray, named: np.ndarray) -> pa.Array:
    """Return the canonical payload of each row, as `codec.payload_bytes` encodes its event.

    `kinds` are the rows' kind codes and `named` what their `fields` lists name (by payload
    column). Like `codec.decode_row`, a listing or an exchange event says only what its
    `fields` names; a change says exactly that, explicit nulls included. A row of an
    unknown kind gets null.

    Each kind joins only its own keys: the most common kind in place, the others on a copy
    of their few rows; one `take` puts every row in its place.
    """
    size = table.num_rows
    parts: list[pa.Array] = []
    at = np.full(size, -1, dtype=np.int64)  # per row, its payload in the parts, joined
    done = 0
    for code, kind in enumerate(KINDS):
        mine = kinds == code
        count = int(mine.sum())
        if count * 2 > size:
            parts.append(_of_kind(_Rows(table, kind, mine, named)))
            at[mine] = done + np.flatnonzero(mine)
            done += size
        elif count:
            rows = np.flatnonzero(mine)
            few = _Rows(table.take(pa.array(rows)), kind, np.ones(count, bool), named[rows])
            parts.append(_of_kind(few))
            at[rows] = done + np.arange(count)
            done += count
    if not parts:
        return pa.nulls(size, TEXT)
    if len(parts) == 1 and done == size and (at >= 0).all():
        return parts[0] if np.array_equal(at, np.arange(size)) else parts[0].take(pa.array(at))
    small = sum(part.nbytes for part in parts) < 2**31 - 2**24  # offsets of 32 bits hold it
    joined = pa.concat_arrays(parts if small else [part.cast(_LONG) for part in parts])
    return joined.take(pa.array(at, mask=at < 0))


def _observed_lines(rows: pa.Table, recorded: pa.Array, payload: pa.Array) -> pa.Array:
    """Return each payload after its `codec.observed_line`: `observed_at` and a newline
    when it differs from `recorded_at` (a row without one reads its `recorded_at`)."""
    if "observed_at" not in rows.column_names:
        return payload
    observed = rfc3339_column(whole(rows["observed_at"]))
    same = pc.fill_null(pc.equal(observed, recorded), True)
    if pc.all(same).as_py():
        return payload
    line = pc.if_else(same, scalar(""), join(observed, scalar("\n"))).cast(payload.type)
    return pc.binary_join_element_wise(line, payload, pa.scalar(b"", payload.type))


def link_texts(rows: pa.Table, payload: pa.Array) -> pa.Array:
    """Return the text each row's `hash` is the SHA-256 of, as `codec.link_hash` builds it."""
    recorded = rfc3339_column(whole(rows["recorded_at"]))
    parts = [
        whole(rows["prev_hash"]),
        whole(rows["event_id"]),
        whole(rows["position"]).cast(TEXT),
        recorded,
        whole(rows["stream_version"]).cast(TEXT),
        _observed_lines(rows, recorded, payload),
    ]
    binary = [part.cast(pa.binary()) for part in parts]
    return pc.binary_join_element_wise(*binary, pa.scalar(b"\n", pa.binary()))


__all__ = [
    "KINDS",
    "kind_codes",
    "link_texts",
    "mentioned",
    "payloads",
]
