"""Spark smoke tests (`make test-spark`): the README's `mapInArrow` block runs as written, and
the joiner under Spark answers row by row as one `pit_join`, `known_at="row"` included."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest
from clock import Clock
from engine_history import bars, write_history
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from eventstore import EventLog
from projections import Catalog, PartitionJoin

if TYPE_CHECKING:
    from collections.abc import Iterator

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")


def test_the_readme_spark_block_runs_and_answers_as_pit_join(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's blocks up to Spark's (the sync's and Ray's aside) run in order."""
    monkeypatch.chdir(tmp_path)
    session: dict[str, Any] = {}
    for number, code in enumerate(BLOCK.findall(README.read_text()), start=1):
        if code.startswith("# needs ray") or "Syncer" in code:
            continue
        exec(compile(code, f"README.md python block {number}", "exec"), session)
        if "mapInArrow" in code:
            break
    names = ["symbol", "ts", "tick_size", "lot_size", "instrument_id", "active", "valid_from"]
    spark = session["out_spark"]
    assert spark.select(names).to_pylist() == session["out"].select(names).to_pylist()
    assert session["counted"] == (2, 2)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """A local Spark session on two cores."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder: Any = SparkSession.builder
    session = builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    yield session
    session.stop()


@pytest.mark.parametrize("known_at", [None, "row"])
def test_map_in_arrow_answers_row_by_row_as_one_process(
    tmp_path: Path, spark: SparkSession, known_at: object
) -> None:
    """Renames, a reused ticker, late corrections, a retraction, over three partitions."""
    root = tmp_path / "lake"
    clock = Clock()
    write_history(EventLog.open(root, clock=clock), clock)
    rows = bars()
    pq.write_table(rows, tmp_path / "bars.parquet", row_group_size=70)
    join = PartitionJoin(root, known_at=known_at)
    schema = join.output_schema(rows.schema)

    frame = spark.read.parquet(str(tmp_path / "bars.parquet")).repartition(3)
    got = frame.mapInArrow(join.batches, from_arrow_schema(schema)).toArrow()

    want = Catalog.open(root).pit_join(rows, known_at=known_at)
    assert got.sort_by("payload").cast(schema) == want
