"""Baseline (a): one SCD2 Parquet file that pandas reads, updates row by row and rewrites in
full on every update, and scans for every lookup.

Written from that description, as the pattern the project replaces does it:

* `update` reads the whole file, closes the instrument's open row (`valid_until` = the
  change's time), appends the new version as a row and rewrites the whole file.
* `lookup` is a boolean-mask scan `symbol == s & valid_from <= T < valid_until` over the
  frame. To be fair to the baseline the frame is read once (`load`) and kept in memory, so a
  lookup costs the scan only; `lookup_cold` is what a reader pays after another process
  rewrote the file (read it again, then scan).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: The far end of an open row.
OPEN_UNTIL = pd.Timestamp("9999-12-31", tz="UTC")


class SCD2File:
    """The whole catalog as SCD2 rows in one Parquet file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.frame: pd.DataFrame | None = None

    def load(self) -> pd.DataFrame:
        """Read the file and keep the frame in memory for `lookup`."""
        self.frame = pd.read_parquet(self.path)
        return self.frame

    def update(
        self, instrument_id: str, effective_at: pd.Timestamp, changes: dict[str, Any]
    ) -> None:
        """Apply one change: read the file, close the open row, append a row, rewrite it all."""
        df = pd.read_parquet(self.path)
        is_open = (df["instrument_id"] == instrument_id) & (df["valid_until"] == OPEN_UNTIL)
        rows = df.index[is_open]
        if len(rows) == 0:
            raise KeyError(instrument_id)
        current = df.loc[rows[-1]].to_dict()
        df.loc[rows, "valid_until"] = effective_at
        current.update(changes)
        current.update(
            valid_from=effective_at, valid_until=OPEN_UNTIL, updated_at=pd.Timestamp.now(tz="UTC")
        )
        new = pd.DataFrame([current]).astype(df.dtypes.to_dict())
        pd.concat([df, new], ignore_index=True).to_parquet(self.path, index=False)
        self.frame = None  # a frame read before is stale now

    def lookup(self, symbol: str, as_of: pd.Timestamp) -> dict[str, Any] | None:
        """Return the row of the holder of `symbol` at `as_of`: a scan of the in-memory frame."""
        df = self.frame if self.frame is not None else self.load()
        hits = df[
            (df["symbol"] == symbol) & (df["valid_from"] <= as_of) & (df["valid_until"] > as_of)
        ]
        if hits.empty:
            return None
        if len(hits) > 1:  # a delisted holder and a new one: the active one, then the latest
            hits = hits.sort_values(["active", "valid_from"]).iloc[-1:]
        row: dict[str, Any] = hits.iloc[0].to_dict()
        return row

    def lookup_cold(self, symbol: str, as_of: pd.Timestamp) -> dict[str, Any] | None:
        """Read the file again, then scan: a reader after another process's update."""
        self.load()
        return self.lookup(symbol, as_of)
