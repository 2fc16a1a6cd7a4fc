"""`catalog keygen`, `--signing-key`, `checkpoint --witness` and the anchored audit, on real files.

Each test works on its own copy of one small signed catalog: commit 0 (an exchange and
one listing) appended by `catalog --signing-key`, commit 1 (1,000 listings) by a signing
writer through the library, then `catalog checkpoint --witness`. The five attacks that a
hash chain alone cannot see are then made on disk, and `catalog audit --public-key
--witness` must name each one by check.
"""

from __future__ import annotations

import json
import shutil
import signal
import stat
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import tamper
from builders import T0, coin_symbol, listed
from deltalake import DeltaTable, write_deltalake
from msgspec.structs import replace
from test_sync import spot, spot_snapshots
from venues import Answer, ScriptedVenue, ThreadedVenue

from connectors.cli.main import main
from connectors.daemon.config import load
from connectors.errors import ConfigError
from connectors.venues import binance
from eventstore import EventLog, ExchangeListed, InstrumentListed
from eventstore.encoding.codec import compute_event_id, compute_hash, from_table
from eventstore.encoding.table import to_table
from eventstore.log.anchor import HeadSigner, SigningKey

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

LAST = 1_001  # the position of the last event


def _listed(n: int, tick: str = "0.01") -> InstrumentListed:
    at = T0 + timedelta(minutes=n)
    return listed(
        f"inst-{n}", coin_symbol(n), at, exchange="BINANCE", quote="USDT", tick_size=Decimal(tick)
    )


def _first_commit(folder: Path) -> Path:
    lines = [
        {"kind": "ExchangeListed", "exchange": "BINANCE", "effective_at": "2024-01-01T00:00:00Z",
         "source": "manual", "country": "MT"},
        {"kind": "InstrumentListed", "instrument_id": "btc", "symbol": "BINANCE:BTCUSDT",
         "effective_at": "2024-01-01T00:00:00Z", "source": "manual", "exchange": "BINANCE"},
    ]  # fmt: skip
    path = folder / "first.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the signed, witnessed catalog once: `lake/`, `keys/k`, `witness.jsonl`."""
    base = tmp_path_factory.mktemp("anchored")
    (base / "keys").mkdir()
    assert main(["keygen", str(base / "keys" / "k")]) == 0
    lake = str(base / "lake")
    events = _first_commit(base)
    assert (
        main(["--root", lake, "--signing-key", str(base / "keys" / "k"), "append", str(events)])
        == 0
    )
    signer = HeadSigner(SigningKey.load(str(base / "keys" / "k")))
    EventLog.open(lake, on_commit=signer).append([_listed(n) for n in range(1_000)])
    witness = str(base / "witness.jsonl")
    assert main(["--root", lake, "checkpoint", "--witness", witness]) == 0
    return base


@pytest.fixture
def base(pristine: Path, tmp_path: Path) -> Path:
    """Return a fresh copy of the signed catalog (lake, keys, witness) for one test."""
    target = tmp_path / "copy"
    shutil.copytree(pristine, target)
    return target


