"""Damage a catalog on disk the way the append API never would, to prove the audit sees it.

The log is a Delta table: Parquet data files plus `_delta_log/<version>.json` commits, each
a JSON line per action (`add` names a data file, its size and row statistics). These
helpers edit those files directly.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def events(root: Path) -> Path:
    """Return the folder of the log under `root`."""
    return root / "events"


def commit_file(root: Path, version: int) -> Path:
    """Return the path of Delta commit `version`."""
    return events(root) / "_delta_log" / f"{version:020d}.json"


def file_holding(root: Path, position: int) -> Path:
    """Return the data file that holds the event at `position`."""
    for path in sorted(events(root).glob("*.parquet")):
        if position in pq.read_table(path, columns=["position"])["position"].to_pylist():
            return path
    raise LookupError(f"no data file holds position {position}")


def rewrite(
    root: Path, path: Path, change: Callable[[pa.Table], pa.Table], *, fix_size: bool = True
) -> None:
    """Rewrite data file `path` as `change` makes it, keeping the Delta log pointing at it.

    The reader trusts the size recorded in the file's `add` action (it reads the Parquet
    footer from there), so a careful forger updates that size too; `fix_size=False` leaves
    it stale, as a careless one would.
    """
    table = change(pq.read_table(path))
    pq.write_table(table, path)
    if fix_size:
        _set_add_size(root, path.name, path.stat().st_size)


def _set_add_size(root: Path, name: str, size: int) -> None:
    for commit in sorted((events(root) / "_delta_log").glob("*.json")):
        lines = commit.read_text().splitlines()
        actions = [json.loads(line) for line in lines]
        found = [a for a in actions if a.get("add", {}).get("path") == name]
        if found:
            found[0]["add"]["size"] = size
            commit.write_text("\n".join(json.dumps(a) for a in actions) + "\n")
            return
    raise LookupError(f"no add action names {name}")


def set_value(column: str, position: int, value: object) -> Callable[[pa.Table], pa.Table]:
    """Return a change that sets `column` of the row at `position` to `value`."""

    def change(table: pa.Table) -> pa.Table:
        values = table[column].to_pylist()
        at = table["position"].to_pylist().index(position)
        values[at] = value
        field = table.schema.field(column)
        index = table.schema.get_field_index(column)
        return table.set_column(index, field, pa.array(values, field.type))

    return change


def duplicate(position: int) -> Callable[[pa.Table], pa.Table]:
    """Return a change that stores the row at `position` twice."""

    def change(table: pa.Table) -> pa.Table:
        at = table["position"].to_pylist().index(position)
        rows = np.r_[np.arange(table.num_rows), at]
        return table.take(rows)

    return change


def drop_add_action(root: Path, version: int) -> None:
    """Remove the `add` actions of commit `version`: its events leave the table."""
    commit = commit_file(root, version)
    kept = [line for line in commit.read_text().splitlines() if '"add"' not in line]
    commit.write_text("\n".join(kept) + "\n")


def positions_of(root: Path, kind: str) -> list[int]:
    """Return the positions of the events of `kind`, read straight from the data files."""
    found: list[int] = []
    for path in sorted(events(root).glob("*.parquet")):
        table = pq.read_table(path, columns=["position", "kind"])
        found += table.filter(pc.equal(table["kind"], kind))["position"].to_pylist()
    return sorted(found)
