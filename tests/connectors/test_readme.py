"""The README's Python examples run, in order, as one session: the README cannot drift.

They run in a fresh folder holding a copy of `data/samples` (the examples use the relative
roots `data/lakehouse` and `data/samples`). The live sync example reaches OKX at its public
address; here that address is a loopback replay of the bundled OKX sample, so nothing
leaves the machine.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from venues import SAMPLES, ThreadedVenue

from connectors.replay.server import ReplayServer
from connectors.venues import registry

if TYPE_CHECKING:
    import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
OKX_SAMPLE = "2022-07-23-subset"


#: A block for an engine the test extra does not install starts with `# needs <module>`:
#: it is compiled here, not run (`tests/spark` runs the Spark one under `make test-spark`).
NEEDS = re.compile(r"^# needs (\w+)")


def blocks() -> list[str]:
    """Return the README's Python blocks, in order."""
    return BLOCK.findall(README.read_text())


def needs(block: str) -> str | None:
    """Return the module a block needs that the test extra lacks (None: it runs here)."""
    found = NEEDS.match(block)
    return found.group(1) if found else None


def test_the_readme_has_the_examples_this_test_runs() -> None:
    """The API, the join, the rounding, the revisions, the engines (Dask, Polars, Spark, Ray,
    DuckDB) and the sync examples, in that order; only Spark's and Ray's need what is not
    installed."""
    found = blocks()
    marks = ["Catalog.open", "pit_join", "round_price", "revisions(", "map_partitions"]
    marks += ["map_batches(join.p"]
    marks += ["mapInArrow", "ray.data", "register_duckdb", "InThread", "Syncer"]
    assert len(found) == len(marks)
    assert all(mark in block for mark, block in zip(marks, found, strict=True))
    assert [needs(block) for block in found] == [None] * 6 + ["pyspark", "ray"] + [None] * 3


def test_the_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every block runs after the ones before it, and the answers are the documented ones."""
    shutil.copytree(SAMPLES, tmp_path / "data" / "samples")
    monkeypatch.chdir(tmp_path)
    with ThreadedVenue(ReplayServer(SAMPLES)) as venue:
        okx = dataclasses.replace(
            registry.SOURCES["okx"], base_url=f"{venue.base_url}/{OKX_SAMPLE}/okx"
        )
        monkeypatch.setitem(registry.SOURCES, "okx", okx)
        session: dict[str, Any] = {}
        for number, code in enumerate(blocks(), start=1):
            compiled = compile(code, f"README.md python block {number}", "exec")
            if needs(code) is None:
                exec(compiled, session)

    cat = session["cat"]
    assert cat.get("BINANCE:BTCUSDT", as_of="2021-06-01T00:00:00Z").tick_size == Decimal("0.01")
    at = "2022-06-01T00:00:00Z"
    observable = cat.get("BINANCE:BTCUSDT", as_of=at, known_at="2022-04-01T00:00:00Z")
    assert (observable.tick_size, observable.min_notional) == (Decimal("0.01"), Decimal("10"))
    recorded_by = session["recorded"][0].recorded_at
    answered = cat.get("BINANCE:BTCUSDT", as_of=at, recorded_by=recorded_by)
    assert (answered.tick_size, answered.min_notional) == (Decimal("0.1"), None)
    out = session["out"]
    assert isinstance(out, pa.Table)
    assert out["tick_size"].to_pylist() == [Decimal("0.01"), Decimal("0.1"), None]
    fixed = session["fixed"].select(["field", "before", "after", "cause"]).to_pylist()
    assert fixed == [
        {"field": "tick_size", "before": "0.01", "after": "0.1", "cause": ["correction"]}
    ]
    backfilled = session["since_recorded"].select(["field", "before", "after", "cause"])
    assert backfilled.to_pylist() == [
        {"field": "min_notional", "before": None, "after": "10", "cause": ["backfill"]}
    ]
    dask = session["out_dask"]
    assert [pa.array(dask[f]).to_pylist() for f in ("tick_size", "lot_size")] == [
        out[f].to_pylist() for f in ("tick_size", "lot_size")
    ]
    assert session["out_polars"]["tick_size"].to_list() == out["tick_size"].to_pylist()
    assert session["tick"] == [(Decimal("0.1"),)]
    registered = session["con"].execute("select count(*) from events").fetchone()
    assert registered == (3,)  # the log when registered: the three events the first block appends
    assert session["served_btc"]["tick_size"] == "0.1"
    assert session["same"] is True  # the served join is the in-process one
    reports = session["reports"]
    assert reports[0].ok, reports[0].error
    assert reports[0].appended > 0