def audit(
    base: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    """Run the anchored audit with `--json`; return its status and report."""
    capsys.readouterr()
    options = [
        "--public-key",
        str(base / "keys" / "k.pub"),
        "--witness",
        str(base / "witness.jsonl"),
    ]
    status = main(["--root", str(base / "lake"), "--json", "audit", *options, *extra])
    return status, json.loads(capsys.readouterr().out)


def failed(report: dict[str, Any]) -> dict[str, list[str]]:
    """Return the failed checks, each with its violations' details."""
    return {
        c["name"]: [v["detail"] for v in c["violations"]] for c in report["checks"] if not c["ok"]
    }


def run(*args: object) -> int:
    """Run `catalog` with `args`."""
    return main([str(a) for a in args])


# -- a clean signed log ------------------------------------------------------------------


def test_clean_signed_log_passes_every_check(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both commits signed, the head witnessed: every check passes, the anchor is named."""
    status, report = audit(base, capsys)
    assert status == 0
    assert failed(report) == {}
    names = {c["name"] for c in report["checks"]}
    assert {
        "head-signed",
        "head-in-log",
        "witness-in-log",
        "witness-length",
        "removes-readded",
    } <= names
    assert report["anchor"].startswith("anchor: 2 signed heads checked with key ")
    assert sorted(p.name for p in (base / "lake" / "heads").iterdir()) == [
        f"{0:020d}.json",
        f"{1:020d}.json",
    ]
    (line,) = (base / "witness.jsonl").read_text().splitlines()
    assert json.loads(line)["position"] == LAST


def test_compaction_with_the_key_keeps_the_log_anchored(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compact` removes both data files and re-adds their events; its head is signed."""
    lake, key = base / "lake", base / "keys" / "k"
    assert run("--root", lake, "--signing-key", key, "compact") == 0
    assert DeltaTable(str(lake / "events")).version() == 2
    status, report = audit(base, capsys)
    assert (status, failed(report)) == (0, {})

    assert run("--root", lake, "checkpoint", "--witness", base / "witness.jsonl") == 0
    status, report = audit(base, capsys)
    assert (status, failed(report)) == (0, {})
    assert len((base / "witness.jsonl").read_text().splitlines()) == 2


def test_compaction_without_the_key_leaves_an_unsigned_commit(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer without the key makes a commit nobody vouches for: it is named, by version."""
    assert run("--root", base / "lake", "compact") == 0
    status, report = audit(base, capsys)
    assert status == 1
    assert failed(report) == {
        "head-signed": ["commit 2 has no signed head (heads are signed from version 0 on)"]
    }


def test_without_key_and_witness_the_head_is_said_unanchored(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The audit still runs and passes, and its report says nothing anchors the head."""
    capsys.readouterr()
    status = run("--root", base / "lake", "audit")
    out = capsys.readouterr().out
    assert status == 0
    assert "the head is unanchored" in out
    assert "head-signed" not in out
    assert out.rstrip().splitlines()[-1].startswith("clean: every check passed")


# -- the five attacks --------------------------------------------------------------------


def test_last_commit_file_deleted(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the newest Delta commit drops 1,000 events; the chain still verifies."""
    tamper.commit_file(base / "lake", 1).unlink()
    status, report = audit(base, capsys)
    assert status == 1
    assert report["events"] == 2
    found = failed(report)
    assert set(found) == {"head-in-log", "witness-length"}
    assert found["witness-length"] == [
        "the log has 2 events; witnessed head of version 1 (position 1001, witnessed at "
        + json.loads((base / "witness.jsonl").read_text())["witnessed_at"]
        + ") is beyond its end"
    ]


def test_valid_commit_removing_the_last_data_file(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DELETE through Delta itself removes the last file: a remove that re-adds nothing."""
    DeltaTable(str(base / "lake" / "events")).delete("position >= 2")
    status, report = audit(base, capsys)
    assert status == 1
    found = failed(report)
    assert set(found) == {"removes-readded", "head-signed", "head-in-log", "witness-length"}
    assert found["removes-readded"] == [
        "commit 2 removes 1,000 events (positions 2-1001) and re-adds no event"
    ]


def _forge_last(table: pa.Table) -> pa.Table:
    """Edit the last event and recompute its id and hash: its own link stays valid."""
    rows = from_table(table)
    at = [e.position for e in rows].index(LAST)
    edited = replace(rows[at], tick_size=Decimal("5"))
    edited = replace(edited, event_id=compute_event_id(edited))
    rows[at] = replace(edited, hash=compute_hash(edited))
    return to_table(rows).select(table.column_names).cast(table.schema)


def test_last_event_edited_with_id_and_hash_recomputed(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every row verifies on its own and the chain holds; the signed head does not match."""
    lake = base / "lake"
    tamper.rewrite(lake, tamper.file_holding(lake, LAST), _forge_last)
    status, report = audit(base, capsys)
    assert status == 1
    found = failed(report)
    assert set(found) == {"head-in-log", "witness-in-log"}
    assert "the log's hash there is" in found["head-in-log"][0]


def test_forged_commit_with_a_correct_chain_link(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new commit whose event links to the head correctly: nobody signed its head."""
    (last,) = EventLog.open(base / "lake").events(since=LAST)
    forged = replace(_listed(5_000), position=LAST + 1, stream_version=1,
                     recorded_at=last.recorded_at, prev_hash=last.hash)  # fmt: skip
    forged = replace(forged, event_id=compute_event_id(forged))
    forged = replace(forged, hash=compute_hash(forged))
    write_deltalake(str(base / "lake" / "events"), to_table([forged]), mode="append")

    status, report = audit(base, capsys)
    assert status == 1
    assert report["events"] == LAST + 2
    assert failed(report) == {
        "head-signed": ["commit 2 has no signed head (heads are signed from version 0 on)"]
    }


@pytest.mark.parametrize("heads", ["kept", "deleted"])
def test_whole_log_rewritten_with_a_recomputed_chain(
    base: Path, capsys: pytest.CaptureFixture[str], heads: str
) -> None:
    """The same commits again with one tick size changed: only the anchor tells."""
    lake = base / "lake"
    shutil.rmtree(lake / "events")
    if heads == "deleted":
        shutil.rmtree(lake / "heads")
    log = EventLog.open(lake)
    exchange = ExchangeListed(exchange="BINANCE", effective_at=T0, source="manual", country="MT")
    log.append([exchange, replace(_listed(0), instrument_id="btc", symbol="BINANCE:BTCUSDT")])
    log.append([_listed(n, "0.1" if n == 500 else "0.01") for n in range(1_000)])

    status, report = audit(base, capsys)
    assert status == 1
    found = failed(report)
    expected = {
        "kept": {"head-in-log", "witness-in-log"},
        "deleted": {"head-signed", "witness-in-log"},
    }
    assert set(found) == expected[heads]
    assert next(c for c in report["checks"] if c["name"] == "hash")["ok"]


def test_witness_line_forged_is_named(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A witness line whose hash was edited no longer verifies with the key."""
    path = base / "witness.jsonl"
    line = json.loads(path.read_text())
    line["hash"] = "00" * 32
    path.write_text(path.read_text() + json.dumps(line) + "\n")
    status, report = audit(base, capsys)
    assert status == 1
    assert failed(report) == {
        "witness-in-log": [
            f"witnessed head of version 1 (position {LAST}, witnessed at "
            f"{line['witnessed_at']}): the signature does not verify"
        ]
    }


def test_heads_signed_by_another_key_are_refused(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checking with another public key: every stored head and the witness fail."""
    assert run("keygen", base / "keys" / "other") == 0
    status, report = audit(base, capsys)
    assert status == 0
    capsys.readouterr()
    options = ["--public-key", base / "keys" / "other.pub", "--witness", base / "witness.jsonl"]
    status = run("--root", base / "lake", "--json", "audit", *options)
    report = json.loads(capsys.readouterr().out)
    assert status == 1
    assert set(failed(report)) == {"head-signed", "witness-in-log"}
    assert len(failed(report)["head-signed"]) == 2


# -- writers sign ------------------------------------------------------------------------


def test_the_environment_names_the_key_and_sync_signs(
    tmp_path: Path, base: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`CATALOG_SIGNING_KEY` works like `--signing-key`: a replayed sync's commit is signed."""
    monkeypatch.setenv("CATALOG_SIGNING_KEY", str(base / "keys" / "k"))
    lake = tmp_path / "synced"
    assert run("--root", lake, "sync", "--replay", spot_snapshots(tmp_path, spot(22))) == 0
    assert [p.name for p in (lake / "heads").iterdir()] == [f"{0:020d}.json"]
    assert run("--root", lake, "checkpoint", "--witness", tmp_path / "w.jsonl") == 0
    capsys.readouterr()
    options = ["--public-key", base / "keys" / "k.pub", "--witness", tmp_path / "w.jsonl"]
    assert run("--root", lake, "--json", "audit", *options) == 0
    assert failed(json.loads(capsys.readouterr().out)) == {}


def test_checkpoint_signs_the_head_of_an_unsigned_log_when_given_the_key(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A log written before signing: no head to witness without a key; with it, signed now."""
    lake, witness, key = tmp_path / "old", tmp_path / "w.jsonl", base / "keys" / "k"
    EventLog.open(lake).append([_listed(1)])
    EventLog.open(lake).append([_listed(2)])
    capsys.readouterr()
    assert run("--root", lake, "checkpoint", "--witness", witness) == 2
    assert "is not signed: give --signing-key FILE" in capsys.readouterr().err
    assert not witness.exists()

    assert run("--root", lake, "--signing-key", key, "checkpoint", "--witness", witness) == 0
    assert "(signed now)" in capsys.readouterr().out
    options = ["--public-key", f"{key}.pub", "--witness", witness]
    assert run("--root", lake, "--json", "audit", *options) == 0
    assert failed(json.loads(capsys.readouterr().out)) == {}


# -- bad input ---------------------------------------------------------------------------


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_bad_signing_keys_append_nothing(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing key or a public key as signing key: exit 2, one line, the log unchanged."""
    lake, events = base / "lake", _first_commit(base)
    (base / "more.jsonl").write_text(
        events.read_text().replace("BTCUSDT", "ETHUSDT").replace('"btc"', '"eth"')
    )
    for key, reason in (("missing", "cannot read it"), ("k.pub", "is not a private key in PEM")):
        capsys.readouterr()
        status = run(
            "--root", lake, "--signing-key", base / "keys" / key, "append", base / "more.jsonl"
        )
        assert status == 2
        assert reason in _error(capsys)
    assert len(EventLog.open(lake)) == LAST + 1


def test_bad_audit_inputs_stop_before_the_audit(
    base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or private public key, a missing witness: exit 2 and one line each."""
    lake, keys = base / "lake", base / "keys"
    cases = [
        (["--public-key", keys / "none.pub"], "cannot read it"),
        (["--public-key", keys / "k"], "is not a public key in PEM"),
        (["--witness", base / "none.jsonl"], "cannot read it: no such file"),
    ]
    for options, reason in cases:
        capsys.readouterr()
        assert run("--root", lake, "audit", *options) == 2
        assert reason in _error(capsys)


def test_bad_checkpoints_write_nothing(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A witness inside the root or in a missing folder, an empty root: exit 2, no file."""
    lake = base / "lake"
    cases = [
        (lake, lake / "w.jsonl", "is inside the root"),
        (lake, base / "nowhere" / "w.jsonl", "does not exist"),
        (base / "empty", base / "w.jsonl", "has no event yet"),
    ]
    for root, witness, reason in cases:
        capsys.readouterr()
        assert run("--root", root, "checkpoint", "--witness", witness) == 2
        assert reason in _error(capsys)
        assert not witness.exists()


def test_keygen_from_the_command_line(base: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog keygen` writes FILE (0600) and FILE.pub, and refuses to overwrite either."""
    path = base / "keys" / "new"
    capsys.readouterr()
    assert run("--json", "keygen", path) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["public_key"] == f"{path}.pub"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    assert run("keygen", path) == 2
    assert "already exists; nothing was written" in _error(capsys)
    assert path.read_bytes() == before


# -- the daemon --------------------------------------------------------------------------


def _daemon_config(tmp_path: Path, base_url: str, **anchor: Path) -> Path:
    lines = [f'root = "{tmp_path / "lake"}"', 'log_format = "json"', "misfire_grace = 5"]
    lines += [f'{name} = "{value}"' for name, value in anchor.items()]
    lines += ["[sources.binance-spot]", 'interval = "1s"', f'base_url = "{base_url}"']
    path = tmp_path / "catalog.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_daemon_signs_and_witnesses_each_commit(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a key and a witness in its config, the daemon's commits audit clean."""
    venue = ScriptedVenue()
    venue.queue(binance.SPOT_PATH, Answer(200, json.dumps(spot(22)).encode()))
    witness = tmp_path / "witness.jsonl"
    with ThreadedVenue(venue) as served:
        config = _daemon_config(
            tmp_path, served.base_url, signing_key=base / "keys" / "k", witness=witness
        )
        daemon = subprocess.Popen(
            [sys.executable, "-m", "connectors.cli.main", "daemon", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while not witness.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, err = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, err
    assert "head witnessed" in err
    assert len(witness.read_text().splitlines()) == 1
    capsys.readouterr()
    options = ["--public-key", base / "keys" / "k.pub", "--witness", witness]
    assert run("--root", tmp_path / "lake", "--json", "audit", *options) == 0
    assert failed(json.loads(capsys.readouterr().out)) == {}


def test_daemon_anchor_config_is_checked_before_start(
    tmp_path: Path, base: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A witness without a key is a config error; a missing key exits 2 before any run."""
    config = _daemon_config(tmp_path, "http://127.0.0.1:9", witness=tmp_path / "w.jsonl")
    with pytest.raises(ConfigError, match="witness: a witness keeps signed heads"):
        load(config)
    config = _daemon_config(tmp_path, "http://127.0.0.1:9", signing_key=tmp_path / "none")
    capsys.readouterr()
    assert run("daemon", "--config", config) == 2
    assert "cannot read it" in _error(capsys)
    assert not (tmp_path / "lake" / "events").exists()
