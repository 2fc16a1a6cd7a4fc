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


def blocks() -> list[str]:
    """Return the README's Python blocks, in order."""
    return BLOCK.findall(README.read_text())


def test_the_readme_has_the_examples_this_test_runs() -> None:
    """The API, the join, the rounding and the sync examples (four blocks)."""
    found = blocks()
    assert len(found) == 4
    assert "Catalog.open" in found[0]
    assert "pit_join" in found[1]
    assert "round_price" in found[2]
    assert "Syncer" in found[3]


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
            exec(compile(code, f"README.md python block {number}", "exec"), session)

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
    reports = session["reports"]
    assert reports[0].ok, reports[0].error
    assert reports[0].appended > 0
