"""The command line as people use it: a date alone is midnight UTC, `z` is `Z`, `--as-of`
defaults to now for `get` and `universe`, `--format table|json|csv|parquet`, the universe's
column filters and sorted rows, `changes --symbol`, `catalog --version`."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from served import BTC, ETH, PERP, PERP_RENAMED, fill

from connectors.cli.main import main
from connectors.cli.spelling import spelled
from connectors.release import package_version


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(fill(tmp_path_factory.mktemp("spelling") / "lake"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("2022-06-01", "2022-06-01T00:00:00Z"),
        (" 2022-06-01 ", "2022-06-01T00:00:00Z"),
        ("2022-06-01T10:00:00z", "2022-06-01T10:00:00Z"),
        ("2022-06-01T10:00:00Z", "2022-06-01T10:00:00Z"),
        ("2022-06-01T10:00:00", "2022-06-01T10:00:00"),  # naive: still refused, later
        ("soon", "soon"),
    ],
)
def test_spelled(given: str, read: str) -> None:
    assert spelled(given) == read


def test_a_date_alone_is_midnight_utc_and_z_is_z(
    capsys: pytest.CaptureFixture[str], root: str
) -> None:
    """`--as-of 2024-06-15` answers as `2024-06-15T00:00:00Z`; `--known-at ...z` as `...Z`;
    the help says so; a naive time of day is still refused, in one line."""
    _, by_date, _ = run(capsys, "--root", root, "--json", "get", BTC, "--as-of", "2024-06-15")
    _, exact, _ = run(
        capsys, "--root", root, "--json", "get", BTC, "--as-of", "2024-06-15T00:00:00Z"
    )
    assert json.loads(by_date) == json.loads(exact)
    argv = ["--root", root, "--json", "get", BTC, "--as-of", "2024-06-15", "--known-at"]
    _, then, _ = run(capsys, *argv, "2024-02-01t00:00:00z")
    assert json.loads(then)["tick_size"] == "0.01"
    status, out, err = run(capsys, "--root", root, "get", BTC, "--as-of", "2024-06-15T10:00")
    assert (status, out) == (2, "")
    assert err.startswith("catalog: error: --as-of: '2024-06-15T10:00' has no time zone")
    _, helped, _ = run(capsys, "universe", "--help")
    assert "a date alone (2022-06-01) means midnight UTC" in " ".join(helped.split())


def test_as_of_defaults_to_now(capsys: pytest.CaptureFixture[str], root: str) -> None:
    """Without `--as-of`, `get` and `universe` answer about now."""
    status, out, _ = run(capsys, "--root", root, "--json", "get", BTC)
    assert (status, json.loads(out)["tick_size"]) == (0, "0.1")
    _, out, _ = run(capsys, "--root", root, "--json", "universe")
    assert [row["symbol"] for row in json.loads(out)] == [BTC, PERP_RENAMED]


def test_universe_filters_sort_and_formats(capsys: pytest.CaptureFixture[str], root: str) -> None:
    """The column filters narrow the universe; rows come sorted by symbol; csv has plain
    decimals and RFC 3339 instants; parquet keeps the exact types."""
    at = ["--as-of", "2024-02-15"]
    _, out, _ = run(capsys, "--root", root, "--json", "universe", *at, "--exchange", "OKX")
    assert [row["symbol"] for row in json.loads(out)] == [PERP]
    _, out, _ = run(capsys, "--root", root, "--json", "universe", *at, "--base", "BTC")
    assert [row["symbol"] for row in json.loads(out)] == [BTC, PERP]
    status, out, _ = run(capsys, "--root", root, "universe", *at, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [row["symbol"] for row in rows] == [BTC, ETH, PERP]
    assert rows[0]["tick_size"] == "0.01"
    assert rows[0]["valid_from"] == "2024-01-01T00:00:00Z"
    assert rows[2]["funding_interval"] == "8"
    redirected = io.TextIOWrapper(io.BytesIO())  # stdout sent to a file, not a terminal
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", redirected)
        assert main(["--root", root, "universe", *at, "--format", "parquet"]) == 0
    table = pq.read_table(pa.BufferReader(redirected.buffer.getvalue()))
    assert table["symbol"].to_pylist() == [BTC, ETH, PERP]
    assert str(table.schema.field("tick_size").type) == "decimal128(38, 18)"


def test_changes_symbol_and_history_csv(capsys: pytest.CaptureFixture[str], root: str) -> None:
    window = ["--since", "2024-01-01", "--until", "2025-01-01"]
    status, out, _ = run(
        capsys, "--root", root, "changes", *window, "--symbol", BTC, "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [(row["what"], row["field"], row["old"], row["new"]) for row in rows][1] == (
        "changed",
        "tick_size",
        "0.01",
        "0.1",
    )
    assert json.loads(rows[0]["new"])["tick_size"] == "0.01"  # a listing's fields, as JSON
    _, out, _ = run(capsys, "--root", root, "history", BTC, "--format", "csv")
    assert [row["tick_size"] for row in csv.DictReader(io.StringIO(out))] == ["0.01", "0.1"]


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert (status, out) == (0, f"catalog {package_version()}\n")


class _Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def test_parquet_to_a_terminal_is_refused(capsys: pytest.CaptureFixture[str], root: str) -> None:
    """Binary output to a terminal exits 2, in one line on stderr, writing nothing."""
    terminal = _Terminal(io.BytesIO())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdout", terminal)
        status = main(["--root", root, "history", BTC, "--format", "parquet"])
    assert status == 2
    assert terminal.buffer.getvalue() == b""  # type: ignore[attr-defined]
    assert "redirect stdout to a file" in capsys.readouterr().err
