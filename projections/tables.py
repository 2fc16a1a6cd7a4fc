"""Turn instrument versions into Arrow tables of `VERSION_SCHEMA`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from eventstore.events import DECIMAL_FIELDS
from projections.model import VERSION_SCHEMA, Instrument

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime


def versions_table(
    versions: Sequence[Instrument], valid_until: Sequence[datetime | None] | None = None
) -> pa.Table:
    """Return `versions` as a table, `valid_until` null unless given."""
    columns: dict[str, list[object]] = {}
    for field in VERSION_SCHEMA:
        name = field.name
        if name == "valid_until":
            columns[name] = list(valid_until) if valid_until else [None] * len(versions)
        elif name in DECIMAL_FIELDS:
            columns[name] = [None if (v := getattr(s, name)) is None else str(v) for s in versions]
        else:
            columns[name] = [getattr(s, name) for s in versions]
    arrays = [
        pa.array(columns[f.name], pa.string()).cast(f.type)
        if f.name in DECIMAL_FIELDS
        else pa.array(columns[f.name], f.type)
        for f in VERSION_SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=VERSION_SCHEMA)


def history_table(versions: Sequence[Instrument]) -> pa.Table:
    """Return one instrument's versions with `valid_until` set from the next version."""
    until: list[datetime | None] = [v.valid_from for v in versions[1:]]
    until.append(None)
    return versions_table(versions, until)
