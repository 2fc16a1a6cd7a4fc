"""`catalog universe --settle/--inverse`, and `get`/`history` showing the contract fields."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from builders import T0, changed, listed

from connectors.cli.main import main
from connectors.cli.views import STAR_LEGEND
from eventstore import EventLog

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

LATER = datetime(2024, 3, 1, tzinfo=UTC)


def _filled(root: Path) -> Path:
    EventLog.open(root).append(
        [
            listed("l", "OKX:BTCUSDT.P", T0, settle="USDT", inverse=False, max_leverage="100"),
            listed("v", "OKX:BTCUSD.P", T0, settle="BTC", inverse=True, funding_interval="8"),
            listed("s", "OKX:BTCUSDT", T0, type="spot"),
            changed("l", "OKX:BTCUSDT.P", LATER, max_leverage="50"),
        ]
    )
    return root


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    return status, capsys.readouterr().out


def test_universe_filters_by_settle_and_inverse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--settle CCY` and `--inverse yes|no`; a spot pair is neither inverse nor linear."""
    root = str(_filled(tmp_path / "lake"))
    at = ("--as-of", "2024-02-01T00:00:00Z")

    def symbols(*options: str) -> list[str]:
        status, out = _run(capsys, "--root", root, "--json", "universe", *at, *options)
        assert status == 0
        return sorted(row["symbol"] for row in json.loads(out))

    assert symbols() == ["OKX:BTCUSD.P", "OKX:BTCUSDT", "OKX:BTCUSDT.P"]
    assert symbols("--settle", "USDT") == ["OKX:BTCUSDT.P"]
    assert symbols("--inverse", "yes") == ["OKX:BTCUSD.P"]
    assert symbols("--inverse", "no") == ["OKX:BTCUSDT.P"]


def test_get_and_history_show_the_contract_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`get` lists every field; `history` shows the leverage cut as a changing column."""
    root = str(_filled(tmp_path / "lake"))
    status, out = _run(
        capsys, "--root", root, "get", "OKX:BTCUSD.P", "--as-of", "2024-02-01T00:00:00Z"
    )
    assert status == 0
    lines = out.splitlines()
    assert "settle            BTC" in lines
    assert "inverse           yes" in lines
    assert "funding_interval  8" in lines
    status, out = _run(capsys, "--root", root, "history", "OKX:BTCUSDT.P")
    assert status == 0
    assert "max_leverage" in out.splitlines()[2]
    *_, last, legend = out.splitlines()
    assert last.endswith("50 *")
    assert legend == STAR_LEGEND


def test_universe_filters_by_exchange_type_base_and_quote_and_get_shows_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--exchange`, `--type`, `--base`, `--quote` combine with each other and `--settle`;
    `get` of an option lists its strike, type and underlying (`--json` too)."""
    root = tmp_path / "lake"
    _filled(root)
    EventLog.open(root).append(
        [
            listed(
                "o",
                "OKX:BTCUSD241217C92000",
                T0,
                exchange="OKX",
                type="option",
                base="BTC",
                quote="USD",
                strike="92000",
                option_type="call",
                underlying="BTC-USD",
                settle="BTC",
                inverse=True,
            ),
            listed(
                "b", "BYBIT:ETHUSDT", T0, exchange="BYBIT", type="spot", base="ETH", quote="USDT"
            ),
        ]
    )
    at = ("--as-of", "2024-02-01T00:00:00Z")

    def symbols(*options: str) -> list[str]:
        status, out = _run(capsys, "--root", str(root), "--json", "universe", *at, *options)
        assert status == 0
        return sorted(row["symbol"] for row in json.loads(out))

    assert symbols("--exchange", "BYBIT") == ["BYBIT:ETHUSDT"]
    assert symbols("--type", "option") == ["OKX:BTCUSD241217C92000"]
    assert symbols("--base", "ETH", "--quote", "USDT") == ["BYBIT:ETHUSDT"]
    assert symbols("--type", "option", "--settle", "USDT") == []
    status, out = _run(capsys, "--root", str(root), "get", "OKX:BTCUSD241217C92000", *at)
    assert status == 0
    assert {"strike            92000", "option_type       call", "underlying        BTC-USD"} <= {
        line.rstrip() for line in out.splitlines()
    }
    status, out = _run(capsys, "--root", str(root), "--json", "get", "OKX:BTCUSD241217C92000", *at)
    assert json.loads(out)["strike"] == "92000"
